//! The documented `data` object of each AI event type (see docs/ai-events.md): which fields are
//! required, what kind of value each holds, and which hold prompt, response or tool content.

use serde_json::{Map, Value};

/// Longest short string (ids, names, model, provider …), in characters.
pub const MAX_SHORT_LEN: usize = 255;
/// Longest free text that is not content (error messages, reasons, goals), in characters.
pub const MAX_TEXT_LEN: usize = 5_000;
/// Largest content field (prompt, response, tool arguments or output), in bytes of its JSON text.
pub const MAX_CONTENT_BYTES: usize = 256 * 1024;
/// Largest whole `data` object, in bytes of its JSON text.
pub const MAX_DATA_BYTES: usize = 512 * 1024;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A non-empty string of at most [`MAX_SHORT_LEN`] characters.
    Short,
    /// A string of at most [`MAX_TEXT_LEN`] characters.
    Text,
    /// A non-negative integer.
    Count,
    /// A positive integer (ids).
    Id,
    Bool,
    /// Prompt, response or tool content: a string or any JSON value up to
    /// [`MAX_CONTENT_BYTES`]. Replaced by a hash when streaming is redacted.
    Content,
    /// One of the listed strings.
    OneOf(&'static [&'static str]),
}

/// One documented field of a type's `data`.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn req(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: true }
}

const fn opt(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: false }
}

/// Fields every type has. `workflow_id`, `user_id` and `project_path`, when sent, must match
/// the workflow of the URL (checked by the service, which knows the workflow).
pub const COMMON_FIELDS: &[Field] = &[
    req("session_id", Kind::Short),
    opt("workflow_id", Kind::Id),
    opt("user_id", Kind::Id),
    opt("project_path", Kind::Short),
    opt("agent", Kind::Short),
];

/// Keys the service adds to `details` itself, or that GitLab's payload fills in; a producer may
/// not send them.
pub const RESERVED_KEYS: &[&str] = &[
    "cloudevent_id",
    "cloudevent_source",
    "cloudevent_time",
    "event_name",
    "author_name",
    "target_id",
    "target_type",
    "target_details",
    "ip_address",
    "entity_path",
];

const SESSION_STATUS: &[&str] = &["completed", "failed", "stopped", "cancelled"];

const LLM: [Field; 3] = [req("model", Kind::Short), req("provider", Kind::Short), opt("request_id", Kind::Short)];
const TOOL: [Field; 2] = [req("tool_name", Kind::Short), req("tool_call_id", Kind::Short)];

/// The type-specific fields of `event_type`, or `None` for a type that is not an AI type.
pub fn fields_of(event_type: &str) -> Option<Vec<Field>> {
    let specific: Vec<Field> = match event_type {
        "ai_agent_session_started" => {
            vec![opt("goal", Kind::Content), opt("workflow_definition", Kind::Short), opt("environment", Kind::Short)]
        }
        "ai_agent_session_ended" => vec![req("status", Kind::OneOf(SESSION_STATUS)), opt("duration_ms", Kind::Count)],
        "ai_llm_input_sent" => [&LLM[..], &[req("prompt", Kind::Content), opt("input_tokens", Kind::Count)]].concat(),
        "ai_llm_response_received" => [
            &LLM[..],
            &[
                req("response", Kind::Content),
                req("input_tokens", Kind::Count),
                req("output_tokens", Kind::Count),
                opt("latency_ms", Kind::Count),
                opt("stop_reason", Kind::Short),
            ],
        ]
        .concat(),
        "ai_llm_request_failed" => [
            &LLM[..],
            &[
                req("error_message", Kind::Text),
                opt("error_type", Kind::Short),
                opt("status_code", Kind::Count),
                opt("retryable", Kind::Bool),
            ],
        ]
        .concat(),
        "ai_tool_invoked" => [&TOOL[..], &[req("arguments", Kind::Content)]].concat(),
        "ai_tool_response_received" => {
            [&TOOL[..], &[req("output", Kind::Content), opt("duration_ms", Kind::Count)]].concat()
        }
        "ai_tool_execution_failed" => {
            [&TOOL[..], &[req("error_message", Kind::Text), opt("error_type", Kind::Short), opt("attempt", Kind::Id)]]
                .concat()
        }
        "ai_tool_execution_retried" => [
            &TOOL[..],
            &[
                req("attempt", Kind::Id),
                req("reason", Kind::Text),
                opt("max_attempts", Kind::Id),
                opt("delay_ms", Kind::Count),
            ],
        ]
        .concat(),
        "ai_user_input_received" => vec![req("content", Kind::Content), opt("input_type", Kind::Short)],
        "ai_user_output_displayed" => vec![req("content", Kind::Content), opt("output_type", Kind::Short)],
        _ => return None,
    };
    Some([COMMON_FIELDS, &specific].concat())
}

/// The names of the content fields of `event_type` (none for other types).
pub fn content_fields(event_type: &str) -> Vec<&'static str> {
    fields_of(event_type).unwrap_or_default().into_iter().filter(|f| f.kind == Kind::Content).map(|f| f.name).collect()
}

/// Checks `data` against the schema of `event_type` (an AI type). Answers every problem found.
pub fn check_data(event_type: &str, data: &Map<String, Value>) -> Vec<String> {
    let Some(fields) = fields_of(event_type) else { return vec![format!("type '{event_type}' has no schema")] };
    let mut problems = Vec::new();
    let size = Value::Object(data.clone()).to_string().len();
    if size > MAX_DATA_BYTES {
        problems.push(format!("data is {size} bytes; the limit is {MAX_DATA_BYTES}"));
    }
    for key in data.keys().filter(|k| RESERVED_KEYS.contains(&k.as_str())) {
        problems.push(format!("data.{key} is reserved and set by the service"));
    }
    for field in fields {
        match data.get(field.name) {
            None | Some(Value::Null) if field.required => problems.push(format!("data.{} is required", field.name)),
            None | Some(Value::Null) => {}
            Some(value) => {
                if let Err(why) = check_kind(field.kind, value) {
                    problems.push(format!("data.{} {why}", field.name));
                }
            }
        }
    }
    problems
}

fn check_kind(kind: Kind, value: &Value) -> Result<(), String> {
    let chars = |s: &str| s.chars().count();
    match (kind, value) {
        (Kind::Short, Value::String(s)) if s.is_empty() => Err("must not be empty".into()),
        (Kind::Short, Value::String(s)) if chars(s) > MAX_SHORT_LEN => {
            Err(format!("is too long (maximum is {MAX_SHORT_LEN} characters)"))
        }
        (Kind::Short, Value::String(_)) => Ok(()),
        (Kind::Text, Value::String(s)) if chars(s) > MAX_TEXT_LEN => {
            Err(format!("is too long (maximum is {MAX_TEXT_LEN} characters)"))
        }
        (Kind::Text, Value::String(_)) => Ok(()),
        (Kind::Short | Kind::Text, _) => Err("must be a string".into()),
        (Kind::Count, Value::Number(n)) if n.as_u64().is_some_and(|n| n <= i64::MAX as u64) => Ok(()),
        (Kind::Count, _) => Err("must be a non-negative integer".into()),
        (Kind::Id, Value::Number(n)) if n.as_i64().is_some_and(|n| n > 0) => Ok(()),
        (Kind::Id, _) => Err("must be a positive integer".into()),
        (Kind::Bool, Value::Bool(_)) => Ok(()),
        (Kind::Bool, _) => Err("must be true or false".into()),
        (Kind::Content, value) => {
            let size = match value {
                Value::String(s) => s.len(),
                other => other.to_string().len(),
            };
            if size > MAX_CONTENT_BYTES {
                Err(format!("is {size} bytes; the limit is {MAX_CONTENT_BYTES}"))
            } else {
                Ok(())
            }
        }
        (Kind::OneOf(allowed), Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        (Kind::OneOf(allowed), _) => Err(format!("must be one of {}", allowed.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_catalogue::AI_EVENT_TYPES;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn every_ai_type_has_a_schema_with_a_session_id() {
        for t in AI_EVENT_TYPES {
            let fields = fields_of(t).unwrap();
            assert!(fields.iter().any(|f| f.name == "session_id" && f.required), "{t}");
        }
        assert!(fields_of("user_created").is_none());
    }

    #[test]
    fn content_fields_are_the_prompts_responses_and_tool_data() {
        assert_eq!(content_fields("ai_llm_input_sent"), ["prompt"]);
        assert_eq!(content_fields("ai_llm_response_received"), ["response"]);
        assert_eq!(content_fields("ai_tool_invoked"), ["arguments"]);
        assert_eq!(content_fields("ai_tool_response_received"), ["output"]);
        assert_eq!(content_fields("ai_user_input_received"), ["content"]);
        assert!(content_fields("ai_agent_session_ended").is_empty());
    }

    #[test]
    fn a_valid_llm_response_passes() {
        let data = json!({"session_id": "s1", "model": "claude", "provider": "anthropic",
            "response": "hi", "input_tokens": 10, "output_tokens": 2, "extra": {"kept": true}});
        assert!(check_data("ai_llm_response_received", &map(data)).is_empty());
    }

    #[test]
    fn every_problem_is_named() {
        let data = json!({"session_id": "", "model": 3, "input_tokens": -1, "event_name": "x",
            "output_tokens": 1.5});
        let problems = check_data("ai_llm_response_received", &map(data));
        for expected in [
            "data.session_id must not be empty",
            "data.model must be a string",
            "data.provider is required",
            "data.response is required",
            "data.input_tokens must be a non-negative integer",
            "data.output_tokens must be a non-negative integer",
            "data.event_name is reserved and set by the service",
        ] {
            assert!(problems.iter().any(|p| p == expected), "{expected} missing from {problems:?}");
        }
    }

    #[test]
    fn enums_and_lengths_are_checked() {
        let data = json!({"session_id": "s", "status": "exploded"});
        assert_eq!(
            check_data("ai_agent_session_ended", &map(data)),
            ["data.status must be one of completed, failed, stopped, cancelled"]
        );
        let data = json!({"session_id": "x".repeat(MAX_SHORT_LEN + 1), "content": "hello"});
        assert_eq!(
            check_data("ai_user_input_received", &map(data)),
            ["data.session_id is too long (maximum is 255 characters)"]
        );
        let data = json!({"session_id": "s", "content": "x".repeat(MAX_CONTENT_BYTES + 1)});
        assert_eq!(check_data("ai_user_input_received", &map(data)).len(), 1);
    }
}
