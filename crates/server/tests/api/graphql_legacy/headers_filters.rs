//! Legacy headers, event-type filters and namespace filters.

use auditrelay_testkit::Backend;
use serde_json::json;

use super::*;
use crate::{create_group, on_both_backends};

async fn headers_and_filters(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let acme = create_group(&root, "acme", None).await;
    create_group(&root, "other", None).await;
    let sub = create_group(&root, "platform", Some(acme)).await;
    root.post("/api/v4/projects", &json!({"name": "web", "namespace_id": sub})).await.expect(201);
    let destination = create(&root, "https://siem.example.com").await;
    let id = destination["id"].as_str().unwrap();

    let add_header =
        "mutation($id: AuditEventsExternalAuditEventDestinationID!, $key: String!, $value: String!, $active: Boolean) {
      auditEventsStreamingHeadersCreate(input: { destinationId: $id, key: $key, value: $value, active: $active }) {
        errors header { id key value active } } }";
    let header = root.graphql(add_header, json!({"id": id, "key": "X-Splunk-Token", "value": "abc"})).await.expect(200);
    let header = &header.body["data"]["auditEventsStreamingHeadersCreate"]["header"];
    assert_eq!(header["active"], true, "active defaults to true");
    let header_id = header["id"].as_str().unwrap().to_owned();
    let inactive =
        root.graphql(add_header, json!({"id": id, "key": "X-Debug", "value": "1", "active": false})).await.expect(200);
    assert_eq!(inactive.body["data"]["auditEventsStreamingHeadersCreate"]["header"]["active"], false);
    for (key, value, message) in [
        ("X-Splunk-Token", "x", "Key has already been taken"),
        ("x-gitlab-event-streaming-token", "x", "Key cannot be X-Gitlab-Event-Streaming-Token"),
        ("X-Long", &"v".repeat(2001)[..], "Value is too long (maximum is 2000 characters)"),
    ] {
        let reply = root.graphql(add_header, json!({"id": id, "key": key, "value": value})).await.expect(200);
        assert_eq!(reply.body["data"]["auditEventsStreamingHeadersCreate"]["errors"], json!([message]));
    }
    for n in 2..20 {
        root.graphql(add_header, json!({"id": id, "key": format!("X-H{n}"), "value": "v"})).await.expect(200);
    }
    let twenty_first = root.graphql(add_header, json!({"id": id, "key": "X-Too-Many", "value": "v"})).await.expect(200);
    assert_eq!(
        twenty_first.body["data"]["auditEventsStreamingHeadersCreate"]["errors"],
        json!(["Headers are limited to 20 per destination"])
    );

    let update_header = "mutation($id: AuditEventsStreamingHeaderID!, $value: String, $active: Boolean) {
      auditEventsStreamingHeadersUpdate(input: { headerId: $id, value: $value, active: $active }) { errors header { key value active } } }";
    let updated =
        root.graphql(update_header, json!({"id": header_id, "value": "def", "active": false})).await.expect(200);
    assert_eq!(
        updated.body["data"]["auditEventsStreamingHeadersUpdate"]["header"],
        json!({"key": "X-Splunk-Token", "value": "def", "active": false})
    );
    let destroy_header = "mutation($id: AuditEventsStreamingHeaderID!) { auditEventsStreamingHeadersDestroy(input: { headerId: $id }) { errors } }";
    assert_eq!(
        root.graphql(destroy_header, json!({"id": header_id})).await.body["data"]["auditEventsStreamingHeadersDestroy"]
            ["errors"],
        json!([])
    );

    // Event-type filters.
    let add_types = "mutation($id: AuditEventsExternalAuditEventDestinationID!, $types: [String!]!) {
      auditEventsStreamingDestinationEventsAdd(input: { destinationId: $id, eventTypeFilters: $types }) { errors eventTypeFilters } }";
    let added = root
        .graphql(add_types, json!({"id": id, "types": ["repository_git_operation", "user_created"]}))
        .await
        .expect(200);
    assert_eq!(
        added.body["data"]["auditEventsStreamingDestinationEventsAdd"]["eventTypeFilters"],
        json!(["repository_git_operation", "user_created"])
    );
    let unknown = root.graphql(add_types, json!({"id": id, "types": ["made_up_event"]})).await.expect(200);
    assert_eq!(
        unknown.body["data"]["auditEventsStreamingDestinationEventsAdd"]["errors"],
        json!(["Validation failed: Audit event type with value made_up_event is undefined."])
    );
    let empty = root.graphql(add_types, json!({"id": id, "types": []})).await;
    assert_eq!(top_level_error(&empty), "event type filters must be present");
    let remove_types = "mutation($id: AuditEventsExternalAuditEventDestinationID!, $types: [String!]!) {
      auditEventsStreamingDestinationEventsRemove(input: { destinationId: $id, eventTypeFilters: $types }) { errors } }";
    let missing = root.graphql(remove_types, json!({"id": id, "types": ["group_created"]})).await.expect(200);
    assert_eq!(
        missing.body["data"]["auditEventsStreamingDestinationEventsRemove"]["errors"],
        json!(["Couldn't find event type filters where audit event type(s): group_created"])
    );
    root.graphql(remove_types, json!({"id": id, "types": ["user_created"]})).await.expect(200);

    // The legacy HTTP namespace filter: one per destination, within the top-level group.
    let add_filter = "mutation($id: AuditEventsExternalAuditEventDestinationID!, $group: ID, $project: ID) {
      auditEventsStreamingHttpNamespaceFiltersAdd(input: { destinationId: $id, groupPath: $group, projectPath: $project }) {
        errors namespaceFilter { id namespace { fullPath } externalAuditEventDestination { id } } } }";
    let outside = root.graphql(add_filter, json!({"id": id, "group": "other"})).await.expect(200);
    assert_eq!(
        outside.body["data"]["auditEventsStreamingHttpNamespaceFiltersAdd"]["errors"],
        json!(["External audit event destination does not belong to the top-level group of the namespace."])
    );
    let bad_path = root.graphql(add_filter, json!({"id": id, "group": "nowhere"})).await;
    assert_eq!(top_level_error(&bad_path), "group_path is invalid");
    let filter = root.graphql(add_filter, json!({"id": id, "project": "acme/platform/web"})).await.expect(200);
    let filter = &filter.body["data"]["auditEventsStreamingHttpNamespaceFiltersAdd"]["namespaceFilter"];
    assert_eq!(filter["namespace"]["fullPath"], "acme/platform/web");
    assert_eq!(filter["externalAuditEventDestination"]["id"], id);
    let second = root.graphql(add_filter, json!({"id": id, "group": "acme/platform"})).await.expect(200);
    assert_eq!(
        second.body["data"]["auditEventsStreamingHttpNamespaceFiltersAdd"]["errors"],
        json!(["External audit event destination has already been taken"])
    );

    let listed = root.graphql(LIST, json!({"group": "acme"})).await.expect(200);
    let node = &listed.body["data"]["group"]["externalAuditEventDestinations"]["nodes"][0];
    assert_eq!(node["eventTypeFilters"], json!(["repository_git_operation"]));
    assert_eq!(node["headers"]["nodes"].as_array().unwrap().len(), 19);
    assert_eq!(node["namespaceFilter"]["namespace"]["fullPath"], "acme/platform/web");

    let delete_filter = "mutation($id: AuditEventsStreamingHTTPNamespaceFilterID!) { auditEventsStreamingHttpNamespaceFiltersDelete(input: { namespaceFilterId: $id }) { errors } }";
    let deleted = root.graphql(delete_filter, json!({"id": filter["id"]})).await.expect(200);
    assert_eq!(deleted.body["data"]["auditEventsStreamingHttpNamespaceFiltersDelete"]["errors"], json!([]));

    let log = root.get("/api/v4/groups/acme/audit_events?per_page=100").await.expect(200);
    let names: Vec<&str> = log.body.as_array().unwrap().iter().map(|e| e["event_name"].as_str().unwrap()).collect();
    for expected in [
        "audit_events_streaming_headers_create",
        "audit_events_streaming_headers_update",
        "audit_events_streaming_headers_destroy",
        "event_type_filters_created",
        "event_type_filters_deleted",
        "create_http_namespace_filter",
        "delete_http_namespace_filter",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
}

on_both_backends!(headers_and_filters);
