//! The legacy Google Cloud Logging configurations, group and instance level.

use auditrelay_testkit::Backend;
use serde_json::{Value, json};

use super::documents::*;
use super::helpers::*;
use crate::{create_group, on_both_backends, user_with_token};

async fn legacy_gcp_group_configurations(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let acme_sub = create_group(&root, "platform", None).await;
    create_group(&root, "inner", Some(acme_sub)).await;

    // logIdName defaults to "audit_events" (underscore) in the legacy API.
    let created = payload(
        &root,
        &gcp_create_default_log(),
        "googleCloudLoggingConfigurationCreate",
        gcp_variables("acme", "acme-audit-1", "-----BEGIN PRIVATE KEY-----k", "gcp-one"),
    )
    .await;
    assert_eq!(created["errors"], json!([]));
    let c = &created["googleCloudLoggingConfiguration"];
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("gid://gitlab/AuditEvents::GoogleCloudLoggingConfiguration/"), "{id}");
    assert_eq!(c["name"], "gcp-one");
    assert_eq!(c["googleProjectIdName"], "acme-audit-1");
    assert_eq!(c["clientEmail"], "audit@acme-audit-1.iam.gserviceaccount.com");
    assert_eq!(c["logIdName"], "audit_events");
    assert_eq!(c["active"], true);
    assert_eq!(c["group"]["fullPath"], "acme");

    let mut explicit = gcp_variables("acme", "acme-audit-2", "key", "gcp-two");
    explicit["logIdName"] = json!("custom/log.name");
    let two = payload(&root, &gcp_create(), "googleCloudLoggingConfigurationCreate", explicit).await;
    assert_eq!(two["errors"], json!([]));
    assert_eq!(two["googleCloudLoggingConfiguration"]["logIdName"], "custom/log.name");

    // Refusals, in the payload.
    let bad = payload(
        &root,
        &gcp_create_default_log(),
        "googleCloudLoggingConfigurationCreate",
        gcp_variables("acme", "Bad_Project", "key", "bad"),
    )
    .await;
    let message = bad["errors"][0].as_str().unwrap();
    assert!(message.starts_with("Google project id name must only contain lowercase letters"), "{message}");
    assert_eq!(bad["googleCloudLoggingConfiguration"], Value::Null);
    let mut bad_email = gcp_variables("acme", "acme-audit-3", "key", "bad");
    bad_email["clientEmail"] = json!("not-an-email");
    let bad_email = payload(&root, &gcp_create_default_log(), "googleCloudLoggingConfigurationCreate", bad_email).await;
    assert!(bad_email["errors"][0].as_str().unwrap().starts_with("Client email "), "{bad_email}");
    let mut bad_log = gcp_variables("acme", "acme-audit-3", "key", "bad");
    bad_log["logIdName"] = json!("has spaces");
    let bad_log = payload(&root, &gcp_create(), "googleCloudLoggingConfigurationCreate", bad_log).await;
    assert_eq!(
        bad_log["errors"],
        json!(["Log id name must only contain letters, digits, forward-slash, underscore, hyphen or period"])
    );
    let taken = payload(
        &root,
        &gcp_create_default_log(),
        "googleCloudLoggingConfigurationCreate",
        gcp_variables("acme", "acme-audit-3", "key", "gcp-one"),
    )
    .await;
    assert_eq!(taken["errors"], json!(["Name has already been taken"]));
    let sub = payload(
        &root,
        &gcp_create_default_log(),
        "googleCloudLoggingConfigurationCreate",
        gcp_variables("platform/inner", "acme-audit-3", "key", "sub"),
    )
    .await;
    assert_eq!(sub["errors"], json!(["Group must not be a subgroup"]));

    // privateKey is never exposed: selecting it is a GraphQL validation error.
    let private_key = top_level_error(
        &root,
        "query($fullPath: ID!) { group(fullPath: $fullPath) { googleCloudLoggingConfigurations { nodes { id privateKey } } } }",
        json!({"fullPath": "acme"}),
    )
    .await;
    assert!(private_key.contains("privateKey"), "{private_key}");
    assert!(private_key.contains("GoogleCloudLoggingConfigurationType"), "{private_key}");

    let listed = data(&root, &gcp_query(), json!({"fullPath": "acme"})).await;
    let nodes = listed["group"]["googleCloudLoggingConfigurations"]["nodes"].as_array().unwrap().clone();
    assert_eq!(names(&nodes), ["gcp-one", "gcp-two"]);
    assert_eq!(nodes[0]["id"], id.as_str());

    // Update.
    let updated = payload(
        &root,
        &gcp_update(),
        "googleCloudLoggingConfigurationUpdate",
        json!({"id": id, "name": "gcp-renamed", "logIdName": "renamed_log", "privateKey": "new-private-key", "active": false}),
    )
    .await;
    assert_eq!(updated["errors"], json!([]));
    let u = &updated["googleCloudLoggingConfiguration"];
    assert_eq!(u["name"], "gcp-renamed");
    assert_eq!(u["logIdName"], "renamed_log");
    assert_eq!(u["googleProjectIdName"], "acme-audit-1");
    assert_eq!(u["active"], false);
    let bad_update = payload(
        &root,
        &gcp_update(),
        "googleCloudLoggingConfigurationUpdate",
        json!({"id": id, "googleProjectIdName": "1-starts-with-digit"}),
    )
    .await;
    assert!(
        bad_update["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("Google project id name must only contain lowercase letters"),
        "{bad_update}"
    );

    // Destroy.
    let destroyed = payload(&root, GCP_DESTROY, "googleCloudLoggingConfigurationDestroy", json!({"id": id})).await;
    assert_eq!(destroyed["errors"], json!([]));
    let listed = data(&root, &gcp_query(), json!({"fullPath": "acme"})).await;
    assert_eq!(names(listed["group"]["googleCloudLoggingConfigurations"]["nodes"].as_array().unwrap()), ["gcp-two"]);
}

async fn legacy_gcp_instance_configurations(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    // Instance variants.
    let mut instance_vars = gcp_variables("", "inst-audit-1", "instance-private-key", "inst-gcp");
    instance_vars.as_object_mut().unwrap().remove("groupPath");
    let created =
        payload(&root, &instance_gcp_create(), "instanceGoogleCloudLoggingConfigurationCreate", instance_vars.clone())
            .await;
    assert_eq!(created["errors"], json!([]));
    let c = &created["instanceGoogleCloudLoggingConfiguration"];
    let instance_id = c["id"].as_str().unwrap().to_owned();
    assert!(
        instance_id.starts_with("gid://gitlab/AuditEvents::Instance::GoogleCloudLoggingConfiguration/"),
        "{instance_id}"
    );
    assert_eq!(c["logIdName"], "audit_events");
    assert_eq!(c["googleProjectIdName"], "inst-audit-1");
    let listed = data(&root, &instance_gcp_query(), json!({})).await;
    assert_eq!(names(listed["instanceGoogleCloudLoggingConfigurations"]["nodes"].as_array().unwrap()), ["inst-gcp"]);
    let instance_private_key = top_level_error(
        &root,
        "query { instanceGoogleCloudLoggingConfigurations { nodes { id privateKey } } }",
        json!({}),
    )
    .await;
    assert!(instance_private_key.contains("privateKey"), "{instance_private_key}");
    let updated = payload(
        &root,
        &instance_gcp_update(),
        "instanceGoogleCloudLoggingConfigurationUpdate",
        json!({"id": instance_id, "name": "inst-gcp-2", "logIdName": "inst_log"}),
    )
    .await;
    assert_eq!(updated["errors"], json!([]));
    assert_eq!(updated["instanceGoogleCloudLoggingConfiguration"]["name"], "inst-gcp-2");
    assert_eq!(updated["instanceGoogleCloudLoggingConfiguration"]["logIdName"], "inst_log");
    let (_, alice) = user_with_token(&root, "alice", &["api"]).await;
    top_level_error(&alice, &instance_gcp_create(), instance_vars).await;
    top_level_error(&alice, INSTANCE_GCP_DESTROY, json!({"id": instance_id})).await;
    let destroyed = payload(
        &root,
        INSTANCE_GCP_DESTROY,
        "instanceGoogleCloudLoggingConfigurationDestroy",
        json!({"id": instance_id}),
    )
    .await;
    assert_eq!(destroyed["errors"], json!([]));
    let listed = data(&root, &instance_gcp_query(), json!({})).await;
    assert_eq!(listed["instanceGoogleCloudLoggingConfigurations"]["nodes"], json!([]));
}

on_both_backends!(legacy_gcp_group_configurations, legacy_gcp_instance_configurations);
