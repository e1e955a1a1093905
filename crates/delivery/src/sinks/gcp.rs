//! Google Cloud Logging sink: GitLab's `entries:write` wire format, with a cached service-account
//! access token (GitLab fetches one per event) and classified failures.
//!
//! The wire format is GitLab's (`reference/gitlab-streaming.md` §2.2): a service-account JWT
//! (RS256, scope `logging.write`) is exchanged at the OAuth token endpoint for an access token,
//! and each event becomes one entry
//! `{"logName":"projects/<p>/logs/<l>","resource":{"type":"global"},"severity":"INFO","jsonPayload":<event>}`
//! of a `POST …/v2/entries:write` with `Authorization: Bearer <token>`. GitLab sends one entry per
//! request; [`GcpSink::send_batch`] sends several, in order, in one request.

use std::time::{Duration, Instant};

use auditrelay_core::EventId;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::failure::{DeliveryError, FailureKind, parse_retry_after};
use crate::outgoing::Outgoing;

/// The OAuth scope GitLab asks for.
pub const LOGGING_WRITE_SCOPE: &str = "https://www.googleapis.com/auth/logging.write";
/// The OAuth grant type of a service-account JWT exchange (RFC 7523).
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google's OAuth token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Google's Cloud Logging `entries:write` endpoint.
pub const DEFAULT_LOGGING_URL: &str = "https://logging.googleapis.com/v2/entries:write";

/// How long a signed JWT assertion is valid (Google's maximum).
const ASSERTION_LIFETIME_SECS: i64 = 3600;
/// A cached access token is replaced this long before Google says it expires.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Connect timeout for clients built with [`http_client_builder`] (GitLab's open timeout).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Total time allowed for one request, applied to every request the sink sends.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

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

/// The claims of the service-account JWT assertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// The service account's e-mail.
    pub iss: String,
    /// Space-separated OAuth scopes: [`LOGGING_WRITE_SCOPE`].
    pub scope: String,
    /// The token endpoint URL.
    pub aud: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expiry, seconds since the epoch: `iat + 3600`.
    pub exp: i64,
}

impl AssertionClaims {
    /// The claims GitLab's `googleauth` sends, issued at `now` (seconds since the epoch).
    pub fn new(client_email: &str, token_url: &str, now: i64) -> AssertionClaims {
        AssertionClaims {
            iss: client_email.to_owned(),
            scope: LOGGING_WRITE_SCOPE.to_owned(),
            aud: token_url.to_owned(),
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        }
    }
}

/// The token endpoint's success answer.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

struct CachedToken {
    access_token: String,
    /// After this instant the token is refreshed before use.
    refresh_at: Instant,
}

/// Sends events to one Google Cloud Logging destination.
pub struct GcpSink {
    log_name: String,
    client_email: String,
    key: EncodingKey,
    endpoints: GcpEndpoints,
    client: reqwest::Client,
    /// The cached access token. Held across a fetch, so concurrent callers share one fetch.
    token: Mutex<Option<CachedToken>>,
}

impl std::fmt::Debug for GcpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpSink")
            .field("log_name", &self.log_name)
            .field("client_email", &self.client_email)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl GcpSink {
    /// A sink for `spec`. The private key is parsed and test-signed here: a key that cannot sign
    /// is a [`FailureKind::Auth`] error (the destination pauses until its credentials are fixed).
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
            client_email: spec.client_email,
            key,
            endpoints,
            client,
            token: Mutex::new(None),
        })
    }

    /// Writes `events` as entries of ONE entries:write request, in order (GitLab sends one per
    /// request; batching is our improvement). An empty slice sends nothing.
    ///
    /// A 401 from the Logging API drops the cached token and retries once with a fresh one; a
    /// second 401 is [`FailureKind::Auth`]. Other answers are classified by
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

        let token = self.access_token().await?;
        match self.write_entries(&token, &body).await {
            Err(e) if e.status == Some(401) => {
                tracing::info!(log_name = %self.log_name, "Cloud Logging refused the access token; fetching a new one");
                self.forget_token(&token).await;
                let token = self.access_token().await?;
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

    /// The cached access token, or a fresh one when there is none or it is about to expire.
    async fn access_token(&self) -> Result<String, DeliveryError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.access_token.clone());
        }
        let fresh = self.fetch_token().await?;
        let access_token = fresh.access_token.clone();
        *cached = Some(fresh);
        Ok(access_token)
    }

    /// Drops the cached token if it is still `used` (another caller may already have replaced it).
    async fn forget_token(&self, used: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.access_token == used) {
            *cached = None;
        }
    }

    /// Exchanges a freshly signed JWT for an access token.
    async fn fetch_token(&self) -> Result<CachedToken, DeliveryError> {
        let now = chrono::Utc::now().timestamp();
        let assertion =
            sign_assertion(&self.key, &AssertionClaims::new(&self.client_email, &self.endpoints.token_url, now))?;
        let started = Instant::now();
        let response = self
            .client
            .post(&self.endpoints.token_url)
            .timeout(REQUEST_TIMEOUT)
            .form(&[("grant_type", JWT_BEARER_GRANT_TYPE), ("assertion", assertion.as_str())])
            .send()
            .await
            .map_err(|e| request_error("GCP token exchange", &e))?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let mut error = error_from_response("GCP token exchange", response).await;
            if matches!(status, 400 | 401 | 403) {
                // invalid_grant (bad signature, unknown or disabled account, clock skew), invalid_scope…
                error.kind = FailureKind::Auth;
            }
            return Err(error);
        }
        let text = response.text().await.map_err(|e| request_error("GCP token exchange", &e))?;
        let token: TokenResponse = serde_json::from_str(&text).map_err(|e| {
            DeliveryError::transient(format!("GCP token exchange: unreadable answer ({e}): {}", excerpt(&text)))
        })?;
        if token.access_token.is_empty() {
            return Err(DeliveryError::transient("GCP token exchange: answer has an empty access_token"));
        }
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(0));
        tracing::debug!(client_email = %self.client_email, expires_in = lifetime.as_secs(), "fetched a GCP access token");
        Ok(CachedToken {
            access_token: token.access_token,
            refresh_at: started + lifetime.saturating_sub(TOKEN_REFRESH_MARGIN),
        })
    }
}

/// The request body in GitLab's shape:
/// `{"entries":[{"logName":"projects/<p>/logs/<l>","resource":{"type":"global"},"severity":"INFO","jsonPayload":<event body object>}]}`,
/// one entry per event, in order. `logName` is not URL-encoded (as GitLab). `jsonPayload` is the
/// event's GitLab body with `id` first. A body that is not a JSON object (never the case for
/// events read from the log) becomes `{"id":…,"event_type":…,"body":"<the text>"}`;
/// [`GcpSink::send_batch`] refuses such an event instead, as [`FailureKind::Permanent`].
pub fn entries_body(spec_project: &str, log_id: &str, events: &[Outgoing]) -> Value {
    let log_name = log_name(spec_project, log_id);
    let entries: Vec<Value> = events
        .iter()
        .map(|event| {
            entry(&log_name, event).unwrap_or_else(|_| {
                let mut payload = Map::new();
                payload.insert("id".to_owned(), id_value(&event.id));
                payload.insert("event_type".to_owned(), Value::String(event.event_type.clone()));
                payload.insert("body".to_owned(), Value::String(event.body.clone()));
                entry_value(&log_name, payload)
            })
        })
        .collect();
    serde_json::json!({ "entries": entries })
}

/// `projects/<project>/logs/<log id>`, not URL-encoded.
/// `projects/<p>/logs/<l>`. Google wants a `/` inside the log id written as `%2F`; GitLab
/// sends it raw (and Google refuses it), so only that character is encoded: every log id that
/// works with GitLab is sent exactly as GitLab sends it.
fn log_name(project: &str, log_id: &str) -> String {
    format!("projects/{project}/logs/{}", log_id.replace('/', "%2F"))
}

/// One entry, or why the event's body cannot be one.
fn entry(log_name: &str, event: &Outgoing) -> Result<Value, String> {
    let parsed: Value = serde_json::from_str(&event.body)
        .map_err(|e| format!("event {} (seq {}): body is not JSON: {e}", event.id, event.seq))?;
    let Value::Object(body) = parsed else {
        return Err(format!("event {} (seq {}): body is not a JSON object", event.id, event.seq));
    };
    // `id` first (it already is for bodies built by `payload_with_id`), the rest in body order.
    // (`Map::remove` would swap the last key into its place.)
    let mut payload = Map::with_capacity(body.len() + 1);
    payload.insert("id".to_owned(), body.get("id").cloned().unwrap_or_else(|| id_value(&event.id)));
    payload.extend(body.into_iter().filter(|(key, _)| key != "id"));
    Ok(entry_value(log_name, payload))
}

fn entry_value(log_name: &str, payload: Map<String, Value>) -> Value {
    serde_json::json!({
        "logName": log_name,
        "resource": { "type": "global" },
        "severity": "INFO",
        "jsonPayload": payload,
    })
}

fn id_value(id: &EventId) -> Value {
    match id {
        EventId::Int(n) => Value::from(*n),
        EventId::Str(s) => Value::String(s.clone()),
    }
}

/// Signs the service-account assertion (RS256).
fn sign_assertion(key: &EncodingKey, claims: &AssertionClaims) -> Result<String, DeliveryError> {
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, key)
        .map_err(|e| DeliveryError::auth(format!("cannot sign the GCP JWT with the private key: {e}")))
}

/// Keys pasted from a JSON key file sometimes keep `\n` escapes; PEM needs real line breaks.
fn normalize_pem(pem: &str) -> String {
    let pem = pem.trim();
    if !pem.contains('\n') && pem.contains("\\n") { pem.replace("\\n", "\n") } else { pem.to_owned() }
}

/// A request that got no HTTP answer: timeouts and connection failures are transient; a request
/// that cannot even be built (a malformed endpoint URL) is a configuration error, which pauses
/// the destination like an auth error rather than dropping events.
fn request_error(what: &str, error: &reqwest::Error) -> DeliveryError {
    // reqwest's message can include the URL, never the body or headers.
    let message = format!("{what}: {}", error_chain(error));
    if error.is_builder() { DeliveryError::auth(message) } else { DeliveryError::transient(message) }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Classifies a non-success answer, with `Retry-After` honoured.
async fn error_from_response(what: &str, response: reqwest::Response) -> DeliveryError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
    let body = response.text().await.unwrap_or_default();
    let mut error = DeliveryError::from_status(status, &body, retry_after);
    error.message = format!("{what}: {}", error.message);
    error
}

fn excerpt(text: &str) -> String {
    text.chars().take(crate::failure::MAX_ERROR_BODY).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrelay_core::event::payload_with_id;
    use auditrelay_testkit::fake_gcp::{test_private_key, test_public_key};

    fn outgoing(seq: i64, id: EventId, rest: &str) -> Outgoing {
        Outgoing {
            seq,
            id: id.clone(),
            event_type: "repository_git_operation".into(),
            entity_type: "Project".into(),
            created_at: 1_658_814_233_662_000,
            body: payload_with_id(&id, rest),
        }
    }

    #[test]
    fn entries_body_has_gitlabs_shape() {
        let events = [
            outgoing(
                1,
                EventId::Int(7),
                r#"{"author_id":-3,"details":{"custom_message":{"action":"git-upload-pack"}},"event_type":"repository_git_operation"}"#,
            ),
            outgoing(2, EventId::Str("5b1f-uuid".into()), r#"{"author_id":1,"event_type":"user_created"}"#),
        ];
        let body = entries_body("my-project", "audit_events", &events);
        let expected = serde_json::json!({"entries": [
            {"logName": "projects/my-project/logs/audit_events", "resource": {"type": "global"}, "severity": "INFO",
             "jsonPayload": {"id": 7, "author_id": -3, "details": {"custom_message": {"action": "git-upload-pack"}},
                             "event_type": "repository_git_operation"}},
            {"logName": "projects/my-project/logs/audit_events", "resource": {"type": "global"}, "severity": "INFO",
             "jsonPayload": {"id": "5b1f-uuid", "author_id": 1, "event_type": "user_created"}},
        ]});
        assert_eq!(body, expected);
        // Key order on the wire: GitLab's entry order, and `id` first in the payload.
        let text = body.to_string();
        assert!(
            text.starts_with(
                r#"{"entries":[{"logName":"projects/my-project/logs/audit_events","resource":{"type":"global"},"severity":"INFO","jsonPayload":{"id":7,"author_id":-3,"#
            ),
            "{text}"
        );
        for (entry, event) in body["entries"].as_array().unwrap().iter().zip(&events) {
            let parsed: Value = serde_json::from_str(&event.body).unwrap();
            assert_eq!(entry["jsonPayload"], parsed);
            assert_eq!(entry["jsonPayload"].as_object().unwrap().keys().next().unwrap(), "id");
        }
    }

    #[test]
    fn log_name_is_not_url_encoded_but_for_slashes() {
        let events = [outgoing(1, EventId::Int(1), "{}")];
        let body = entries_body("proj:legacy", "audit events/ü", &events);
        assert_eq!(body["entries"][0]["logName"], "projects/proj:legacy/logs/audit events%2Fü");
        assert_eq!(body["entries"][0]["jsonPayload"], serde_json::json!({"id": 1}));
    }

    #[test]
    fn id_is_put_first_when_the_body_has_it_elsewhere_or_not_at_all() {
        let mut event = outgoing(1, EventId::Int(9), "{}");
        event.body = r#"{"a":1,"id":"x","b":2}"#.into();
        let body = entries_body("p", "l", std::slice::from_ref(&event));
        assert_eq!(body["entries"][0]["jsonPayload"].to_string(), r#"{"id":"x","a":1,"b":2}"#);
        event.body = r#"{"a":1}"#.into();
        let body = entries_body("p", "l", std::slice::from_ref(&event));
        assert_eq!(body["entries"][0]["jsonPayload"].to_string(), r#"{"id":9,"a":1}"#);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_wrapped_by_entries_body_and_refused_by_entry() {
        let mut event = outgoing(3, EventId::Int(4), "{}");
        event.body = "not json".into();
        let body = entries_body("p", "l", std::slice::from_ref(&event));
        assert_eq!(
            body["entries"][0]["jsonPayload"],
            serde_json::json!({"id": 4, "event_type": "repository_git_operation", "body": "not json"})
        );
        assert!(entry("projects/p/logs/l", &event).unwrap_err().contains("seq 3"));
        event.body = "[1]".into();
        assert!(entry("projects/p/logs/l", &event).is_err());
    }

    #[test]
    fn assertion_claims_and_signature() {
        let key = EncodingKey::from_rsa_pem(test_private_key().as_bytes()).unwrap();
        let now = chrono::Utc::now().timestamp();
        let claims =
            AssertionClaims::new("relay@proj.iam.gserviceaccount.com", "https://oauth2.googleapis.com/token", now);
        let jwt = sign_assertion(&key, &claims).unwrap();

        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let decoding = jsonwebtoken::DecodingKey::from_rsa_pem(test_public_key().as_bytes()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.set_audience(&["https://oauth2.googleapis.com/token"]);
        validation.set_issuer(&["relay@proj.iam.gserviceaccount.com"]);
        let decoded = jsonwebtoken::decode::<AssertionClaims>(&jwt, &decoding, &validation).unwrap();
        assert_eq!(decoded.claims, claims);
        assert_eq!(decoded.claims.scope, "https://www.googleapis.com/auth/logging.write");
        assert_eq!(decoded.claims.iss, "relay@proj.iam.gserviceaccount.com");
        assert_eq!(decoded.claims.aud, "https://oauth2.googleapis.com/token");
        assert_eq!(decoded.claims.iat, now);
        assert_eq!(decoded.claims.exp, now + 3600);
    }

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
