//! `auditrelay ai-session`: a sample producer that plays a realistic AI agent session against a
//! running service, as the AI workflow service would: session start, user input, LLM input and
//! response, a tool invoked that fails, is retried and answers, a failed LLM request, the output
//! shown to the user, session end. Each step is posted as it happens, as a CloudEvents batch.

use anyhow::{Context, bail};
use auditrelay_core::time::format_micros;
use clap::Args;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Args, Debug, Clone)]
pub struct AiSessionArgs {
    /// The service's base URL.
    #[arg(long, env = "AUDITRELAY_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// A token with scope `ingest_audit_events` of a Developer of the workflow's project (or an
    /// admin's `api` token). With `--project` the token also creates the workflow, which needs
    /// the `api` scope: use an admin's `api` token.
    #[arg(long, env = "AUDITRELAY_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The workflow whose session to play.
    #[arg(long, required_unless_present = "project", conflicts_with = "project")]
    pub workflow: Option<i64>,
    /// Create a workflow in this project (numeric id or full path) first.
    #[arg(long)]
    pub project: Option<String>,
    /// The workflow's goal (with `--project`) and the user's first input.
    #[arg(long, default_value = "Fix the failing unit test in the payments service")]
    pub goal: String,
    /// Send the whole session as one batch instead of one request per step.
    #[arg(long)]
    pub one_batch: bool,
    /// Pause between steps, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
}

pub async fn run(args: AiSessionArgs) -> anyhow::Result<()> {
    let client = Client {
        http: reqwest::Client::new(),
        base: args.url.trim_end_matches('/').to_owned(),
        token: args.token.clone(),
    };
    let workflow = match (args.workflow, &args.project) {
        (Some(id), _) => id,
        (None, Some(project)) => {
            let created = client
                .post_json("/api/v4/ai/duo_workflows/workflows", &json!({"project_id": project, "goal": args.goal}))
                .await?;
            let id = created["id"].as_i64().context("the service answered without a workflow id")?;
            println!("created workflow {id} in project {}", created["project_path"].as_str().unwrap_or(project));
            id
        }
        (None, None) => bail!("give --workflow or --project"),
    };
    let session = format!("session-{:016x}", rand::random::<u64>());
    let events = session_events(&session, workflow, &args.goal, auditrelay_core::time::now_micros());
    let path = format!("/api/v4/ai/duo_workflows/workflows/{workflow}/audit_events");
    let batches: Vec<Vec<Value>> =
        if args.one_batch { vec![events.clone()] } else { events.iter().map(|e| vec![e.clone()]).collect() };
    let mut stored = 0;
    for batch in batches {
        let answer = client.post_batch(&path, &Value::Array(batch.clone())).await?;
        for (event, id) in batch.iter().zip(answer["ids"].as_array().into_iter().flatten()) {
            println!("{:<28} {id}", event["type"].as_str().unwrap_or_default());
            stored += 1;
        }
        if args.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(args.delay_ms)).await;
        }
    }
    println!("session {session} of workflow {workflow}: {stored} events stored");
    Ok(())
}

/// The CloudEvents of one session, in order, one millisecond apart from `start` (microseconds).
pub fn session_events(session: &str, workflow: i64, goal: &str, start: i64) -> Vec<Value> {
    let model = json!({"model": "claude-sonnet-4", "provider": "anthropic"});
    let with_model = |extra: Value| merge(&model, extra);
    let tool = |call: &str, extra: Value| merge(&json!({"tool_name": "run_tests", "tool_call_id": call}), extra);
    let steps: Vec<(&str, Value)> = vec![
        (
            "ai_agent_session_started",
            json!({"goal": goal, "workflow_definition": "software_development", "environment": "web"}),
        ),
        ("ai_user_input_received", json!({"content": goal, "input_type": "chat"})),
        (
            "ai_llm_input_sent",
            with_model(
                json!({"prompt": format!("You are a coding agent. Task: {goal}. Plan the next step."), "input_tokens": 1184}),
            ),
        ),
        (
            "ai_llm_response_received",
            with_model(
                json!({"response": "I will run the payments tests to see the failure.", "input_tokens": 1184, "output_tokens": 42, "latency_ms": 830, "stop_reason": "tool_use"}),
            ),
        ),
        (
            "ai_tool_invoked",
            tool("call-1", json!({"arguments": {"command": "cargo test -p payments", "timeout_s": 120}})),
        ),
        (
            "ai_tool_execution_failed",
            tool(
                "call-1",
                json!({"error_message": "runner timed out after 120 s", "error_type": "timeout", "attempt": 1}),
            ),
        ),
        (
            "ai_tool_execution_retried",
            tool("call-1", json!({"attempt": 2, "max_attempts": 3, "reason": "timeout", "delay_ms": 2000})),
        ),
        (
            "ai_tool_response_received",
            tool(
                "call-1",
                json!({"output": "test refunds::rounding ... FAILED: expected 10.05, got 10.04", "duration_ms": 48210}),
            ),
        ),
        (
            "ai_llm_input_sent",
            with_model(
                json!({"prompt": "The test refunds::rounding fails: expected 10.05, got 10.04. Propose a fix.", "input_tokens": 1630}),
            ),
        ),
        (
            "ai_llm_request_failed",
            with_model(
                json!({"error_message": "the model is overloaded", "error_type": "overloaded", "status_code": 529, "retryable": true}),
            ),
        ),
        (
            "ai_llm_response_received",
            with_model(
                json!({"response": "Round half away from zero in refunds::amount instead of truncating.", "input_tokens": 1630, "output_tokens": 95, "latency_ms": 1210, "stop_reason": "end_turn"}),
            ),
        ),
        (
            "ai_user_output_displayed",
            json!({"content": "The rounding in refunds::amount truncated cents; it now rounds half away from zero.", "output_type": "chat"}),
        ),
        ("ai_agent_session_ended", json!({"status": "completed", "duration_ms": 61250})),
    ];
    steps
        .into_iter()
        .enumerate()
        .map(|(i, (event_type, data))| {
            let data = merge(&json!({"session_id": session, "workflow_id": workflow, "agent": "duo-workflow"}), data);
            json!({
                "specversion": "1.0",
                "id": format!("{session}-{i:02}"),
                "source": "//auditrelay/ai-session",
                "type": event_type,
                "time": format_micros(start + i as i64 * 1000),
                "datacontenttype": "application/json",
                "data": data,
            })
        })
        .collect()
}

fn merge(base: &Value, extra: Value) -> Value {
    let mut out = base.clone();
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
    out
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn post_json(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.post(path, "application/json", body).await
    }

    async fn post_batch(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.post(path, "application/cloudevents-batch+json", body).await
    }

    async fn post(&self, path: &str, content_type: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("PRIVATE-TOKEN", &self.token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.to_string())
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("the service answered {status}: {body}");
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrelay_core::ai_events::parse_cloudevents_batch;
    use auditrelay_core::event_catalogue::AI_EVENT_TYPES;

    #[test]
    fn the_session_is_a_valid_batch_covering_every_type() {
        let events = session_events("s-1", 7, "fix it", 1_700_000_000_000_000);
        let parsed = parse_cloudevents_batch(Value::Array(events).to_string().as_bytes()).unwrap();
        for t in AI_EVENT_TYPES {
            assert!(parsed.iter().any(|e| e.event_type == t), "{t} is played");
        }
        assert_eq!(parsed.first().unwrap().event_type, "ai_agent_session_started");
        assert_eq!(parsed.last().unwrap().event_type, "ai_agent_session_ended");
        assert!(parsed.windows(2).all(|w| w[0].time < w[1].time));
    }
}
