//! Consolidated instance-level destinations, their filters and who may manage them.

use auditrelay_testkit::{Api, Backend};
use serde_json::{Value, json};

use super::documents::*;
use super::helpers::*;
use crate::{create_group, on_both_backends, user_with_token};

async fn instance_create_generates_a_token_and_refuses_duplicates(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let create = |variables: Value| {
        let root = root.clone();
        async move { payload(&root, &instance_create(), "instanceAuditEventStreamingDestinationsCreate", variables).await }
    };

    let created =
        create(json!({"category": "http", "config": {"url": "https://siem.example.com"}, "name": "siem"})).await;
    assert_eq!(created["errors"], json!([]));
    let d = &created["externalAuditEventDestination"];
    let id = d["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("gid://gitlab/AuditEvents::Instance::ExternalStreamingDestination/"), "{id}");
    assert_eq!(d["category"], "http");
    assert_eq!(d["secretToken"].as_str().unwrap().chars().count(), 24);
    assert_eq!(d["active"], true);

    let gcp = create(
        json!({"category": "gcp", "config": {"googleProjectIdName": "inst-audit", "clientEmail": "sa@example.com"}}),
    )
    .await;
    assert_eq!(gcp["errors"], json!(["Secret token is required for category"]));
    let gcp = create(json!({"category": "gcp", "secretToken": "key", "name": "gcp",
                            "config": {"googleProjectIdName": "inst-audit", "clientEmail": "sa@example.com"}}))
    .await;
    assert_eq!(gcp["errors"], json!([]));
    assert_eq!(gcp["externalAuditEventDestination"]["config"]["logIdName"], "audit-events");
    assert_eq!(gcp["externalAuditEventDestination"]["secretToken"], "");
    assert_eq!(
        create(json!({"category": "http", "config": {"url": "https://siem.example.com"}})).await["errors"],
        json!(["Config url already taken."])
    );
    assert_eq!(
        create(json!({"category": "http", "config": {"url": "https://b.example.com"}, "name": "siem"})).await["errors"],
        json!(["Name has already been taken"])
    );

    let nodes = instance_destinations(&root).await;
    assert_eq!(names(&nodes), ["siem", "gcp"]);
}

/// Creates the instance destinations `siem` (HTTP) and `gcp`; returns `siem`'s id.
async fn siem_and_gcp(root: &Api) -> String {
    let created = payload(
        root,
        &instance_create(),
        "instanceAuditEventStreamingDestinationsCreate",
        json!({"category": "http", "config": {"url": "https://siem.example.com"}, "name": "siem"}),
    )
    .await;
    assert_eq!(created["errors"], json!([]));
    let gcp = payload(
        root,
        &instance_create(),
        "instanceAuditEventStreamingDestinationsCreate",
        json!({"category": "gcp", "secretToken": "key", "name": "gcp",
               "config": {"googleProjectIdName": "inst-audit", "clientEmail": "sa@example.com"}}),
    )
    .await;
    assert_eq!(gcp["errors"], json!([]));
    created["externalAuditEventDestination"]["id"].as_str().unwrap().to_owned()
}

async fn instance_update_and_filters(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let id = siem_and_gcp(&root).await;
    // Update.
    let updated = payload(
        &root,
        &instance_update(),
        "instanceAuditEventStreamingDestinationsUpdate",
        json!({"id": id, "name": "siem-2", "secretToken": "instance-token-123456", "active": false}),
    )
    .await;
    assert_eq!(updated["errors"], json!([]));
    let u = &updated["externalAuditEventDestination"];
    assert_eq!(
        (&u["name"], &u["secretToken"], &u["active"]),
        (&json!("siem-2"), &json!("instance-token-123456"), &json!(false))
    );

    // Event type filters.
    let added = payload(
        &root,
        INSTANCE_EVENTS_ADD,
        "auditEventsInstanceDestinationEventsAdd",
        json!({"destinationId": id, "eventTypeFilters": ["user_created", "group_created"]}),
    )
    .await;
    assert_eq!(added["errors"], json!([]));
    assert_eq!(sorted(&added["eventTypeFilters"]), ["group_created", "user_created"]);
    let unknown = payload(
        &root,
        INSTANCE_EVENTS_ADD,
        "auditEventsInstanceDestinationEventsAdd",
        json!({"destinationId": id, "eventTypeFilters": ["nope_type"]}),
    )
    .await;
    assert_eq!(unknown["errors"], json!(["Validation failed: Audit event type with value nope_type is undefined."]));
    let removed = payload(
        &root,
        INSTANCE_EVENTS_DELETE,
        "auditEventsInstanceDestinationEventsDelete",
        json!({"destinationId": id, "eventTypeFilters": ["user_created"]}),
    )
    .await;
    assert_eq!(removed["errors"], json!([]));
    let missing = payload(
        &root,
        INSTANCE_EVENTS_DELETE,
        "auditEventsInstanceDestinationEventsDelete",
        json!({"destinationId": id, "eventTypeFilters": ["user_created", "member_created"]}),
    )
    .await;
    assert_eq!(
        missing["errors"],
        json!(["Couldn't find event type filters where audit event type(s): user_created, member_created"])
    );

    // Namespace filters: any namespace of the instance.
    let filter = payload(
        &root,
        INSTANCE_FILTER_CREATE,
        "auditEventsInstanceDestinationNamespaceFilterCreate",
        json!({"destinationId": id, "namespacePath": "acme"}),
    )
    .await;
    assert_eq!(filter["errors"], json!([]));
    let filter_id = filter["namespaceFilter"]["id"].as_str().unwrap().to_owned();
    assert!(filter_id.starts_with("gid://gitlab/AuditEvents::Instance::NamespaceFilter/"), "{filter_id}");
    assert_eq!(filter["namespaceFilter"]["namespace"]["fullPath"], "acme");
    assert_eq!(filter["namespaceFilter"]["externalStreamingDestination"]["id"], id.as_str());
    let duplicate = payload(
        &root,
        INSTANCE_FILTER_CREATE,
        "auditEventsInstanceDestinationNamespaceFilterCreate",
        json!({"destinationId": id, "namespacePath": "acme"}),
    )
    .await;
    assert_eq!(duplicate["errors"], json!(["Namespace has already been taken"]));

    let nodes = instance_destinations(&root).await;
    let siem = nodes.iter().find(|n| n["id"] == id.as_str()).unwrap();
    assert_eq!(siem["eventTypeFilters"], json!(["group_created"]));
    assert_eq!(siem["namespaceFilters"][0]["namespace"]["fullPath"], "acme");
    assert_eq!(siem["active"], false);

    let filter_deleted = payload(
        &root,
        INSTANCE_FILTER_DELETE,
        "auditEventsInstanceDestinationNamespaceFilterDelete",
        json!({"namespaceFilterId": filter_id}),
    )
    .await;
    assert_eq!(filter_deleted["errors"], json!([]));
}

async fn instance_destinations_are_admin_only(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let id = siem_and_gcp(&root).await;
    // A non-admin gets a top-level error and sees nothing.
    let (_, alice) = user_with_token(&root, "alice", &["api"]).await;
    let denied = top_level_error(
        &alice,
        &instance_create(),
        json!({"category": "http", "config": {"url": "https://alice.example.com"}}),
    )
    .await;
    assert_eq!(denied, RESOURCE_ACCESS_ERROR);
    for (query, variables) in [
        (instance_update(), json!({"id": id, "name": "hijacked"})),
        (INSTANCE_DELETE.to_owned(), json!({"id": id})),
        (INSTANCE_EVENTS_ADD.to_owned(), json!({"destinationId": id, "eventTypeFilters": ["user_created"]})),
        (INSTANCE_FILTER_CREATE.to_owned(), json!({"destinationId": id, "namespacePath": "acme"})),
    ] {
        assert_eq!(top_level_error(&alice, &query, variables).await, RESOURCE_ACCESS_ERROR, "{query}");
    }
    let listed = alice.graphql(&instance_destinations_query(), json!({})).await;
    assert!(!listed.text.contains("siem"), "a non-admin must not see instance destinations: {}", listed.text);
    assert!(listed.body.get("errors").is_some(), "{}", listed.text);

    // A group destination id is not an instance destination id.
    let wrong = top_level_error(
        &root,
        INSTANCE_DELETE,
        json!({"id": id.replace("AuditEvents::Instance::", "AuditEvents::Group::")}),
    )
    .await;
    assert!(
        wrong.contains("does not represent an instance of AuditEvents::Instance::ExternalStreamingDestination"),
        "{wrong}"
    );

    // Delete.
    let deleted =
        payload(&root, INSTANCE_DELETE, "instanceAuditEventStreamingDestinationsDelete", json!({"id": id})).await;
    assert_eq!(deleted["errors"], json!([]));
    assert_eq!(names(&instance_destinations(&root).await), ["gcp"]);
}

on_both_backends!(
    instance_create_generates_a_token_and_refuses_duplicates,
    instance_update_and_filters,
    instance_destinations_are_admin_only,
);
