//! Redaction of AI content for streaming: prompt, response, tool and user content is replaced by
//! `{"sha256": <hex of its UTF-8 bytes>, "length": <bytes>}`, so a receiver can match content
//! without seeing it. Stored events keep the text.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::schemas::content_fields;

/// Replaces the content fields of an AI event's `details` (or `data`) in place. A string is
/// hashed as its UTF-8 bytes; any other JSON value as its compact JSON text.
pub fn redact_content(event_type: &str, details: &mut Map<String, Value>) {
    for field in content_fields(event_type) {
        if let Some(value) = details.get_mut(field)
            && !value.is_null()
        {
            let text = match &mut *value {
                Value::String(s) => std::mem::take(s),
                other => other.to_string(),
            };
            *value = json!({ "sha256": hex::encode(Sha256::digest(text.as_bytes())), "length": text.len() });
        }
    }
}

/// The streamed body (GitLab's JSON payload) of an event of `event_type` with its
/// `details` content redacted. Bodies of other types, or that are not JSON objects, come back
/// unchanged.
pub fn redact_streamed_body(event_type: &str, body: &str) -> String {
    if content_fields(event_type).is_empty() {
        return body.to_owned();
    }
    let Ok(Value::Object(mut payload)) = serde_json::from_str::<Value>(body) else { return body.to_owned() };
    let Some(Value::Object(details)) = payload.get_mut("details") else { return body.to_owned() };
    redact_content(event_type, details);
    Value::Object(payload).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_becomes_hash_and_length() {
        let body = json!({"id": "x", "details": {"session_id": "s", "prompt": "abc", "model": "m"},
            "event_type": "ai_llm_input_sent"})
        .to_string();
        let out: Value = serde_json::from_str(&redact_streamed_body("ai_llm_input_sent", &body)).unwrap();
        assert_eq!(
            out["details"]["prompt"],
            json!({"sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "length": 3})
        );
        assert_eq!(out["details"]["model"], "m");
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "details", "event_type"], "key order is kept");
    }

    #[test]
    fn json_content_is_hashed_as_its_text() {
        let mut details = json!({"arguments": {"path": "a"}}).as_object().cloned().unwrap();
        redact_content("ai_tool_invoked", &mut details);
        let text = r#"{"path":"a"}"#;
        assert_eq!(details["arguments"]["length"], text.len());
        assert_eq!(details["arguments"]["sha256"], hex::encode(Sha256::digest(text)));
    }

    #[test]
    fn other_events_are_untouched() {
        let body = r#"{"details":{"content":"secret"}}"#;
        assert_eq!(redact_streamed_body("user_created", body), body);
        assert_eq!(redact_streamed_body("ai_agent_session_ended", body), body);
        assert_eq!(redact_streamed_body("ai_user_input_received", "not json"), "not json");
    }
}
