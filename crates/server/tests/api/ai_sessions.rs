//! AI sessions end to end, in the Duo Workflow Service's exact shapes: a whole session stored,
//! streamed to a group destination (headers, token, redaction by the admin's field list) and
//! archived to a real ClickHouse and read back; completeness with held-back sequence numbers in
//! the summary API and the streamed `ai_agent_session_summary`; `ai_*` events from general
//! ingest; content hashed at rest.

use auditrelay_testkit::{Backend, ClickHouseServer, Receiver};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

use crate::ai::{create_workflow, events_path, post_batch, project_with_developer, stored_ai_events};
use crate::ai_producer::{producer_event, producer_session};
use crate::delivery::{fast_server, http_destination, wait_for_ids};
use crate::on_both_backends;

/// Runs each named `async fn(Backend)` on SQLite and PostgreSQL, both needing ClickHouse.
macro_rules! with_clickhouse {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                #[ignore = "needs ClickHouse: scripts/test.sh runs it"]
                async fn sqlite() {
                    super::$name(auditrelay_testkit::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                #[ignore = "needs ClickHouse and PostgreSQL: scripts/test.sh runs it"]
                async fn postgres() {
                    super::$name(auditrelay_testkit::Backend::Postgres).await
                }
            }
        )*
    };
}

with_clickhouse!(a_whole_producer_session_is_stored_streamed_redacted_and_archived);
on_both_backends!(
    held_back_events_show_as_missing_until_they_arrive,
    ai_events_from_general_ingest_are_ai_events,
    content_fields_are_the_admins_and_may_be_hashed_at_rest,
);

fn summary_path(workflow: i64) -> String {
    format!("{}/summary", events_path(workflow))
}

/// The streamed summaries of `workflow` so far, in arrival order.
/// The distinct summaries a receiver got (by event id: delivery is at least once, so a request
/// retried after a slow answer arrives twice with the same id).
fn streamed_summaries(receiver: &Receiver, workflow: i64) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    receiver
        .received()
        .into_iter()
        .map(|r| r.json())
        .filter(|b| b["event_type"] == "ai_agent_session_summary" && b["details"]["workflow_id"] == workflow)
        .filter(|b| seen.insert(b["id"].to_string()))
        .collect()
}

async fn wait_for_summary(receiver: &Receiver, workflow: i64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(found) = streamed_summaries(receiver, workflow).into_iter().find(|s| done(s)) {
            return found;
        }
        assert!(Instant::now() < deadline, "no such summary arrived: {:?}", streamed_summaries(receiver, workflow));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_whole_producer_session_is_stored_streamed_redacted_and_archived(backend: Backend) {
    let clickhouse = ClickHouseServer::start();
    let url = clickhouse.url("auditrelay");
    let server = fast_server(backend, &[("AUDITRELAY_CLICKHOUSE_URL", url.as_str())]).await;
    let root = server.root();
    let (project, _, ingest, api) = project_with_developer(&root).await;
    let workflow = create_workflow(&api, "acme/agent").await;
    let receiver = Receiver::start().await;
    let config = json!({"url": receiver.url("/siem"), "headers": {"X-Siem": {"value": "duo", "active": true}}});
    let (_, token) = http_destination(&root, Some("acme"), config).await;
    root.put(
        "/api/v4/application/settings",
        &json!({"ai_audit_event_streaming_enabled": true, "ai_audit_event_redact_content": true}),
    )
    .await
    .expect(200);

    let batch = Value::Array(producer_session(workflow, "whole"));
    let ids = post_batch(&ingest, workflow, &batch).await.expect(201).body["ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 11);
    let stored = stored_ai_events(&root, project).await;
    assert_eq!(stored.len(), 11, "every event is stored");
    wait_for_ids(&receiver, &ids).await;
    let streamed: Vec<Value> =
        receiver.received().into_iter().filter(|r| ids.contains(&r.json()["id"])).map(|r| r.json()).collect();
    for request in receiver.received().iter().filter(|r| ids.contains(&r.json()["id"])) {
        assert_eq!(request.path, "/siem");
        assert_eq!(request.header("x-gitlab-event-streaming-token"), Some(token.as_str()));
        assert_eq!(request.header("x-siem"), Some("duo"));
    }
    // Every content field of the producer is a hash and length when streamed; the rest is as sent.
    let content =
        ["goal", "content", "prompt_content", "response_content", "tool_args", "error_message", "previous_error"];
    for (sent, body) in batch
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e, streamed.iter().find(|b| b["details"]["cloudevent_id"] == e["id"]).expect("streamed")))
    {
        for (key, value) in sent["data"].as_object().unwrap() {
            let got = &body["details"][key];
            if content.contains(&key.as_str()) && !value.is_null() {
                let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                assert_eq!(got, &json!({"sha256": hex::encode(Sha256::digest(&text)), "length": text.len()}), "{key}");
            } else {
                assert_eq!(got, value, "{}.{key} streamed as sent", sent["type"]);
            }
        }
    }
    let response = streamed.iter().find(|b| b["event_type"] == "ai_llm_response_received").unwrap();
    assert_eq!(response["details"]["latency_ms"], 812.25);
    assert_eq!(response["details"]["x_future_field"]["kind"][3]["deep"], true);

    // The archive holds the session under the workflow as its session, and reads come from it.
    crate::archive::wait_archived(&root).await;
    let sessions = clickhouse.query(&format!(
        "SELECT count(), any(session_id) FROM auditrelay.audit_events WHERE workflow_id = {workflow} \
         AND event_type != 'ai_agent_session_summary' FORMAT TabSeparated"
    ));
    assert_eq!(sessions.trim(), format!("11\t{workflow}"));
    let read = root.get(&format!("/api/v4/ai/audit_events?per_page=100&session_id={workflow}")).await.expect(200);
    assert_eq!(read.header("x-auditrelay-read-source"), Some("clickhouse"));
    let from_archive: Vec<&Value> =
        read.body.as_array().unwrap().iter().filter(|e| e["event_name"] != "ai_agent_session_summary").collect();
    assert_eq!(from_archive.len(), 11);
    let prompt = from_archive.iter().find(|e| e["event_name"] == "ai_llm_input_sent").unwrap();
    assert_eq!(prompt["details"]["prompt_content"], "secret prompt", "stored content is kept (hashing at rest is off)");
    // REST details show non-string values as their JSON text, as GitLab's entity does.
    assert_eq!(prompt["details"]["tools_bound"], json!(["read_file", "run_command"]).to_string());
    // The session ended complete: its summary is streamed and archived too.
    let summary = wait_for_summary(&receiver, workflow, |s| s["details"]["complete"] == true).await;
    assert_eq!(summary["details"]["events"], 11);
    assert_eq!(summary["details"]["unsequenced_events"], 1);
    assert!(read.body.as_array().unwrap().iter().any(|e| e["event_name"] == "ai_agent_session_summary"));
}

async fn held_back_events_show_as_missing_until_they_arrive(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let (_, _, ingest, api) = project_with_developer(&root).await;
    let workflow = create_workflow(&api, "acme/agent").await;
    let receiver = Receiver::start().await;
    http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    root.put("/api/v4/application/settings", &json!({"ai_audit_event_streaming_enabled": true})).await.expect(200);
    let event = |n: i64| {
        let (event_type, data) = match n {
            1 => ("ai_agent_session_started", json!({"workflow_type": "chat", "goal": "g"})),
            10 => ("ai_agent_session_ended", json!({"status": "completed", "duration_seconds": 1.5})),
            _ => ("ai_tool_invoked", json!({"tool_name": "grep", "tool_args": {"n": n}})),
        };
        producer_event(workflow, &format!("00000000-0000-4000-8000-{n:012}"), event_type, json!(n), data)
    };
    let partial: Vec<Value> = (1..=10).filter(|n| *n != 4 && *n != 7).map(event).collect();
    post_batch(&ingest, workflow, &Value::Array(partial)).await.expect(201);
    let summary = api.get(&summary_path(workflow)).await.expect(200).body;
    assert_eq!(summary["events"], 8);
    assert_eq!(summary["first_sequence"], 1);
    assert_eq!(summary["last_sequence"], 10);
    assert_eq!(summary["missing_sequences"], json!([4, 7]));
    assert_eq!(summary["duplicate_sequences"], json!([]));
    assert_eq!((summary["started"].clone(), summary["ended"].clone()), (json!(true), json!(true)));
    assert_eq!(summary["complete"], false);
    let streamed = wait_for_summary(&receiver, workflow, |s| s["details"]["missing_sequences"] == json!([4, 7])).await;
    assert_eq!(streamed["details"]["complete"], false);
    assert_eq!(streamed["entity_path"], "acme/agent");

    // A re-sent batch changes nothing; the held-back events complete the session.
    post_batch(&ingest, workflow, &Value::Array(vec![event(1)])).await.expect(201);
    post_batch(&ingest, workflow, &Value::Array(vec![event(7), event(4)])).await.expect(201);
    let summary = api.get(&summary_path(workflow)).await.expect(200).body;
    assert_eq!(summary["missing_sequences"], json!([]));
    assert_eq!(summary["events"], 10);
    assert_eq!(summary["complete"], true);
    let ids: Vec<String> = (1..=10).map(|n| format!("00000000-0000-4000-8000-{n:012}")).collect();
    assert_eq!(summary["digest_sha256"], hex::encode(Sha256::digest(ids.join("\n"))), "ids in sequence order");
    let done = wait_for_summary(&receiver, workflow, |s| s["details"]["complete"] == true).await;
    assert_eq!(done["details"]["digest_sha256"], summary["digest_sha256"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(streamed_summaries(&receiver, workflow).len(), 2, "one summary per change, none for the re-send");
    // Summaries are filterable like any event.
    let listed = root
        .get(&format!("/api/v4/ai/audit_events?event_type=ai_agent_session_summary&workflow_id={workflow}"))
        .await
        .expect(200);
    assert_eq!(listed.body.as_array().unwrap().len(), 2);
    // Who may read it: not a stranger.
    let (_, stranger) = crate::user_with_token(&root, "stranger", &["read_api"]).await;
    assert!(stranger.get(&summary_path(workflow)).await.status >= 400);
    root.get(&summary_path(workflow + 1000)).await.expect(404);
}

async fn ai_events_from_general_ingest_are_ai_events(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    crate::create_group(&root, "acme", None).await;
    http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    // As a GitLab instance streams them: GitLab's event shape, the producer's data in details.
    let gitlab_event = |n: i64, event_type: &str, details: Value| {
        let mut details = details;
        details["workflow_id"] = json!("77");
        details["sequence"] = json!(n);
        json!({"id": format!("gl-{n}"), "event_type": event_type, "entity_type": "Project",
            "entity_path": "acme/web", "details": details})
    };
    let events = json!([
        gitlab_event(1, "ai_agent_session_started", json!({"goal": "secret goal"})),
        gitlab_event(3, "ai_agent_session_ended", json!({"status": "failed", "error_message": "boom"})),
    ]);
    let marker = json!({"id": "marker", "event_type": "repository_git_operation", "entity_type": "Project", "entity_path": "acme/web"});
    root.post("/api/v4/audit_events", &events).await.expect(201);
    root.post("/api/v4/audit_events", &json!([marker])).await.expect(201);
    wait_for_ids(&receiver, &[json!("marker")]).await;
    assert!(
        !receiver.received().iter().any(|r| r.json()["event_type"].as_str().unwrap_or_default().starts_with("ai_")),
        "the admin gate holds for AI events from general ingest"
    );
    let listed = root.get("/api/v4/ai/audit_events?session_id=77&per_page=100").await.expect(200);
    let names: Vec<&str> = listed.body.as_array().unwrap().iter().map(|e| e["event_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ai_agent_session_summary", "ai_agent_session_ended", "ai_agent_session_started"]);
    let summary = root.get(&summary_path(77)).await.expect(200).body;
    assert_eq!(summary["missing_sequences"], json!([2]));
    assert_eq!(summary["session_id"], "77");

    // Streaming and redaction on: the late event 2 arrives, and a new summary with it.
    root.put(
        "/api/v4/application/settings",
        &json!({"ai_audit_event_streaming_enabled": true, "ai_audit_event_redact_content": true}),
    )
    .await
    .expect(200);
    root.post("/api/v4/audit_events", &json!([gitlab_event(2, "ai_user_input_received", json!({"content": "hi"}))]))
        .await
        .expect(201);
    let done = wait_for_summary(&receiver, 77, |s| s["details"]["missing_sequences"] == json!([])).await;
    assert_eq!(done["details"]["events"], 3);
    wait_for_ids(&receiver, &[json!("gl-2")]).await;
    let input = receiver.received().into_iter().map(|r| r.json()).find(|b| b["id"] == "gl-2").unwrap();
    assert_eq!(input["details"]["content"]["length"], 2, "redacted like any AI event: {input}");
    // The summary is the service's: nobody may send one.
    let forged = json!([{"event_type": "ai_agent_session_summary", "entity_type": "Project", "entity_path": "acme/web", "details": {"workflow_id": 77}}]);
    let refused = root.post("/api/v4/audit_events", &forged).await.expect(400);
    assert!(refused.text.contains("the service's own event"), "{}", refused.text);
}

async fn content_fields_are_the_admins_and_may_be_hashed_at_rest(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (project, _, ingest, api) = project_with_developer(&root).await;
    let workflow = create_workflow(&api, "acme/agent").await;
    let settings = root.get("/api/v4/application/settings").await.expect(200).body;
    assert_eq!(
        settings["ai_audit_event_content_fields"],
        json!([
            "goal",
            "content",
            "prompt_content",
            "response_content",
            "tool_args",
            "error_message",
            "previous_error"
        ])
    );
    assert_eq!(settings["ai_audit_event_store_content_hashed"], false, "off by default");
    let bad =
        root.put("/api/v4/application/settings", &json!({"ai_audit_event_content_fields": [1]})).await.expect(400);
    assert!(bad.text.contains("ai_audit_event_content_fields is invalid"), "{}", bad.text);
    // A field added later by a producer joins the list; hashing at rest is turned on.
    let changed = root
        .put(
            "/api/v4/application/settings",
            &json!({"ai_audit_event_content_fields": "prompt_content, tool_args, x_future_field",
                "ai_audit_event_store_content_hashed": true}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(changed["ai_audit_event_content_fields"], json!(["prompt_content", "tool_args", "x_future_field"]));
    post_batch(&ingest, workflow, &Value::Array(producer_session(workflow, "rest"))).await.expect(201);
    let stored = stored_ai_events(&root, project).await;
    let of = |t: &str| stored.iter().find(|e| e["event_name"] == t).unwrap()["details"].clone();
    let prompt = of("ai_llm_input_sent");
    // REST details show non-string values as their JSON text, as GitLab's entity does.
    let hashed = |v: &Value| serde_json::from_str::<Value>(v.as_str().expect("JSON text")).unwrap();
    assert_eq!(
        hashed(&prompt["prompt_content"]),
        json!({"sha256": hex::encode(Sha256::digest("secret prompt")), "length": 13})
    );
    assert_eq!(prompt["model_name"], "claude-sonnet-4");
    let response = of("ai_llm_response_received");
    assert_eq!(response["response_content"], "secret answer", "not in the admin's list");
    assert_eq!(hashed(&response["x_future_field"])["length"], r#"{"kind":[1,2.5,"three",{"deep":true}]}"#.len());
    assert!(hashed(&of("ai_tool_invoked")["tool_args"])["sha256"].is_string());
    let all = root.get(&format!("/api/v4/projects/{project}/audit_events?per_page=100")).await.expect(200);
    assert!(!all.text.contains("secret prompt"), "no read shows the content");
}
