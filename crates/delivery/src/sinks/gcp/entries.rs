//! The `entries:write` body: one Cloud Logging entry per event, in GitLab's shape.

use auditrelay_core::EventId;
use serde_json::{Map, Value};

use crate::outgoing::Outgoing;

/// The request body in GitLab's shape:
/// `{"entries":[{"logName":"projects/<p>/logs/<l>","resource":{"type":"global"},"severity":"INFO","jsonPayload":<event body object>}]}`,
/// one entry per event, in order. `logName` is not URL-encoded (as GitLab). `jsonPayload` is the
/// event's GitLab body with `id` first. A body that is not a JSON object (never the case for
/// events read from the log) becomes `{"id":…,"event_type":…,"body":"<the text>"}`;
/// [`GcpSink::send_batch`](super::GcpSink::send_batch) refuses such an event instead, as [`FailureKind::Permanent`](crate::failure::FailureKind::Permanent).
pub fn entries_body(spec_project: &str, log_id: &str, events: &[Outgoing]) -> Value {
    let log_name = log_name(spec_project, log_id);
    let entries: Vec<Value> = events
        .iter()
        .map(|event| {
            entry(&log_name, event).unwrap_or_else(|_| {
                let mut payload = Map::new();
                payload.insert("id".to_owned(), id_value(&event.id));
                payload.insert("event_type".to_owned(), Value::String(event.event_type.clone()));
                payload.insert("body".to_owned(), Value::String(event.body.clone()));
                entry_value(&log_name, payload)
            })
        })
        .collect();
    serde_json::json!({ "entries": entries })
}

/// `projects/<project>/logs/<log id>`, not URL-encoded.
/// `projects/<p>/logs/<l>`. Google wants a `/` inside the log id written as `%2F`; GitLab
/// sends it raw (and Google refuses it), so only that character is encoded: every log id that
/// works with GitLab is sent exactly as GitLab sends it.
pub(super) fn log_name(project: &str, log_id: &str) -> String {
    format!("projects/{project}/logs/{}", log_id.replace('/', "%2F"))
}

/// One entry, or why the event's body cannot be one.
pub(super) fn entry(log_name: &str, event: &Outgoing) -> Result<Value, String> {
    let parsed: Value = serde_json::from_str(&event.body)
        .map_err(|e| format!("event {} (seq {}): body is not JSON: {e}", event.id, event.seq))?;
    let Value::Object(body) = parsed else {
        return Err(format!("event {} (seq {}): body is not a JSON object", event.id, event.seq));
    };
    // `id` first (it already is for bodies built by `payload_with_id`), the rest in body order.
    // (`Map::remove` would swap the last key into its place.)
    let mut payload = Map::with_capacity(body.len() + 1);
    payload.insert("id".to_owned(), body.get("id").cloned().unwrap_or_else(|| id_value(&event.id)));
    payload.extend(body.into_iter().filter(|(key, _)| key != "id"));
    let mut value = entry_value(log_name, payload);
    if let (Some(stamp), Value::Object(fields)) = (&event.stamp, &mut value) {
        fields.insert("labels".to_owned(), stamp.gcp_labels());
    }
    Ok(value)
}

fn entry_value(log_name: &str, payload: Map<String, Value>) -> Value {
    serde_json::json!({
        "logName": log_name,
        "resource": { "type": "global" },
        "severity": "INFO",
        "jsonPayload": payload,
    })
}

fn id_value(id: &EventId) -> Value {
    match id {
        EventId::Int(n) => Value::from(*n),
        EventId::Str(s) => Value::String(s.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrelay_core::event::payload_with_id;

    fn outgoing(seq: i64, id: EventId, rest: &str) -> Outgoing {
        Outgoing {
            seq,
            id: id.clone(),
            event_type: "repository_git_operation".into(),
            entity_type: "Project".into(),
            created_at: 1_658_814_233_662_000,
            body: payload_with_id(&id, rest),
            stamp: None,
        }
    }

    #[test]
    fn entries_body_has_gitlabs_shape() {
        let events = [
            outgoing(
                1,
                EventId::Int(7),
                r#"{"author_id":-3,"details":{"custom_message":{"action":"git-upload-pack"}},"event_type":"repository_git_operation"}"#,
            ),
            outgoing(2, EventId::Str("5b1f-uuid".into()), r#"{"author_id":1,"event_type":"user_created"}"#),
        ];
        let body = entries_body("my-project", "audit_events", &events);
        let expected = serde_json::json!({"entries": [
            {"logName": "projects/my-project/logs/audit_events", "resource": {"type": "global"}, "severity": "INFO",
             "jsonPayload": {"id": 7, "author_id": -3, "details": {"custom_message": {"action": "git-upload-pack"}},
                             "event_type": "repository_git_operation"}},
            {"logName": "projects/my-project/logs/audit_events", "resource": {"type": "global"}, "severity": "INFO",
             "jsonPayload": {"id": "5b1f-uuid", "author_id": 1, "event_type": "user_created"}},
        ]});
        assert_eq!(body, expected);
        // Key order on the wire: GitLab's entry order, and `id` first in the payload.
        let text = body.to_string();
        assert!(
            text.starts_with(
                r#"{"entries":[{"logName":"projects/my-project/logs/audit_events","resource":{"type":"global"},"severity":"INFO","jsonPayload":{"id":7,"author_id":-3,"#
            ),
            "{text}"
        );
        for (entry, event) in body["entries"].as_array().unwrap().iter().zip(&events) {
            let parsed: Value = serde_json::from_str(&event.body).unwrap();
            assert_eq!(entry["jsonPayload"], parsed);
            assert_eq!(entry["jsonPayload"].as_object().unwrap().keys().next().unwrap(), "id");
        }
    }

    #[test]
    fn log_name_is_not_url_encoded_but_for_slashes() {
        let events = [outgoing(1, EventId::Int(1), "{}")];
        let body = entries_body("proj:legacy", "audit events/ü", &events);
        assert_eq!(body["entries"][0]["logName"], "projects/proj:legacy/logs/audit events%2Fü");
        assert_eq!(body["entries"][0]["jsonPayload"], serde_json::json!({"id": 1}));
    }

    #[test]
    fn id_is_put_first_when_the_body_has_it_elsewhere_or_not_at_all() {
        let mut event = outgoing(1, EventId::Int(9), "{}");
        event.body = r#"{"a":1,"id":"x","b":2}"#.into();
        let body = entries_body("p", "l", std::slice::from_ref(&event));
        assert_eq!(body["entries"][0]["jsonPayload"].to_string(), r#"{"id":"x","a":1,"b":2}"#);
        event.body = r#"{"a":1}"#.into();
        let body = entries_body("p", "l", std::slice::from_ref(&event));
        assert_eq!(body["entries"][0]["jsonPayload"].to_string(), r#"{"id":9,"a":1}"#);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_wrapped_by_entries_body_and_refused_by_entry() {
        let mut event = outgoing(3, EventId::Int(4), "{}");
        event.body = "not json".into();
        let body = entries_body("p", "l", std::slice::from_ref(&event));
        assert_eq!(
            body["entries"][0]["jsonPayload"],
            serde_json::json!({"id": 4, "event_type": "repository_git_operation", "body": "not json"})
        );
        assert!(entry("projects/p/logs/l", &event).unwrap_err().contains("seq 3"));
        event.body = "[1]".into();
        assert!(entry("projects/p/logs/l", &event).is_err());
    }
}
