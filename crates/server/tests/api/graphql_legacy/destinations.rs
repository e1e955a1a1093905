//! Legacy group HTTP destinations: create, list, update, destroy, and the active limit.

use auditrelay_testkit::Backend;
use serde_json::json;

use super::*;
use crate::{create_group, on_both_backends};

async fn legacy_http_destinations(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;

    let made = root.graphql(CREATE, json!({"url": "https://siem.example.com/in", "group": "acme", "name": "Splunk", "token": "a-verification-token-1"})).await.expect(200);
    let destination = &made.body["data"]["externalAuditEventDestinationCreate"]["externalAuditEventDestination"];
    assert_eq!(destination["name"], "Splunk");
    assert_eq!(destination["verificationToken"], "a-verification-token-1");
    assert_eq!(destination["active"], true);
    assert_eq!(destination["group"]["fullPath"], "acme");
    let id = destination["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("gid://gitlab/AuditEvents::ExternalAuditEventDestination/"));

    // Generated token and default name.
    let generated = create(&root, "https://other.example.com").await;
    assert_eq!(generated["verificationToken"].as_str().unwrap().len(), 24);
    assert!(generated["name"].as_str().unwrap().starts_with("Destination_"));

    // Validation failures of create are raised, as in GitLab.
    let cases = [
        (
            json!({"url": "http://127.0.0.1:9000", "group": "acme"}),
            "Validation failed: Destination url is blocked: Requests to localhost are not allowed",
        ),
        (
            json!({"url": "http://10.0.0.8", "group": "acme"}),
            "Validation failed: Destination url is blocked: Requests to the local network are not allowed",
        ),
        (json!({"url": "not a url", "group": "acme"}), "Validation failed: Destination url must be a valid URL"),
        (
            json!({"url": "https://siem.example.com/in", "group": "acme"}),
            "Validation failed: Destination url has already been taken",
        ),
        (
            json!({"url": "https://x.example.com", "group": "acme", "token": "short"}),
            "Validation failed: Verification token is too short (minimum is 16 characters)",
        ),
        (
            json!({"url": "https://x.example.com", "group": "acme", "name": "n".repeat(73)}),
            "Validation failed: Name is too long (maximum is 72 characters)",
        ),
        (
            json!({"url": "https://y.example.com", "group": "acme", "name": "Splunk"}),
            "Validation failed: Name has already been taken",
        ),
    ];
    for (variables, message) in cases {
        let reply = root.graphql(CREATE, variables.clone()).await.expect(200);
        assert_eq!(top_level_error(&reply), message, "{variables}");
    }
    // Destinations belong to top-level groups.
    let acme = root.get("/api/v4/groups/acme").await.body["id"].as_i64().unwrap();
    create_group(&root, "sub", Some(acme)).await;
    let sub = root.graphql(CREATE, json!({"url": "https://z.example.com", "group": "acme/sub"})).await;
    assert_eq!(top_level_error(&sub), "Validation failed: Group must not be a subgroup");

    // Update: payload errors, and the verification token cannot be changed.
    let update =
        "mutation($id: AuditEventsExternalAuditEventDestinationID!, $url: String, $name: String, $active: Boolean) {
      externalAuditEventDestinationUpdate(input: { id: $id, destinationUrl: $url, name: $name, active: $active }) {
        errors externalAuditEventDestination { name destinationUrl active verificationToken } } }";
    let renamed = root.graphql(update, json!({"id": id, "name": "Splunk prod", "active": false})).await.expect(200);
    let payload = &renamed.body["data"]["externalAuditEventDestinationUpdate"];
    assert_eq!(payload["errors"], json!([]));
    assert_eq!(payload["externalAuditEventDestination"]["name"], "Splunk prod");
    assert_eq!(payload["externalAuditEventDestination"]["active"], false);
    assert_eq!(payload["externalAuditEventDestination"]["verificationToken"], "a-verification-token-1");
    let blocked = root.graphql(update, json!({"id": id, "url": "http://localhost/x"})).await.expect(200);
    assert_eq!(
        blocked.body["data"]["externalAuditEventDestinationUpdate"]["errors"],
        json!(["Destination url is blocked: Requests to localhost are not allowed"])
    );
    let token_arg = root
        .graphql("mutation { externalAuditEventDestinationUpdate(input: { id: \"x\", verificationToken: \"abc\" }) { errors } }", json!({}))
        .await;
    assert!(top_level_error(&token_arg).contains("verificationToken"), "{}", token_arg.text);
    let wrong_type = root.graphql(update, json!({"id": "gid://gitlab/AuditEvents::Streaming::Header/1"})).await;
    assert!(
        top_level_error(&wrong_type)
            .contains("does not represent an instance of AuditEvents::ExternalAuditEventDestination")
    );

    let listed = root.graphql(LIST, json!({"group": "acme"})).await.expect(200);
    let nodes = listed.body["data"]["group"]["externalAuditEventDestinations"]["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 2);

    let destroy = "mutation($id: AuditEventsExternalAuditEventDestinationID!) { externalAuditEventDestinationDestroy(input: { id: $id }) { errors } }";
    let gone = root.graphql(destroy, json!({"id": id})).await.expect(200);
    assert_eq!(gone.body["data"]["externalAuditEventDestinationDestroy"]["errors"], json!([]));
    let again = root.graphql(destroy, json!({"id": id})).await;
    assert!(top_level_error(&again).starts_with("The resource that you are attempting to access does not exist"));
    let listed = root.graphql(LIST, json!({"group": "acme"})).await.expect(200);
    assert_eq!(listed.body["data"]["group"]["externalAuditEventDestinations"]["nodes"].as_array().unwrap().len(), 1);

    // Every change is audited with GitLab's event names.
    let log = root.get("/api/v4/groups/acme/audit_events?per_page=100").await.expect(200);
    let names: Vec<&str> = log.body.as_array().unwrap().iter().map(|e| e["event_name"].as_str().unwrap()).collect();
    assert_eq!(names.iter().filter(|n| **n == "create_event_streaming_destination").count(), 2);
    assert_eq!(
        names.iter().filter(|n| **n == "update_event_streaming_destination").count(),
        2,
        "one per changed column: {names:?}"
    );
    assert_eq!(names.iter().filter(|n| **n == "destroy_event_streaming_destination").count(), 1);
}

async fn active_destination_limit(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(create(&root, &format!("https://siem{n}.example.com")).await["id"].clone());
    }
    let sixth = root.graphql(CREATE, json!({"url": "https://siem6.example.com", "group": "acme"})).await;
    assert_eq!(
        top_level_error(&sixth),
        "Validation failed: Maximum number of external audit event destinations (5) exceeded"
    );
    let update = "mutation($id: AuditEventsExternalAuditEventDestinationID!, $active: Boolean) {
      externalAuditEventDestinationUpdate(input: { id: $id, active: $active }) { errors } }";
    root.graphql(update, json!({"id": ids[0], "active": false})).await.expect(200);
    create(&root, "https://siem6.example.com").await;
    let reactivate = root.graphql(update, json!({"id": ids[0], "active": true})).await.expect(200);
    assert_eq!(
        reactivate.body["data"]["externalAuditEventDestinationUpdate"]["errors"],
        json!(["Cannot activate: Maximum number of external audit event destinations (5) exceeded"])
    );
}

on_both_backends!(legacy_http_destinations, active_destination_limit);
