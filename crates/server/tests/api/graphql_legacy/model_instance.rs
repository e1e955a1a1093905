//! One model shared with the consolidated API; the legacy instance-level HTTP destinations.

use auditrelay_testkit::Backend;
use serde_json::json;

use super::*;
use crate::{create_group, on_both_backends, user_with_token};

async fn one_model_for_both_generations(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let legacy = create(&root, "https://legacy.example.com").await;
    let number = legacy["id"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    root.graphql(
        "mutation($id: AuditEventsExternalAuditEventDestinationID!) { auditEventsStreamingHeadersCreate(input: { destinationId: $id, key: \"X-A\", value: \"1\" }) { errors } }",
        json!({"id": legacy["id"]}),
    )
    .await
    .expect(200);

    // The legacy destination, seen and edited through the consolidated API.
    let query = "query { group(fullPath: \"acme\") { externalAuditEventStreamingDestinations { nodes { id name category config secretToken } } } }";
    let consolidated = root.graphql(query, json!({})).await.expect(200);
    let node = &consolidated.body["data"]["group"]["externalAuditEventStreamingDestinations"]["nodes"][0];
    assert_eq!(node["id"], format!("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/{number}"));
    assert_eq!(node["category"], "http");
    assert_eq!(node["secretToken"], legacy["verificationToken"]);
    assert_eq!(
        node["config"],
        json!({"url": "https://legacy.example.com", "headers": {"X-A": {"value": "1", "active": true}}})
    );
    let update = "mutation($id: AuditEventsGroupExternalStreamingDestinationID!, $config: JSON, $token: String) {
      groupAuditEventStreamingDestinationsUpdate(input: { id: $id, config: $config, secretToken: $token }) { errors externalAuditEventDestination { config } } }";
    let new_config = json!({"url": "https://moved.example.com", "headers": {"X-A": {"value": "2", "active": false}, "X-B": {"value": "3", "active": true}}});
    let edited = root
        .graphql(update, json!({"id": node["id"], "config": new_config, "token": "a-brand-new-token-123"}))
        .await
        .expect(200);
    assert_eq!(
        edited.body["data"]["groupAuditEventStreamingDestinationsUpdate"]["errors"],
        json!([]),
        "{}",
        edited.text
    );

    let listed = root.graphql(LIST, json!({"group": "acme"})).await.expect(200);
    let legacy_view = &listed.body["data"]["group"]["externalAuditEventDestinations"]["nodes"][0];
    assert_eq!(legacy_view["destinationUrl"], "https://moved.example.com");
    assert_eq!(legacy_view["verificationToken"], "a-brand-new-token-123", "the consolidated API may change the token");
    let headers: Vec<(String, String, bool)> = legacy_view["headers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["key"].as_str().unwrap().to_owned(),
                h["value"].as_str().unwrap().to_owned(),
                h["active"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(headers, [("X-A".to_owned(), "2".to_owned(), false), ("X-B".to_owned(), "3".to_owned(), true)]);

    // A consolidated HTTP destination is a legacy destination too.
    let created = root
        .graphql(
            "mutation { groupAuditEventStreamingDestinationsCreate(input: { groupPath: \"acme\", category: \"http\", config: { url: \"https://new.example.com\" } }) { errors externalAuditEventDestination { id } } }",
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(created.body["data"]["groupAuditEventStreamingDestinationsCreate"]["errors"], json!([]));
    let listed = root.graphql(LIST, json!({"group": "acme"})).await.expect(200);
    let urls: Vec<&str> = listed.body["data"]["group"]["externalAuditEventDestinations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["destinationUrl"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["https://moved.example.com", "https://new.example.com"]);
}

async fn instance_legacy_http(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let create =
        "mutation($url: String!) { instanceExternalAuditEventDestinationCreate(input: { destinationUrl: $url }) {
      errors instanceExternalAuditEventDestination { id destinationUrl verificationToken } } }";
    let made = root.graphql(create, json!({"url": "https://instance.example.com"})).await.expect(200);
    let destination =
        &made.body["data"]["instanceExternalAuditEventDestinationCreate"]["instanceExternalAuditEventDestination"];
    let id = destination["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("gid://gitlab/AuditEvents::InstanceExternalAuditEventDestination/"));
    let dup = root.graphql(create, json!({"url": "https://instance.example.com"})).await.expect(200);
    assert_eq!(
        dup.body["data"]["instanceExternalAuditEventDestinationCreate"]["errors"],
        json!(["Destination url has already been taken"])
    );

    let header = root
        .graphql(
            "mutation($id: AuditEventsInstanceExternalAuditEventDestinationID!) { auditEventsStreamingInstanceHeadersCreate(input: { destinationId: $id, key: \"X-I\", value: \"v\" }) { errors header { id key } } }",
            json!({"id": id}),
        )
        .await
        .expect(200);
    assert!(
        header.body["data"]["auditEventsStreamingInstanceHeadersCreate"]["header"]["id"]
            .as_str()
            .unwrap()
            .starts_with("gid://gitlab/AuditEvents::Streaming::InstanceHeader/")
    );
    let unknown = root
        .graphql(
            "mutation { auditEventsStreamingInstanceHeadersCreate(input: { destinationId: \"gid://gitlab/AuditEvents::InstanceExternalAuditEventDestination/999\", key: \"X\", value: \"v\" }) { errors } }",
            json!({}),
        )
        .await;
    assert_eq!(top_level_error(&unknown), "Please provide valid destination id.");
    let events = root
        .graphql(
            "mutation($id: AuditEventsInstanceExternalAuditEventDestinationID!) { auditEventsStreamingDestinationInstanceEventsAdd(input: { destinationId: $id, eventTypeFilters: [\"user_created\"] }) { errors eventTypeFilters } }",
            json!({"id": id}),
        )
        .await
        .expect(200);
    assert_eq!(
        events.body["data"]["auditEventsStreamingDestinationInstanceEventsAdd"]["eventTypeFilters"],
        json!(["user_created"])
    );
    let listed = root.graphql("query { instanceExternalAuditEventDestinations { nodes { id eventTypeFilters headers { nodes { key } } } } }", json!({})).await.expect(200);
    assert_eq!(
        listed.body["data"]["instanceExternalAuditEventDestinations"]["nodes"][0]["headers"]["nodes"][0]["key"],
        "X-I"
    );

    let (_, alice) = user_with_token(&root, "alice", &["api"]).await;
    let refused = alice.graphql(create, json!({"url": "https://evil.example.com"})).await;
    assert_eq!(top_level_error(&refused), "You do not have access to this mutation.");
    let destroy = root
        .graphql("mutation($id: AuditEventsInstanceExternalAuditEventDestinationID!) { instanceExternalAuditEventDestinationDestroy(input: { id: $id }) { errors } }", json!({"id": id}))
        .await
        .expect(200);
    assert_eq!(destroy.body["data"]["instanceExternalAuditEventDestinationDestroy"]["errors"], json!([]));
    let log = root.get("/api/v4/audit_events?entity_type=Gitlab::Audit::InstanceScope&per_page=100").await.expect(200);
    let names: Vec<&str> = log.body.as_array().unwrap().iter().map(|e| e["event_name"].as_str().unwrap()).collect();
    for expected in [
        "create_instance_event_streaming_destination",
        "audit_events_streaming_instance_headers_create",
        "event_type_filters_created",
        "destroy_instance_event_streaming_destination",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
}

on_both_backends!(one_model_for_both_generations, instance_legacy_http);
