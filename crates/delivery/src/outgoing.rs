//! An event on its way to a destination: GitLab's payload and what the wire formats need.

use auditrelay_core::EventId;
use auditrelay_core::ai_events::{ContentFields, redact_streamed_body};
use auditrelay_core::event::payload_with_id;
use auditrelay_store::StoredEvent;

pub use crate::stream::Stamp;

#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// Position in the log (the delivery cursor moves over these).
    pub seq: i64,
    /// The public id: the same in every payload, retry and replay, for deduplication.
    pub id: EventId,
    pub event_type: String,
    pub entity_type: String,
    /// Microseconds since the epoch.
    pub created_at: i64,
    /// GitLab's JSON body, `id` first.
    pub body: String,
    /// Its place in the destination's provable stream (`None`: routed before streams were kept).
    pub stamp: Option<Stamp>,
}

impl Outgoing {
    pub fn from_stored(event: &StoredEvent) -> Outgoing {
        Outgoing {
            seq: event.seq,
            id: event.id.clone(),
            event_type: event.event_type.clone(),
            entity_type: event.entity_type.clone(),
            created_at: event.created_at,
            body: payload_with_id(&event.id, &event.payload),
            stamp: None,
        }
    }

    /// With `redact` given, an AI event's content fields in the body are replaced by their hash
    /// and length (the admin settings `ai_audit_event_redact_content` and
    /// `ai_audit_event_content_fields`).
    pub fn redact_ai_content(mut self, redact: Option<&ContentFields>) -> Outgoing {
        if let Some(fields) = redact {
            self.body = redact_streamed_body(&self.event_type, &self.body, fields);
        }
        self
    }
}
