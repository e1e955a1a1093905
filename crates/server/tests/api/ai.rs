//! AI audit events: workflows, the CloudEvents ingest endpoint (storage, idempotency,
//! authorization, whole-batch rejection), streaming a whole agent session with filters, the
//! admin setting and redaction, and the sample producer.

use auditrelay_testkit::{Api, Backend, Receiver};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;

use crate::delivery::{fast_server, http_destination, received_of, wait_for_ids};
use crate::{create_group, on_both_backends, user_with_token};

const BATCH: &str = "application/cloudevents-batch+json";

/// acme/agent with a Developer `dev` (tokens for ingest and api); answers (project id, dev id,
/// dev's ingest client, dev's api client).
async fn project_with_developer(root: &Api) -> (i64, i64, Api, Api) {
    let acme = create_group(root, "acme", None).await;
    let project = root.post("/api/v4/projects", &json!({"name": "agent", "namespace_id": acme})).await.expect(201);
    let (dev, ingest) = user_with_token(root, "dev", &["ingest_audit_events"]).await;
    let token = root
        .post(&format!("/api/v4/users/{dev}/personal_access_tokens"), &json!({"name": "api", "scopes": ["api"]}))
        .await
        .expect(201);
    let api = root.with_token(token.body["token"].as_str().unwrap());
    root.post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": dev, "access_level": 30}))
        .await
        .expect(201);
    (project.body["id"].as_i64().unwrap(), dev, ingest, api)
}

async fn create_workflow(api: &Api, project: &str) -> i64 {
    let reply = api
        .post("/api/v4/ai/duo_workflows/workflows", &json!({"project_id": project, "goal": "fix the build"}))
        .await
        .expect(201);
    reply.body["id"].as_i64().unwrap()
}

fn cloudevent(id: &str, event_type: &str, data: Value) -> Value {
    json!({"specversion": "1.0", "id": id, "source": "//dws/test", "type": event_type,
        "time": "2026-11-21T08:00:00.250Z", "data": data})
}

/// One event of every type, in a session's order, ids `{prefix}-NN`.
fn session(prefix: &str) -> Vec<Value> {
    let llm = |extra: Value| merge(json!({"model": "claude", "provider": "anthropic"}), extra);
    let tool = |extra: Value| merge(json!({"tool_name": "read_file", "tool_call_id": "c1"}), extra);
    let steps = [
        ("ai_agent_session_started", json!({"goal": "fix the build"})),
        ("ai_user_input_received", json!({"content": "please fix the build"})),
        ("ai_llm_input_sent", llm(json!({"prompt": "secret prompt"}))),
        ("ai_llm_response_received", llm(json!({"response": "secret answer", "input_tokens": 5, "output_tokens": 2}))),
        ("ai_tool_invoked", tool(json!({"arguments": {"path": "src/main.rs"}}))),
        ("ai_tool_execution_failed", tool(json!({"error_message": "timeout"}))),
        ("ai_tool_execution_retried", tool(json!({"attempt": 2, "reason": "timeout"}))),
        ("ai_tool_response_received", tool(json!({"output": "fn main() {}"}))),
        ("ai_llm_request_failed", llm(json!({"error_message": "overloaded", "status_code": 529}))),
        ("ai_user_output_displayed", json!({"content": "done"})),
        ("ai_agent_session_ended", json!({"status": "completed"})),
    ];
    steps
        .into_iter()
        .enumerate()
        .map(|(i, (t, data))| cloudevent(&format!("{prefix}-{i:02}"), t, merge(json!({"session_id": prefix}), data)))
        .collect()
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

fn events_path(workflow: i64) -> String {
    format!("/api/v4/ai/duo_workflows/workflows/{workflow}/audit_events")
}

async fn post_batch(api: &Api, workflow: i64, batch: &Value) -> auditrelay_testkit::Reply {
    api.post_raw(&events_path(workflow), BATCH, batch.to_string()).await
}

/// The project's stored AI events, oldest first.
async fn stored_ai_events(root: &Api, project: i64) -> Vec<Value> {
    let reply = root.get(&format!("/api/v4/projects/{project}/audit_events?per_page=100&sort=asc")).await.expect(200);
    let mut events: Vec<Value> = reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_name"].as_str().is_some_and(|t| t.starts_with("ai_")))
        .cloned()
        .collect();
    events.sort_by_key(|e| e["details"]["cloudevent_id"].as_str().unwrap_or_default().to_owned());
    events
}

async fn good_batch_is_stored_once(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (project, dev, ingest, api) = project_with_developer(&root).await;
    let workflow = create_workflow(&api, "acme/agent").await;
    let shown = api.get(&format!("/api/v4/ai/duo_workflows/workflows/{workflow}")).await.expect(200);
    assert_eq!(shown.body["project_id"], project);
    assert_eq!(shown.body["user_id"], dev);

    let batch = Value::Array(session("s1"));
    let first = post_batch(&ingest, workflow, &batch).await.expect(201);
    let ids = first.body["ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 11);
    assert!(ids.iter().all(|id| id.as_str().is_some_and(|s| s.starts_with(&format!("ai-{workflow}-")))), "{ids:?}");

    let stored = stored_ai_events(&root, project).await;
    assert_eq!(stored.len(), 11);
    // GitLab's read shape: `event_name`, and author name, path and target inside `details`.
    let prompt = stored.iter().find(|e| e["event_name"] == "ai_llm_input_sent").unwrap();
    assert_eq!(prompt["entity_type"], "Project");
    assert_eq!(prompt["entity_id"], project);
    assert_eq!(prompt["author_id"], dev);
    assert_eq!(prompt["created_at"], "2026-11-21T08:00:00.250Z");
    let details = &prompt["details"];
    assert_eq!(details["entity_path"], "acme/agent");
    assert_eq!(details["author_name"], "dev");
    assert_eq!(details["target_type"], "Ai::DuoWorkflows::Workflow");
    assert_eq!(details["target_id"], workflow);
    assert_eq!(details["prompt"], "secret prompt", "stored events keep the content");
    assert_eq!(details["model"], "claude");
    assert_eq!(details["workflow_id"], workflow.to_string(), "REST details are strings, as GitLab's entity");
    assert_eq!(details["session_id"], "s1");
    assert_eq!(details["cloudevent_id"], "s1-02");
    assert_eq!(details["cloudevent_source"], "//dws/test");
    assert_eq!(details["cloudevent_time"], "2026-11-21T08:00:00.250Z");
    let one =
        root.get(&format!("/api/v4/projects/{project}/audit_events/{}", prompt["streamed_id"].as_str().unwrap())).await;
    assert_eq!(one.expect(200).body["details"]["cloudevent_id"], "s1-02");

    // The same batch again (the gateway retrying after a lost answer): same ids, nothing new.
    let again = post_batch(&ingest, workflow, &batch).await.expect(201);
    assert_eq!(again.body["ids"], first.body["ids"]);
    // Plain JSON is accepted too.
    let plain = ingest.post(&events_path(workflow), &batch).await.expect(201);
    assert_eq!(plain.body["ids"], first.body["ids"]);
    assert_eq!(stored_ai_events(&root, project).await.len(), 11);
}

async fn authorization(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (_, _, ingest, api) = project_with_developer(&root).await;
    let workflow = create_workflow(&api, "acme/agent").await;
    let batch = Value::Array(session("auth"));

    let anonymous = server.api(None);
    post_batch(&anonymous, workflow, &batch).await.expect(401);
    let read_only = user_with_token(&root, "reader", &["read_api"]).await.1;
    let scoped = post_batch(&read_only, workflow, &batch).await.expect(403);
    assert_eq!(scoped.body["scope"], "ingest_audit_events");
    let dev_api = post_batch(&api, workflow, &batch).await.expect(403);
    assert_eq!(dev_api.body["error"], "insufficient_scope", "a non-admin's api token does not ingest");
    let (_, stranger) = user_with_token(&root, "stranger", &["ingest_audit_events"]).await;
    post_batch(&stranger, workflow, &batch).await.expect(404);
    let (reporter, reporter_ingest) = user_with_token(&root, "reporter", &["ingest_audit_events"]).await;
    let acme = root.get("/api/v4/groups/acme").await.expect(200).body["id"].as_i64().unwrap();
    root.post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": reporter, "access_level": 20}))
        .await
        .expect(201);
    let denied = post_batch(&reporter_ingest, workflow, &batch).await.expect(403);
    assert!(denied.text.contains("Developer"), "{}", denied.text);
    let unknown = post_batch(&ingest, workflow + 100, &batch).await.expect(404);
    assert_eq!(unknown.body["message"], "404 Workflow Not Found");
    root.get("/api/v4/ai/duo_workflows/workflows/999").await.expect(404);
    stranger.get(&format!("/api/v4/ai/duo_workflows/workflows/{workflow}")).await.expect(403);
    // Creating a workflow needs the Developer role.
    let (reporter2, reporter_api) = user_with_token(&root, "reporter2", &["api"]).await;
    reporter_api
        .post("/api/v4/ai/duo_workflows/workflows", &json!({"project_id": "acme/agent", "goal": "x"}))
        .await
        .expect(404);
    root.post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": reporter2, "access_level": 20}))
        .await
        .expect(201);
    reporter_api
        .post("/api/v4/ai/duo_workflows/workflows", &json!({"project_id": "acme/agent", "goal": "x"}))
        .await
        .expect(403);
    // An admin's api token may ingest; the author stays the workflow's user.
    post_batch(&root, workflow, &batch).await.expect(201);
    post_batch(&ingest, workflow, &batch).await.expect(201);
}

async fn bad_batches_are_rejected_whole(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (project, _, ingest, api) = project_with_developer(&root).await;
    let workflow = create_workflow(&api, "acme/agent").await;
    let good = session("bad");
    let with = |index: usize, change: &dyn Fn(&mut Value)| {
        let mut batch = good.clone();
        change(&mut batch[index]);
        Value::Array(batch)
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "unknown type",
            with(3, &|e| e["type"] = json!("ai_mind_read")),
            "event 3 (id \"bad-03\"): type \"ai_mind_read\" is not one of the AI event types",
        ),
        (
            "missing id",
            with(1, &|e| {
                e.as_object_mut().unwrap().remove("id");
            }),
            "event 1 (no id): id is required",
        ),
        (
            "wrong specversion",
            with(0, &|e| e["specversion"] = json!("0.3")),
            "event 0 (id \"bad-00\"): specversion must be \"1.0\"",
        ),
        (
            "invalid data",
            with(4, &|e| e["data"]["arguments"] = Value::Null),
            "event 4 (id \"bad-04\"): data.arguments is required",
        ),
        (
            "data not an object",
            with(2, &|e| e["data"] = json!("text")),
            "event 2 (id \"bad-02\"): data must be a JSON object",
        ),
        ("not an array", good[0].clone(), "the body must be a JSON array of CloudEvents"),
        (
            "501 events",
            Value::Array(
                (0..501)
                    .map(|i| {
                        cloudevent(
                            &format!("n{i}"),
                            "ai_agent_session_ended",
                            json!({"session_id": "s", "status": "completed"}),
                        )
                    })
                    .collect(),
            ),
            "the batch contains 501 events; the limit is 500 per request",
        ),
        (
            "workflow mismatch",
            with(5, &|e| e["data"]["workflow_id"] = json!(workflow + 1)),
            "event 5 (id \"bad-05\"): data.workflow_id",
        ),
    ];
    for (what, batch, expected) in cases {
        let reply = post_batch(&ingest, workflow, &batch).await.expect(400);
        let message = reply.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{what}: {message}");
    }
    // Two bad events are both named.
    let mut two = good.clone();
    two[1]["type"] = json!("nope");
    two[7]["time"] = json!("soon");
    let reply = post_batch(&ingest, workflow, &Value::Array(two)).await.expect(400);
    let message = reply.body["message"].as_str().unwrap();
    assert!(message.contains("nothing was stored; 2 of 11 events are invalid"), "{message}");
    assert!(message.contains("event 1 (id \"bad-01\")") && message.contains("event 7 (id \"bad-07\")"), "{message}");
    // An oversized body.
    let huge = format!("[{}]", " ".repeat(17 * 1024 * 1024));
    let reply = ingest.post_raw(&events_path(workflow), BATCH, huge).await.expect(413);
    assert!(reply.text.contains("larger than the limit"), "{}", reply.text);
    assert!(stored_ai_events(&root, project).await.is_empty(), "nothing of a rejected batch is stored");
}

/// A whole session streamed to a group destination whose filter takes 3 of the 11 types.
async fn session_streams_with_filters_setting_and_redaction(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let (_, _, ingest, api) = project_with_developer(&root).await;
    let workflow = create_workflow(&api, "acme/agent").await;
    let receiver = Receiver::start().await;
    let config = json!({"url": receiver.url("/ai"), "headers": {"X-Siem": {"value": "duo", "active": true}}});
    let (destination, token) = http_destination(&root, Some("acme"), config).await;
    let gid = format!("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{destination}");
    let wanted = ["ai_llm_input_sent", "ai_tool_invoked", "ai_agent_session_ended", "repository_git_operation"];
    let filter = root.graphql("mutation($id: AuditEventsGroupExternalStreamingDestinationID!, $types: [String!]!) { auditEventsGroupDestinationEventsAdd(input: { destinationId: $id, eventTypeFilters: $types }) { errors } }", json!({"id": gid, "types": wanted})).await.expect(200);
    assert_eq!(filter.body["data"]["auditEventsGroupDestinationEventsAdd"]["errors"], json!([]), "{}", filter.text);

    // Setting off (the default): stored, not streamed. A later plain event proves the worker
    // went past them.
    let off = post_batch(&ingest, workflow, &Value::Array(session("off"))).await.expect(201).body["ids"].clone();
    let marker = root
        .post("/api/v4/audit_events", &json!({"id": "marker-1", "event_type": "repository_git_operation", "entity_type": "Project", "entity_path": "acme/agent"}))
        .await
        .expect(201);
    wait_for_ids(&receiver, marker.body["ids"].as_array().unwrap()).await;
    assert!(received_of(&receiver, off.as_array().unwrap()).is_empty(), "no AI event while the setting is off");

    root.put("/api/v4/application/settings", &json!({"ai_audit_event_streaming_enabled": true})).await.expect(200);
    let on = post_batch(&ingest, workflow, &Value::Array(session("on"))).await.expect(201).body["ids"].clone();
    let on = on.as_array().unwrap();
    let expected: Vec<Value> = [2, 4, 10].iter().map(|i| on[*i].clone()).collect();
    wait_for_ids(&receiver, &expected).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut arrived = received_of(&receiver, on);
    arrived.sort_by_key(|id| on.iter().position(|o| o == id));
    assert_eq!(arrived, expected, "exactly the filtered types (neighbours may swap in the in-flight window)");
    let got: Vec<_> = receiver.received().into_iter().filter(|r| expected.contains(&r.json()["id"])).collect();
    assert_eq!(got.len(), 3, "each sent once");
    for request in &got {
        assert_eq!(request.path, "/ai");
        assert_eq!(request.header("x-gitlab-event-streaming-token"), Some(token.as_str()));
        assert_eq!(request.header("x-gitlab-audit-event-type"), request.json()["event_type"].as_str());
        assert_eq!(request.header("x-siem"), Some("duo"));
        assert_eq!(request.json()["entity_path"], "acme/agent");
    }
    let prompt = got.iter().find(|r| r.json()["event_type"] == "ai_llm_input_sent").unwrap().json();
    assert_eq!(prompt["details"]["prompt"], "secret prompt", "content is streamed while redaction is off");
    assert_eq!(prompt["details"]["session_id"], "on");

    // Redaction on: a hash and length instead of the content; the stored event keeps it.
    root.put("/api/v4/application/settings", &json!({"ai_audit_event_redact_content": true})).await.expect(200);
    let settings = root.get("/api/v4/application/settings").await.expect(200);
    assert_eq!(settings.body["ai_audit_event_redact_content"], true);
    let red = post_batch(&ingest, workflow, &Value::Array(session("red"))).await.expect(201).body["ids"].clone();
    let red = red.as_array().unwrap();
    wait_for_ids(&receiver, &[red[2].clone(), red[4].clone()]).await;
    let body_of = |id: &Value| receiver.received().into_iter().find(|r| &r.json()["id"] == id).unwrap().json();
    let prompt = body_of(&red[2]);
    let digest = hex::encode(Sha256::digest(b"secret prompt"));
    assert_eq!(prompt["details"]["prompt"], json!({"sha256": digest, "length": 13}));
    assert_eq!(prompt["details"]["model"], "claude", "other details are kept");
    let tool = body_of(&red[4]);
    let arguments = r#"{"path":"src/main.rs"}"#;
    assert_eq!(tool["details"]["arguments"]["length"], arguments.len());
    assert!(!receiver.received().iter().any(|r| r.json()["id"] == red[2] && r.body.contains("secret prompt")));
    let stored = root.get(&format!("/api/v4/audit_events/{}", red[2].as_str().unwrap())).await.expect(200);
    assert_eq!(stored.body["details"]["prompt"], "secret prompt");
    // The setting change was audited.
    let audited = root.get("/api/v4/audit_events?per_page=100").await.expect(200);
    let changes: Vec<&Value> =
        audited.body.as_array().unwrap().iter().filter(|e| e["event_name"] == "application_setting_updated").collect();
    assert!(
        changes.iter().any(|e| e["details"]["custom_message"]
            .as_str()
            .unwrap_or_default()
            .contains("ai_audit_event_redact_content from false to true")),
        "{changes:?}"
    );
}

async fn sample_producer_session_arrives(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let acme = create_group(&root, "acme", None).await;
    let project = root.post("/api/v4/projects", &json!({"name": "agent", "namespace_id": acme})).await.expect(201);
    let project = project.body["id"].as_i64().unwrap();
    root.put("/api/v4/application/settings", &json!({"ai_audit_event_streaming_enabled": true})).await.expect(200);
    let receiver = Receiver::start().await;
    http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_auditrelay"))
        .args(["ai-session", "--url", &server.base, "--project", "acme/agent"])
        .env("AUDITRELAY_TOKEN", auditrelay_testkit::ROOT_TOKEN)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("13 events stored"), "{stdout}");
    let stored = stored_ai_events(&root, project).await;
    assert_eq!(stored.len(), 13);
    let ids: Vec<Value> = stored.iter().map(|e| e["streamed_id"].clone()).collect();
    wait_for_ids(&receiver, &ids).await;
    let mut types: Vec<String> = stored.iter().map(|e| e["event_name"].as_str().unwrap().to_owned()).collect();
    types.sort();
    types.dedup();
    assert_eq!(types.len(), 11, "every AI type is played");
}

on_both_backends!(
    good_batch_is_stored_once,
    authorization,
    bad_batches_are_rejected_whole,
    session_streams_with_filters_setting_and_redaction,
    sample_producer_session_arrives,
);
