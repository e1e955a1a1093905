//! `auditrelay ai-session`: a sample producer that plays a realistic AI agent session against a
//! running service, as the AI workflow service would: session start, user input, LLM input and
//! response, a tool invoked that fails, is retried and answers, a failed LLM request, the output
//! shown to the user, session end. Each step is posted as it happens, as a CloudEvents batch in
//! the exact shapes the Duo Workflow Service sends; at the end it prints the session's summary.

use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Args, Debug, Clone)]
pub struct AiSessionArgs {
    /// The service's base URL.
    #[arg(long, env = "AUDITRELAY_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// A token with scope `ingest_audit_events` of the workflow's own user, a Developer of its
    /// project (or an admin's `api` token). With `--project` the token also creates the workflow, which needs
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
    let events = session_events(workflow, &args.goal, auditrelay_core::time::now_micros());
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
    println!("session of workflow {workflow}: {stored} events stored");
    // An ingest-only token may not read the summary; the session is stored all the same.
    match client.get_json(&format!("{path}/summary")).await {
        Ok(summary) => println!(
            "summary: {} events, sequences {}..{}, missing {}, complete {}, digest {}",
            summary["events"],
            summary["first_sequence"],
            summary["last_sequence"],
            summary["missing_sequences"],
            summary["complete"],
            summary["digest_sha256"].as_str().unwrap_or_default()
        ),
        Err(error) => println!("summary not shown: {error}"),
    }
    Ok(())
}

/// The CloudEvents of one session, in order, one millisecond apart from `start` (microseconds),
/// in the exact shapes of the Duo Workflow Service: `source` `/duo_workflow_service`, `subject`
/// and `data.workflow_id` the workflow id as a string, `time` with microseconds, `sequence`
/// numbering the events from 1, and each type's `data` fields by the service's names.
pub fn session_events(workflow: i64, goal: &str, start: i64) -> Vec<Value> {
    const MODEL: &str = "claude-sonnet-4";
    let prompt = format!("You are a coding agent. Task: {goal}. Plan the next step.");
    let steps: Vec<(&str, Value)> = vec![
        ("ai_agent_session_started", json!({"workflow_type": "software_development", "goal": goal})),
        ("ai_user_input_received", json!({"input_type": "chat", "content": goal, "content_length": goal.len()})),
        (
            "ai_llm_input_sent",
            json!({"model_name": MODEL, "prompt_content": prompt, "tools_bound": ["run_tests", "read_file", "edit_file"]}),
        ),
        (
            "ai_llm_response_received",
            json!({"model_name": MODEL, "response_content": "I will run the payments tests to see the failure.",
                "prompt_token_count": 1184, "completion_token_count": 42, "finish_reason": "tool_use", "latency_ms": 830.4}),
        ),
        (
            "ai_tool_invoked",
            json!({"tool_name": "run_tests", "tool_args": {"command": "cargo test -p payments", "timeout_s": 120}}),
        ),
        (
            "ai_tool_execution_failed",
            json!({"tool_name": "run_tests", "error_type": "TimeoutError", "error_message": "runner timed out after 120 s"}),
        ),
        (
            "ai_tool_execution_retried",
            json!({"tool_name": "run_tests", "attempt_number": 2, "max_attempts": 3, "previous_error": "runner timed out after 120 s"}),
        ),
        ("ai_tool_response_received", {
            let output = "test refunds::rounding ... FAILED: expected 10.05, got 10.04";
            json!({"tool_name": "run_tests", "response_content": output, "response_length": output.len()})
        }),
        (
            "ai_llm_input_sent",
            json!({"model_name": MODEL, "prompt_content": "The test refunds::rounding fails: expected 10.05, got 10.04. Propose a fix."}),
        ),
        (
            "ai_llm_request_failed",
            json!({"model_name": MODEL, "error_type": "OverloadedError", "error_message": "the model is overloaded", "latency_ms": 15002.7}),
        ),
        (
            "ai_llm_response_received",
            json!({"model_name": MODEL, "response_content": "Round half away from zero in refunds::amount instead of truncating.",
                "prompt_token_count": 1630, "completion_token_count": 95, "finish_reason": "end_turn", "latency_ms": 1210.0}),
        ),
        ("ai_user_output_displayed", {
            let output = "The rounding in refunds::amount truncated cents; it now rounds half away from zero.";
            json!({"output_type": "chat", "content": output, "content_length": output.len()})
        }),
        ("ai_agent_session_ended", json!({"status": "completed", "duration_seconds": 61.25})),
    ];
    steps
        .into_iter()
        .enumerate()
        .map(|(i, (event_type, mut data))| {
            data["workflow_id"] = json!(workflow.to_string());
            json!({
                "specversion": "1.0",
                "id": uuid_v4(),
                "type": event_type,
                "source": "/duo_workflow_service",
                "subject": workflow.to_string(),
                "time": rfc3339_micros(start + i as i64 * 1000),
                "datacontenttype": "application/json",
                "sequence": i + 1,
                "data": data,
            })
        })
        .collect()
}

/// A random (version 4) UUID, as the workflow service's event ids are.
fn uuid_v4() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// `2026-12-01T12:00:00.123456Z`: UTC with microseconds, as the workflow service sends `time`.
fn rfc3339_micros(micros: i64) -> String {
    // GitLab's format has milliseconds (`….123Z`); the workflow service sends microseconds.
    let millis = auditrelay_core::time::format_micros(micros);
    format!("{}.{:06}Z", millis.split('.').next().unwrap_or_default(), micros.rem_euclid(1_000_000))
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

    async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("PRIVATE-TOKEN", &self.token)
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
    use auditrelay_core::ai_events::parse_workflow_batch;
    use auditrelay_core::event_catalogue::AI_EVENT_TYPES;

    #[test]
    fn the_session_is_a_valid_batch_covering_every_type() {
        let events = session_events(7, "fix it", 1_700_000_000_000_000);
        assert_eq!(events[0]["time"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(events[0]["subject"], "7");
        assert_eq!(events[0]["data"]["workflow_id"], "7");
        assert_eq!(events[0]["id"].as_str().unwrap().len(), 36);
        let parsed = parse_workflow_batch(Value::Array(events).to_string().as_bytes(), 7).unwrap();
        assert!(parsed.iter().enumerate().all(|(i, e)| e.sequence == Some(i as i64 + 1)));
        for t in AI_EVENT_TYPES {
            assert!(parsed.iter().any(|e| e.event_type == t), "{t} is played");
        }
        assert_eq!(parsed.first().unwrap().event_type, "ai_agent_session_started");
        assert_eq!(parsed.last().unwrap().event_type, "ai_agent_session_ended");
        assert!(parsed.windows(2).all(|w| w[0].time < w[1].time));
    }
}
