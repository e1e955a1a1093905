//! Event-type and namespace filters of group destinations.

use auditrelay_testkit::Backend;
use serde_json::{Value, json};

use super::documents::*;
use super::helpers::*;
use crate::{create_group, on_both_backends};

async fn group_event_type_filters(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let d = http_destination(&root, "acme", "https://siem.example.com", "siem").await;
    let id = d["id"].as_str().unwrap();
    let add = |types: Value| {
        let root = root.clone();
        let vars = json!({"destinationId": id, "eventTypeFilters": types});
        async move { payload(&root, GROUP_EVENTS_ADD, "auditEventsGroupDestinationEventsAdd", vars).await }
    };

    let added = add(json!(["group_created", "user_created"])).await;
    assert_eq!(added["errors"], json!([]));
    assert_eq!(sorted(&added["eventTypeFilters"]), ["group_created", "user_created"]);
    // The payload holds the full list after the add.
    let added = add(json!(["project_created"])).await;
    assert_eq!(added["errors"], json!([]));
    assert_eq!(sorted(&added["eventTypeFilters"]), ["group_created", "project_created", "user_created"]);

    // Unknown types: all or nothing.
    let unknown = add(json!(["member_created", "not_a_real_type"])).await;
    assert_eq!(
        unknown["errors"],
        json!(["Validation failed: Audit event type with value not_a_real_type is undefined."])
    );
    let nodes = group_destinations(&root, "acme").await;
    assert_eq!(sorted(&nodes[0]["eventTypeFilters"]), ["group_created", "project_created", "user_created"]);

    let empty = top_level_error(&root, GROUP_EVENTS_ADD, json!({"destinationId": id, "eventTypeFilters": []})).await;
    assert_eq!(empty, "event type filters must be present");

    // Types seen in ingested events become valid filters.
    let custom = add(json!(["my_custom_type"])).await;
    assert_eq!(
        custom["errors"],
        json!(["Validation failed: Audit event type with value my_custom_type is undefined."])
    );
    root.post(
        "/api/v4/audit_events",
        &json!({"event_type": "my_custom_type", "entity_type": "Group", "entity_path": "acme"}),
    )
    .await
    .expect(201);
    let custom = add(json!(["my_custom_type"])).await;
    assert_eq!(custom["errors"], json!([]));
    assert_eq!(
        sorted(&custom["eventTypeFilters"]),
        ["group_created", "my_custom_type", "project_created", "user_created"]
    );

    // Delete.
    let deleted = payload(
        &root,
        GROUP_EVENTS_DELETE,
        "auditEventsGroupDestinationEventsDelete",
        json!({"destinationId": id, "eventTypeFilters": ["user_created", "my_custom_type"]}),
    )
    .await;
    assert_eq!(deleted["errors"], json!([]));
    let missing = payload(
        &root,
        GROUP_EVENTS_DELETE,
        "auditEventsGroupDestinationEventsDelete",
        json!({"destinationId": id, "eventTypeFilters": ["user_created"]}),
    )
    .await;
    assert_eq!(missing["errors"], json!(["Couldn't find event type filters where audit event type(s): user_created"]));
    let nodes = group_destinations(&root, "acme").await;
    assert_eq!(sorted(&nodes[0]["eventTypeFilters"]), ["group_created", "project_created"]);

    // A destination id of the wrong class is refused by the scalar.
    let wrong = top_level_error(
        &root,
        GROUP_EVENTS_ADD,
        json!({"destinationId": "gid://gitlab/AuditEvents::Instance::ExternalStreamingDestination/1", "eventTypeFilters": ["user_created"]}),
    )
    .await;
    assert!(
        wrong.contains("does not represent an instance of AuditEvents::Group::ExternalStreamingDestination"),
        "{wrong}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Namespace filters

async fn group_namespace_filters(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let acme = create_group(&root, "acme", None).await;
    for sub in ["a", "b", "c", "d"] {
        create_group(&root, sub, Some(acme)).await;
    }
    let web = create_project(&root, "web", acme).await;
    let other = create_group(&root, "other", None).await;
    create_project(&root, "api", other).await;
    let d = http_destination(&root, "acme", "https://siem.example.com", "siem").await;
    let id = d["id"].as_str().unwrap();
    let create = |path: &str| {
        let root = root.clone();
        let vars = json!({"destinationId": id, "namespacePath": path});
        async move { payload(&root, GROUP_FILTER_CREATE, "auditEventsGroupDestinationNamespaceFilterCreate", vars).await }
    };

    // A subgroup.
    let on_group = create("acme/a").await;
    assert_eq!(on_group["errors"], json!([]));
    let filter = &on_group["namespaceFilter"];
    let filter_id = filter["id"].as_str().unwrap().to_owned();
    assert!(filter_id.starts_with("gid://gitlab/AuditEvents::Group::NamespaceFilter/"), "{filter_id}");
    assert_eq!(filter["namespace"]["fullPath"], "acme/a");
    assert!(filter["namespace"]["id"].as_str().unwrap().starts_with("gid://gitlab/Group/"));
    assert_eq!(filter["externalStreamingDestination"]["id"], id);

    // A project (stored as its project namespace).
    let on_project = create("acme/web").await;
    assert_eq!(on_project["errors"], json!([]));
    assert_eq!(on_project["namespaceFilter"]["namespace"]["fullPath"], "acme/web");
    let namespace_id = on_project["namespaceFilter"]["namespace"]["id"].as_str().unwrap();
    assert!(namespace_id.starts_with("gid://gitlab/Namespaces::ProjectNamespace/"), "{namespace_id} (project {web})");

    // Refusals.
    assert_eq!(create("acme/a").await["errors"], json!(["Namespace has already been taken"]));
    let foreign = "External streaming destination does not belong to the top-level group of the namespace.";
    assert_eq!(create("other").await["errors"], json!([foreign]));
    assert_eq!(create("other/api").await["errors"], json!([foreign]));
    let unknown =
        top_level_error(&root, GROUP_FILTER_CREATE, json!({"destinationId": id, "namespacePath": "acme/nope"})).await;
    assert_eq!(unknown, "namespace_path should be of group or project only.");

    // At most five per destination.
    for path in ["acme/b", "acme/c", "acme"] {
        assert_eq!(create(path).await["errors"], json!([]), "{path}");
    }
    let sixth = create("acme/d").await;
    assert_eq!(sixth["errors"], json!(["Namespace filters are limited to 5 per destination"]));
    assert_eq!(sixth["namespaceFilter"], Value::Null);

    let nodes = group_destinations(&root, "acme").await;
    let paths: Vec<&str> = nodes[0]["namespaceFilters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["namespace"]["fullPath"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["acme/a", "acme/web", "acme/b", "acme/c", "acme"]);

    // Delete one; its slot is free again.
    let deleted = payload(
        &root,
        GROUP_FILTER_DELETE,
        "auditEventsGroupDestinationNamespaceFilterDelete",
        json!({"namespaceFilterId": filter_id}),
    )
    .await;
    assert_eq!(deleted["errors"], json!([]));
    assert_eq!(create("acme/d").await["errors"], json!([]));
    let nodes = group_destinations(&root, "acme").await;
    let paths: Vec<&str> = nodes[0]["namespaceFilters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["namespace"]["fullPath"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["acme/web", "acme/b", "acme/c", "acme", "acme/d"]);
    let gone = top_level_error(&root, GROUP_FILTER_DELETE, json!({"namespaceFilterId": filter_id})).await;
    assert_eq!(gone, RESOURCE_ACCESS_ERROR);
}

on_both_backends!(group_event_type_filters, group_namespace_filters);
