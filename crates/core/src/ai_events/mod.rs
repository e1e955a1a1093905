//! AI agent audit events: CloudEvents batches from the AI workflow service (checked by their
//! envelope only), the session and order keys of an AI event, the redaction of content fields,
//! and the completeness summary of a session.

pub mod cloudevents;
pub mod redact;
pub mod summary;

pub use cloudevents::{
    AiBatchError, CloudEvent, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, parse_cloudevents_batch, parse_workflow_batch,
};
pub use redact::{ContentFields, DEFAULT_CONTENT_FIELDS, redact_content, redact_streamed_body};
pub use summary::{SESSION_SUMMARY_TYPE, SequencedEvent, SessionSummary};

use crate::event_catalogue::AI_EVENT_TYPES;
use serde_json::{Map, Value};

/// Whether `event_type` is an AI agent event: one of the 11 a producer sends, or the service's
/// own session summary. These are gated by the admin setting and redacted, from whichever API
/// they arrive.
pub fn is_ai_agent_event(event_type: &str) -> bool {
    event_type == SESSION_SUMMARY_TYPE || AI_EVENT_TYPES.contains(&event_type)
}

/// Keys of `details` the service sets on an AI event from its CloudEvent envelope.
pub const ENVELOPE_KEYS: [&str; 4] = ["cloudevent_id", "cloudevent_source", "cloudevent_time", "cloudevent_sequence"];

/// Where an AI event sits in its producer's work: its workflow, its session and its order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AiKeys {
    pub workflow_id: Option<i64>,
    pub session_id: Option<String>,
    pub sequence: Option<i64>,
}

/// The keys of an AI agent event from its `details` (nothing for any other event):
/// - workflow: `workflow_id`, an integer or a string holding one (the workflow service sends a
///   string);
/// - session: `session_id`, else `ai_governance_session_id` (strings or integers), else the
///   workflow id, since the workflow service's session is its workflow;
/// - sequence: `cloudevent_sequence` (set from the envelope), else `sequence`.
pub fn ai_keys(event_type: &str, details: &Map<String, Value>) -> AiKeys {
    if !is_ai_agent_event(event_type) {
        return AiKeys::default();
    }
    let workflow_id = details.get("workflow_id").and_then(integer);
    let session_id = ["session_id", "ai_governance_session_id"]
        .iter()
        .find_map(|key| match details.get(*key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
        .or_else(|| workflow_id.map(|id| id.to_string()));
    let sequence = ["cloudevent_sequence", "sequence"].iter().find_map(|key| details.get(*key).and_then(Value::as_i64));
    AiKeys { workflow_id, session_id, sequence }
}

/// An integer, or a string holding one.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The workflow and session of an AI event (see [`ai_keys`]).
pub fn workflow_and_session(event_type: &str, details: &Map<String, Value>) -> (Option<i64>, Option<String>) {
    let keys = ai_keys(event_type, details);
    (keys.workflow_id, keys.session_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn details(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn the_workflow_is_the_session_unless_a_session_is_named() {
        let producer = details(json!({"workflow_id": "42", "goal": "x", "cloudevent_sequence": 3}));
        assert_eq!(
            ai_keys("ai_agent_session_started", &producer),
            AiKeys { workflow_id: Some(42), session_id: Some("42".into()), sequence: Some(3) }
        );
        let named = details(json!({"workflow_id": 42, "session_id": "s-1", "sequence": 9}));
        assert_eq!(
            ai_keys("ai_tool_invoked", &named),
            AiKeys { workflow_id: Some(42), session_id: Some("s-1".into()), sequence: Some(9) }
        );
        let governance = details(json!({"workflow_id": "7", "ai_governance_session_id": 99}));
        assert_eq!(workflow_and_session("ai_tool_invoked", &governance), (Some(7), Some("99".into())));
        assert_eq!(workflow_and_session("ai_agent_session_summary", &named), (Some(42), Some("s-1".into())));
    }

    #[test]
    fn only_ai_agent_events_have_keys() {
        let d = details(json!({"workflow_id": 42, "session_id": "s-1"}));
        assert_eq!(ai_keys("user_created", &d), AiKeys::default());
        assert_eq!(ai_keys("ai_setting_updated", &d), AiKeys::default());
        let odd = details(json!({"workflow_id": "forty-two", "session_id": {"x": 1}, "sequence": "3"}));
        assert_eq!(ai_keys("ai_tool_invoked", &odd), AiKeys::default());
    }
}
