//! Consolidated group HTTP destinations: create, list, update, delete and their refusals.

use auditrelay_testkit::{Api, Backend, TestServer};
use serde_json::{Value, json};

use super::documents::*;
use super::helpers::*;
use crate::{create_group, on_both_backends, user_with_token};

/// Alice owns `acme` (with the subgroup `acme/platform`) and has created two HTTP destinations:
/// `siem` (no secretToken given) and `collector` (a given secretToken and headers).
struct Acme {
    _server: TestServer,
    root: Api,
    alice: Api,
    siem: Value,
    siem_id: String,
    collector: Value,
    collector_config: Value,
}

async fn acme(backend: Backend) -> Acme {
    let server = crate::server(backend).await;
    let root = server.root();
    let (_, alice) = user_with_token(&root, "alice", &["api"]).await;
    let acme = create_group(&alice, "acme", None).await;
    create_group(&alice, "platform", Some(acme)).await;
    let created = create_group_destination(
        &alice,
        json!({"groupPath": "acme", "category": "http", "config": {"url": "https://siem.example.com/ingest"}, "name": "siem"}),
    )
    .await;
    assert_eq!(created["errors"], json!([]));
    let siem = created["externalAuditEventDestination"].clone();
    let siem_id = siem["id"].as_str().unwrap().to_owned();
    let config = json!({
        "url": "https://collector.example.com/audit",
        "headers": {"X-Api-Key": {"value": "k-123", "active": true}, "X-Tenant": {"value": "acme", "active": false}}
    });
    let with_token = create_group_destination(
        &alice,
        json!({"groupPath": "acme", "category": "http", "config": config, "name": "collector", "secretToken": "a-token-of-20-chars!"}),
    )
    .await;
    assert_eq!(with_token["errors"], json!([]));
    let collector = with_token["externalAuditEventDestination"].clone();
    Acme { _server: server, root, alice, siem, siem_id, collector, collector_config: config }
}

async fn create_generates_a_token_and_round_trips_the_config(backend: Backend) {
    let Acme { _server, alice, siem, siem_id, collector, collector_config: config, .. } = acme(backend).await;
    // Without secretToken, a 24-character token is generated.
    assert!(siem_id.starts_with("gid://gitlab/AuditEvents::Group::ExternalStreamingDestination/"), "{siem_id}");
    assert_eq!(siem["name"], "siem");
    assert_eq!(siem["category"], "http");
    assert_eq!(siem["config"], json!({"url": "https://siem.example.com/ingest"}));
    assert_eq!(siem["secretToken"].as_str().unwrap().chars().count(), 24);
    assert_eq!(siem["eventTypeFilters"], json!([]));
    assert_eq!(siem["active"], true);
    assert_eq!(siem["namespaceFilters"], json!([]));
    assert_eq!(siem["group"]["fullPath"], "acme");
    // With secretToken and headers: the config round-trips; an empty `headers` is dropped.
    assert_eq!(collector["secretToken"], "a-token-of-20-chars!");
    assert_eq!(collector["config"], config);
    let bare = create_group_destination(
        &alice,
        json!({"groupPath": "acme", "category": "http", "config": {"url": "https://bare.example.com", "headers": {}}}),
    )
    .await;
    assert_eq!(bare["errors"], json!([]));
    let bare = &bare["externalAuditEventDestination"];
    assert_eq!(bare["config"], json!({"url": "https://bare.example.com"}));
    // No name: GitLab's `Destination_<uuid>`.
    let default_name = bare["name"].as_str().unwrap();
    assert!(
        default_name.starts_with("Destination_") && default_name.len() == "Destination_".len() + 36,
        "{default_name}"
    );
}

async fn create_refusals_name_the_problem_and_create_nothing(backend: Backend) {
    let Acme { _server, alice, .. } = acme(backend).await;
    // Refusals, each as the payload's `errors` with no destination.
    for (variables, message) in [
        (
            json!({"category": "http", "config": {"url": "https://a.example.com"}, "secretToken": "0123456789"}),
            "Secret token should have length between 16 to 24 characters.",
        ),
        (
            json!({"category": "http", "config": {"url": "https://a.example.com"}, "secretToken": "x".repeat(25)}),
            "Secret token should have length between 16 to 24 characters.",
        ),
        (
            json!({"category": "http", "config": {"url": "https://a.example.com"}, "name": "n".repeat(73)}),
            "Name is too long (maximum is 72 characters)",
        ),
        (
            json!({"category": "http", "config": {"url": "https://a.example.com", "extra": 1}}),
            "Config must be a valid json schema",
        ),
        (json!({"category": "http", "config": {"url": "ftp://a.example.com"}}), "Config must be a valid json schema"),
        (json!({"category": "http", "config": {}}), "Config must be a valid json schema"),
        (json!({"category": "http", "config": "https://a.example.com"}), "Config must be a hash"),
        (json!({"category": "http", "config": ["https://a.example.com"]}), "Config must be a hash"),
        (
            json!({"category": "http", "config": {"url": "https://a.example.com", "headers": {"X-Gitlab-Event-Streaming-Token": {"value": "x", "active": true}}}}),
            "Config headers cannot contain X-Gitlab-Event-Streaming-Token",
        ),
        (
            json!({"category": "http", "config": {"url": "https://a.example.com", "headers": {"x-gitlab-event-streaming-token": {"value": "x", "active": true}}}}),
            "Config headers cannot contain X-Gitlab-Event-Streaming-Token",
        ),
        (
            json!({"category": "http", "config": {"url": "https://siem.example.com/ingest"}}),
            "Config url already taken.",
        ),
        (
            json!({"category": "http", "config": {"url": "https://other.example.com"}, "name": "siem"}),
            "Name has already been taken",
        ),
    ] {
        let mut variables = variables;
        variables["groupPath"] = json!("acme");
        let refused = create_group_destination(&alice, variables.clone()).await;
        assert_eq!(refused["errors"], json!([message]), "{variables}");
        assert_eq!(refused["externalAuditEventDestination"], Value::Null);
    }
    let sub = create_group_destination(
        &alice,
        json!({"groupPath": "acme/platform", "category": "http", "config": {"url": "https://a.example.com"}}),
    )
    .await;
    assert_eq!(sub["errors"], json!(["Group must not be a subgroup. Use a top-level group."]));

    // The same name is fine in another category (unique per group and category).
    let gcp_siem = create_group_destination(
        &alice,
        json!({"groupPath": "acme", "category": "gcp", "name": "siem", "secretToken": "-----BEGIN PRIVATE KEY-----x",
               "config": {"googleProjectIdName": "acme-audit", "clientEmail": "sa@acme-audit.iam.gserviceaccount.com"}}),
    )
    .await;
    assert_eq!(gcp_siem["errors"], json!([]));
}

async fn non_owners_get_the_resource_access_error(backend: Backend) {
    let Acme { _server, root, siem_id, .. } = acme(backend).await;
    // Someone who is not an Owner of the group gets GitLab's resource access error.
    let (_, bob) = user_with_token(&root, "bob", &["api"]).await;
    let denied = top_level_error(
        &bob,
        &group_create(),
        json!({"groupPath": "acme", "category": "http", "config": {"url": "https://bob.example.com"}}),
    )
    .await;
    assert_eq!(denied, RESOURCE_ACCESS_ERROR);
    let denied = top_level_error(&bob, GROUP_DELETE, json!({"id": siem_id})).await;
    assert_eq!(denied, RESOURCE_ACCESS_ERROR);
}

async fn the_list_shows_tokens_and_configs_as_created(backend: Backend) {
    let Acme { _server, alice, siem, siem_id, collector_config: config, .. } = acme(backend).await;
    // The group's list, as the UI queries it.
    let nodes = group_destinations(&alice, "acme").await;
    assert_eq!(nodes.len(), 2);
    let listed = nodes.iter().find(|n| n["id"] == siem_id.as_str()).unwrap();
    assert_eq!(listed["secretToken"], siem["secretToken"]);
    assert_eq!(listed["config"], siem["config"]);
    let listed = nodes.iter().find(|n| n["name"] == "collector").unwrap();
    assert_eq!(listed["config"], config);
}

async fn update_changes_name_token_and_config(backend: Backend) {
    let Acme { _server, alice, siem_id, .. } = acme(backend).await;
    // Update: name and secretToken (the consolidated API may change the token).
    let updated = update_group_destination(
        &alice,
        json!({"id": siem_id, "name": "siem-2", "secretToken": "new-secret-token-1234"}),
    )
    .await;
    assert_eq!(updated["errors"], json!([]));
    let d = &updated["externalAuditEventDestination"];
    assert_eq!(d["name"], "siem-2");
    assert_eq!(d["secretToken"], "new-secret-token-1234");
    assert_eq!(d["config"], json!({"url": "https://siem.example.com/ingest"}));
    let new_config =
        json!({"url": "https://siem.example.com/v2", "headers": {"X-Env": {"value": "prod", "active": true}}});
    let reconfigured = update_group_destination(&alice, json!({"id": siem_id, "config": new_config})).await;
    assert_eq!(reconfigured["errors"], json!([]));
    assert_eq!(reconfigured["externalAuditEventDestination"]["config"], new_config);
    assert_eq!(reconfigured["externalAuditEventDestination"]["name"], "siem-2");
    assert_eq!(reconfigured["externalAuditEventDestination"]["secretToken"], "new-secret-token-1234");
}

async fn update_refusals_name_the_problem_and_change_nothing(backend: Backend) {
    let Acme { _server, alice, siem_id, .. } = acme(backend).await;
    let short = update_group_destination(&alice, json!({"id": siem_id, "secretToken": "0123456789"})).await;
    assert_eq!(short["errors"], json!(["Secret token should have length between 16 to 24 characters."]));
    assert_eq!(short["externalAuditEventDestination"], Value::Null);
    let taken = update_group_destination(&alice, json!({"id": siem_id, "name": "collector"})).await;
    assert_eq!(taken["errors"], json!(["Name has already been taken"]));
    let url_taken = update_group_destination(
        &alice,
        json!({"id": siem_id, "config": {"url": "https://collector.example.com/audit"}}),
    )
    .await;
    assert_eq!(url_taken["errors"], json!(["Config url already taken."]));
    let token_header = update_group_destination(
        &alice,
        json!({"id": siem_id, "config": {"url": "https://siem.example.com/ingest", "headers": {"X-GITLAB-EVENT-STREAMING-TOKEN": {"value": "x", "active": true}}}}),
    )
    .await;
    assert_eq!(token_header["errors"], json!(["Config headers cannot contain X-Gitlab-Event-Streaming-Token"]));
    let nodes = group_destinations(&alice, "acme").await;
    let siem = nodes.iter().find(|n| n["id"] == siem_id.as_str()).unwrap();
    assert_eq!((&siem["name"], &siem["config"]), (&json!("siem"), &json!({"url": "https://siem.example.com/ingest"})));
}

async fn delete_removes_the_destination_and_a_second_delete_is_refused(backend: Backend) {
    let Acme { _server, alice, siem_id, .. } = acme(backend).await;
    let deleted =
        payload(&alice, GROUP_DELETE, "groupAuditEventStreamingDestinationsDelete", json!({"id": siem_id})).await;
    assert_eq!(deleted["errors"], json!([]));
    let nodes = group_destinations(&alice, "acme").await;
    assert_eq!(nodes.len(), 1);
    assert!(nodes.iter().all(|n| n["id"] != siem_id.as_str()));
    let again = top_level_error(&alice, GROUP_DELETE, json!({"id": siem_id})).await;
    assert_eq!(again, RESOURCE_ACCESS_ERROR);
}

on_both_backends!(
    create_generates_a_token_and_round_trips_the_config,
    create_refusals_name_the_problem_and_create_nothing,
    non_owners_get_the_resource_access_error,
    the_list_shows_tokens_and_configs_as_created,
    update_changes_name_token_and_config,
    update_refusals_name_the_problem_and_change_nothing,
    delete_removes_the_destination_and_a_second_delete_is_refused,
);
