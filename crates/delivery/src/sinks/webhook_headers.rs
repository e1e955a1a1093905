//! Standard Webhooks 1.0 headers on an HTTP request: `webhook-id` (the event's id as in its
//! body), `webhook-timestamp` (unix seconds at send time) and `webhook-signature` (one `v1,`
//! signature per secret in force, space-separated). Added after GitLab's headers, which stay
//! as they are. The signing is `auditrelay_core::stream_proof::webhook_signature`.

use auditrelay_core::stream_proof::WebhookSecret;
use auditrelay_core::stream_proof::webhook_signature::signature_header;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::outgoing::Outgoing;

pub const ID: HeaderName = HeaderName::from_static("webhook-id");
pub const TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
pub const SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");

/// Adds the three headers when `secrets` is not empty. `now` is unix seconds.
pub fn add(headers: &mut HeaderMap, secrets: &[WebhookSecret], event: &Outgoing, now: i64) {
    if secrets.is_empty() {
        return;
    }
    let id = event.id.to_string();
    let Ok(id_value) = HeaderValue::from_str(&id) else {
        // Ingest refuses such ids; an unsigned request is refused by the receiver, not faked.
        tracing::warn!(seq = event.seq, "event id is not a valid header value; request sent unsigned");
        return;
    };
    let signature = signature_header(secrets, &id, now, event.body.as_bytes());
    headers.insert(ID, id_value);
    headers.insert(TIMESTAMP, HeaderValue::from(now));
    // Base64 and `v1,` only: always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&signature) {
        headers.insert(SIGNATURE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrelay_core::EventId;

    fn event() -> Outgoing {
        Outgoing {
            seq: 7,
            id: EventId::Int(42),
            event_type: "x".into(),
            entity_type: "Group".into(),
            created_at: 0,
            body: r#"{"id":42}"#.into(),
            stamp: None,
        }
    }

    #[test]
    fn no_secrets_no_headers() {
        let mut headers = HeaderMap::new();
        add(&mut headers, &[], &event(), 5);
        assert!(headers.is_empty());
    }

    #[test]
    fn signs_id_timestamp_and_body_with_every_secret() {
        let new = WebhookSecret::from_bytes(vec![2; 32]).unwrap();
        let old = WebhookSecret::from_bytes(vec![1; 32]).unwrap();
        let mut headers = HeaderMap::new();
        add(&mut headers, &[new.clone(), old.clone()], &event(), 1_700_000_000);
        assert_eq!(headers[ID], "42");
        assert_eq!(headers[TIMESTAMP], "1700000000");
        let expected = format!(
            "{} {}",
            new.sign("42", 1_700_000_000, br#"{"id":42}"#),
            old.sign("42", 1_700_000_000, br#"{"id":42}"#)
        );
        assert_eq!(headers[SIGNATURE], expected.as_str());
    }
}
