//! What every request of the sink shares: its timeouts, and how a request that got no answer or
//! a non-success answer becomes a classified [`DeliveryError`].

use std::time::Duration;

use crate::failure::{DeliveryError, MAX_ERROR_BODY, parse_retry_after};

/// Connect timeout for clients built with [`http_client_builder`](super::http_client_builder)
/// (GitLab's open timeout).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Total time allowed for one request, applied to every request the sink sends.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A request that got no HTTP answer: timeouts and connection failures are transient; a request
/// that cannot even be built (a malformed endpoint URL) is a configuration error, which pauses
/// the destination like an auth error rather than dropping events.
pub(super) fn request_error(what: &str, error: &reqwest::Error) -> DeliveryError {
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
pub(super) async fn error_from_response(what: &str, response: reqwest::Response) -> DeliveryError {
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

pub(super) fn excerpt(text: &str) -> String {
    text.chars().take(MAX_ERROR_BODY).collect()
}
