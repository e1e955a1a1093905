//! Delivery end to end: the real server streams to real HTTP receivers on loopback. GitLab's
//! wire format, routing and filters, ordering, outages and recovery, auth pauses, parking,
//! replay, and the AI setting.

mod failures;
pub(crate) mod partial;
mod processes;
mod routing;

use auditrelay_testkit::{Api, Backend, Receiver, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// GitLab's streaming payload keys, in GitLab's order.
pub const GITLAB_KEYS: [&str; 13] = [
    "id",
    "author_id",
    "entity_id",
    "entity_type",
    "details",
    "ip_address",
    "author_name",
    "entity_path",
    "target_details",
    "created_at",
    "target_type",
    "target_id",
    "event_type",
];

/// A payload's keys in the order they were sent.
pub fn key_order(payload: &Value) -> Vec<&str> {
    payload.as_object().unwrap_or_else(|| panic!("not an object: {payload}")).keys().map(String::as_str).collect()
}

/// A server with quick retries and breaker, that allows destinations on loopback.
pub async fn fast_server(backend: Backend, extra: &[(&str, &str)]) -> TestServer {
    let mut builder = crate::builder(backend)
        .env("AUDITRELAY_RETRY_BASE_MS", "20")
        .env("AUDITRELAY_RETRY_MAX_SECONDS", "1")
        .env("AUDITRELAY_BREAKER_FAILURES", "3")
        .env("AUDITRELAY_BREAKER_OPEN_SECONDS", "1");
    for (key, value) in extra {
        builder = builder.env(key, value);
    }
    let server = builder.start().await;
    allow_local(&server.root()).await;
    server
}

pub async fn allow_local(root: &Api) {
    root.put("/api/v4/application/settings", &json!({"allow_local_requests_from_web_hooks_and_services": true}))
        .await
        .expect(200);
}

/// Creates an HTTP destination through the consolidated API; returns its numeric id and token.
pub async fn http_destination(api: &Api, group: Option<&str>, config: Value) -> (i64, String) {
    let (mutation, field) = match group {
        Some(_) => ("groupAuditEventStreamingDestinationsCreate", "groupPath: $group,"),
        None => ("instanceAuditEventStreamingDestinationsCreate", ""),
    };
    let document = format!(
        "mutation($group: ID, $config: JSON!) {{ {mutation}(input: {{ {field} category: \"http\", config: $config }}) {{ errors externalAuditEventDestination {{ id secretToken }} }} }}"
    );
    let document = if group.is_none() { document.replace("$group: ID, ", "") } else { document };
    let reply = api.graphql(&document, json!({"group": group, "config": config})).await.expect(200);
    let created = &reply.body["data"][mutation];
    assert_eq!(created["errors"], json!([]), "{}", reply.text);
    let destination = &created["externalAuditEventDestination"];
    let id = destination["id"].as_str().unwrap().rsplit('/').next().unwrap().parse().unwrap();
    (id, destination["secretToken"].as_str().unwrap().to_owned())
}

pub async fn ingest(api: &Api, events: Value) -> Vec<Value> {
    api.post("/api/v4/audit_events", &events).await.expect(201).body["ids"].as_array().unwrap().clone()
}

pub async fn health(api: &Api, id: i64) -> Value {
    api.get(&format!("/api/v4/streaming_destinations/{id}")).await.expect(200).body["health"].clone()
}

pub async fn wait_for_health(api: &Api, id: i64, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let h = health(api, id).await;
        if check(&h) {
            return h;
        }
        assert!(Instant::now() < deadline, "health never matched: {h}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The ids a receiver got that are among `ours` (the service's own admin events, such as a
/// destination's creation, are streamed too).
pub fn received_of(receiver: &Receiver, ours: &[Value]) -> Vec<Value> {
    receiver.ids().into_iter().filter(|id| ours.contains(id)).collect()
}

/// Waits until `receiver` got every id of `ours`.
pub async fn wait_for_ids(receiver: &Receiver, ours: &[Value]) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = received_of(receiver, ours);
        if ours.iter().all(|id| got.contains(id)) {
            return got;
        }
        assert!(Instant::now() < deadline, "only {} of {} events arrived", got.len(), ours.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn group_event(id: &str) -> Value {
    json!({"id": id, "event_type": "repository_git_operation", "entity_type": "Group", "entity_path": "acme"})
}
