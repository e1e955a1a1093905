//! Consolidated group destinations: GCP and AWS categories, the local-URL setting and the
//! active-destination limit.

use auditrelay_testkit::Backend;
use serde_json::{Value, json};

use super::documents::*;
use super::helpers::*;
use crate::{create_group, on_both_backends};

async fn group_gcp_and_aws_destinations(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let gcp_config =
        json!({"googleProjectIdName": "acme-audit-1", "clientEmail": "sa@acme-audit-1.iam.gserviceaccount.com"});
    let aws_config =
        json!({"accessKeyXid": "AKIAIOSFODNN7EXAMPLE", "bucketName": "acme-audit", "awsRegion": "eu-west-1"});

    // GCP and AWS need their key as secretToken, checked before anything else.
    for (category, config) in [("gcp", &gcp_config), ("aws", &aws_config)] {
        for secret in [Value::Null, json!(""), json!("   ")] {
            let refused = create_group_destination(
                &root,
                json!({"groupPath": "acme", "category": category, "config": config, "secretToken": secret}),
            )
            .await;
            assert_eq!(refused["errors"], json!(["Secret token is required for category"]), "{category} {secret}");
            assert_eq!(refused["externalAuditEventDestination"], Value::Null);
        }
    }

    // GCP: logIdName defaults to "audit-events" (hyphen); the key is never returned.
    let gcp = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "gcp", "config": gcp_config, "name": "gcp", "secretToken": "-----BEGIN PRIVATE KEY-----abc"}),
    )
    .await;
    assert_eq!(gcp["errors"], json!([]));
    let gcp = &gcp["externalAuditEventDestination"];
    assert_eq!(gcp["category"], "gcp");
    assert_eq!(
        gcp["config"],
        json!({"googleProjectIdName": "acme-audit-1", "clientEmail": "sa@acme-audit-1.iam.gserviceaccount.com", "logIdName": "audit-events"})
    );
    assert_eq!(gcp["secretToken"], "");

    // AWS.
    let aws = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "aws", "config": aws_config, "name": "aws", "secretToken": "aws-secret-access-key"}),
    )
    .await;
    assert_eq!(aws["errors"], json!([]));
    let aws = &aws["externalAuditEventDestination"];
    assert_eq!(aws["category"], "aws");
    assert_eq!(aws["config"], aws_config);
    assert_eq!(aws["secretToken"], "");

    // Per-category config rules and uniqueness.
    for (variables, message) in [
        (
            json!({"category": "gcp", "config": {"googleProjectIdName": "Bad_Project", "clientEmail": "sa@example.com"}}),
            "Config must be a valid json schema",
        ),
        (
            json!({"category": "gcp", "config": {"googleProjectIdName": "acme-audit-2"}}),
            "Config must be a valid json schema",
        ),
        (json!({"category": "gcp", "config": "acme-audit-2"}), "Config must be a hash"),
        (json!({"category": "gcp", "config": gcp_config}), "Config logIdName, googleProjectIdName already taken."),
        (
            json!({"category": "aws", "config": {"accessKeyXid": "short", "bucketName": "b", "awsRegion": "eu-west-1"}}),
            "Config must be a valid json schema",
        ),
        (json!({"category": "aws", "config": {"bucketName": "other-bucket"}}), "Config must be a valid json schema"),
        (json!({"category": "aws", "config": aws_config}), "Config bucketName already taken."),
    ] {
        let mut variables = variables;
        variables["groupPath"] = json!("acme");
        variables["secretToken"] = json!("some-secret-key-value");
        let refused = create_group_destination(&root, variables.clone()).await;
        assert_eq!(refused["errors"], json!([message]), "{variables}");
    }
    // Another logIdName makes the GCP pair unique again.
    let other_log = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "gcp", "secretToken": "k",
               "config": {"googleProjectIdName": "acme-audit-1", "clientEmail": "sa@example.com", "logIdName": "other"}}),
    )
    .await;
    assert_eq!(other_log["errors"], json!([]));

    let nodes = group_destinations(&root, "acme").await;
    let categories: Vec<&str> = nodes.iter().map(|n| n["category"].as_str().unwrap()).collect();
    assert_eq!(categories, ["gcp", "aws", "gcp"]);
    assert!(nodes.iter().all(|n| n["secretToken"] == ""));

    // Update the AWS config; the secret stays hidden.
    let moved = update_group_destination(
        &root,
        json!({"id": aws["id"], "config": {"accessKeyXid": "AKIAIOSFODNN7EXAMPLE", "bucketName": "acme-audit-2", "awsRegion": "us-east-1"}, "secretToken": "rotated-secret-key"}),
    )
    .await;
    assert_eq!(moved["errors"], json!([]));
    assert_eq!(moved["externalAuditEventDestination"]["config"]["bucketName"], "acme-audit-2");
    assert_eq!(moved["externalAuditEventDestination"]["secretToken"], "");
}

async fn local_urls_need_the_admin_setting(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;

    for url in ["http://127.0.0.1:9000/audit", "http://localhost/audit"] {
        let refused =
            create_group_destination(&root, json!({"groupPath": "acme", "category": "http", "config": {"url": url}}))
                .await;
        assert_eq!(refused["errors"], json!(["Config url is blocked: Requests to localhost are not allowed"]), "{url}");
    }
    let private = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "http", "config": {"url": "http://10.0.0.8/audit"}}),
    )
    .await;
    assert_eq!(private["errors"], json!(["Config url is blocked: Requests to the local network are not allowed"]));

    root.put("/api/v4/application/settings", &json!({"allow_local_requests_from_web_hooks_and_services": true}))
        .await
        .expect(200);
    let allowed = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "http", "config": {"url": "http://127.0.0.1:9000/audit"}}),
    )
    .await;
    assert_eq!(allowed["errors"], json!([]));
    assert_eq!(allowed["externalAuditEventDestination"]["config"]["url"], "http://127.0.0.1:9000/audit");
}

async fn active_destination_limit(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    create_group(&root, "other", None).await;

    let mut ids = Vec::new();
    for i in 1..=5 {
        let d = http_destination(&root, "acme", &format!("https://siem{i}.example.com"), &format!("d{i}")).await;
        ids.push(d["id"].as_str().unwrap().to_owned());
    }
    let sixth = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "http", "config": {"url": "https://siem6.example.com"}, "name": "d6"}),
    )
    .await;
    assert_eq!(sixth["errors"], json!(["Maximum number of external audit event destinations (5) exceeded"]));
    assert_eq!(sixth["externalAuditEventDestination"], Value::Null);

    // The limit is per top-level group. (Whether other categories count too is left out: GitLab's
    // consolidated model counts every category, see the report.)
    http_destination(&root, "other", "https://siem6.example.com", "d6").await;
    // Re-stating `active: true` on an active destination is not an activation.
    let still_active = update_group_destination(&root, json!({"id": ids[4], "active": true})).await;
    assert_eq!(still_active["errors"], json!([]));

    // Only active destinations count.
    let paused = update_group_destination(&root, json!({"id": ids[0], "active": false})).await;
    assert_eq!(paused["errors"], json!([]));
    assert_eq!(paused["externalAuditEventDestination"]["active"], false);
    http_destination(&root, "acme", "https://siem6.example.com", "d6").await;
    let reactivated = update_group_destination(&root, json!({"id": ids[0], "active": true})).await;
    assert_eq!(
        reactivated["errors"],
        json!(["Cannot activate: Maximum number of external audit event destinations (5) exceeded"])
    );
    assert_eq!(reactivated["externalAuditEventDestination"], Value::Null);
    // Other changes to an inactive destination are still allowed, and it stays inactive.
    let renamed = update_group_destination(&root, json!({"id": ids[0], "name": "d1-paused"})).await;
    assert_eq!(renamed["errors"], json!([]));
    assert_eq!(renamed["externalAuditEventDestination"]["active"], false);

    let nodes = group_destinations(&root, "acme").await;
    let active: Vec<&str> = nodes
        .iter()
        .filter(|n| n["category"] == "http" && n["active"] == true)
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(active, ["d2", "d3", "d4", "d5", "d6"]);

    // Freeing a slot lets it back in.
    let deleted =
        payload(&root, GROUP_DELETE, "groupAuditEventStreamingDestinationsDelete", json!({"id": ids[1]})).await;
    assert_eq!(deleted["errors"], json!([]));
    let reactivated = update_group_destination(&root, json!({"id": ids[0], "active": true})).await;
    assert_eq!(reactivated["errors"], json!([]));
    assert_eq!(reactivated["externalAuditEventDestination"]["active"], true);
}

on_both_backends!(group_gcp_and_aws_destinations, local_urls_need_the_admin_setting, active_destination_limit);
