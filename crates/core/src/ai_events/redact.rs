//! Redaction of AI content: each content field (by the producer's names, a list the admin can
//! change) is replaced by `{"sha256": <hex of its UTF-8 bytes>, "length": <bytes>}`, so a
//! receiver can match content without seeing it. Used for streaming and, when the admin asks,
//! before storing.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use super::is_ai_agent_event;

/// The workflow service's fields that hold prompts, responses, tool data and user text.
pub const DEFAULT_CONTENT_FIELDS: [&str; 7] =
    ["goal", "content", "prompt_content", "response_content", "tool_args", "error_message", "previous_error"];

/// Longest field name in the list, and most names.
pub const MAX_FIELD_NAME_LEN: usize = 255;
pub const MAX_FIELDS: usize = 100;

/// The names of the content fields of AI events (top-level keys of `details`). Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentFields(Arc<[String]>);

impl Default for ContentFields {
    fn default() -> Self {
        ContentFields(DEFAULT_CONTENT_FIELDS.iter().map(|f| (*f).to_owned()).collect())
    }
}

impl ContentFields {
    /// A list of field names: each non-empty, at most [`MAX_FIELD_NAME_LEN`] characters, no
    /// repeats kept. Answers the problem for a bad list.
    pub fn new<I: IntoIterator<Item = String>>(names: I) -> Result<ContentFields, String> {
        let mut fields: Vec<String> = Vec::new();
        for name in names {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > MAX_FIELD_NAME_LEN || name.contains('\0') {
                return Err(format!("each field name must be 1 to {MAX_FIELD_NAME_LEN} characters"));
            }
            if !fields.contains(&name) {
                fields.push(name);
            }
        }
        if fields.len() > MAX_FIELDS {
            return Err(format!("at most {MAX_FIELDS} field names"));
        }
        Ok(ContentFields(fields.into()))
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }
}

/// Replaces the content fields of an AI agent event's `details` (or `data`) in place. A string
/// is hashed as its UTF-8 bytes; any other JSON value as its compact JSON text. `null` and
/// already redacted values are left alone, so redacting twice changes nothing.
pub fn redact_content(event_type: &str, details: &mut Map<String, Value>, fields: &ContentFields) {
    if !is_ai_agent_event(event_type) {
        return;
    }
    for field in fields.names() {
        if let Some(value) = details.get_mut(field.as_str())
            && !value.is_null()
            && !is_redacted(value)
        {
            let text = match &mut *value {
                Value::String(s) => std::mem::take(s),
                other => other.to_string(),
            };
            *value = json!({ "sha256": hex::encode(Sha256::digest(text.as_bytes())), "length": text.len() });
        }
    }
}

/// `{"sha256": <64 hex>, "length": <n>}` and nothing else.
fn is_redacted(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        o.len() == 2
            && o.get("sha256").and_then(Value::as_str).is_some_and(|h| h.len() == 64)
            && o.get("length").is_some_and(Value::is_u64)
    })
}

/// The streamed body (GitLab's JSON payload) of an event of `event_type` with its `details`
/// content redacted. Bodies of other types, or that are not JSON objects, come back unchanged.
pub fn redact_streamed_body(event_type: &str, body: &str, fields: &ContentFields) -> String {
    if !is_ai_agent_event(event_type) || fields.names().is_empty() {
        return body.to_owned();
    }
    let Ok(Value::Object(mut payload)) = serde_json::from_str::<Value>(body) else { return body.to_owned() };
    let Some(Value::Object(details)) = payload.get_mut("details") else { return body.to_owned() };
    redact_content(event_type, details, fields);
    Value::Object(payload).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_becomes_hash_and_length() {
        let body = json!({"id": "x", "details": {"workflow_id": "7", "prompt_content": "abc", "model_name": "m"},
            "event_type": "ai_llm_input_sent"})
        .to_string();
        let out: Value =
            serde_json::from_str(&redact_streamed_body("ai_llm_input_sent", &body, &ContentFields::default())).unwrap();
        assert_eq!(
            out["details"]["prompt_content"],
            json!({"sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "length": 3})
        );
        assert_eq!(out["details"]["model_name"], "m");
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "details", "event_type"], "key order is kept");
    }

    #[test]
    fn every_default_field_of_the_producer_is_covered_and_json_is_hashed_as_text() {
        let mut details = json!({"goal": "g", "content": "c", "prompt_content": "p", "response_content": "r",
            "tool_args": {"path": "a"}, "error_message": "e", "previous_error": "pe", "tool_name": "read_file"})
        .as_object()
        .cloned()
        .unwrap();
        redact_content("ai_tool_invoked", &mut details, &ContentFields::default());
        for field in DEFAULT_CONTENT_FIELDS {
            assert!(is_redacted(&details[field]), "{field}: {}", details[field]);
        }
        assert_eq!(details["tool_name"], "read_file");
        let text = r#"{"path":"a"}"#;
        assert_eq!(details["tool_args"]["length"], text.len());
        assert_eq!(details["tool_args"]["sha256"], hex::encode(Sha256::digest(text)));
        let once = details.clone();
        redact_content("ai_tool_invoked", &mut details, &ContentFields::default());
        assert_eq!(details, once, "redacting twice changes nothing");
    }

    #[test]
    fn the_list_is_the_admins() {
        let fields = ContentFields::new(["secret_sauce".to_owned(), " secret_sauce ".to_owned()]).unwrap();
        assert_eq!(fields.names(), ["secret_sauce"]);
        let mut details = json!({"secret_sauce": "x", "goal": "kept"}).as_object().cloned().unwrap();
        redact_content("ai_agent_session_started", &mut details, &fields);
        assert!(is_redacted(&details["secret_sauce"]));
        assert_eq!(details["goal"], "kept");
        assert!(ContentFields::new([String::new()]).is_err());
    }

    #[test]
    fn other_events_are_untouched() {
        let body = r#"{"details":{"content":"secret"}}"#;
        let fields = ContentFields::default();
        assert_eq!(redact_streamed_body("user_created", body, &fields), body);
        assert_eq!(redact_streamed_body("ai_user_input_received", "not json", &fields), "not json");
    }
}
