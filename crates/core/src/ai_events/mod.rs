//! AI agent audit events: CloudEvents batches from the AI workflow service, the `data` schema of
//! each of the 11 types, and the redaction of prompt, response and tool content for streaming.

pub mod cloudevents;
pub mod redact;
pub mod schemas;

pub use cloudevents::{AiBatchError, CloudEvent, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, parse_cloudevents_batch};
pub use redact::{redact_content, redact_streamed_body};

use serde_json::{Map, Value};

/// The workflow and session an AI (`ai_*`) event belongs to, from `workflow_id` and
/// `session_id` of its details; `(None, None)` for every other event.
pub fn workflow_and_session(event_type: &str, details: &Map<String, Value>) -> (Option<i64>, Option<String>) {
    if !event_type.starts_with("ai_") {
        return (None, None);
    }
    let workflow = details.get("workflow_id").and_then(Value::as_i64);
    (workflow, details.get("session_id").and_then(Value::as_str).map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn details(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn only_ai_events_name_a_workflow_and_session() {
        let d = details(json!({"workflow_id": 42, "session_id": "s-1"}));
        assert_eq!(workflow_and_session("ai_tool_invoked", &d), (Some(42), Some("s-1".into())));
        assert_eq!(workflow_and_session("user_created", &d), (None, None));
        let wrong_kinds = details(json!({"workflow_id": "42", "session_id": 7}));
        assert_eq!(workflow_and_session("ai_tool_invoked", &wrong_kinds), (None, None));
    }
}
