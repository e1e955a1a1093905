//! AI audit events: workflows, the CloudEvents ingest endpoint (storage, idempotency,
//! authorization, whole-batch rejection), streaming a whole agent session with filters, the
//! admin setting and redaction, and the sample producer.

use auditrelay_testkit::{Api, Backend, Receiver};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;

use crate::ai_producer::{producer_event, producer_session, session_data};
use crate::delivery::{fast_server, http_destination, received_of, wait_for_ids};
use crate::{create_group, on_both_backends, user_with_token};

const BATCH: &str = "application/cloudevents-batch+json";

/// acme/agent with a Developer `dev` (tokens for ingest and api); answers (project id, dev id,
/// dev's ingest client, dev's api client).
pub async fn project_with_developer(root: &Api) -> (i64, i64, Api, Api) {
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

pub async fn create_workflow(api: &Api, project: &str) -> i64 {
    let reply = api
        .post("/api/v4/ai/duo_workflows/workflows", &json!({"project_id": project, "goal": "fix the build"}))
        .await
        .expect(201);
    reply.body["id"].as_i64().unwrap()
}

/// The producer's whole session for `workflow` (see `ai_producer.rs`).
fn session(workflow: i64, prefix: &str) -> Vec<Value> {
    producer_session(workflow, prefix)
}

pub fn events_path(workflow: i64) -> String {
    format!("/api/v4/ai/duo_workflows/workflows/{workflow}/audit_events")
}

pub async fn post_batch(api: &Api, workflow: i64, batch: &Value) -> auditrelay_testkit::Reply {
    api.post_raw(&events_path(workflow), BATCH, batch.to_string()).await
}

/// The project's stored AI events from the producer (not the service's summaries), by id.
pub async fn stored_ai_events(root: &Api, project: i64) -> Vec<Value> {
    let reply = root.get(&format!("/api/v4/projects/{project}/audit_events?per_page=100&sort=asc")).await.expect(200);
    let mut events: Vec<Value> = reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_name"].as_str().is_some_and(|t| t.starts_with("ai_") && t != "ai_agent_session_summary"))
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

    let batch = Value::Array(session(workflow, "s1"));
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
    assert_eq!(prompt["created_at"], "2026-12-01T12:00:00.123Z");
    let details = &prompt["details"];
    assert_eq!(details["entity_path"], "acme/agent");
    assert_eq!(details["author_name"], "dev");
    assert_eq!(details["target_type"], "Ai::DuoWorkflows::Workflow");
    assert_eq!(details["target_id"], workflow);
    assert_eq!(details["prompt_content"], "secret prompt", "stored events keep the content");
    assert_eq!(details["workflow_id"], workflow.to_string(), "the producer's string is kept");
    assert_eq!(details["cloudevent_id"], "s1-02");
    assert_eq!(details["cloudevent_source"], "/duo_workflow_service");
    assert_eq!(details["cloudevent_time"], "2026-12-01T12:00:00.123456Z");
    assert_eq!(details["cloudevent_sequence"], "2", "REST details are strings, as GitLab's entity");
    // Every event's data is in its details as sent: every key, in order, every value.
    assert_eq!(session_data().len(), 11);
    for sent in batch.as_array().unwrap() {
        let kept = stored.iter().find(|e| e["details"]["cloudevent_id"] == sent["id"]).unwrap();
        let details = kept["details"].as_object().unwrap();
        let sent_keys: Vec<&String> = sent["data"].as_object().unwrap().keys().collect();
        let keys: Vec<&String> = details.keys().take(sent_keys.len()).collect();
        assert_eq!(keys, sent_keys, "key order of {}", sent["type"]);
        for (key, value) in sent["data"].as_object().unwrap() {
            assert_eq!(details[key], rest_text(value), "{}.{key}", sent["type"]);
        }
        assert_eq!(kept["details"]["cloudevent_sequence"], rest_text(&sent["sequence"]));
    }
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
    let batch = Value::Array(session(workflow, "auth"));

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
    assert!(denied.text.contains("only the workflow's own user or an administrator"), "{}", denied.text);
    // Another Developer of the project may not write events in the workflow user's name.
    let (other_dev, other_ingest) = user_with_token(&root, "other_dev", &["ingest_audit_events"]).await;
    root.post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": other_dev, "access_level": 30}))
        .await
        .expect(201);
    let impersonating = post_batch(&other_ingest, workflow, &batch).await.expect(403);
    assert!(impersonating.text.contains("only the workflow's own user or an administrator"), "{}", impersonating.text);
    let project_id = root.get("/api/v4/projects/acme%2Fagent").await.expect(200).body["id"].as_i64().unwrap();
    assert!(stored_ai_events(&root, project_id).await.is_empty(), "nothing was stored by refused posts");
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
    let good = session(workflow, "bad");
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
            "sequence neither integer nor null",
            with(4, &|e| e["sequence"] = json!("4")),
            "event 4 (id \"bad-04\"): sequence must be an integer or null, not \"4\"",
        ),
        (
            "a NUL inside data",
            with(4, &|e| e["data"]["tool_args"]["path"] = json!("src/\u{0}main.rs")),
            "event 4 (id \"bad-04\"): data.tool_args.path contains a NUL character",
        ),
        (
            "time not RFC 3339",
            with(6, &|e| e["time"] = json!("2026-12-01 12:00:00")),
            "event 6 (id \"bad-06\"): time \"2026-12-01 12:00:00\" is not an RFC 3339 timestamp",
        ),
        (
            "datacontenttype not JSON",
            with(7, &|e| e["datacontenttype"] = json!("text/plain")),
            "event 7 (id \"bad-07\"): datacontenttype must be application/json",
        ),
        (
            "subject names another workflow",
            with(8, &|e| e["subject"] = json!((workflow + 1).to_string())),
            "is not the workflow of the URL",
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
                        producer_event(
                            workflow,
                            &format!("n{i}"),
                            "ai_agent_session_ended",
                            json!(i),
                            json!({"status": "completed"}),
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
        (
            "workflow mismatch as a string",
            with(5, &|e| e["data"]["workflow_id"] = json!("not-this-one")),
            "event 5 (id \"bad-05\"): data.workflow_id \"not-this-one\" is not the workflow of the URL",
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
    let off =
        post_batch(&ingest, workflow, &Value::Array(session(workflow, "off"))).await.expect(201).body["ids"].clone();
    let marker = root
        .post("/api/v4/audit_events", &json!({"id": "marker-1", "event_type": "repository_git_operation", "entity_type": "Project", "entity_path": "acme/agent"}))
        .await
        .expect(201);
    wait_for_ids(&receiver, marker.body["ids"].as_array().unwrap()).await;
    assert!(received_of(&receiver, off.as_array().unwrap()).is_empty(), "no AI event while the setting is off");

    root.put("/api/v4/application/settings", &json!({"ai_audit_event_streaming_enabled": true})).await.expect(200);
    let on =
        post_batch(&ingest, workflow, &Value::Array(session(workflow, "on"))).await.expect(201).body["ids"].clone();
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
    assert_eq!(prompt["details"]["prompt_content"], "secret prompt", "content is streamed while redaction is off");
    assert_eq!(prompt["details"]["workflow_id"], workflow.to_string());

    // Redaction on: a hash and length instead of the content; the stored event keeps it.
    root.put("/api/v4/application/settings", &json!({"ai_audit_event_redact_content": true})).await.expect(200);
    let settings = root.get("/api/v4/application/settings").await.expect(200);
    assert_eq!(settings.body["ai_audit_event_redact_content"], true);
    let red =
        post_batch(&ingest, workflow, &Value::Array(session(workflow, "red"))).await.expect(201).body["ids"].clone();
    let red = red.as_array().unwrap();
    wait_for_ids(&receiver, &[red[2].clone(), red[4].clone()]).await;
    let body_of = |id: &Value| receiver.received().into_iter().find(|r| &r.json()["id"] == id).unwrap().json();
    let prompt = body_of(&red[2]);
    let digest = hex::encode(Sha256::digest(b"secret prompt"));
    assert_eq!(prompt["details"]["prompt_content"], json!({"sha256": digest, "length": 13}));
    assert_eq!(prompt["details"]["model_name"], "claude-sonnet-4", "other details are kept");
    assert_eq!(prompt["details"]["tools_bound"], json!(["read_file", "run_command"]));
    let tool = body_of(&red[4]);
    let arguments = r#"{"path":"src/main.rs","lines":[1,40]}"#;
    assert_eq!(tool["details"]["tool_args"]["length"], arguments.len());
    assert_eq!(tool["details"]["tool_args"]["sha256"], hex::encode(Sha256::digest(arguments)));
    assert_eq!(tool["details"]["tool_name"], "read_file");
    assert!(!receiver.received().iter().any(|r| r.json()["id"] == red[2] && r.body.contains("secret prompt")));
    let stored = root.get(&format!("/api/v4/audit_events/{}", red[2].as_str().unwrap())).await.expect(200);
    assert_eq!(stored.body["details"]["prompt_content"], "secret prompt");
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
    assert!(stdout.contains("summary: 13 events, sequences 1..13, missing [], complete true"), "{stdout}");
    let stored = stored_ai_events(&root, project).await;
    assert_eq!(stored.len(), 13);
    for event in &stored {
        assert_eq!(event["details"]["cloudevent_source"], "/duo_workflow_service");
        assert!(event["details"]["workflow_id"].is_string(), "the producer's string: {}", event["details"]);
        assert!(event["details"]["cloudevent_sequence"].as_str().is_some_and(|s| s.parse::<i64>().is_ok()));
    }
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

/// A value as GitLab's REST entity shows it in `details`: strings and nulls as they are, anything
/// else as its JSON text.
fn rest_text(value: &Value) -> Value {
    match value {
        Value::String(_) | Value::Null => value.clone(),
        other => Value::String(other.to_string()),
    }
}
