//! A local fake of Google's OAuth token endpoint and Cloud Logging `entries:write`, checking
//! what Google checks: the service-account JWT (RS256 signature, `iss`, `aud`, `exp`, scope,
//! grant type), the bearer token (issued here and unexpired), and the entries' shape.
//!
//! Answers use Google's error shapes: the token endpoint answers OAuth errors
//! (`{"error":"invalid_grant","error_description":…}`), the Logging API answers
//! `{"error":{"code":…,"message":…,"status":…}}`.

mod labels;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

/// The scope a Cloud Logging writer must ask for.
pub const LOGGING_WRITE_SCOPE: &str = "https://www.googleapis.com/auth/logging.write";
/// The grant type of a service-account JWT exchange.
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The service account e-mail that goes with [`test_private_key`] in [`FakeGcp::start_for_test_account`].
pub const TEST_CLIENT_EMAIL: &str = "auditrelay-test@auditrelay-test.iam.gserviceaccount.com";

/// The test service account's private key (PKCS#8 PEM, as in Google's JSON key file). TEST ONLY.
pub fn test_private_key() -> &'static str {
    include_str!("../fixtures/gcp-test-key.pem")
}

/// The public half of [`test_private_key`].
pub fn test_public_key() -> &'static str {
    include_str!("../fixtures/gcp-test-key.pub.pem")
}

/// An unrelated private key (PKCS#8 PEM): JWTs signed with it fail the fake's signature check.
pub fn other_private_key() -> &'static str {
    include_str!("../fixtures/gcp-other-key.pem")
}

/// Google's longest assertion lifetime, and how much clock skew it tolerates.
const MAX_ASSERTION_LIFETIME_SECS: i64 = 3600;
const CLOCK_SKEW_SECS: i64 = 60;

/// The fake Google endpoints, served on `127.0.0.1:<random port>` by a task of the current tokio
/// runtime. The server stops when this is dropped.
pub struct FakeGcp {
    base_url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    public_key: DecodingKey,
    client_email: String,
    token_url: String,
    state: Mutex<FakeState>,
}

#[derive(Default)]
struct FakeState {
    /// Issued access tokens and when they expire.
    tokens: HashMap<String, Instant>,
    entries: Vec<Value>,
    token_requests: usize,
    write_requests: usize,
    expires_in: u64,
    /// Forced answers for the next `entries:write` requests: status and `Retry-After`.
    failing_writes: VecDeque<(u16, Option<String>)>,
    /// Forced answers for the next token requests.
    failing_token_requests: VecDeque<u16>,
}

#[derive(Deserialize)]
struct AssertionClaims {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    iat: Option<i64>,
    exp: i64,
}

impl FakeGcp {
    /// Starts the fake for a service account: its PUBLIC key (PEM) and e-mail (the JWT issuer).
    ///
    /// # Panics
    /// When the key is not an RSA public key PEM or the port cannot be bound.
    pub async fn start(public_key_pem: &str, client_email: &str) -> FakeGcp {
        let public_key = DecodingKey::from_rsa_pem(public_key_pem.as_bytes()).expect("an RSA public key PEM");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let base_url = format!("http://{}", listener.local_addr().expect("local addr"));
        let shared = Arc::new(Shared {
            public_key,
            client_email: client_email.to_owned(),
            token_url: format!("{base_url}/token"),
            state: Mutex::new(FakeState { expires_in: 3600, ..FakeState::default() }),
        });
        let app = Router::new()
            .route("/token", post(token))
            .route("/v2/entries:write", post(entries_write))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake GCP server");
        });
        FakeGcp { base_url, shared, server }
    }

    /// [`FakeGcp::start`] for the fixture account: [`test_public_key`] and [`TEST_CLIENT_EMAIL`].
    pub async fn start_for_test_account() -> FakeGcp {
        FakeGcp::start(test_public_key(), TEST_CLIENT_EMAIL).await
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The OAuth token endpoint; JWT assertions must name it as `aud`.
    pub fn token_url(&self) -> String {
        self.shared.token_url.clone()
    }

    /// The `entries:write` endpoint.
    pub fn logging_url(&self) -> String {
        format!("{}/v2/entries:write", self.base_url)
    }

    /// Every accepted entry, in the order received.
    pub fn entries(&self) -> Vec<Value> {
        self.state().entries.clone()
    }

    /// How many requests reached the token endpoint (accepted or not).
    pub fn token_requests(&self) -> usize {
        self.state().token_requests
    }

    /// How many requests reached `entries:write` (accepted or not).
    pub fn write_requests(&self) -> usize {
        self.state().write_requests
    }

    /// The `expires_in` (seconds) of tokens issued from now on; 3600 by default, like Google.
    /// Tokens are really valid that long here.
    pub fn set_expires_in(&self, seconds: u64) {
        self.state().expires_in = seconds;
    }

    /// The next `n` `entries:write` requests answer `status` (with a Google-style JSON error and,
    /// when given, a `Retry-After` header) without looking at them.
    pub fn fail_next_writes(&self, n: usize, status: u16, retry_after: Option<&str>) {
        let mut state = self.state();
        for _ in 0..n {
            state.failing_writes.push_back((status, retry_after.map(str::to_owned)));
        }
    }

    /// The next `n` token requests answer `status` without looking at them.
    pub fn fail_next_token_requests(&self, n: usize, status: u16) {
        let mut state = self.state();
        state.failing_token_requests.extend(std::iter::repeat_n(status, n));
    }

    /// Revokes every access token issued so far: `entries:write` then answers 401 for them.
    pub fn revoke_tokens(&self) {
        self.state().tokens.clear();
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for FakeGcp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `POST /token`: the service-account JWT exchange.
async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let forced = {
        let mut state = shared.state();
        state.token_requests += 1;
        state.failing_token_requests.pop_front()
    };
    if let Some(status) = forced {
        return oauth_error(status, "internal_failure", "Forced failure (FakeGcp::fail_next_token_requests).");
    }
    if !content_type_is(&headers, "application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.");
    }
    let Ok(body) = std::str::from_utf8(&body) else {
        return oauth_error(400, "invalid_request", "The request body is not UTF-8.");
    };
    let form = parse_form(body);
    match form.get("grant_type").map(String::as_str) {
        Some(JWT_BEARER_GRANT_TYPE) => {}
        Some(other) => return oauth_error(400, "unsupported_grant_type", &format!("Invalid grant_type: {other}")),
        None => return oauth_error(400, "invalid_request", "Missing required parameter: grant_type"),
    }
    let Some(assertion) = form.get("assertion") else {
        return oauth_error(400, "invalid_request", "Missing required parameter: assertion");
    };

    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[shared.token_url.as_str()]);
    validation.set_issuer(&[shared.client_email.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    validation.leeway = CLOCK_SKEW_SECS as u64;
    let claims = match jsonwebtoken::decode::<AssertionClaims>(assertion, &shared.public_key, &validation) {
        Ok(data) => data.claims,
        Err(e) => {
            use jsonwebtoken::errors::ErrorKind;
            let description = match e.kind() {
                ErrorKind::InvalidSignature => "Invalid JWT Signature.".to_owned(),
                ErrorKind::ExpiredSignature => "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".to_owned(),
                ErrorKind::InvalidIssuer => "Invalid JWT: unknown service account (iss).".to_owned(),
                ErrorKind::InvalidAudience => "Invalid JWT: aud must be the token endpoint.".to_owned(),
                other => format!("Invalid JWT: {other:?}"),
            };
            return oauth_error(400, "invalid_grant", &description);
        }
    };
    let now = unix_now();
    let iat = claims.iat.unwrap_or(i64::MIN);
    if iat > now + CLOCK_SKEW_SECS || claims.exp < iat || claims.exp - iat > MAX_ASSERTION_LIFETIME_SECS {
        return oauth_error(
            400,
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        );
    }
    if !claims.scope.split(' ').any(|s| s == LOGGING_WRITE_SCOPE) {
        return oauth_error(400, "invalid_scope", "The JWT does not ask for the logging.write scope.");
    }

    let access_token = format!("ya29.fake-{}", crate::random_suffix());
    let expires_in = {
        let mut state = shared.state();
        let expires_in = state.expires_in;
        state.tokens.insert(access_token.clone(), Instant::now() + Duration::from_secs(expires_in));
        expires_in
    };
    (
        StatusCode::OK,
        axum::Json(json!({"access_token": access_token, "expires_in": expires_in, "token_type": "Bearer"})),
    )
        .into_response()
}

/// `POST /v2/entries:write`.
async fn entries_write(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let forced = {
        let mut state = shared.state();
        state.write_requests += 1;
        state.failing_writes.pop_front()
    };
    if let Some((status, retry_after)) = forced {
        let mut response = google_error(status, "Forced failure (FakeGcp::fail_next_writes).");
        if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }

    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(bearer) = bearer else {
        return google_error(
            401,
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        );
    };
    let valid = shared.state().tokens.get(bearer).is_some_and(|expires| Instant::now() < *expires);
    if !valid {
        return google_error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        );
    }

    if !content_type_is(&headers, "application/json") {
        return google_error(400, "Content-Type must be application/json.");
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return google_error(400, &format!("Invalid JSON payload received. {e}")),
    };
    let entries = match check_entries(&body) {
        Ok(entries) => entries,
        Err(message) => return google_error(400, &message),
    };
    shared.state().entries.extend(entries);
    (StatusCode::OK, axum::Json(json!({}))).into_response()
}

/// The entries of a well-formed `entries:write` body, or what is wrong with it.
fn check_entries(body: &Value) -> Result<Vec<Value>, String> {
    let Some(entries) = body.get("entries").and_then(Value::as_array) else {
        return Err("Invalid value at 'entries': a list of log entries is required.".into());
    };
    if entries.is_empty() {
        return Err("At least one log entry is required.".into());
    }
    for (i, entry) in entries.iter().enumerate() {
        let log_name = entry.get("logName").and_then(Value::as_str).unwrap_or_default();
        check_log_name(log_name).map_err(|m| format!("entries[{i}].logName: {m}"))?;
        if entry.pointer("/resource/type").and_then(Value::as_str) != Some("global") {
            return Err(format!("entries[{i}].resource.type: expected \"global\""));
        }
        if entry.get("severity").and_then(Value::as_str) != Some("INFO") {
            return Err(format!("entries[{i}].severity: expected \"INFO\""));
        }
        let Some(payload) = entry.get("jsonPayload").and_then(Value::as_object) else {
            return Err(format!("entries[{i}].jsonPayload: expected a JSON object"));
        };
        if !payload.contains_key("id") {
            return Err(format!("entries[{i}].jsonPayload: the event has no \"id\""));
        }
        labels::check_labels(entry.get("labels")).map_err(|m| format!("entries[{i}].labels: {m}"))?;
    }
    Ok(entries.clone())
}

/// `projects/<project>/logs/<log id>`. Like Google, a log id may hold only letters, digits,
/// `_ - . /` and percent escapes, with any `/` URL-encoded (so the raw name has none), at most
/// 512 characters.
fn check_log_name(log_name: &str) -> Result<(), String> {
    let malformed = || format!("{log_name:?} is not projects/[PROJECT_ID]/logs/[LOG_ID]");
    let rest = log_name.strip_prefix("projects/").ok_or_else(malformed)?;
    let (project, log_id) = rest.split_once("/logs/").ok_or_else(malformed)?;
    if project.is_empty() || project.contains('/') || log_id.is_empty() {
        return Err(malformed());
    }
    if log_id.len() > 512 || !log_id.chars().all(|c| c.is_ascii_alphanumeric() || "_-.%".contains(c)) {
        return Err(format!("invalid log id {log_id:?}"));
    }
    Ok(())
}

fn content_type_is(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

/// An OAuth token endpoint error.
fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(json!({"error": error, "error_description": description}))).into_response()
}

/// A Google API error: `{"error":{"code":…,"message":…,"status":…}}`.
fn google_error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let status_name = match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        500..=599 => "INTERNAL",
        _ => "UNKNOWN",
    };
    (code, axum::Json(json!({"error": {"code": status, "message": message, "status": status_name}}))).into_response()
}

/// `application/x-www-form-urlencoded` pairs (the last of a repeated name wins).
fn parse_form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes[i] {
            b'%' => bytes
                .get(i + 1..i + 3)
                .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
                .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, other) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        let form =
            parse_form("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b-c_d&x=1+2%");
        assert_eq!(form["grant_type"], JWT_BEARER_GRANT_TYPE);
        assert_eq!(form["assertion"], "a.b-c_d");
        assert_eq!(form["x"], "1 2%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%+1"), "% 1");
    }

    #[test]
    fn log_names() {
        assert!(check_log_name("projects/my-proj/logs/audit_events").is_ok());
        assert!(check_log_name("projects/my-proj/logs/a%2Fb").is_ok());
        assert!(check_log_name("projects/my-proj/logs/a/b").is_err());
        assert!(check_log_name("projects//logs/x").is_err());
        assert!(check_log_name("projects/p/logs/").is_err());
        assert!(check_log_name("logs/x").is_err());
    }

    #[test]
    fn entry_shape_is_checked() {
        let good = json!({"logName": "projects/p/logs/l", "resource": {"type": "global"}, "severity": "INFO",
                          "jsonPayload": {"id": 1}});
        assert_eq!(check_entries(&json!({"entries": [good.clone()]})).unwrap(), vec![good.clone()]);
        assert!(check_entries(&json!({"entries": []})).is_err());
        assert!(check_entries(&json!({})).is_err());
        for (pointer, bad) in [
            ("/logName", json!("p/l")),
            ("/resource/type", json!("gce_instance")),
            ("/severity", json!("DEBUG")),
            ("/jsonPayload", json!("text")),
            ("/jsonPayload", json!({"no_id": true})),
        ] {
            let mut entry = good.clone();
            *entry.pointer_mut(pointer).unwrap() = bad;
            assert!(check_entries(&json!({"entries": [good.clone(), entry]})).is_err(), "{pointer}");
        }
    }

    #[test]
    fn fixture_keys_parse() {
        assert!(DecodingKey::from_rsa_pem(test_public_key().as_bytes()).is_ok());
        assert!(jsonwebtoken::EncodingKey::from_rsa_pem(test_private_key().as_bytes()).is_ok());
        assert!(jsonwebtoken::EncodingKey::from_rsa_pem(other_private_key().as_bytes()).is_ok());
        assert!(test_private_key().starts_with("-----BEGIN PRIVATE KEY-----"));
    }
}
