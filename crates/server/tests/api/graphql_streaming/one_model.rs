//! One model behind both generations: what one API creates, edits or deletes, the other sees.

use auditrelay_testkit::Backend;
use serde_json::json;

use super::documents::*;
use super::helpers::*;
use crate::{create_group, on_both_backends};

async fn group_configurations_show_in_both_generations(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;

    // Consolidated GCP → legacy list.
    let consolidated_gcp = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "gcp", "name": "new-gcp", "secretToken": "key-1",
               "config": {"googleProjectIdName": "acme-new-1", "clientEmail": "sa@acme-new-1.iam.gserviceaccount.com"}}),
    )
    .await;
    assert_eq!(consolidated_gcp["errors"], json!([]));
    // Legacy GCP → consolidated list.
    let legacy_gcp = payload(
        &root,
        &gcp_create_default_log(),
        "googleCloudLoggingConfigurationCreate",
        gcp_variables("acme", "acme-old-1", "key-2", "old-gcp"),
    )
    .await;
    assert_eq!(legacy_gcp["errors"], json!([]));
    // Consolidated AWS and legacy S3.
    let consolidated_aws = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "aws", "name": "new-aws", "secretToken": "key-3",
               "config": {"accessKeyXid": "AKIAIOSFODNN7NEWONE", "bucketName": "new-bucket", "awsRegion": "eu-central-1"}}),
    )
    .await;
    assert_eq!(consolidated_aws["errors"], json!([]));
    let legacy_s3 = payload(
        &root,
        &s3_create(),
        "auditEventsAmazonS3ConfigurationCreate",
        s3_variables("acme", "old-bucket", "key-4", "old-s3"),
    )
    .await;
    assert_eq!(legacy_s3["errors"], json!([]));

    let gcp_list = data(&root, &gcp_query(), json!({"fullPath": "acme"})).await;
    let gcp_nodes = gcp_list["group"]["googleCloudLoggingConfigurations"]["nodes"].as_array().unwrap().clone();
    assert_eq!(names(&gcp_nodes), ["new-gcp", "old-gcp"]);
    assert_eq!(gcp_nodes[0]["googleProjectIdName"], "acme-new-1");
    assert_eq!(gcp_nodes[0]["clientEmail"], "sa@acme-new-1.iam.gserviceaccount.com");
    assert_eq!(gcp_nodes[0]["logIdName"], "audit-events");
    assert_eq!(gcp_nodes[0]["active"], true);

    let s3_list = data(&root, &s3_query(), json!({"fullPath": "acme"})).await;
    let s3_nodes = s3_list["group"]["amazonS3Configurations"]["nodes"].as_array().unwrap().clone();
    assert_eq!(names(&s3_nodes), ["new-aws", "old-s3"]);
    assert_eq!(s3_nodes[0]["accessKeyXid"], "AKIAIOSFODNN7NEWONE");
    assert_eq!(s3_nodes[0]["bucketName"], "new-bucket");
    assert_eq!(s3_nodes[0]["awsRegion"], "eu-central-1");

    let nodes = group_destinations(&root, "acme").await;
    assert_eq!(names(&nodes), ["new-gcp", "old-gcp", "new-aws", "old-s3"]);
    let old_gcp = &nodes[1];
    assert_eq!(old_gcp["category"], "gcp");
    assert_eq!(
        old_gcp["config"],
        json!({"googleProjectIdName": "acme-old-1", "clientEmail": "audit@acme-old-1.iam.gserviceaccount.com", "logIdName": "audit_events"})
    );
    assert_eq!(old_gcp["secretToken"], "");
    let old_s3 = &nodes[3];
    assert_eq!(old_s3["category"], "aws");
    assert_eq!(
        old_s3["config"],
        json!({"accessKeyXid": "AKIAIOSFODNN7EXAMPLE", "bucketName": "old-bucket", "awsRegion": "eu-west-1"})
    );
    assert_eq!(old_s3["secretToken"], "");

    // Edits through one generation show in the other.
    let renamed = payload(
        &root,
        &gcp_update(),
        "googleCloudLoggingConfigurationUpdate",
        json!({"id": gcp_nodes[0]["id"], "name": "new-gcp-renamed", "active": false}),
    )
    .await;
    assert_eq!(renamed["errors"], json!([]));
    let reconfigured = update_group_destination(
        &root,
        json!({"id": old_s3["id"], "config": {"accessKeyXid": "AKIAIOSFODNN7EXAMPLE", "bucketName": "old-bucket-2", "awsRegion": "eu-west-3"}}),
    )
    .await;
    assert_eq!(reconfigured["errors"], json!([]));
    let nodes = group_destinations(&root, "acme").await;
    assert_eq!(nodes[0]["name"], "new-gcp-renamed");
    assert_eq!(nodes[0]["active"], false);
    let s3_list = data(&root, &s3_query(), json!({"fullPath": "acme"})).await;
    let old = &s3_list["group"]["amazonS3Configurations"]["nodes"][1];
    assert_eq!((&old["bucketName"], &old["awsRegion"]), (&json!("old-bucket-2"), &json!("eu-west-3")));

    // Uniqueness spans the generations: the legacy API sees the consolidated destination's bucket.
    let taken = payload(
        &root,
        &s3_create(),
        "auditEventsAmazonS3ConfigurationCreate",
        s3_variables("acme", "new-bucket", "key-5", "another"),
    )
    .await;
    assert_eq!(taken["errors"], json!(["Bucket name has already been taken"]));

    // Deleting through the consolidated API removes the legacy configuration.
    let deleted =
        payload(&root, GROUP_DELETE, "groupAuditEventStreamingDestinationsDelete", json!({"id": old_gcp["id"]})).await;
    assert_eq!(deleted["errors"], json!([]));
    let gcp_list = data(&root, &gcp_query(), json!({"fullPath": "acme"})).await;
    assert_eq!(
        names(gcp_list["group"]["googleCloudLoggingConfigurations"]["nodes"].as_array().unwrap()),
        ["new-gcp-renamed"]
    );

    assert_eq!(group_destinations(&root, "acme").await.len(), 3);
}

async fn instance_configurations_show_in_both_generations(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    http_destination(&root, "acme", "https://siem.example.com", "group-siem").await;
    let created = payload(
        &root,
        &instance_create(),
        "instanceAuditEventStreamingDestinationsCreate",
        json!({"category": "aws", "name": "inst-aws", "secretToken": "key-6",
               "config": {"accessKeyXid": "AKIAIOSFODNN7INSTANCE", "bucketName": "inst-bucket", "awsRegion": "eu-west-1"}}),
    )
    .await;
    assert_eq!(created["errors"], json!([]));
    let listed = data(&root, &instance_s3_query(), json!({})).await;
    let nodes = listed["auditEventsInstanceAmazonS3Configurations"]["nodes"].as_array().unwrap();
    assert_eq!(names(nodes), ["inst-aws"]);
    assert_eq!(nodes[0]["bucketName"], "inst-bucket");
    let mut vars = gcp_variables("", "inst-gcp-1", "key-7", "inst-gcp");
    vars.as_object_mut().unwrap().remove("groupPath");
    let legacy = payload(&root, &instance_gcp_create(), "instanceGoogleCloudLoggingConfigurationCreate", vars).await;
    assert_eq!(legacy["errors"], json!([]));
    let nodes = instance_destinations(&root).await;
    assert_eq!(names(&nodes), ["inst-aws", "inst-gcp"]);
    assert_eq!(nodes[1]["category"], "gcp");
    assert_eq!(nodes[1]["config"]["logIdName"], "audit_events");
    assert_eq!(names(&group_destinations(&root, "acme").await), ["group-siem"]);
}

on_both_backends!(group_configurations_show_in_both_generations, instance_configurations_show_in_both_generations);
