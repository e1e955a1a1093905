//! The audit events the streaming mutations record.

use auditrelay_testkit::Backend;
use serde_json::json;

use super::documents::*;
use super::helpers::*;
use crate::{create_group, on_both_backends};
async fn group_mutations_record_audit_events(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let acme = create_group(&root, "acme", None).await;
    create_group(&root, "platform", Some(acme)).await;

    let d = http_destination(&root, "acme", "https://siem.example.com", "siem").await;
    let id = d["id"].as_str().unwrap();
    // Two changed columns → two events; an update that changes nothing → none.
    let updated =
        update_group_destination(&root, json!({"id": id, "name": "siem-2", "secretToken": "another-token-12345"}))
            .await;
    assert_eq!(updated["errors"], json!([]));
    let same = update_group_destination(
        &root,
        json!({"id": id, "name": "siem-2", "config": {"url": "https://siem.example.com"}}),
    )
    .await;
    assert_eq!(same["errors"], json!([]));
    let paused = update_group_destination(&root, json!({"id": id, "active": false})).await;
    assert_eq!(paused["errors"], json!([]));
    // A refused change records nothing.
    let refused = update_group_destination(&root, json!({"id": id, "secretToken": "short"})).await;
    assert_eq!(refused["errors"].as_array().unwrap().len(), 1);

    let added = payload(
        &root,
        GROUP_EVENTS_ADD,
        "auditEventsGroupDestinationEventsAdd",
        json!({"destinationId": id, "eventTypeFilters": ["user_created"]}),
    )
    .await;
    assert_eq!(added["errors"], json!([]));
    let filter = payload(
        &root,
        GROUP_FILTER_CREATE,
        "auditEventsGroupDestinationNamespaceFilterCreate",
        json!({"destinationId": id, "namespacePath": "acme/platform"}),
    )
    .await;
    assert_eq!(filter["errors"], json!([]));
    let filter_deleted = payload(
        &root,
        GROUP_FILTER_DELETE,
        "auditEventsGroupDestinationNamespaceFilterDelete",
        json!({"namespaceFilterId": filter["namespaceFilter"]["id"]}),
    )
    .await;
    assert_eq!(filter_deleted["errors"], json!([]));
    let deleted = payload(&root, GROUP_DELETE, "groupAuditEventStreamingDestinationsDelete", json!({"id": id})).await;
    assert_eq!(deleted["errors"], json!([]));

    let gcp = payload(
        &root,
        &gcp_create_default_log(),
        "googleCloudLoggingConfigurationCreate",
        gcp_variables("acme", "acme-audit", "key", "gcp"),
    )
    .await;
    assert_eq!(gcp["errors"], json!([]));
    let s3 = payload(
        &root,
        &s3_create(),
        "auditEventsAmazonS3ConfigurationCreate",
        s3_variables("acme", "acme-audit", "key", "s3"),
    )
    .await;
    assert_eq!(s3["errors"], json!([]));

    let names = event_names(&root).await;
    for (name, expected) in [
        ("created_group_audit_event_streaming_destination", 1),
        // name, secret_token, then active.
        ("updated_group_audit_event_streaming_destination", 3),
        ("deleted_group_audit_event_streaming_destination", 1),
        ("event_type_filters_created", 1),
        ("created_group_namespace_filter", 1),
        ("deleted_group_namespace_filter", 1),
        ("google_cloud_logging_configuration_created", 1),
        ("amazon_s3_configuration_created", 1),
    ] {
        assert_eq!(count(&names, name), expected, "{name} in {names:?}");
    }

    // Group events are about the group.
    let events = root.get("/api/v4/audit_events?per_page=100").await.expect(200);
    let events = events.body.as_array().unwrap();
    let created = events.iter().find(|e| e["event_name"] == "created_group_audit_event_streaming_destination").unwrap();
    assert_eq!(created["entity_type"], "Group");
    assert_eq!(created["entity_id"], acme);
}

async fn instance_mutations_record_audit_events(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;

    // Instance variants.
    let instance = payload(
        &root,
        &instance_create(),
        "instanceAuditEventStreamingDestinationsCreate",
        json!({"category": "http", "config": {"url": "https://instance.example.com"}, "name": "inst"}),
    )
    .await;
    assert_eq!(instance["errors"], json!([]));
    let instance_id = instance["externalAuditEventDestination"]["id"].as_str().unwrap();
    let renamed = payload(
        &root,
        &instance_update(),
        "instanceAuditEventStreamingDestinationsUpdate",
        json!({"id": instance_id, "name": "inst-2"}),
    )
    .await;
    assert_eq!(renamed["errors"], json!([]));
    let instance_filter = payload(
        &root,
        INSTANCE_FILTER_CREATE,
        "auditEventsInstanceDestinationNamespaceFilterCreate",
        json!({"destinationId": instance_id, "namespacePath": "acme"}),
    )
    .await;
    assert_eq!(instance_filter["errors"], json!([]));
    let instance_deleted =
        payload(&root, INSTANCE_DELETE, "instanceAuditEventStreamingDestinationsDelete", json!({"id": instance_id}))
            .await;
    assert_eq!(instance_deleted["errors"], json!([]));
    let mut vars = gcp_variables("", "inst-audit", "key", "inst-gcp");
    vars.as_object_mut().unwrap().remove("groupPath");
    assert_eq!(
        payload(&root, &instance_gcp_create(), "instanceGoogleCloudLoggingConfigurationCreate", vars).await["errors"],
        json!([])
    );
    let mut vars = s3_variables("", "inst-audit", "key", "inst-s3");
    vars.as_object_mut().unwrap().remove("groupPath");
    assert_eq!(
        payload(&root, &instance_s3_create(), "auditEventsInstanceAmazonS3ConfigurationCreate", vars).await["errors"],
        json!([])
    );

    let names = event_names(&root).await;
    for (name, expected) in [
        ("created_instance_audit_event_streaming_destination", 1),
        ("updated_instance_audit_event_streaming_destination", 1),
        ("created_instance_namespace_filter", 1),
        ("deleted_instance_audit_event_streaming_destination", 1),
        ("instance_google_cloud_logging_configuration_created", 1),
        ("instance_amazon_s3_configuration_created", 1),
    ] {
        assert_eq!(count(&names, name), expected, "{name} in {names:?}");
    }

    // Instance events are about the instance.
    let events = root.get("/api/v4/audit_events?per_page=100").await.expect(200);
    let events = events.body.as_array().unwrap();
    let instance_created =
        events.iter().find(|e| e["event_name"] == "created_instance_audit_event_streaming_destination").unwrap();
    assert_eq!(instance_created["entity_type"], "Gitlab::Audit::InstanceScope");
}

on_both_backends!(group_mutations_record_audit_events, instance_mutations_record_audit_events);
