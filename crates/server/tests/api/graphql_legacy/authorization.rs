//! Who may do what: everyone but Owners is refused; the event definitions and the explorer.

use auditrelay_testkit::Backend;
use serde_json::json;

use super::*;
use crate::{create_group, on_both_backends, user_with_token};

/// Every mutation and query, as an anonymous caller, a Developer of the group, and the Owner of
/// another group: each is refused and nothing of the group's streaming setup leaks or changes.
async fn everyone_but_owners_is_refused(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (_, owner) = user_with_token(&root, "owner", &["api"]).await;
    let (dev_id, developer) = user_with_token(&root, "dev", &["api"]).await;
    let (_, stranger) = user_with_token(&root, "stranger", &["api"]).await;
    let acme = create_group(&owner, "acme", None).await;
    create_group(&stranger, "elsewhere", None).await;
    owner
        .post(&format!("/api/v4/groups/{acme}/members"), &json!({"user_id": dev_id, "access_level": 40}))
        .await
        .expect(201);

    // The owner's setup, and the instance's.
    let d = create(&owner, "https://siem.example.com").await;
    let id = d["id"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let header = owner
        .graphql(&format!("mutation {{ auditEventsStreamingHeadersCreate(input: {{ destinationId: \"gid://gitlab/AuditEvents::ExternalAuditEventDestination/{id}\", key: \"X-A\", value: \"1\" }}) {{ header {{ id }} }} }}"), json!({}))
        .await;
    let header_id = header.body["data"]["auditEventsStreamingHeadersCreate"]["header"]["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    root.graphql("mutation { instanceExternalAuditEventDestinationCreate(input: { destinationUrl: \"https://i.example.com\" }) { errors } }", json!({})).await.expect(200);
    let before = owner.graphql(LIST, json!({"group": "acme"})).await.expect(200).body;

    let g = |class: &str, n: &str| format!("\\\"gid://gitlab/{class}/{n}\\\"");
    let dest = g("AuditEvents::ExternalAuditEventDestination", &id);
    let consolidated = g("AuditEvents::Group::ExternalStreamingDestination", &id);
    let operations: Vec<String> = vec![
        "mutation { externalAuditEventDestinationCreate(input: { destinationUrl: \"https://x.example.com\", groupPath: \"acme\" }) { errors } }".into(),
        format!("mutation {{ externalAuditEventDestinationUpdate(input: {{ id: {dest}, name: \"pwned\" }}) {{ errors }} }}"),
        format!("mutation {{ externalAuditEventDestinationDestroy(input: {{ id: {dest} }}) {{ errors }} }}"),
        format!("mutation {{ auditEventsStreamingHeadersCreate(input: {{ destinationId: {dest}, key: \"X-B\", value: \"1\" }}) {{ errors }} }}"),
        format!("mutation {{ auditEventsStreamingHeadersUpdate(input: {{ headerId: {}, value: \"2\" }}) {{ errors }} }}", g("AuditEvents::Streaming::Header", &header_id)),
        format!("mutation {{ auditEventsStreamingHeadersDestroy(input: {{ headerId: {} }}) {{ errors }} }}", g("AuditEvents::Streaming::Header", &header_id)),
        format!("mutation {{ auditEventsStreamingDestinationEventsAdd(input: {{ destinationId: {dest}, eventTypeFilters: [\"user_created\"] }}) {{ errors }} }}"),
        format!("mutation {{ auditEventsStreamingDestinationEventsRemove(input: {{ destinationId: {dest}, eventTypeFilters: [\"user_created\"] }}) {{ errors }} }}"),
        format!("mutation {{ auditEventsStreamingHttpNamespaceFiltersAdd(input: {{ destinationId: {dest}, groupPath: \"acme\" }}) {{ errors }} }}"),
        "mutation { googleCloudLoggingConfigurationCreate(input: { groupPath: \"acme\", googleProjectIdName: \"my-project\", clientEmail: \"a@b.example\", privateKey: \"k\" }) { errors } }".into(),
        "mutation { auditEventsAmazonS3ConfigurationCreate(input: { groupPath: \"acme\", accessKeyXid: \"AKIAIOSFODNN7EXAMPLE\", secretAccessKey: \"s\", bucketName: \"b\", awsRegion: \"r\" }) { errors } }".into(),
        "mutation { groupAuditEventStreamingDestinationsCreate(input: { groupPath: \"acme\", category: \"http\", config: { url: \"https://y.example.com\" } }) { errors } }".into(),
        format!("mutation {{ groupAuditEventStreamingDestinationsUpdate(input: {{ id: {consolidated}, name: \"pwned\" }}) {{ errors }} }}"),
        format!("mutation {{ groupAuditEventStreamingDestinationsDelete(input: {{ id: {consolidated} }}) {{ errors }} }}"),
        format!("mutation {{ auditEventsGroupDestinationEventsAdd(input: {{ destinationId: {consolidated}, eventTypeFilters: [\"user_created\"] }}) {{ errors }} }}"),
        format!("mutation {{ auditEventsGroupDestinationNamespaceFilterCreate(input: {{ destinationId: {consolidated}, namespacePath: \"acme\" }}) {{ errors }} }}"),
        "mutation { instanceExternalAuditEventDestinationCreate(input: { destinationUrl: \"https://z.example.com\" }) { errors } }".into(),
        "mutation { instanceAuditEventStreamingDestinationsCreate(input: { category: \"http\", config: { url: \"https://z.example.com\" } }) { errors } }".into(),
        "mutation { instanceGoogleCloudLoggingConfigurationCreate(input: { googleProjectIdName: \"my-project\", clientEmail: \"a@b.example\", privateKey: \"k\" }) { errors } }".into(),
        "mutation { auditEventsInstanceAmazonS3ConfigurationCreate(input: { accessKeyXid: \"AKIAIOSFODNN7EXAMPLE\", secretAccessKey: \"s\", bucketName: \"b\", awsRegion: \"r\" }) { errors } }".into(),
        "query { instanceExternalAuditEventDestinations { nodes { id verificationToken } } }".into(),
        "query { auditEventsInstanceStreamingDestinations { nodes { id secretToken } } }".into(),
        "query { instanceGoogleCloudLoggingConfigurations { nodes { id } } }".into(),
        "query { auditEventsInstanceAmazonS3Configurations { nodes { id } } }".into(),
        "query { group(fullPath: \"acme\") { externalAuditEventDestinations { nodes { verificationToken } } } }".into(),
        "query { group(fullPath: \"acme\") { externalAuditEventStreamingDestinations { nodes { secretToken } } } }".into(),
        "query { group(fullPath: \"acme\") { googleCloudLoggingConfigurations { nodes { id } } } }".into(),
        "query { group(fullPath: \"acme\") { amazonS3Configurations { nodes { id } } } }".into(),
    ];
    let anonymous = server.api(None);
    for (who, api) in [("anonymous", &anonymous), ("developer", &developer), ("other group's owner", &stranger)] {
        for operation in &operations {
            let reply = api.graphql(&operation.replace("\\\"", "\""), json!({})).await;
            assert_eq!(reply.status, 200, "{who}: {operation}");
            let data_leaked = reply.text.contains("siem.example.com")
                || reply.text.contains(d["verificationToken"].as_str().unwrap());
            assert!(!data_leaked, "{who} saw the destination: {operation} → {}", reply.text);
            let group_hidden = reply.body["data"]["group"].is_null() && operation.starts_with("query { group");
            assert!(
                group_hidden || reply.body["errors"].is_array(),
                "{who} was not refused: {operation} → {}",
                reply.text
            );
        }
    }
    let after = owner.graphql(LIST, json!({"group": "acme"})).await.expect(200).body;
    assert_eq!(before, after, "nothing changed");
    let instance = root.graphql("query { instanceExternalAuditEventDestinations { nodes { id } } auditEventsInstanceStreamingDestinations { nodes { id } } }", json!({})).await.expect(200);
    assert_eq!(instance.body["data"]["instanceExternalAuditEventDestinations"]["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(instance.body["data"]["auditEventsInstanceStreamingDestinations"]["nodes"].as_array().unwrap().len(), 1);
    // An invalid token is refused outright.
    let bad = server.api(Some("glpat-invalid")).graphql("query { currentUser { username } }", json!({})).await;
    assert_eq!(bad.status, 401);
}

async fn event_definitions(backend: Backend) {
    let server = crate::server(backend).await;
    let reply = server
        .root()
        .graphql(
            "query { auditEventDefinitions { nodes { name featureCategory savedToDatabase streamed } } }",
            json!({}),
        )
        .await
        .expect(200);
    let nodes = reply.body["data"]["auditEventDefinitions"]["nodes"].as_array().unwrap();
    assert!(nodes.len() > 500);
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    for expected in [
        "repository_git_operation",
        "ai_tool_invoked",
        "ai_llm_response_received",
        "user_created",
        "application_setting_updated",
    ] {
        assert!(names.contains(&expected), "{expected}");
    }
    assert!(nodes.iter().all(|n| n["streamed"] == true));
    let explorer = reqwest::get(format!("{}/-/graphql-explorer", server.base)).await.unwrap();
    assert_eq!(explorer.status(), 200);
    let page = explorer.text().await.unwrap();
    assert!(
        page.contains("externalAuditEventDestinationCreate") && !page.contains("cdn"),
        "served whole by the binary"
    );
}

on_both_backends!(everyone_but_owners_is_refused, event_definitions);
