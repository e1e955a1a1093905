//! GitLab's wire format, routing and filters, inactive destinations, the AI setting, order.

use auditrelay_testkit::{Backend, Receiver};
use serde_json::{Value, json};
use std::time::Duration;

use super::*;
use crate::{create_group, on_both_backends};

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
