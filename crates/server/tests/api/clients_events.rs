//! Audit events as typed clients read them: every REST page decodes strictly into go-gitlab's
//! `AuditEvent` (integer `id`, `author_id`, `entity_id`; all-string `details` but `target_id`),
//! while the stream keeps GitLab's streaming shape (the producer's `id`, GitLab's values where
//! a producer omitted a field).

use auditrelay_testkit::{Backend, Receiver};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::clients::walk_links;
use crate::delivery::{fast_server, http_destination, wait_for_ids};
use crate::{create_group, on_both_backends, user_with_token};

/// go-gitlab's `AuditEventDetails`: every field a string, except `target_id` (`interface{}`).
/// Keys beyond go-gitlab's are collected and must be strings too (gitbeaker types them so).
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct AuditEventDetails {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    change: Option<String>,
    #[serde(default)]
    custom_message: Option<String>,
    #[serde(default)]
    author_name: Option<String>,
    #[serde(default)]
    author_email: Option<String>,
    #[serde(default)]
    author_class: Option<String>,
    #[serde(default)]
    target_id: Option<Value>,
    #[serde(default)]
    target_type: Option<String>,
    #[serde(default)]
    target_details: Option<String>,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    entity_path: Option<String>,
    #[serde(default)]
    event_name: Option<String>,
    #[serde(flatten)]
    other: HashMap<String, Option<String>>,
}

/// go-gitlab's `AuditEvent`.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct AuditEvent {
    id: i64,
    author_id: i64,
    entity_id: i64,
    entity_type: String,
    event_name: String,
    details: AuditEventDetails,
    created_at: String,
}

fn decode_page(body: &Value) -> Vec<AuditEvent> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_value(e.clone()).unwrap_or_else(|err| panic!("go-gitlab cannot decode {e}: {err}")))
        .collect()
}

/// One event of every shape a producer and the service write.
fn shapes() -> Value {
    json!([
        {"id": "bool-change", "event_type": "group_setting_changed", "entity_type": "Group", "entity_path": "acme",
         "author_id": 1, "details": {"change": "lfs_enabled", "from": false, "to": true}},
        {"id": 9001, "event_type": "limit_changed", "entity_type": "Group", "entity_path": "acme",
         "author_id": 1, "details": {"change": "limit", "from": 5, "to": null, "extra": {"nested": [1, 2]}, "count": 3}},
        {"id": "git-op", "event_type": "repository_git_operation", "entity_type": "Project", "entity_path": "acme/web",
         "author_id": -3, "author_name": "deploy-key", "target_id": 29, "target_type": "Project",
         "details": {"custom_message": {"protocol": "ssh", "action": "git-upload-pack"}}},
        {"id": "no-author", "event_type": "something_happened", "entity_type": "Gitlab::Audit::InstanceScope"},
        {"id": "user-event", "event_type": "user_email_changed", "entity_type": "User", "entity_id": 1},
        {"event_type": "anonymous_id", "entity_type": "Group", "entity_path": "acme", "details": {"custom_message": "plain"}}
    ])
}

async fn every_rest_event_decodes_into_gitlabs_types(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    http_destination(&root, None, json!({"url": receiver.url("/in")})).await;
    let (alice, alice_api) = user_with_token(&root, "alice", &["api"]).await;
    alice_api.post("/api/v4/groups", &json!({"name": "Alice's", "path": "alices"})).await.expect(201);
    let reply = root.post("/api/v4/audit_events", &shapes()).await.expect(201);
    let streamed: Vec<Value> = reply.body["ids"].as_array().unwrap().clone();

    // Every page, walked as python-gitlab does, decodes; so does every single event.
    let (all, pages) = walk_links(&root, "/api/v4/audit_events?per_page=3").await;
    assert!(pages >= 3);
    let typed = decode_page(&Value::Array(all.clone()));
    // A producer's integer id is kept as text (integers are the service's own ids).
    let as_text = |id: &Value| id.as_str().map_or_else(|| id.to_string(), str::to_owned);
    let by_streamed =
        |id: &Value| all.iter().find(|e| as_text(&e["streamed_id"]) == as_text(id)).unwrap_or_else(|| panic!("{id}"));
    for event in &all {
        let one = root.get(&format!("/api/v4/audit_events/{}", event["id"])).await.expect(200);
        assert_eq!(&one.body, event, "GET by the service's id answers the listed event");
    }
    let (keyset, _) = walk_links(&root, "/api/v4/audit_events?pagination=keyset&per_page=2").await;
    decode_page(&Value::Array(keyset));

    // GitLab's formatted details: from/to strings, author_email, non-strings as JSON text.
    let change = by_streamed(&json!("bool-change"));
    assert!(change["id"].is_i64());
    assert_eq!(change["details"]["from"], "false");
    assert_eq!(change["details"]["to"], "true");
    assert_eq!(change["details"]["author_email"], "admin@example.com");
    let limit = by_streamed(&json!(9001));
    assert_eq!(limit["details"]["from"], "5");
    assert_eq!(limit["details"]["to"], "");
    assert_eq!(limit["details"]["extra"], "{\"nested\":[1,2]}");
    assert_eq!(limit["details"]["count"], "3");
    let git = by_streamed(&json!("git-op"));
    assert_eq!(git["author_id"], -3);
    let message: Value = serde_json::from_str(git["details"]["custom_message"].as_str().unwrap()).unwrap();
    assert_eq!(message, json!({"protocol": "ssh", "action": "git-upload-pack"}), "an object as its JSON text");
    assert_eq!(git["details"]["target_id"], 29);
    assert_eq!(git["details"]["author_email"], Value::Null);
    let anonymous = by_streamed(&json!("no-author"));
    assert_eq!(anonymous["author_id"], -1, "GitLab's id for an unknown author");
    assert_eq!(anonymous["details"]["author_name"], "An unauthenticated user");
    // The service's own events are typed too, with their author's email.
    let created = all.iter().find(|e| e["event_name"] == "group_created" && e["author_id"] == alice).unwrap();
    assert_eq!(created["details"]["author_email"], "alice@example.com");
    assert!(typed.iter().all(|e| e.id > 0 && !e.created_at.is_empty()));

    // GET by the producer's id still works: a string directly, a number with `by=streamed_id`.
    let git_id = git["id"].as_i64().unwrap();
    assert_eq!(root.get("/api/v4/audit_events/git-op").await.expect(200).body["id"], git_id);
    assert_eq!(
        root.get("/api/v4/groups/acme/audit_events/bool-change").await.expect(200).body["streamed_id"],
        "bool-change"
    );
    assert_eq!(
        as_text(&root.get("/api/v4/audit_events/9001?by=streamed_id").await.expect(200).body["streamed_id"]),
        "9001"
    );
    assert_eq!(
        root.get(&format!("/api/v4/projects/acme%2Fweb/audit_events/{git_id}")).await.expect(200).body["id"],
        git_id
    );
    root.get("/api/v4/audit_events/900000?by=streamed_id").await.expect(404);
    root.get("/api/v4/audit_events/0").await.expect(404);
    root.get("/api/v4/audit_events/1?by=nonsense").await.expect(400);

    // The stream keeps GitLab's streaming shape: the producer's id, GitLab's values for
    // what a producer omitted, a user event with the user's path.
    wait_for_ids(&receiver, &streamed).await;
    let sent = |id: &str| {
        receiver.received().into_iter().map(|r| r.json()).find(|b| b["id"] == id).unwrap_or_else(|| panic!("{id}"))
    };
    let no_author = sent("no-author");
    assert_eq!(no_author["author_id"], -1);
    assert_eq!(no_author["author_name"], "An unauthenticated user");
    assert_eq!(no_author["details"]["author_class"], "Gitlab::Audit::UnauthenticatedAuthor");
    let user_event = sent("user-event");
    assert_eq!(user_event["entity_path"], "root");
    assert_eq!(user_event["details"]["entity_path"], "root");
    let git_op = sent("git-op");
    assert_eq!(git_op["details"]["custom_message"]["protocol"], "ssh", "the stream keeps objects as sent");
    assert_eq!(git_op["author_id"], -3);
}

on_both_backends!(every_rest_event_decodes_into_gitlabs_types);
