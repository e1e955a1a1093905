//! A batch of structured-mode CloudEvents 1.0 (a JSON array, as sent with
//! `application/cloudevents-batch+json`), checked by its envelope only: one bad event rejects the
//! batch, and the message names every offending event by index and id.
//!
//! The tolerant-reader rule: `data` belongs to the producer. It must be a JSON object; its
//! fields, their presence and the kinds of their values are never checked, so fields and types
//! added by later producers are accepted unchanged. The only look inside `data` is for what
//! cannot be stored (NUL characters) and for a `workflow_id` naming another workflow.

use chrono::DateTime;
use serde_json::{Map, Value};
use std::collections::HashMap;

use crate::event_catalogue::AI_EVENT_TYPES;
use crate::json_kind::json_kind;
use crate::time::Micros;

/// Most events in one batch (the AI workflow service's limit).
pub const MAX_BATCH_EVENTS: usize = 500;
/// Largest request body, in bytes.
pub const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;
/// Longest `id` and `type`, in characters.
pub const MAX_ID_LEN: usize = 255;
/// Longest `source`, in characters.
pub const MAX_SOURCE_LEN: usize = 1024;

/// One CloudEvent whose envelope is valid.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudEvent {
    pub id: String,
    pub source: String,
    /// One of [`AI_EVENT_TYPES`].
    pub event_type: String,
    /// `time` as sent (kept for `details.cloudevent_time`).
    pub time_text: String,
    pub time: Micros,
    /// The producer's order of the event in its session; `None` when sent as `null` or absent.
    pub sequence: Option<i64>,
    /// The `data` object exactly as sent (keys in their order, values untouched).
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

/// Parses a batch by its envelope rules, for any workflow (the fuzzing entry point). Never panics.
pub fn parse_cloudevents_batch(body: &[u8]) -> Result<Vec<CloudEvent>, AiBatchError> {
    parse_batch(body, None)
}

/// Parses a batch posted for `workflow_id`: the envelope rules, and `subject` and
/// `data.workflow_id`, where present, must name that workflow (as a string or an integer).
pub fn parse_workflow_batch(body: &[u8], workflow_id: i64) -> Result<Vec<CloudEvent>, AiBatchError> {
    parse_batch(body, Some(workflow_id))
}

fn parse_batch(body: &[u8], workflow: Option<i64>) -> Result<Vec<CloudEvent>, AiBatchError> {
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
        match parse_event(item, workflow) {
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

/// Checks one event's envelope; answers every problem found.
fn parse_event(item: Value, workflow: Option<i64>) -> Result<CloudEvent, Vec<String>> {
    let Value::Object(mut object) = item else { return Err(vec!["must be a JSON object".into()]) };
    let mut problems = Vec::new();
    for (key, value) in &object {
        find_nul(key, value, &mut problems);
    }
    match object.get("specversion") {
        Some(Value::String(v)) if v == "1.0" => {}
        Some(Value::String(v)) => {
            problems.push(format!("specversion must be \"1.0\", not {}", Value::from(v.as_str())))
        }
        Some(_) => problems.push("specversion must be the string \"1.0\"".into()),
        None => problems.push("specversion is required".into()),
    }
    let id = text_attribute(&object, "id", MAX_ID_LEN, &mut problems);
    let source = text_attribute(&object, "source", MAX_SOURCE_LEN, &mut problems);
    let event_type = text_attribute(&object, "type", MAX_ID_LEN, &mut problems);
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
    let sequence = match object.get("sequence") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
        Some(other) => {
            problems.push(format!("sequence must be an integer or null, not {}", shown(other)));
            None
        }
    };
    if let Some(content_type) = object.get("datacontenttype")
        && content_type.as_str().is_none_or(|c| !is_json_media_type(c))
    {
        problems.push(format!("datacontenttype must be application/json, not {}", shown(content_type)));
    }
    if object.contains_key("data_base64") {
        problems.push("data_base64 is not accepted; send data as a JSON object".into());
    }
    let data = match object.remove("data") {
        Some(Value::Object(data)) => Some(data),
        Some(other) => {
            problems.push(format!("data must be a JSON object, not {}", json_kind(&other)));
            None
        }
        None => {
            problems.push("data is required (a JSON object)".into());
            None
        }
    };
    if let Some(workflow) = workflow {
        if let Some(subject) = object.get("subject")
            && !names_workflow(subject, workflow)
        {
            problems.push(format!("subject {} is not the workflow of the URL ({workflow})", shown(subject)));
        }
        if let Some(named) = data.as_ref().and_then(|d| d.get("workflow_id"))
            && !names_workflow(named, workflow)
        {
            problems.push(format!("data.workflow_id {} is not the workflow of the URL ({workflow})", shown(named)));
        }
    }
    match (id, source, event_type, time_text, time, data) {
        (Some(id), Some(source), Some(event_type), Some(time_text), Some(time), Some(data)) if problems.is_empty() => {
            Ok(CloudEvent { id, source, event_type, time_text, time, sequence, data })
        }
        _ => Err(problems),
    }
}

/// `application/json`, or any `…+json` type, with or without parameters.
fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.ends_with("+json") && essence.contains('/'))
}

/// Whether `value` (a string or an integer; `null` counts as not named) is `workflow`.
fn names_workflow(value: &Value, workflow: i64) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().parse::<i64>() == Ok(workflow),
        Value::Number(n) => n.as_i64() == Some(workflow),
        _ => false,
    }
}

/// A value for a message, cut short.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 64 { format!("{}…", text.chars().take(64).collect::<String>()) } else { text }
}

/// Names every string (or key) under `path` that holds a NUL character: PostgreSQL cannot store
/// one in text, so such an event could not be kept on every backend.
fn find_nul(path: &str, value: &Value, problems: &mut Vec<String>) {
    const WHY: &str = "contains a NUL character (\\u0000), which cannot be stored";
    match value {
        Value::String(s) if s.contains('\0') => problems.push(format!("{} {WHY}", printable(path))),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_nul(&format!("{path}[{i}]"), item, problems);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if key.contains('\0') {
                    problems.push(format!("a key in {} {WHY}", printable(path)));
                }
                find_nul(&format!("{path}.{key}"), item, problems);
            }
        }
        _ => {}
    }
}

/// A field path for a message: NULs in it shown as `\u0000`, cut short.
fn printable(path: &str) -> String {
    let text = path.replace('\0', "\\u0000");
    if text.chars().count() > 128 { format!("{}…", text.chars().take(128).collect::<String>()) } else { text }
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
#[path = "cloudevents_tests.rs"]
mod tests;
