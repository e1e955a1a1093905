//! Google Cloud Logging sink: GitLab's `entries:write` wire format, with a cached service-account
//! access token (GitLab fetches one per event) and classified failures.
//!
//! The wire format is GitLab's (`reference/gitlab-streaming.md` §2.2): a service-account JWT
//! (RS256, scope `logging.write`) is exchanged at the OAuth token endpoint for an access token,
//! and each event becomes one entry
//! `{"logName":"projects/<p>/logs/<l>","resource":{"type":"global"},"severity":"INFO","jsonPayload":<event>}`
//! of a `POST …/v2/entries:write` with `Authorization: Bearer <token>`. GitLab sends one entry per
//! request; [`GcpSink::send_batch`] sends several, in order, in one request.

mod entries;
mod requests;
mod token;

use jsonwebtoken::EncodingKey;
use serde_json::Value;

use crate::failure::DeliveryError;
use crate::outgoing::Outgoing;

pub use entries::entries_body;
use entries::{entry, log_name};
pub use requests::{CONNECT_TIMEOUT, REQUEST_TIMEOUT};
use requests::{error_from_response, request_error};
pub use token::{AssertionClaims, JWT_BEARER_GRANT_TYPE, LOGGING_WRITE_SCOPE, TOKEN_REFRESH_MARGIN};
use token::{TokenSource, normalize_pem, sign_assertion};

/// Google's OAuth token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Google's Cloud Logging `entries:write` endpoint.
pub const DEFAULT_LOGGING_URL: &str = "https://logging.googleapis.com/v2/entries:write";

/// A GCP destination's configuration, as GitLab stores it.
#[derive(Clone)]
pub struct GcpSpec {
    /// The Google Cloud project that receives the entries.
    pub google_project_id_name: String,
    /// The service account's e-mail, the JWT issuer.
    pub client_email: String,
    /// The log id inside the project (GitLab's default is `audit_events`).
    pub log_id_name: String,
    /// The service account's RSA private key, PEM (PKCS#8 as in Google's JSON key file, or PKCS#1).
    pub private_key: String,
}

impl std::fmt::Debug for GcpSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpSpec")
            .field("google_project_id_name", &self.google_project_id_name)
            .field("client_email", &self.client_email)
            .field("log_id_name", &self.log_id_name)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// Where the sink sends its requests: Google's endpoints by default, local fakes in tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcpEndpoints {
    /// The OAuth token endpoint; also the JWT's `aud`.
    pub token_url: String,
    /// The Cloud Logging `entries:write` URL.
    pub logging_url: String,
}

impl Default for GcpEndpoints {
    fn default() -> Self {
        GcpEndpoints { token_url: DEFAULT_TOKEN_URL.to_owned(), logging_url: DEFAULT_LOGGING_URL.to_owned() }
    }
}

/// A `reqwest` client builder with the sink's timeouts (10 s connect, 20 s total). The sink sets
/// the total timeout on each request itself; the connect timeout can only be set on the client.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT).timeout(REQUEST_TIMEOUT)
}

/// Sends events to one Google Cloud Logging destination.
pub struct GcpSink {
    log_name: String,
    endpoints: GcpEndpoints,
    client: reqwest::Client,
    /// The service account's access tokens, cached.
    tokens: TokenSource,
}

impl std::fmt::Debug for GcpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpSink")
            .field("log_name", &self.log_name)
            .field("client_email", &self.tokens.client_email())
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl GcpSink {
    /// A sink for `spec`. The private key is parsed and test-signed here: a key that cannot sign
    /// is a [`FailureKind::Auth`](crate::failure::FailureKind::Auth) error (the destination pauses until its credentials are fixed).
    ///
    /// `client` should carry the connect-time policy (SSRF guard, connect timeout, see
    /// [`http_client_builder`]); the sink adds a 20 s total timeout to every request.
    pub fn new(spec: GcpSpec, endpoints: GcpEndpoints, client: reqwest::Client) -> Result<GcpSink, DeliveryError> {
        if spec.client_email.trim().is_empty() {
            return Err(DeliveryError::auth("GCP service account client_email is empty"));
        }
        let pem = normalize_pem(&spec.private_key);
        let key = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| DeliveryError::auth(format!("GCP private key is not a usable RSA PEM key: {e}")))?;
        // `from_rsa_pem` only unwraps the PEM; signing is what parses the key itself.
        sign_assertion(&key, &AssertionClaims::new(&spec.client_email, &endpoints.token_url, 0))?;
        Ok(GcpSink {
            log_name: log_name(&spec.google_project_id_name, &spec.log_id_name),
            tokens: TokenSource::new(spec.client_email, key, endpoints.token_url.clone()),
            endpoints,
            client,
        })
    }

    /// Writes `events` as entries of ONE entries:write request, in order (GitLab sends one per
    /// request; batching is our improvement). An empty slice sends nothing.
    ///
    /// A 401 from the Logging API drops the cached token and retries once with a fresh one; a
    /// second 401 is [`FailureKind::Auth`](crate::failure::FailureKind::Auth). Other answers are classified by
    /// [`DeliveryError::from_status`], with `Retry-After` honoured.
    pub async fn send_batch(&self, events: &[Outgoing]) -> Result<(), DeliveryError> {
        if events.is_empty() {
            return Ok(());
        }
        let entries = events
            .iter()
            .map(|event| entry(&self.log_name, event).map_err(DeliveryError::permanent))
            .collect::<Result<Vec<Value>, DeliveryError>>()?;
        let body = serde_json::to_vec(&serde_json::json!({ "entries": entries }))
            .map_err(|e| DeliveryError::permanent(format!("cannot encode entries:write body: {e}")))?;

        let token = self.tokens.access_token(&self.client).await?;
        match self.write_entries(&token, &body).await {
            Err(e) if e.status == Some(401) => {
                tracing::info!(log_name = %self.log_name, "Cloud Logging refused the access token; fetching a new one");
                self.tokens.forget_token(&token).await;
                let token = self.tokens.access_token(&self.client).await?;
                self.write_entries(&token, &body).await
            }
            other => other,
        }
    }

    /// One `entries:write` request with `token`.
    async fn write_entries(&self, token: &str, body: &[u8]) -> Result<(), DeliveryError> {
        let response = self
            .client
            .post(&self.endpoints.logging_url)
            .timeout(REQUEST_TIMEOUT)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| request_error("Cloud Logging entries:write", &e))?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(error_from_response("Cloud Logging entries:write", response).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::FailureKind;
    use auditrelay_testkit::fake_gcp::{test_private_key, test_public_key};

    #[test]
    fn new_refuses_unusable_keys_as_auth() {
        let spec = |key: &str| GcpSpec {
            google_project_id_name: "p".into(),
            client_email: "a@p.iam.gserviceaccount.com".into(),
            log_id_name: "audit_events".into(),
            private_key: key.into(),
        };
        let client = reqwest::Client::new();
        for bad in
            ["", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", test_public_key()]
        {
            let err = GcpSink::new(spec(bad), GcpEndpoints::default(), client.clone()).unwrap_err();
            assert_eq!(err.kind, FailureKind::Auth, "{bad:?}: {err}");
            assert!(!err.message.contains("BEGIN"), "the key is not echoed: {err}");
        }
        assert!(GcpSink::new(spec(test_private_key()), GcpEndpoints::default(), client.clone()).is_ok());
        // A key pasted with `\n` escapes, as in the JSON key file, works too.
        let escaped = test_private_key().trim().replace('\n', "\\n");
        assert!(GcpSink::new(spec(&escaped), GcpEndpoints::default(), client).is_ok());
    }

    #[test]
    fn spec_debug_redacts_the_key() {
        let spec = GcpSpec {
            google_project_id_name: "p".into(),
            client_email: "a@p".into(),
            log_id_name: "l".into(),
            private_key: test_private_key().into(),
        };
        assert!(!format!("{spec:?}").contains("PRIVATE"));
    }

    #[test]
    fn default_endpoints_are_googles() {
        let e = GcpEndpoints::default();
        assert_eq!(e.token_url, "https://oauth2.googleapis.com/token");
        assert_eq!(e.logging_url, "https://logging.googleapis.com/v2/entries:write");
    }
}
