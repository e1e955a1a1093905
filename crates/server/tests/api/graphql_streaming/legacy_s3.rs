//! The legacy Amazon S3 configurations, group and instance level.

use auditrelay_testkit::Backend;
use serde_json::{Value, json};

use super::documents::*;
use super::helpers::*;
use crate::{create_group, on_both_backends, user_with_token};

async fn legacy_s3_group_configurations(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;

    let created = payload(
        &root,
        &s3_create(),
        "auditEventsAmazonS3ConfigurationCreate",
        s3_variables("acme", "acme-audit", "s", "s3-one"),
    )
    .await;
    assert_eq!(created["errors"], json!([]));
    let c = &created["amazonS3Configuration"];
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("gid://gitlab/AuditEvents::AmazonS3Configuration/"), "{id}");
    assert_eq!(c["name"], "s3-one");
    assert_eq!(c["accessKeyXid"], "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(c["bucketName"], "acme-audit");
    assert_eq!(c["awsRegion"], "eu-west-1");
    assert_eq!(c["active"], true);
    assert_eq!(c["group"]["fullPath"], "acme");

    // Refusals, in the payload.
    let mut bad_key = s3_variables("acme", "other-bucket", "s", "bad");
    bad_key["accessKeyXid"] = json!("AKIA-IOSFODNN7-EXAMPLE");
    let bad_key = payload(&root, &s3_create(), "auditEventsAmazonS3ConfigurationCreate", bad_key).await;
    assert_eq!(bad_key["errors"], json!(["Access key xid must only contain letters, digits or underscore"]));
    assert_eq!(bad_key["amazonS3Configuration"], Value::Null);
    let mut short_key = s3_variables("acme", "other-bucket", "s", "bad");
    short_key["accessKeyXid"] = json!("AKIA");
    let short_key = payload(&root, &s3_create(), "auditEventsAmazonS3ConfigurationCreate", short_key).await;
    assert_eq!(short_key["errors"], json!(["Access key xid is too short (minimum is 16 characters)"]));
    let taken = payload(
        &root,
        &s3_create(),
        "auditEventsAmazonS3ConfigurationCreate",
        s3_variables("acme", "acme-audit", "s", "s3-two"),
    )
    .await;
    assert_eq!(taken["errors"], json!(["Bucket name has already been taken"]));
    let name_taken = payload(
        &root,
        &s3_create(),
        "auditEventsAmazonS3ConfigurationCreate",
        s3_variables("acme", "acme-audit-2", "s", "s3-one"),
    )
    .await;
    assert_eq!(name_taken["errors"], json!(["Name has already been taken"]));
    let bad_bucket = payload(
        &root,
        &s3_create(),
        "auditEventsAmazonS3ConfigurationCreate",
        s3_variables("acme", "Upper_Bucket", "s", "bad"),
    )
    .await;
    assert!(bad_bucket["errors"][0].as_str().unwrap().starts_with("Bucket name must only contain"), "{bad_bucket}");

    // secretAccessKey is never exposed.
    let secret = top_level_error(
        &root,
        "query($fullPath: ID!) { group(fullPath: $fullPath) { amazonS3Configurations { nodes { id secretAccessKey } } } }",
        json!({"fullPath": "acme"}),
    )
    .await;
    assert!(secret.contains("secretAccessKey") && secret.contains("AmazonS3ConfigurationType"), "{secret}");

    // Update and delete.
    let updated = payload(
        &root,
        &s3_update(),
        "auditEventsAmazonS3ConfigurationUpdate",
        json!({"id": id, "name": "s3-renamed", "awsRegion": "us-east-2", "secretAccessKey": "rotated", "active": false}),
    )
    .await;
    assert_eq!(updated["errors"], json!([]));
    let u = &updated["amazonS3Configuration"];
    assert_eq!(
        (&u["name"], &u["awsRegion"], &u["bucketName"], &u["active"]),
        (&json!("s3-renamed"), &json!("us-east-2"), &json!("acme-audit"), &json!(false))
    );
    let bad_update = payload(
        &root,
        &s3_update(),
        "auditEventsAmazonS3ConfigurationUpdate",
        json!({"id": id, "accessKeyXid": "AKIA"}),
    )
    .await;
    assert_eq!(bad_update["errors"], json!(["Access key xid is too short (minimum is 16 characters)"]));
    let listed = data(&root, &s3_query(), json!({"fullPath": "acme"})).await;
    let nodes = listed["group"]["amazonS3Configurations"]["nodes"].as_array().unwrap().clone();
    assert_eq!(names(&nodes), ["s3-renamed"]);
    assert_eq!(nodes[0]["accessKeyXid"], "AKIAIOSFODNN7EXAMPLE");
    let deleted = payload(&root, S3_DELETE, "auditEventsAmazonS3ConfigurationDelete", json!({"id": id})).await;
    assert_eq!(deleted["errors"], json!([]));
    let listed = data(&root, &s3_query(), json!({"fullPath": "acme"})).await;
    assert_eq!(listed["group"]["amazonS3Configurations"]["nodes"], json!([]));
}

async fn legacy_s3_instance_configurations(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    // Instance variants.
    let mut instance_vars = s3_variables("", "instance-audit", "instance-secret", "inst-s3");
    instance_vars.as_object_mut().unwrap().remove("groupPath");
    let created =
        payload(&root, &instance_s3_create(), "auditEventsInstanceAmazonS3ConfigurationCreate", instance_vars.clone())
            .await;
    assert_eq!(created["errors"], json!([]));
    let c = &created["instanceAmazonS3Configuration"];
    let instance_id = c["id"].as_str().unwrap().to_owned();
    assert!(instance_id.starts_with("gid://gitlab/AuditEvents::Instance::AmazonS3Configuration/"), "{instance_id}");
    assert_eq!(c["bucketName"], "instance-audit");
    let taken = payload(&root, &instance_s3_create(), "auditEventsInstanceAmazonS3ConfigurationCreate", {
        let mut v = instance_vars.clone();
        v["name"] = json!("inst-s3-2");
        v
    })
    .await;
    assert_eq!(taken["errors"], json!(["Bucket name has already been taken"]));
    let secret = top_level_error(
        &root,
        "query { auditEventsInstanceAmazonS3Configurations { nodes { secretAccessKey } } }",
        json!({}),
    )
    .await;
    assert!(secret.contains("secretAccessKey"), "{secret}");
    let updated = payload(
        &root,
        &instance_s3_update(),
        "auditEventsInstanceAmazonS3ConfigurationUpdate",
        json!({"id": instance_id, "awsRegion": "ap-south-1", "name": "inst-s3-renamed"}),
    )
    .await;
    assert_eq!(updated["errors"], json!([]));
    assert_eq!(updated["instanceAmazonS3Configuration"]["awsRegion"], "ap-south-1");
    let listed = data(&root, &instance_s3_query(), json!({})).await;
    assert_eq!(
        names(listed["auditEventsInstanceAmazonS3Configurations"]["nodes"].as_array().unwrap()),
        ["inst-s3-renamed"]
    );
    let (_, alice) = user_with_token(&root, "alice", &["api"]).await;
    top_level_error(&alice, &instance_s3_create(), instance_vars).await;
    let deleted = payload(
        &root,
        INSTANCE_S3_DELETE,
        "auditEventsInstanceAmazonS3ConfigurationDelete",
        json!({"id": instance_id}),
    )
    .await;
    assert_eq!(deleted["errors"], json!([]));
    let listed = data(&root, &instance_s3_query(), json!({})).await;
    assert_eq!(listed["auditEventsInstanceAmazonS3Configurations"]["nodes"], json!([]));
}

on_both_backends!(legacy_s3_group_configurations, legacy_s3_instance_configurations);
