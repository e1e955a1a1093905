//! The service-account JWT assertion and its exchange for an access token, cached on the sink
//! (GitLab fetches one per event) and replaced shortly before it expires.

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::requests::{REQUEST_TIMEOUT, error_from_response, excerpt, request_error};
use crate::failure::{DeliveryError, FailureKind};

/// The OAuth scope GitLab asks for.
pub const LOGGING_WRITE_SCOPE: &str = "https://www.googleapis.com/auth/logging.write";
/// The OAuth grant type of a service-account JWT exchange (RFC 7523).
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// A cached access token is replaced this long before Google says it expires.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// How long a signed JWT assertion is valid (Google's maximum).
const ASSERTION_LIFETIME_SECS: i64 = 3600;

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
pub(super) struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

struct CachedToken {
    access_token: String,
    /// After this instant the token is refreshed before use.
    refresh_at: Instant,
}

/// A service account's access tokens: signs the assertion, exchanges it at the token endpoint
/// and caches the answer.
pub(super) struct TokenSource {
    client_email: String,
    key: EncodingKey,
    token_url: String,
    /// The cached access token. Held across a fetch, so concurrent callers share one fetch.
    cached: Mutex<Option<CachedToken>>,
}

impl TokenSource {
    pub(super) fn new(client_email: String, key: EncodingKey, token_url: String) -> TokenSource {
        TokenSource { client_email, key, token_url, cached: Mutex::new(None) }
    }

    /// The service account's e-mail, the JWT issuer.
    pub(super) fn client_email(&self) -> &str {
        &self.client_email
    }

    /// The cached access token, or a fresh one (fetched with `client`) when there is none or it
    /// is about to expire.
    pub(super) async fn access_token(&self, client: &reqwest::Client) -> Result<String, DeliveryError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.access_token.clone());
        }
        let fresh = self.fetch_token(client).await?;
        let access_token = fresh.access_token.clone();
        *cached = Some(fresh);
        Ok(access_token)
    }

    /// Drops the cached token if it is still `used` (another caller may already have replaced it).
    pub(super) async fn forget_token(&self, used: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|t| t.access_token == used) {
            *cached = None;
        }
    }

    /// Exchanges a freshly signed JWT for an access token.
    async fn fetch_token(&self, client: &reqwest::Client) -> Result<CachedToken, DeliveryError> {
        let now = chrono::Utc::now().timestamp();
        let assertion = sign_assertion(&self.key, &AssertionClaims::new(&self.client_email, &self.token_url, now))?;
        let started = Instant::now();
        let response = client
            .post(&self.token_url)
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

/// Signs the service-account assertion (RS256).
pub(super) fn sign_assertion(key: &EncodingKey, claims: &AssertionClaims) -> Result<String, DeliveryError> {
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, key)
        .map_err(|e| DeliveryError::auth(format!("cannot sign the GCP JWT with the private key: {e}")))
}

/// Keys pasted from a JSON key file sometimes keep `\n` escapes; PEM needs real line breaks.
pub(super) fn normalize_pem(pem: &str) -> String {
    let pem = pem.trim();
    if !pem.contains('\n') && pem.contains("\\n") { pem.replace("\\n", "\n") } else { pem.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrelay_testkit::fake_gcp::{test_private_key, test_public_key};

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
}
