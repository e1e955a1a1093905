//! Events in the exact shapes of GitLab's Duo Workflow Service (its event classes): the
//! envelope, `subject` and `data.workflow_id` as strings, `sequence` an integer or null, float
//! latencies and durations, a `tool_args` object, and, as later producers will, unknown fields
//! and kinds of value.

use serde_json::{Value, json};

/// One event as the workflow service builds it.
pub fn producer_event(workflow: i64, id: &str, event_type: &str, sequence: Value, data: Value) -> Value {
    let mut data = data;
    data["workflow_id"] = json!(workflow.to_string());
    json!({
        "specversion": "1.0",
        "id": id,
        "type": event_type,
        "source": "/duo_workflow_service",
        "subject": workflow.to_string(),
        "time": "2026-12-01T12:00:00.123456Z",
        "datacontenttype": "application/json",
        "sequence": sequence,
        "data": data,
    })
}

/// The `data` of each of the 11 types, in a session's order, with optional fields both present
/// and absent, a null, an extra unknown field and a future kind of value.
pub fn session_data() -> Vec<(&'static str, Value)> {
    vec![
        ("ai_agent_session_started", json!({"workflow_type": "software_development", "goal": "fix the failing build"})),
        (
            "ai_user_input_received",
            json!({"input_type": "chat", "content": "please fix the build", "content_length": 20}),
        ),
        (
            "ai_llm_input_sent",
            json!({"model_name": "claude-sonnet-4", "prompt_content": "secret prompt", "tools_bound": ["read_file", "run_command"]}),
        ),
        (
            "ai_llm_response_received",
            json!({"model_name": "claude-sonnet-4", "response_content": "secret answer", "prompt_token_count": 1234,
                "completion_token_count": null, "finish_reason": "tool_use", "latency_ms": 812.25,
                "x_future_field": {"kind": [1, 2.5, "three", {"deep": true}]}}),
        ),
        ("ai_tool_invoked", json!({"tool_name": "read_file", "tool_args": {"path": "src/main.rs", "lines": [1, 40]}})),
        (
            "ai_tool_execution_failed",
            json!({"tool_name": "run_command", "error_type": "TimeoutError", "error_message": "timed out after 30s"}),
        ),
        (
            "ai_tool_execution_retried",
            json!({"tool_name": "run_command", "attempt_number": 2, "max_attempts": 3, "previous_error": "timed out after 30s"}),
        ),
        (
            "ai_tool_response_received",
            json!({"tool_name": "read_file", "response_content": "fn main() {}", "response_length": 12}),
        ),
        (
            "ai_llm_request_failed",
            json!({"model_name": "claude-sonnet-4", "error_type": "OverloadedError", "error_message": "overloaded", "latency_ms": 20001.5}),
        ),
        ("ai_user_output_displayed", json!({"output_type": "message", "content": "fixed it", "content_length": 8})),
        (
            "ai_agent_session_ended",
            json!({"status": "completed", "duration_seconds": 93.75, "error_message": null, "unknown_extra": 1}),
        ),
    ]
}

/// A whole session of all 11 types for `workflow`, ids `{prefix}-NN`: the user's input is sent
/// with `sequence: null`, the other ten are numbered 1…10.
pub fn producer_session(workflow: i64, prefix: &str) -> Vec<Value> {
    let mut next = 0;
    session_data()
        .into_iter()
        .enumerate()
        .map(|(i, (t, data))| {
            let sequence = if t == "ai_user_input_received" {
                Value::Null
            } else {
                next += 1;
                json!(next)
            };
            producer_event(workflow, &format!("{prefix}-{i:02}"), t, sequence, data)
        })
        .collect()
}
