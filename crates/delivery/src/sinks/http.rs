//! HTTP destinations: one `POST` per event with GitLab's body and headers, over a reused
//! connection pool, with the SSRF guard applied to every address a name resolves to.

use auditrelay_core::destination::url_guard::blocked_reason;
use auditrelay_core::destination::{EVENT_TYPE_HEADER, TOKEN_HEADER};
use auditrelay_core::stream_proof::WebhookSecret;
use bytes::Bytes;
use hyper::Uri;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use std::net::IpAddr;

use super::http_client::Answer;
use crate::failure::{DeliveryError, parse_retry_after};
use crate::outgoing::Outgoing;

pub use super::http_client::{CONNECT_TIMEOUT, HttpClient, REQUEST_TIMEOUT};

/// What an HTTP destination is: its URL, verification token and active custom headers.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSpec {
    pub url: String,
    pub token: String,
    /// Active custom headers only, in order.
    pub headers: Vec<(String, String)>,
    /// Standard Webhooks signing secrets in force, newest first; empty when signing is off.
    pub signing: Vec<WebhookSecret>,
}

const EVENT_TYPE: HeaderName = HeaderName::from_static("x-gitlab-audit-event-type");

pub struct HttpSink {
    uri: Uri,
    headers: HeaderMap,
    signing: Vec<WebhookSecret>,
    client: HttpClient,
    /// Why the URL's literal host is refused (checked once; names are checked when resolved).
    blocked: Option<&'static str>,
}

impl HttpSink {
    pub fn new(spec: &HttpSpec, client: HttpClient, allow_local: bool) -> Result<HttpSink, DeliveryError> {
        let invalid = |e: &dyn std::fmt::Display| DeliveryError::auth(format!("destination URL is invalid: {e}"));
        let url = url::Url::parse(&spec.url).map_err(|e| invalid(&e))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(&format_args!("the scheme '{}' is not http or https", url.scheme())));
        }
        let uri: Uri = url.as_str().parse().map_err(|e| invalid(&e))?;
        let blocked = if allow_local { None } else { literal_host_blocked(&url) };
        Ok(HttpSink { uri, headers: gitlab_headers(spec)?, signing: spec.signing.clone(), client, blocked })
    }

    pub async fn send(&self, event: &Outgoing) -> Result<(), DeliveryError> {
        if let Some(reason) = self.blocked {
            return Err(DeliveryError::auth(format!("destination URL is blocked: {reason}")));
        }
        // The destination's headers are built once; only the event type is per request.
        let mut headers = self.headers.clone();
        if let Ok(value) = HeaderValue::from_str(&event.event_type) {
            headers.insert(EVENT_TYPE, value);
        }
        if let Some(stamp) = &event.stamp {
            stamp.add_headers(&mut headers);
        }
        super::webhook_headers::add(&mut headers, &self.signing, event, chrono::Utc::now().timestamp());
        let answer = self.client.post(&self.uri, headers, Bytes::from(event.body.clone())).await?;
        if answer.status.is_success() {
            return Ok(());
        }
        Err(refusal(&answer))
    }
}

impl HttpSink {
    /// An in-band checkpoint: its own POST of the SignedCheckpoint JSON, with the destination's
    /// headers, `X-Auditrelay-Checkpoint: 1` and no event-type header. One attempt: whether it
    /// arrived is recorded, and the next checkpoint covers everything this one did.
    pub async fn send_checkpoint(&self, json: &str) -> Result<(), DeliveryError> {
        if let Some(reason) = self.blocked {
            return Err(DeliveryError::auth(format!("destination URL is blocked: {reason}")));
        }
        let mut headers = self.headers.clone();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(HeaderName::from_static("x-auditrelay-checkpoint"), HeaderValue::from_static("1"));
        let answer = self.client.post(&self.uri, headers, Bytes::from(json.to_owned())).await?;
        if answer.status.is_success() {
            Ok(())
        } else {
            Err(DeliveryError::from_status(answer.status.as_u16(), "", None))
        }
    }
}

/// A destination's refusal: its status, its `Retry-After` and the start of its body.
fn refusal(answer: &Answer) -> DeliveryError {
    let retry_after = answer
        .retry_after
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
    DeliveryError::from_status(answer.status.as_u16(), &String::from_utf8_lossy(&answer.body), retry_after)
}

/// The headers of every request but the per-event type: the verification token, the active
/// custom headers, and GitLab's default `Content-Type` unless a custom header sets one.
pub fn gitlab_headers(spec: &HttpSpec) -> Result<HeaderMap, DeliveryError> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    for (key, value) in &spec.headers {
        // Rows stored before the rule existed may hold one; the connection's own value wins.
        if auditrelay_core::destination::rules::reserved_header(key).is_some() {
            continue;
        }
        let name = HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| DeliveryError::auth(format!("custom header name '{key}' is invalid")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| DeliveryError::auth(format!("custom header '{key}' has an invalid value")))?;
        headers.insert(name, value);
    }
    // The token goes last so that it always wins.
    let token = HeaderValue::from_str(&spec.token)
        .map_err(|_| DeliveryError::auth("the verification token is not a valid header value"))?;
    headers.insert(HeaderName::from_bytes(TOKEN_HEADER.as_bytes()).expect("static header name"), token);
    debug_assert!(HeaderName::from_bytes(EVENT_TYPE_HEADER.as_bytes()).is_ok());
    Ok(headers)
}

fn literal_host_blocked(url: &url::Url) -> Option<&'static str> {
    match url.host()? {
        url::Host::Ipv4(ip) => blocked_reason(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => blocked_reason(IpAddr::V6(ip)),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost")).then_some("Requests to localhost are not allowed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(headers: &[(&str, &str)]) -> HttpSpec {
        HttpSpec {
            url: "https://siem.example.com/in".into(),
            token: "a-verification-token-1".into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            signing: Vec::new(),
        }
    }

    #[test]
    fn default_content_type_is_gitlabs() {
        let headers = gitlab_headers(&spec(&[])).unwrap();
        assert_eq!(headers[CONTENT_TYPE], "application/x-www-form-urlencoded");
        assert_eq!(headers["x-gitlab-event-streaming-token"], "a-verification-token-1");
    }

    #[test]
    fn a_custom_content_type_overrides_and_the_token_wins() {
        let headers = gitlab_headers(&spec(&[
            ("Content-Type", "application/json"),
            ("X-Gitlab-Event-Streaming-Token", "forged"),
            ("X-A", "1"),
        ]))
        .unwrap();
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(headers["x-gitlab-event-streaming-token"], "a-verification-token-1");
        assert_eq!(headers["x-a"], "1");
    }

    #[test]
    fn stored_framing_headers_are_never_sent() {
        let headers =
            gitlab_headers(&spec(&[("Host", "internal"), ("Transfer-Encoding", "chunked"), ("X-A", "1")])).unwrap();
        assert!(!headers.contains_key("host") && !headers.contains_key("transfer-encoding"));
        assert_eq!(headers["x-a"], "1");
    }

    #[test]
    fn literal_local_hosts_are_caught_before_sending() {
        for url in ["http://127.0.0.1:9/x", "http://[::1]/", "http://localhost:80", "http://169.254.169.254/"] {
            assert!(literal_host_blocked(&url::Url::parse(url).unwrap()).is_some(), "{url}");
        }
        assert!(literal_host_blocked(&url::Url::parse("https://example.com").unwrap()).is_none());
    }

    #[tokio::test]
    async fn literal_local_urls_are_refused_without_a_request() {
        let sink = HttpSink::new(
            &HttpSpec { url: "http://127.0.0.1:9/x".into(), ..spec(&[]) },
            HttpClient::new(false, REQUEST_TIMEOUT),
            false,
        )
        .unwrap();
        let event = Outgoing {
            seq: 1,
            id: auditrelay_core::EventId::Int(1),
            event_type: "x".into(),
            entity_type: "Group".into(),
            created_at: 0,
            body: "{}".into(),
            stamp: None,
        };
        let error = sink.send(&event).await.unwrap_err();
        assert_eq!(error.kind, crate::FailureKind::Auth, "{error}");
        assert!(error.message.contains("blocked"), "{error}");
    }
}
