//! Why a delivery failed, and what that means: retry later (transient), stop and wait for a
//! fix (auth), or give up on this event after its retry budget (permanent).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// 5xx, 408, 429, connection failures, timeouts: retry with backoff, never drop.
    Transient,
    /// 401, 403, or credentials that cannot be used: pause the destination, drop nothing.
    Auth,
    /// Any other 4xx, or an event the destination can never accept: park after the budget.
    Permanent,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub kind: FailureKind,
    /// The HTTP status, when the destination answered.
    pub status: Option<u16>,
    /// What went wrong, with at most [`MAX_ERROR_BODY`] characters of the answer's body.
    pub message: String,
    /// The destination's `Retry-After`, when it gave one.
    pub retry_after: Option<Duration>,
}

/// How much of a failed answer's body is kept for the health view.
pub const MAX_ERROR_BODY: usize = 512;

impl DeliveryError {
    pub fn transient(message: impl Into<String>) -> Self {
        DeliveryError { kind: FailureKind::Transient, status: None, message: message.into(), retry_after: None }
    }

    pub fn auth(message: impl Into<String>) -> Self {
        DeliveryError { kind: FailureKind::Auth, status: None, message: message.into(), retry_after: None }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        DeliveryError { kind: FailureKind::Permanent, status: None, message: message.into(), retry_after: None }
    }

    /// Classifies an HTTP answer that was not a success.
    pub fn from_status(status: u16, body: &str, retry_after: Option<Duration>) -> Self {
        let kind = classify_status(status);
        let body: String = body.chars().take(MAX_ERROR_BODY).collect();
        DeliveryError { kind, status: Some(status), message: format!("HTTP {status}: {body}"), retry_after }
    }
}

pub fn classify_status(status: u16) -> FailureKind {
    match status {
        401 | 403 => FailureKind::Auth,
        408 | 429 => FailureKind::Transient,
        400..=499 => FailureKind::Permanent,
        _ => FailureKind::Transient,
    }
}

/// A request that got no answer (connect failure, timeout, broken connection): transient.
/// `context` names what was attempted.
pub fn transport_failure(context: &str, error: &reqwest::Error) -> DeliveryError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    describe_transport(context, what, error)
}

/// A transient failure saying `what` happened, with `error` and its causes.
pub fn describe_transport(context: &str, what: &str, error: &(dyn std::error::Error + 'static)) -> DeliveryError {
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    let detail: String = detail.chars().take(MAX_ERROR_BODY).collect();
    DeliveryError::transient(format!("{context}{what}: {detail}"))
}

/// Parses `Retry-After`: delta-seconds, or an HTTP date relative to `now`.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.with_timezone(&chrono::Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        assert_eq!(classify_status(500), FailureKind::Transient);
        assert_eq!(classify_status(503), FailureKind::Transient);
        assert_eq!(classify_status(429), FailureKind::Transient);
        assert_eq!(classify_status(408), FailureKind::Transient);
        assert_eq!(classify_status(401), FailureKind::Auth);
        assert_eq!(classify_status(403), FailureKind::Auth);
        assert_eq!(classify_status(400), FailureKind::Permanent);
        assert_eq!(classify_status(404), FailureKind::Permanent);
        assert_eq!(classify_status(413), FailureKind::Permanent);
    }

    #[test]
    fn error_bodies_are_truncated() {
        let e = DeliveryError::from_status(500, &"x".repeat(2000), None);
        assert!(e.message.len() < 600);
        assert_eq!(e.status, Some(500));
    }

    #[test]
    fn retry_after_in_seconds_or_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Mon, 01 Jan 2024 00:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Sun, 31 Dec 2023 00:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
