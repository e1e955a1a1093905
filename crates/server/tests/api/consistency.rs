//! One transaction per use case: every change and the audit event that records it are stored
//! together or not at all. A test-only hook (`AUDITRELAY_FAULT_UNIT`, compiled in by the
//! store's `fault-injection` feature, which only this test build enables) fails every unit of
//! work, or aborts the process, after the change's statements ran and before its audit event is
//! appended; afterwards neither the change nor an event is found. Routing in log order is in
//! `consistency_routing.rs`.

use auditrelay_testkit::{Api, Backend, ROOT_TOKEN, Reply, TestServer};
use serde_json::{Value, json};

use crate::delivery::{allow_local, http_destination};
use crate::{all_event_ids, create_group, on_both_backends, user_with_token};

on_both_backends!(failed_units_store_neither_change_nor_event, crash_between_change_and_event_stores_neither);

const DESTINATION_FIELDS: &str = "id name config active eventTypeFilters namespaceFilters { id }";

/// Ids a run of every change needs.
struct Fixture {
    user_id: i64,
    token_id: i64,
    destination: i64,
    header: String,
}

/// A group `acme` with a project, a user with a token, and an HTTP destination with a header.
async fn fixture(root: &Api) -> Fixture {
    allow_local(root).await;
    let group = create_group(root, "acme", None).await;
    root.post("/api/v4/projects", &json!({"name": "app", "path": "app", "namespace_id": group})).await.expect(201);
    let (user_id, _) = user_with_token(root, "alice", &["api"]).await;
    let tokens = root.get(&format!("/api/v4/personal_access_tokens?user_id={user_id}")).await.expect(200);
    let token_id = tokens.body[0]["id"].as_i64().unwrap();
    let config = json!({"url": "http://127.0.0.1:9/in", "headers": {"X-Tenant": {"value": "acme", "active": true}}});
    let (destination, _) = http_destination(root, Some("acme"), config).await;
    let header = root
        .graphql(
            "mutation($id: AuditEventsExternalAuditEventDestinationID!) { auditEventsStreamingHeadersCreate(input: { destinationId: $id, key: \"X-Extra\", value: \"1\" }) { errors header { id } } }",
            json!({"id": legacy_gid(destination)}),
        )
        .await
        .expect(200)
        .body["data"]["auditEventsStreamingHeadersCreate"]["header"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture { user_id, token_id, destination, header }
}

fn gid(id: i64) -> String {
    format!("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{id}")
}

fn legacy_gid(id: i64) -> String {
    format!("gid://gitlab/AuditEvents::ExternalAuditEventDestination/{id}")
}

/// Everything the changes below could touch, as the API shows it.
async fn state(root: &Api, f: &Fixture) -> Value {
    let get = |path: &'static str| async move { root.get(path).await.expect(200).body };
    let destinations = root
        .graphql(
            &format!("query {{ group(fullPath: \"acme\") {{ externalAuditEventStreamingDestinations {{ nodes {{ {DESTINATION_FIELDS} }} }} }} }}"),
            json!({}),
        )
        .await
        .expect(200)
        .body;
    let state = json!({
        "settings": get("/api/v4/application/settings").await,
        "users": get("/api/v4/users?per_page=100").await,
        "tokens": get("/api/v4/personal_access_tokens?per_page=100").await,
        "alice_tokens": root.get(&format!("/api/v4/personal_access_tokens?user_id={}", f.user_id)).await.body,
        "groups": get("/api/v4/groups?per_page=100").await,
        "projects": get("/api/v4/projects?per_page=100").await,
        "members": get("/api/v4/groups/acme/members").await,
        "destinations": destinations["data"],
    });
    // Web URLs name the server's address, which changes when it is started again.
    let text = state.to_string().replace(root.base(), "http://auditrelay");
    serde_json::from_str(&text).expect("the state is JSON")
}

/// One of each use case; returns each one's name and reply.
async fn every_change(root: &Api, f: &Fixture) -> Vec<(&'static str, Reply)> {
    let user = f.user_id;
    let d = gid(f.destination);
    let mut replies = vec![
        ("setting", root.put("/api/v4/application/settings", &json!({"ai_audit_event_redact_content": true})).await),
        (
            "user",
            root.post(
                "/api/v4/users",
                &json!({"username": "bob", "name": "Bob", "email": "bob@example.com", "password": "password-123"}),
            )
            .await,
        ),
        (
            "token",
            root.post(
                &format!("/api/v4/users/{user}/personal_access_tokens"),
                &json!({"name": "t2", "scopes": ["api"]}),
            )
            .await,
        ),
        ("revoke", root.delete(&format!("/api/v4/personal_access_tokens/{}", f.token_id)).await),
        ("group", root.post("/api/v4/groups", &json!({"name": "beta", "path": "beta"})).await),
        ("member", root.post("/api/v4/groups/acme/members", &json!({"user_id": user, "access_level": 30})).await),
    ];
    let acme = root.get("/api/v4/groups/acme").await.body["id"].clone();
    replies.push((
        "project",
        root.post("/api/v4/projects", &json!({"name": "lib", "path": "lib", "namespace_id": acme})).await,
    ));
    let graphql = [
        (
            "header create",
            "mutation($id: AuditEventsExternalAuditEventDestinationID!) { auditEventsStreamingHeadersCreate(input: { destinationId: $id, key: \"X-Third\", value: \"3\" }) { errors } }",
            json!({"id": legacy_gid(f.destination)}),
        ),
        (
            "header update",
            "mutation($id: AuditEventsStreamingHeaderID!) { auditEventsStreamingHeadersUpdate(input: { headerId: $id, key: \"X-Extra\", value: \"changed\" }) { errors } }",
            json!({"id": f.header}),
        ),
        (
            "header delete",
            "mutation($id: AuditEventsStreamingHeaderID!) { auditEventsStreamingHeadersDestroy(input: { headerId: $id }) { errors } }",
            json!({"id": f.header}),
        ),
        (
            "destination create",
            "mutation($config: JSON!) { groupAuditEventStreamingDestinationsCreate(input: { groupPath: \"acme\", category: \"http\", config: $config }) { errors } }",
            json!({"config": {"url": "http://127.0.0.1:9/second"}}),
        ),
        (
            "destination update with headers",
            "mutation($id: AuditEventsGroupExternalStreamingDestinationID!, $config: JSON) { groupAuditEventStreamingDestinationsUpdate(input: { id: $id, config: $config, name: \"renamed\" }) { errors } }",
            json!({"id": d, "config": {"url": "http://127.0.0.1:9/moved", "headers": {"X-New": {"value": "2", "active": true}}}}),
        ),
        (
            "event type filter",
            "mutation($id: AuditEventsGroupExternalStreamingDestinationID!) { auditEventsGroupDestinationEventsAdd(input: { destinationId: $id, eventTypeFilters: [\"user_created\"] }) { errors } }",
            json!({"id": d}),
        ),
        (
            "namespace filter",
            "mutation($id: AuditEventsGroupExternalStreamingDestinationID!) { auditEventsGroupDestinationNamespaceFilterCreate(input: { destinationId: $id, namespacePath: \"acme/app\" }) { errors } }",
            json!({"id": d}),
        ),
        (
            "destination delete",
            "mutation($id: AuditEventsGroupExternalStreamingDestinationID!) { groupAuditEventStreamingDestinationsDelete(input: { id: $id }) { errors } }",
            json!({"id": d}),
        ),
    ];
    for (name, document, variables) in graphql {
        replies.push((name, root.graphql(document, variables).await));
    }
    replies
}

/// Whether a reply reports success: 2xx, and for GraphQL no error at the top or in the payload.
fn succeeded(reply: &Reply) -> bool {
    if !(200..300).contains(&reply.status) {
        return false;
    }
    if reply.body.get("errors").is_some() {
        return false;
    }
    match reply.body.get("data").and_then(Value::as_object) {
        Some(data) => data.values().all(|payload| payload["errors"].as_array().is_none_or(Vec::is_empty)),
        None => true,
    }
}

/// The same server (data dir and database), started again with `fault` (or none).
async fn restarted(server: &mut TestServer, backend: Backend, fault: Option<&str>) -> TestServer {
    server.kill9();
    let mut builder = crate::builder(backend).data_dir(&server.data_dir);
    if let Some(url) = &server.database_url {
        builder = builder.database_url(url);
    }
    if let Some(fault) = fault {
        builder = builder.env("AUDITRELAY_FAULT_UNIT", fault);
    }
    builder.start().await
}

async fn failed_units_store_neither_change_nor_event(backend: Backend) {
    let mut server = crate::server(backend).await;
    let f = fixture(&server.root()).await;
    let (before, events_before) = (state(&server.root(), &f).await, all_event_ids(&server.root()).await);

    // Every change fails between its statements and its audit event: the caller hears it, and
    // nothing of it is stored.
    let mut faulty = restarted(&mut server, backend, Some("fail")).await;
    for (name, reply) in every_change(&faulty.root(), &f).await {
        assert!(!succeeded(&reply), "{name} succeeded although its unit of work failed: {}", reply.text);
    }
    assert_eq!(state(&faulty.root(), &f).await, before, "a failed change left state behind");
    assert_eq!(all_event_ids(&faulty.root()).await, events_before, "a failed change left an event behind");

    // Without the fault every change succeeds, each with its audit event.
    let healthy = restarted(&mut faulty, backend, None).await;
    assert_eq!(state(&healthy.root(), &f).await, before, "state after a restart");
    for (name, reply) in every_change(&healthy.root(), &f).await {
        assert!(succeeded(&reply), "{name}: {}", reply.text);
    }
    assert_ne!(state(&healthy.root(), &f).await, before);
    let events_after = all_event_ids(&healthy.root()).await;
    assert!(events_after.len() >= events_before.len() + 15, "{} events after", events_after.len());
}

async fn crash_between_change_and_event_stores_neither(backend: Backend) {
    let server = crate::server(backend).await;
    let f = fixture(&server.root()).await;
    let (before, events_before) = (state(&server.root(), &f).await, all_event_ids(&server.root()).await);

    // The process dies between the change's statements and its audit event (a destination
    // update with its headers, then a setting): after a restart neither is found.
    let changes: [(&str, Value); 2] = [
        (
            "mutation($id: AuditEventsGroupExternalStreamingDestinationID!, $config: JSON) { groupAuditEventStreamingDestinationsUpdate(input: { id: $id, config: $config }) { errors } }",
            json!({"id": gid(f.destination), "config": {"url": "http://127.0.0.1:9/moved", "headers": {"X-New": {"value": "2", "active": true}}}}),
        ),
        ("setting", json!({"ai_audit_event_streaming_enabled": true})),
    ];
    let mut current = server;
    for (document, variables) in changes {
        let mut crashing = restarted(&mut current, backend, Some("abort")).await;
        let http = reqwest::Client::new().request(
            if document == "setting" { reqwest::Method::PUT } else { reqwest::Method::POST },
            if document == "setting" {
                format!("{}/api/v4/application/settings", crashing.base)
            } else {
                format!("{}/api/graphql", crashing.base)
            },
        );
        let body = if document == "setting" { variables } else { json!({"query": document, "variables": variables}) };
        let sent = http.header("PRIVATE-TOKEN", ROOT_TOKEN).json(&body).send().await;
        // The process died before answering: the connection is cut.
        assert!(sent.is_err(), "the change was answered although the process aborted: {sent:?}");
        assert!(crashing.log().contains("fault injection: aborting"), "the hook did not fire:\n{}", crashing.log());
        current = restarted(&mut crashing, backend, None).await;
        assert_eq!(state(&current.root(), &f).await, before, "the change survived the crash without its event");
        assert_eq!(all_event_ids(&current.root()).await, events_before, "an event survived without its change");
    }
}
