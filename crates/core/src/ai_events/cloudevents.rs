//! A batch of structured-mode CloudEvents 1.0 (a JSON array, as sent with
//! `application/cloudevents-batch+json`), validated whole: one bad event rejects the batch, and
//! the message names every offending event by index and id.

use chrono::DateTime;
use serde_json::{Map, Value};
use std::collections::HashMap;

use super::schemas::{MAX_SHORT_LEN, check_data};
use crate::event_catalogue::AI_EVENT_TYPES;
use crate::time::Micros;

/// Most events in one batch (the AI workflow service's limit).
pub const MAX_BATCH_EVENTS: usize = 500;
/// Largest request body, in bytes.
pub const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;
/// Longest `source`, in characters.
pub const MAX_SOURCE_LEN: usize = 1024;

/// One validated CloudEvent.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudEvent {
    pub id: String,
    pub source: String,
    /// One of [`AI_EVENT_TYPES`].
    pub event_type: String,
    /// `time` as sent (kept for `details.cloudevent_time`).
    pub time_text: String,
    pub time: Micros,
    /// The `data` object, validated against its type's schema.
    pub data: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AiBatchError {
    /// The batch is not acceptable; answered with 400.
    #[error("{0}")]
    Invalid(String),
    /// The body is larger than [`MAX_BATCH_BYTES`]; answered with 413.
    #[error("{0}")]
    TooLarge(String),
}

/// Parses and validates a whole batch. The one entry point (also for fuzzing): never panics.
pub fn parse_cloudevents_batch(body: &[u8]) -> Result<Vec<CloudEvent>, AiBatchError> {
    if body.len() > MAX_BATCH_BYTES {
        return Err(AiBatchError::TooLarge(format!(
            "request body is {} bytes; the limit is {MAX_BATCH_BYTES} bytes",
            body.len()
        )));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| AiBatchError::Invalid(format!("the body is not valid JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(AiBatchError::Invalid("the body must be a JSON array of CloudEvents".into()));
    };
    if items.is_empty() {
        return Err(AiBatchError::Invalid("the batch contains no events".into()));
    }
    if items.len() > MAX_BATCH_EVENTS {
        return Err(AiBatchError::Invalid(format!(
            "the batch contains {} events; the limit is {MAX_BATCH_EVENTS} per request",
            items.len()
        )));
    }
    let total = items.len();
    let mut events = Vec::with_capacity(total);
    let mut problems = Vec::new();
    let mut first_index: HashMap<(String, String), usize> = HashMap::new();
    for (index, item) in items.into_iter().enumerate() {
        let label = label(index, &item);
        match parse_event(item) {
            Ok(event) => {
                let key = (event.source.clone(), event.id.clone());
                if let Some(first) = first_index.insert(key, index) {
                    problems.push(format!("{label}: repeats the source and id of event {first}"));
                }
                events.push(event);
            }
            Err(found) => problems.push(format!("{label}: {}", found.join("; "))),
        }
    }
    if problems.is_empty() {
        Ok(events)
    } else {
        Err(AiBatchError::Invalid(format!(
            "the batch was rejected and nothing was stored; {} of {} events are invalid: {}",
            problems.len(),
            total,
            problems.join(" | ")
        )))
    }
}

/// `event 3 (id "abc")`, or `event 3 (no id)`, for messages.
fn label(index: usize, item: &Value) -> String {
    match item.get("id").and_then(Value::as_str) {
        Some(id) => {
            let shown: String = id.chars().take(64).collect();
            format!("event {index} (id {})", Value::String(shown))
        }
        None => format!("event {index} (no id)"),
    }
}

/// Validates one event; answers every problem found.
fn parse_event(item: Value) -> Result<CloudEvent, Vec<String>> {
    let Value::Object(mut object) = item else { return Err(vec!["must be a JSON object".into()]) };
    let mut problems = Vec::new();
    match object.get("specversion") {
        Some(Value::String(v)) if v == "1.0" => {}
        Some(Value::String(v)) => {
            problems.push(format!("specversion must be \"1.0\", not {}", Value::from(v.as_str())))
        }
        Some(_) => problems.push("specversion must be the string \"1.0\"".into()),
        None => problems.push("specversion is required".into()),
    }
    let id = text_attribute(&object, "id", MAX_SHORT_LEN, &mut problems);
    let source = text_attribute(&object, "source", MAX_SOURCE_LEN, &mut problems);
    let event_type = text_attribute(&object, "type", MAX_SHORT_LEN, &mut problems);
    if let Some(t) = &event_type
        && !AI_EVENT_TYPES.contains(&t.as_str())
    {
        problems.push(format!(
            "type {} is not one of the AI event types ({})",
            Value::from(t.as_str()),
            AI_EVENT_TYPES.join(", ")
        ));
    }
    let time_text = text_attribute(&object, "time", 64, &mut problems);
    let time = time_text.as_deref().and_then(|t| match DateTime::parse_from_rfc3339(t) {
        Ok(at) => Some(at.timestamp_micros()),
        Err(_) => {
            problems.push(format!("time {} is not an RFC 3339 timestamp", Value::from(t)));
            None
        }
    });
    if let Some(content_type) = object.get("datacontenttype")
        && content_type.as_str().is_none_or(|c| !c.starts_with("application/json"))
    {
        problems.push("datacontenttype must be application/json".into());
    }
    if object.contains_key("data_base64") {
        problems.push("data_base64 is not accepted; send data as a JSON object".into());
    }
    let data = match object.remove("data") {
        Some(Value::Object(data)) => Some(data),
        Some(_) => {
            problems.push("data must be a JSON object".into());
            None
        }
        None => {
            problems.push("data is required".into());
            None
        }
    };
    if let (Some(t), Some(data)) = (&event_type, &data)
        && AI_EVENT_TYPES.contains(&t.as_str())
    {
        problems.extend(check_data(t, data));
    }
    match (id, source, event_type, time_text, time, data) {
        (Some(id), Some(source), Some(event_type), Some(time_text), Some(time), Some(data)) if problems.is_empty() => {
            Ok(CloudEvent { id, source, event_type, time_text, time, data })
        }
        _ => Err(problems),
    }
}

/// A required, non-empty string attribute of at most `max` characters.
fn text_attribute(object: &Map<String, Value>, name: &str, max: usize, problems: &mut Vec<String>) -> Option<String> {
    match object.get(name) {
        Some(Value::String(s)) if s.is_empty() => problems.push(format!("{name} must not be empty")),
        Some(Value::String(s)) if s.chars().count() > max => {
            problems.push(format!("{name} is too long (maximum is {max} characters)"))
        }
        Some(Value::String(s)) => return Some(s.clone()),
        Some(_) => problems.push(format!("{name} must be a string")),
        None => problems.push(format!("{name} is required")),
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn event(id: &str, event_type: &str, data: Value) -> Value {
        json!({"specversion": "1.0", "id": id, "source": "//dws/test", "type": event_type,
            "time": "2026-11-21T08:00:00.123456Z", "data": data})
    }

    fn start(id: &str) -> Value {
        event(id, "ai_agent_session_started", json!({"session_id": "s1", "goal": "fix the build"}))
    }

    fn parse(value: Value) -> Result<Vec<CloudEvent>, AiBatchError> {
        parse_cloudevents_batch(value.to_string().as_bytes())
    }

    fn message(value: Value) -> String {
        match parse(value) {
            Err(AiBatchError::Invalid(m)) => m,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn a_good_batch_parses() {
        let batch =
            json!([start("a"), event("b", "ai_user_input_received", json!({"session_id": "s1", "content": "hi"}))]);
        let events = parse(batch).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].id, "a");
        assert_eq!(events[0].source, "//dws/test");
        assert_eq!(events[0].time_text, "2026-11-21T08:00:00.123456Z");
        assert_eq!(events[0].time % 1_000_000, 123_456);
        assert_eq!(events[1].data["content"], "hi");
    }

    #[test]
    fn every_bad_event_is_named_with_index_and_id() {
        let mut unknown = start("u");
        unknown["type"] = json!("ai_made_up");
        let mut no_id = start("x");
        no_id.as_object_mut().unwrap().remove("id");
        let mut old = start("o");
        old["specversion"] = json!("0.3");
        let bad_data = event("d", "ai_tool_invoked", json!({"session_id": "s1", "tool_name": "grep"}));
        let m = message(json!([start("ok"), unknown, no_id, old, bad_data, 7]));
        assert!(m.contains("5 of 6 events are invalid"), "{m}");
        assert!(m.contains("event 1 (id \"u\"): type \"ai_made_up\" is not one of the AI event types"), "{m}");
        assert!(m.contains("event 2 (no id): id is required"), "{m}");
        assert!(m.contains("event 3 (id \"o\"): specversion must be \"1.0\", not \"0.3\""), "{m}");
        assert!(m.contains("event 4 (id \"d\"): data.tool_call_id is required; data.arguments is required"), "{m}");
        assert!(m.contains("event 5 (no id): must be a JSON object"), "{m}");
        assert!(!m.contains("event 0"), "{m}");
    }

    #[test]
    fn batch_shape_and_limits() {
        assert!(message(start("a")).contains("must be a JSON array"));
        assert!(message(json!([])).contains("no events"));
        let many: Vec<Value> = (0..=MAX_BATCH_EVENTS).map(|i| start(&i.to_string())).collect();
        assert!(message(Value::Array(many)).contains("501 events; the limit is 500"));
        let big = vec![b' '; MAX_BATCH_BYTES + 1];
        assert!(matches!(parse_cloudevents_batch(&big), Err(AiBatchError::TooLarge(_))));
        assert!(
            matches!(parse_cloudevents_batch(b"[{"), Err(AiBatchError::Invalid(m)) if m.contains("not valid JSON"))
        );
    }

    #[test]
    fn attributes_are_checked() {
        let mut e = start("a");
        e["time"] = json!("yesterday");
        e["data"] = json!([1]);
        e["source"] = json!("");
        let m = message(json!([e]));
        assert!(m.contains("time \"yesterday\" is not an RFC 3339 timestamp"), "{m}");
        assert!(m.contains("data must be a JSON object"), "{m}");
        assert!(m.contains("source must not be empty"), "{m}");
        let mut e = start("a");
        e["datacontenttype"] = json!("text/plain");
        assert!(message(json!([e])).contains("datacontenttype must be application/json"));
    }

    #[test]
    fn a_repeated_id_in_one_batch_is_refused() {
        let m = message(json!([start("a"), start("a")]));
        assert!(m.contains("event 1 (id \"a\"): repeats the source and id of event 0"), "{m}");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_cloudevents_batch(&bytes);
        }

        #[test]
        fn arbitrary_json_arrays_never_panic(ids in proptest::collection::vec(".{0,8}", 0..6), t in "ai_[a-z_]{0,20}") {
            let batch: Vec<Value> = ids.iter().map(|id| event(id, &t, json!({"session_id": id}))).collect();
            let _ = parse(Value::Array(batch));
        }
    }
}
