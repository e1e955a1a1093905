//! The ingest parser: any bytes, as JSON or NDJSON, give events or a clear error, never a panic.
//! Every accepted event renders to a GitLab payload that is valid JSON carrying the same id.
#![no_main]

use auditrelay_core::event::{EventId, payload_with_id, render_payload};
use auditrelay_core::{IngestError, IngestLimits, parse_ingest_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (flag, body) = auditrelay_fuzz::selector(data);
    let limits = IngestLimits { max_events: 1000, max_body_bytes: 1024 * 1024 };
    let events = match parse_ingest_body(body, flag & 1 == 1, limits) {
        Ok(events) => events,
        Err(IngestError::Invalid(message) | IngestError::TooLarge(message)) => {
            assert!(!message.is_empty());
            return;
        }
    };
    assert!(!events.is_empty() && events.len() <= limits.max_events);
    for event in &events {
        let path = event.entity_path.as_deref().unwrap_or("");
        let payload = render_payload(event, event.entity_id.unwrap_or(1), path, event.created_at.unwrap_or(0));
        let id = event.producer_id.clone().unwrap_or(EventId::Int(1));
        let full = payload_with_id(&id, &payload);
        let parsed: serde_json::Value = serde_json::from_str(&full).expect("the payload is valid JSON");
        assert_eq!(parsed["id"], id.to_value(), "the payload carries the event's id");
    }
});
