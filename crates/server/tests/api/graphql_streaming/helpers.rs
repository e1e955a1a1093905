//! Helpers shared by the streaming tests: running documents, creating destinations, reading lists.

use auditrelay_testkit::Api;
use serde_json::{Value, json};

use super::documents::{group_create, group_destinations_query, group_update, instance_destinations_query};

/// Runs a document that must succeed (no top-level `errors`); returns `data`.
pub(super) async fn data(api: &Api, query: &str, variables: Value) -> Value {
    let reply = api.graphql(query, variables).await.expect(200);
    assert!(reply.body.get("errors").is_none(), "unexpected GraphQL errors: {}", reply.text);
    reply.body["data"].clone()
}

/// Runs a document that must fail with top-level `errors`; returns the first message.
pub(super) async fn top_level_error(api: &Api, query: &str, variables: Value) -> String {
    let reply = api.graphql(query, variables).await;
    let message = reply.body["errors"][0]["message"].as_str();
    assert!(message.is_some(), "expected top-level GraphQL errors (status {}): {}", reply.status, reply.text);
    message.unwrap().to_owned()
}

/// A mutation's payload, by field name.
pub(super) async fn payload(api: &Api, query: &str, field: &str, variables: Value) -> Value {
    data(api, query, variables).await[field].clone()
}

pub(super) async fn create_group_destination(api: &Api, variables: Value) -> Value {
    payload(api, &group_create(), "groupAuditEventStreamingDestinationsCreate", variables).await
}

pub(super) async fn update_group_destination(api: &Api, variables: Value) -> Value {
    payload(api, &group_update(), "groupAuditEventStreamingDestinationsUpdate", variables).await
}

/// Creates an HTTP destination that must succeed; returns the destination.
pub(super) async fn http_destination(api: &Api, group: &str, url: &str, name: &str) -> Value {
    let created = create_group_destination(
        api,
        json!({"groupPath": group, "category": "http", "config": {"url": url}, "name": name}),
    )
    .await;
    assert_eq!(created["errors"], json!([]), "{created}");
    created["externalAuditEventDestination"].clone()
}

pub(super) async fn group_destinations(api: &Api, group: &str) -> Vec<Value> {
    let data = data(api, &group_destinations_query(), json!({"fullPath": group})).await;
    data["group"]["externalAuditEventStreamingDestinations"]["nodes"].as_array().unwrap().clone()
}

pub(super) async fn instance_destinations(api: &Api) -> Vec<Value> {
    let data = data(api, &instance_destinations_query(), json!({})).await;
    data["auditEventsInstanceStreamingDestinations"]["nodes"].as_array().unwrap().clone()
}

pub(super) fn gcp_variables(group: &str, project: &str, private_key: &str, name: &str) -> Value {
    json!({
        "groupPath": group,
        "googleProjectIdName": project,
        "clientEmail": format!("audit@{project}.iam.gserviceaccount.com"),
        "privateKey": private_key,
        "name": name,
    })
}

pub(super) fn s3_variables(group: &str, bucket: &str, secret: &str, name: &str) -> Value {
    json!({
        "groupPath": group,
        "accessKeyXid": "AKIAIOSFODNN7EXAMPLE",
        "secretAccessKey": secret,
        "bucketName": bucket,
        "awsRegion": "eu-west-1",
        "name": name,
    })
}

pub(super) fn sorted(list: &Value) -> Vec<String> {
    let mut items: Vec<String> =
        list.as_array().expect("a list").iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    items.sort();
    items
}

pub(super) fn names(nodes: &[Value]) -> Vec<&str> {
    nodes.iter().map(|n| n["name"].as_str().unwrap()).collect()
}

/// `event_name` of every audit event the instance API lists, newest first.
pub(super) async fn event_names(root: &Api) -> Vec<String> {
    let events = root.get("/api/v4/audit_events?per_page=100").await.expect(200);
    events.body.as_array().unwrap().iter().map(|e| e["event_name"].as_str().unwrap().to_owned()).collect()
}

pub(super) fn count(names: &[String], name: &str) -> usize {
    names.iter().filter(|n| *n == name).count()
}

pub(super) async fn create_project(api: &Api, path: &str, namespace_id: i64) -> i64 {
    let project = api
        .post("/api/v4/projects", &json!({"name": path, "path": path, "namespace_id": namespace_id}))
        .await
        .expect(201);
    project.body["id"].as_i64().unwrap()
}
