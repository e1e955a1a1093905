//! Delivery end to end: the real server streams to real HTTP receivers on loopback. GitLab's
//! wire format, routing and filters, ordering, outages and recovery, auth pauses, parking,
//! replay, and the AI setting.

use auditrelay_testkit::{Answer, Api, Backend, Receiver, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::{create_group, on_both_backends};

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

async fn gitlab_wire_format(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    let config = json!({"url": receiver.url("/in"), "headers": {"X-Active": {"value": "yes", "active": true}, "X-Inactive": {"value": "no", "active": false}}});
    let (_, token) = http_destination(&root, Some("acme"), config).await;

    let ids = ingest(&root, json!({"id": "evt-1", "event_type": "repository_git_operation", "entity_type": "Project", "entity_path": "acme/web",
        "author_id": 7, "author_name": "Jane", "ip_address": "203.0.113.9", "target_type": "Project", "target_id": 29, "target_details": "web",
        "details": {"custom_message": {"protocol": "ssh"}}, "created_at": "2024-05-01T10:00:00.123Z"})).await;
    wait_for_ids(&receiver, &ids).await;
    let got = receiver.received();
    let ours: Vec<_> = got.iter().filter(|r| r.json()["id"] == "evt-1").collect();
    assert_eq!(ours.len(), 1, "sent once");
    let request = ours[0];
    assert_eq!(request.path, "/in");
    assert_eq!(request.header("x-gitlab-event-streaming-token"), Some(token.as_str()));
    assert_eq!(request.header("x-gitlab-audit-event-type"), Some("repository_git_operation"));
    assert_eq!(request.header("content-type"), Some("application/x-www-form-urlencoded"), "GitLab's default");
    assert_eq!(request.header("x-active"), Some("yes"));
    assert_eq!(request.header("x-inactive"), None, "inactive headers are not sent");

    // GitLab's payload: these keys, in this order, with these types.
    let body = request.json();
    assert_eq!(key_order(&body), GITLAB_KEYS);
    assert_eq!(body["id"], ids[0]);
    assert_eq!(body["id"], "evt-1");
    assert!(body["author_id"].is_i64() && body["entity_id"].is_i64() && body["target_id"].is_i64());
    assert!(body["details"].is_object());
    for key in [
        "entity_type",
        "ip_address",
        "author_name",
        "entity_path",
        "target_details",
        "created_at",
        "target_type",
        "event_type",
    ] {
        assert!(body[key].is_string(), "{key} is a string: {body}");
    }
    assert_eq!(body["created_at"], "2024-05-01T10:00:00.123Z");
    assert_eq!(body["entity_path"], "acme/web");
    assert_eq!(body["details"]["custom_message"]["protocol"], "ssh");

    // A custom Content-Type replaces GitLab's default (its documented workaround).
    let (_, _) = http_destination(&root, Some("acme"), json!({"url": receiver.url("/json"), "headers": {"Content-Type": {"value": "application/json", "active": true}}})).await;
    let second = ingest(
        &root,
        json!({"id": "evt-2", "event_type": "user_created", "entity_type": "Group", "entity_path": "acme"}),
    )
    .await;
    wait_for_ids(&receiver, &second).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let json_request =
        receiver.received().into_iter().find(|r| r.path == "/json" && r.json()["id"] == "evt-2").unwrap();
    assert_eq!(json_request.header("content-type"), Some("application/json"));
    assert_eq!(health(&root, 1).await["state"], "closed");
}

async fn routing_and_filters(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let (acme_rx, other_rx, filtered_rx, instance_rx) =
        (Receiver::start().await, Receiver::start().await, Receiver::start().await, Receiver::start().await);
    let acme = create_group(&root, "acme", None).await;
    create_group(&root, "other", None).await;
    let platform = create_group(&root, "platform", Some(acme)).await;
    root.post("/api/v4/projects", &json!({"name": "web", "namespace_id": platform})).await.expect(201);
    root.post("/api/v4/projects", &json!({"name": "api", "namespace_id": acme})).await.expect(201);
    http_destination(&root, Some("acme"), json!({"url": acme_rx.url("/")})).await;
    http_destination(&root, Some("other"), json!({"url": other_rx.url("/")})).await;
    http_destination(&root, None, json!({"url": instance_rx.url("/")})).await;
    let (filtered, _) = http_destination(&root, Some("acme"), json!({"url": filtered_rx.url("/")})).await;
    let gid = format!("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{filtered}");
    root.graphql("mutation($id: AuditEventsGroupExternalStreamingDestinationID!) { auditEventsGroupDestinationEventsAdd(input: { destinationId: $id, eventTypeFilters: [\"repository_git_operation\"] }) { errors } }", json!({"id": gid})).await.expect(200);
    let filter = root.graphql("mutation($id: AuditEventsGroupExternalStreamingDestinationID!) { auditEventsGroupDestinationNamespaceFilterCreate(input: { destinationId: $id, namespacePath: \"acme/platform\" }) { errors } }", json!({"id": gid})).await.expect(200);
    assert_eq!(filter.body["data"]["auditEventsGroupDestinationNamespaceFilterCreate"]["errors"], json!([]));

    let events = json!([
        {"id": "g", "event_type": "repository_git_operation", "entity_type": "Group", "entity_path": "acme"},
        {"id": "sub", "event_type": "repository_git_operation", "entity_type": "Group", "entity_path": "acme/platform"},
        {"id": "web", "event_type": "repository_git_operation", "entity_type": "Project", "entity_path": "acme/platform/web"},
        {"id": "web-other-type", "event_type": "user_created", "entity_type": "Project", "entity_path": "acme/platform/web"},
        {"id": "api", "event_type": "repository_git_operation", "entity_type": "Project", "entity_path": "acme/api"},
        {"id": "o", "event_type": "repository_git_operation", "entity_type": "Group", "entity_path": "other"},
        {"id": "u", "event_type": "repository_git_operation", "entity_type": "User", "entity_id": 1},
        {"id": "i", "event_type": "repository_git_operation", "entity_type": "Gitlab::Audit::InstanceScope"}
    ]);
    let ids = ingest(&root, events).await;
    let sorted = |rx: &Receiver| {
        let mut got: Vec<String> =
            received_of(rx, &ids).iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect();
        got.sort();
        got
    };
    wait_for_ids(&instance_rx, &ids).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sorted(&instance_rx).len(), 8, "instance destinations get everything");
    assert_eq!(
        sorted(&acme_rx),
        ["api", "g", "sub", "web", "web-other-type"],
        "group, subgroups, projects; no user or instance events"
    );
    assert_eq!(sorted(&other_rx), ["o"]);
    assert_eq!(sorted(&filtered_rx), ["sub", "web"], "type allow-list and the subgroup's namespace filter");
}

async fn inactive_destinations_get_nothing_and_keep_their_cursor(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    let (id, _) = http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let gid = format!("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{id}");
    let set_active = |active: bool| {
        let root = root.clone();
        let gid = gid.clone();
        async move {
            let reply = root.graphql("mutation($id: AuditEventsGroupExternalStreamingDestinationID!, $active: Boolean) { groupAuditEventStreamingDestinationsUpdate(input: { id: $id, active: $active }) { errors } }", json!({"id": gid, "active": active})).await.expect(200);
            assert_eq!(reply.body["data"]["groupAuditEventStreamingDestinationsUpdate"]["errors"], json!([]));
        }
    };
    let ours = [json!("before"), json!("while-inactive")];
    ingest(&root, json!({"id": "before", "event_type": "x", "entity_type": "Group", "entity_path": "acme"})).await;
    wait_for_ids(&receiver, &ours[..1]).await;
    set_active(false).await;
    ingest(&root, json!({"id": "while-inactive", "event_type": "x", "entity_type": "Group", "entity_path": "acme"}))
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(received_of(&receiver, &ours), [json!("before")], "an inactive destination gets nothing");
    assert_eq!(health(&root, id).await["state"], "inactive");
    set_active(true).await;
    assert_eq!(wait_for_ids(&receiver, &ours).await, ours, "its cursor was kept: nothing is lost");
}

async fn ai_events_follow_the_admin_setting(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    ingest(&root, json!([
        {"id": "ai-off", "event_type": "ai_tool_invoked", "entity_type": "Project", "entity_path": "acme/agent"},
        {"id": "plain", "event_type": "repository_git_operation", "entity_type": "Project", "entity_path": "acme/agent"}
    ])).await;
    let ours = [json!("ai-off"), json!("plain"), json!("ai-on")];
    wait_for_ids(&receiver, &ours[1..2]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(received_of(&receiver, &ours), [json!("plain")], "AI events are stored but not streamed by default");
    root.put("/api/v4/application/settings", &json!({"ai_audit_event_streaming_enabled": true})).await.expect(200);
    ingest(
        &root,
        json!({"id": "ai-on", "event_type": "ai_tool_invoked", "entity_type": "Project", "entity_path": "acme/agent"}),
    )
    .await;
    wait_for_ids(&receiver, &ours[1..]).await;
    assert_eq!(received_of(&receiver, &ours), [json!("plain"), json!("ai-on")]);
}

async fn ordered_per_destination(backend: Backend) {
    let server = fast_server(backend, &[("AUDITRELAY_DELIVERY_IN_FLIGHT", "1")]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let mut sent = Vec::new();
    for batch in 0..6 {
        let events: Vec<Value> = (0..50).map(|i| json!({"event_type": "x", "entity_type": "Group", "entity_path": "acme", "details": {"n": batch * 50 + i}})).collect();
        sent.extend(ingest(&root, Value::Array(events)).await);
    }
    assert_eq!(wait_for_ids(&receiver, &sent).await, sent, "one in flight: exactly log order");
}

on_both_backends!(
    gitlab_wire_format,
    routing_and_filters,
    inactive_destinations_get_nothing_and_keep_their_cursor,
    ai_events_follow_the_admin_setting,
    ordered_per_destination
);

fn group_event(id: &str) -> Value {
    json!({"id": id, "event_type": "repository_git_operation", "entity_type": "Group", "entity_path": "acme"})
}

async fn outage_is_isolated_and_recovers(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let (down, up) = (Receiver::start().await, Receiver::start().await);
    down.answer(Answer::Status(500));
    create_group(&root, "acme", None).await;
    let (down_id, _) = http_destination(&root, Some("acme"), json!({"url": down.url("/")})).await;
    let (up_id, _) = http_destination(&root, Some("acme"), json!({"url": up.url("/")})).await;

    let started = Instant::now();
    let events: Vec<Value> = (0..100).map(|i| group_event(&format!("e{i}"))).collect();
    let ids = ingest(&root, Value::Array(events)).await;
    wait_for_ids(&up, &ids).await;
    let healthy_took = started.elapsed();
    assert!(healthy_took < Duration::from_secs(5), "the healthy destination kept its pace: {healthy_took:?}");

    let h = wait_for_health(&root, down_id, |h| h["state"] == "open" || h["state"] == "half_open").await;
    assert_eq!(h["last_error_status"], 500);
    assert!(h["backlog"].as_i64().unwrap() > 0, "{h}");
    assert!(h["consecutive_failures"].as_i64().unwrap() >= 3);
    assert!(h["last_error"].as_str().unwrap().contains("HTTP 500"));
    assert_eq!(health(&root, up_id).await["state"], "closed");
    assert!(received_of(&down, &ids).is_empty());
    let metrics = server.api(None).get("/-/metrics").await.expect(200).text;
    assert!(
        metrics.contains(&format!("auditrelay_destination_state{{destination=\"{down_id}\",state=\"open\"}} 1"))
            || metrics
                .contains(&format!("auditrelay_destination_state{{destination=\"{down_id}\",state=\"half_open\"}} 1")),
        "{metrics}"
    );
    assert!(metrics.contains(&format!("auditrelay_destination_backlog{{destination=\"{down_id}\"}}")));
    assert!(metrics.contains("auditrelay_delivery_failures_total"));

    // The destination comes back: everything arrives, nothing was dropped.
    down.answer(Answer::Ok);
    let got = wait_for_ids(&down, &ids).await;
    assert_eq!(got.len(), 100);
    let h = wait_for_health(&root, down_id, |h| h["state"] == "closed" && h["backlog"] == 0).await;
    assert_eq!(h["parked"], 0);
    assert!(h["last_delivered_at"].is_string());
}

async fn retry_after_is_honoured(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    receiver.answer_next(2, Answer::RetryAfter(429, 1));
    let started = Instant::now();
    let ids = ingest(&root, group_event("slow-down")).await;
    wait_for_ids(&receiver, &ids).await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "two Retry-After: 1 answers were honoured: {:?}",
        started.elapsed()
    );
    assert!(receiver.attempts() >= 3);
}

async fn auth_failures_pause_without_dropping(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    receiver.answer(Answer::Status(401));
    create_group(&root, "acme", None).await;
    let (id, _) = http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let ids = ingest(&root, Value::Array((0..5).map(|i| group_event(&format!("a{i}"))).collect())).await;
    let h = wait_for_health(&root, id, |h| h["state"] == "paused").await;
    assert_eq!(h["last_error_status"], 401);
    assert_eq!(h["parked"], 0, "auth failures park nothing");
    let attempts = receiver.attempts();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receiver.attempts() <= attempts + 1, "a paused destination is not hammered");

    // The receiver is fixed and the token rotated: delivery resumes with every event.
    receiver.answer(Answer::Ok);
    let gid = format!("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{id}");
    let rotated = root
        .graphql("mutation($id: AuditEventsGroupExternalStreamingDestinationID!) { groupAuditEventStreamingDestinationsUpdate(input: { id: $id, secretToken: \"rotated-token-12345678\" }) { errors } }", json!({"id": gid}))
        .await
        .expect(200);
    assert_eq!(rotated.body["data"]["groupAuditEventStreamingDestinationsUpdate"]["errors"], json!([]));
    wait_for_ids(&receiver, &ids).await;
    let last = receiver.received().into_iter().rev().find(|r| ids.contains(&r.json()["id"])).unwrap();
    assert_eq!(last.header("x-gitlab-event-streaming-token"), Some("rotated-token-12345678"));
}

async fn permanent_failures_are_parked_and_resent(backend: Backend) {
    let server = fast_server(backend, &[("AUDITRELAY_DELIVERY_IN_FLIGHT", "1")]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    let (id, _) = http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let base = receiver.attempts();
    receiver.answer_next(3, Answer::Status(400));
    let ids = ingest(&root, json!([group_event("poison"), group_event("fine")])).await;
    wait_for_ids(&receiver, &ids[1..]).await;
    assert_eq!(received_of(&receiver, &ids), [json!("fine")], "the rejected event was parked and the stream moved on");
    assert!(receiver.attempts() >= base + 4);
    // Parking and the cursor step are recorded one after the other: wait for both.
    wait_for_health(&root, id, |h| h["parked"] == 1 && h["backlog"] == 0).await;
    let parked = root.get(&format!("/api/v4/streaming_destinations/{id}/parked")).await.expect(200);
    assert_eq!(parked.body[0]["attempts"], 3);
    assert_eq!(parked.body[0]["last_status"], 400);

    let resent = root.post(&format!("/api/v4/streaming_destinations/{id}/resend_parked"), &json!({})).await.expect(200);
    assert_eq!(resent.body["resent"], 1);
    wait_for_ids(&receiver, &ids).await;
    wait_for_health(&root, id, |h| h["parked"] == 0).await;
}

async fn replay_resends_a_range_with_the_same_ids(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    let (id, _) = http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let events: Vec<Value> = (0..10)
        .map(|i| json!({"event_type": "x", "entity_type": "Group", "entity_path": "acme", "details": {"n": i}}))
        .collect();
    let ids = ingest(&root, Value::Array(events)).await;
    wait_for_ids(&receiver, &ids).await;
    let (first, last) = (ids[0].as_i64().unwrap(), ids[9].as_i64().unwrap());
    let replay = root
        .post(&format!("/api/v4/streaming_destinations/{id}/replays"), &json!({"from_seq": first, "to_seq": last}))
        .await
        .expect(201);
    let replay_id = replay.body["id"].as_i64().unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let status = root.get(&format!("/api/v4/streaming_destinations/{id}/replays/{replay_id}")).await.expect(200);
        if status.body["state"] == "done" {
            assert_eq!(status.body["sent"], 10);
            break;
        }
        assert!(Instant::now() < deadline, "replay did not finish: {}", status.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = received_of(&receiver, &ids);
    assert_eq!(got.len(), 20, "every event twice, with the same ids");
    let mut replayed = got[10..].to_vec();
    replayed.sort_by_key(|id| id.as_i64());
    assert_eq!(replayed, ids, "the replay sent exactly the range (in order within the in-flight window)");
    // Another owner cannot replay this destination.
    let (_, stranger) = crate::user_with_token(&root, "stranger", &["api"]).await;
    stranger.post(&format!("/api/v4/streaming_destinations/{id}/replays"), &json!({})).await.expect(404);
}

async fn kill_nine_during_a_busy_stream_loses_nothing(backend: Backend) {
    let mut server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let mut acked: Vec<Value> = Vec::new();
    let mut n = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(700) {
        let batch: Vec<Value> = (0..20).map(|i| group_event(&format!("k{n}-{i}"))).collect();
        acked.extend(ingest(&root, Value::Array(batch)).await);
        n += 1;
    }
    server.kill9();
    let before_restart = received_of(&receiver, &acked).len();
    server.restart();
    let got = wait_for_ids(&receiver, &acked).await;
    let duplicates = got.len() - acked.len();
    eprintln!(
        "kill -9: {} acknowledged, {before_restart} delivered before the kill, {duplicates} duplicates after restart",
        acked.len()
    );
    assert!(got.len() >= acked.len());
}

on_both_backends!(
    outage_is_isolated_and_recovers,
    retry_after_is_honoured,
    auth_failures_pause_without_dropping,
    permanent_failures_are_parked_and_resent,
    replay_resends_a_range_with_the_same_ids,
    kill_nine_during_a_busy_stream_loses_nothing,
);

/// On PostgreSQL two processes share the work through leases: a destination is delivered by one
/// process at a time, and a killed process's destinations are taken over once its lease expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn two_processes_deliver_one_destination_one_at_a_time() {
    let extra = [("AUDITRELAY_DELIVERY_LEASE_SECONDS", "3"), ("AUDITRELAY_DELIVERY_IN_FLIGHT", "1")];
    let mut first = fast_server(Backend::Postgres, &extra).await;
    let mut builder = crate::builder(Backend::Postgres).database_url(first.database_url.as_deref().unwrap());
    for (key, value) in
        extra.iter().chain([("AUDITRELAY_RETRY_BASE_MS", "20"), ("AUDITRELAY_BREAKER_OPEN_SECONDS", "1")].iter())
    {
        builder = builder.env(key, value);
    }
    let second = builder.start().await;
    let receiver = Receiver::start().await;
    // Slow answers: two processes delivering at once would show as two requests in flight.
    receiver.answer(Answer::Hang(Duration::from_millis(15)));
    create_group(&first.root(), "acme", None).await;
    http_destination(&first.root(), Some("acme"), json!({"url": receiver.url("/")})).await;
    tokio::time::sleep(Duration::from_secs(6)).await; // both processes have picked the destination up

    let mut acked = Vec::new();
    for round in 0..10 {
        let api = if round % 2 == 0 { first.root() } else { second.root() };
        let batch: Vec<Value> = (0..20).map(|i| group_event(&format!("r{round}-{i}"))).collect();
        acked.extend(ingest(&api, Value::Array(batch)).await);
    }
    wait_for_ids(&receiver, &acked).await;
    assert_eq!(receiver.max_in_flight(), 1, "one process at a time delivers a destination");

    // Whichever process held the lease, the other carries on once the first is gone.
    first.kill9();
    let later: Vec<Value> = (0..40).map(|i| group_event(&format!("after-kill-{i}"))).collect();
    let later = ingest(&second.root(), Value::Array(later)).await;
    wait_for_ids(&receiver, &later).await;
    assert_eq!(receiver.max_in_flight(), 1);
}

async fn replay_from_the_command_line(backend: Backend) {
    let server = fast_server(backend, &[]).await;
    let root = server.root();
    let receiver = Receiver::start().await;
    create_group(&root, "acme", None).await;
    let (id, _) = http_destination(&root, Some("acme"), json!({"url": receiver.url("/")})).await;
    let ids = ingest(&root, Value::Array((0..5).map(|i| group_event(&format!("cli-{i}"))).collect())).await;
    wait_for_ids(&receiver, &ids).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_auditrelay"))
        .args(["replay", "--url", &server.base, "--destination", &id.to_string(), "--created-after", "2000-01-01"])
        .env("AUDITRELAY_TOKEN", auditrelay_testkit::ROOT_TOKEN)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("done"), "{stdout}");
    let deadline = Instant::now() + WAIT;
    while received_of(&receiver, &ids).len() < 10 {
        assert!(Instant::now() < deadline, "the replay did not re-send every event");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_auditrelay"))
        .args(["replay", "--url", &server.base, "--destination", &id.to_string(), "--token", "glpat-wrong"])
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"));
}

on_both_backends!(replay_from_the_command_line);

/// Refused connections and answers that never come are outages too: their breakers open,
/// a healthy destination keeps its pace, and everything arrives once they are back.
async fn refused_and_hanging_destinations_are_isolated(backend: Backend) {
    let server = fast_server(backend, &[("AUDITRELAY_HTTP_TIMEOUT_SECONDS", "1")]).await;
    let root = server.root();
    let port = Receiver::closed_port();
    let (hanging, healthy) = (Receiver::start().await, Receiver::start().await);
    hanging.answer(Answer::Hang(Duration::from_secs(30)));
    create_group(&root, "acme", None).await;
    let (refused_id, _) =
        http_destination(&root, Some("acme"), json!({"url": format!("http://127.0.0.1:{port}/")})).await;
    let (hanging_id, _) = http_destination(&root, Some("acme"), json!({"url": hanging.url("/")})).await;
    http_destination(&root, Some("acme"), json!({"url": healthy.url("/")})).await;

    let started = Instant::now();
    let ids = ingest(&root, Value::Array((0..50).map(|i| group_event(&format!("o{i}"))).collect())).await;
    wait_for_ids(&healthy, &ids).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the healthy destination was not held up: {:?}",
        started.elapsed()
    );
    let refused = wait_for_health(&root, refused_id, |h| h["consecutive_failures"].as_i64() >= Some(3)).await;
    assert!(refused["last_error"].as_str().unwrap().contains("could not connect"), "{refused}");
    let hung = wait_for_health(&root, hanging_id, |h| h["consecutive_failures"].as_i64() >= Some(1)).await;
    assert!(hung["last_error"].as_str().unwrap().contains("timed out"), "{hung}");

    // Both come back; nothing was dropped.
    hanging.answer(Answer::Ok);
    let revived = Receiver::start_on(port).await;
    wait_for_ids(&hanging, &ids).await;
    wait_for_ids(&revived, &ids).await;
}

on_both_backends!(refused_and_hanging_destinations_are_isolated);
