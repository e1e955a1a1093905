//! GitLab's audit-event-streaming GraphQL API (spec §1.5–§1.7): the consolidated group and
//! instance destinations with their event-type and namespace filters, the legacy Google Cloud
//! Logging and Amazon S3 configurations, one model behind both generations, secrets at rest and
//! the audit events the mutations record.

use auditrelay_testkit::{Api, Backend, TestServer};
use serde_json::{Value, json};

use crate::{create_group, on_both_backends, user_with_token};

const RESOURCE_ACCESS_ERROR: &str =
    "The resource that you are attempting to access does not exist or you don't have permission to perform this action";

/// The fields GitLab's UI selects (`streaming_destination.fragment.graphql`).
const DESTINATION_FIELDS: &str =
    "id name category config secretToken eventTypeFilters active namespaceFilters { id namespace { id fullPath } }";

fn group_create() -> String {
    format!(
        "mutation($groupPath: ID!, $category: String!, $config: JSON!, $name: String, $secretToken: String) {{
          groupAuditEventStreamingDestinationsCreate(input: {{
            groupPath: $groupPath, category: $category, config: $config, name: $name, secretToken: $secretToken
          }}) {{
            errors
            externalAuditEventDestination {{ {DESTINATION_FIELDS} group {{ fullPath }} }}
          }}
        }}"
    )
}

fn group_update() -> String {
    format!(
        "mutation($id: AuditEventsGroupExternalStreamingDestinationID!, $config: JSON, $name: String,
                  $category: String, $secretToken: String, $active: Boolean) {{
          groupAuditEventStreamingDestinationsUpdate(input: {{
            id: $id, config: $config, name: $name, category: $category, secretToken: $secretToken, active: $active
          }}) {{
            errors
            externalAuditEventDestination {{ {DESTINATION_FIELDS} }}
          }}
        }}"
    )
}

const GROUP_DELETE: &str = "mutation($id: AuditEventsGroupExternalStreamingDestinationID!) {
  groupAuditEventStreamingDestinationsDelete(input: { id: $id }) { errors }
}";

fn group_destinations_query() -> String {
    format!(
        "query($fullPath: ID!) {{
          group(fullPath: $fullPath) {{ externalAuditEventStreamingDestinations {{ nodes {{ {DESTINATION_FIELDS} }} }} }}
        }}"
    )
}

fn instance_create() -> String {
    format!(
        "mutation($category: String!, $config: JSON!, $name: String, $secretToken: String) {{
          instanceAuditEventStreamingDestinationsCreate(input: {{
            category: $category, config: $config, name: $name, secretToken: $secretToken
          }}) {{
            errors
            externalAuditEventDestination {{ {DESTINATION_FIELDS} }}
          }}
        }}"
    )
}

fn instance_update() -> String {
    format!(
        "mutation($id: AuditEventsInstanceExternalStreamingDestinationID!, $config: JSON, $name: String,
                  $secretToken: String, $active: Boolean) {{
          instanceAuditEventStreamingDestinationsUpdate(input: {{
            id: $id, config: $config, name: $name, secretToken: $secretToken, active: $active
          }}) {{
            errors
            externalAuditEventDestination {{ {DESTINATION_FIELDS} }}
          }}
        }}"
    )
}

const INSTANCE_DELETE: &str = "mutation($id: AuditEventsInstanceExternalStreamingDestinationID!) {
  instanceAuditEventStreamingDestinationsDelete(input: { id: $id }) { errors }
}";

fn instance_destinations_query() -> String {
    format!("query {{ auditEventsInstanceStreamingDestinations {{ nodes {{ {DESTINATION_FIELDS} }} }} }}")
}

const GROUP_EVENTS_ADD: &str =
    "mutation($destinationId: AuditEventsGroupExternalStreamingDestinationID!, $eventTypeFilters: [String!]!) {
  auditEventsGroupDestinationEventsAdd(input: { destinationId: $destinationId, eventTypeFilters: $eventTypeFilters }) {
    errors
    eventTypeFilters
  }
}";

const GROUP_EVENTS_DELETE: &str =
    "mutation($destinationId: AuditEventsGroupExternalStreamingDestinationID!, $eventTypeFilters: [String!]!) {
  auditEventsGroupDestinationEventsDelete(input: { destinationId: $destinationId, eventTypeFilters: $eventTypeFilters }) {
    errors
  }
}";

const GROUP_FILTER_CREATE: &str =
    "mutation($destinationId: AuditEventsGroupExternalStreamingDestinationID!, $namespacePath: String) {
  auditEventsGroupDestinationNamespaceFilterCreate(input: { destinationId: $destinationId, namespacePath: $namespacePath }) {
    errors
    namespaceFilter { id namespace { id fullPath } externalStreamingDestination { id name } }
  }
}";

const GROUP_FILTER_DELETE: &str = "mutation($namespaceFilterId: AuditEventsGroupNamespaceFilterID!) {
  auditEventsGroupDestinationNamespaceFilterDelete(input: { namespaceFilterId: $namespaceFilterId }) { errors }
}";

const INSTANCE_EVENTS_ADD: &str =
    "mutation($destinationId: AuditEventsInstanceExternalStreamingDestinationID!, $eventTypeFilters: [String!]!) {
  auditEventsInstanceDestinationEventsAdd(input: { destinationId: $destinationId, eventTypeFilters: $eventTypeFilters }) {
    errors
    eventTypeFilters
  }
}";

const INSTANCE_EVENTS_DELETE: &str =
    "mutation($destinationId: AuditEventsInstanceExternalStreamingDestinationID!, $eventTypeFilters: [String!]!) {
  auditEventsInstanceDestinationEventsDelete(input: { destinationId: $destinationId, eventTypeFilters: $eventTypeFilters }) {
    errors
  }
}";

const INSTANCE_FILTER_CREATE: &str =
    "mutation($destinationId: AuditEventsInstanceExternalStreamingDestinationID!, $namespacePath: String) {
  auditEventsInstanceDestinationNamespaceFilterCreate(input: { destinationId: $destinationId, namespacePath: $namespacePath }) {
    errors
    namespaceFilter { id namespace { id fullPath } externalStreamingDestination { id name } }
  }
}";

const INSTANCE_FILTER_DELETE: &str = "mutation($namespaceFilterId: AuditEventsInstanceNamespaceFilterID!) {
  auditEventsInstanceDestinationNamespaceFilterDelete(input: { namespaceFilterId: $namespaceFilterId }) { errors }
}";

const GCP_FIELDS: &str = "id name googleProjectIdName clientEmail logIdName active";

fn gcp_create() -> String {
    format!(
        "mutation($groupPath: ID!, $googleProjectIdName: String!, $clientEmail: String!, $privateKey: String!,
                  $logIdName: String!, $name: String) {{
          googleCloudLoggingConfigurationCreate(input: {{
            groupPath: $groupPath, googleProjectIdName: $googleProjectIdName, clientEmail: $clientEmail,
            privateKey: $privateKey, logIdName: $logIdName, name: $name
          }}) {{
            errors
            googleCloudLoggingConfiguration {{ {GCP_FIELDS} group {{ fullPath }} }}
          }}
        }}"
    )
}

/// Like GitLab's docs: `logIdName` left out, so its default applies.
fn gcp_create_default_log() -> String {
    format!(
        "mutation($groupPath: ID!, $googleProjectIdName: String!, $clientEmail: String!, $privateKey: String!,
                  $name: String) {{
          googleCloudLoggingConfigurationCreate(input: {{
            groupPath: $groupPath, googleProjectIdName: $googleProjectIdName, clientEmail: $clientEmail,
            privateKey: $privateKey, name: $name
          }}) {{
            errors
            googleCloudLoggingConfiguration {{ {GCP_FIELDS} group {{ fullPath }} }}
          }}
        }}"
    )
}

fn gcp_update() -> String {
    format!(
        "mutation($id: AuditEventsGoogleCloudLoggingConfigurationID!, $googleProjectIdName: String,
                  $clientEmail: String, $privateKey: String, $logIdName: String, $name: String, $active: Boolean) {{
          googleCloudLoggingConfigurationUpdate(input: {{
            id: $id, googleProjectIdName: $googleProjectIdName, clientEmail: $clientEmail, privateKey: $privateKey,
            logIdName: $logIdName, name: $name, active: $active
          }}) {{
            errors
            googleCloudLoggingConfiguration {{ {GCP_FIELDS} }}
          }}
        }}"
    )
}

const GCP_DESTROY: &str = "mutation($id: AuditEventsGoogleCloudLoggingConfigurationID!) {
  googleCloudLoggingConfigurationDestroy(input: { id: $id }) { errors }
}";

fn gcp_query() -> String {
    format!(
        "query($fullPath: ID!) {{ group(fullPath: $fullPath) {{ googleCloudLoggingConfigurations {{ nodes {{ {GCP_FIELDS} }} }} }} }}"
    )
}

fn instance_gcp_create() -> String {
    format!(
        "mutation($googleProjectIdName: String!, $clientEmail: String!, $privateKey: String!, $name: String) {{
          instanceGoogleCloudLoggingConfigurationCreate(input: {{
            googleProjectIdName: $googleProjectIdName, clientEmail: $clientEmail, privateKey: $privateKey, name: $name
          }}) {{
            errors
            instanceGoogleCloudLoggingConfiguration {{ {GCP_FIELDS} }}
          }}
        }}"
    )
}

fn instance_gcp_update() -> String {
    format!(
        "mutation($id: AuditEventsInstanceGoogleCloudLoggingConfigurationID!, $logIdName: String, $name: String,
                  $active: Boolean) {{
          instanceGoogleCloudLoggingConfigurationUpdate(input: {{
            id: $id, logIdName: $logIdName, name: $name, active: $active
          }}) {{
            errors
            instanceGoogleCloudLoggingConfiguration {{ {GCP_FIELDS} }}
          }}
        }}"
    )
}

const INSTANCE_GCP_DESTROY: &str = "mutation($id: AuditEventsInstanceGoogleCloudLoggingConfigurationID!) {
  instanceGoogleCloudLoggingConfigurationDestroy(input: { id: $id }) { errors }
}";

fn instance_gcp_query() -> String {
    format!("query {{ instanceGoogleCloudLoggingConfigurations {{ nodes {{ {GCP_FIELDS} }} }} }}")
}

const S3_FIELDS: &str = "id name accessKeyXid bucketName awsRegion active";

fn s3_create() -> String {
    format!(
        "mutation($groupPath: ID!, $accessKeyXid: String!, $secretAccessKey: String!, $bucketName: String!,
                  $awsRegion: String!, $name: String) {{
          auditEventsAmazonS3ConfigurationCreate(input: {{
            groupPath: $groupPath, accessKeyXid: $accessKeyXid, secretAccessKey: $secretAccessKey,
            bucketName: $bucketName, awsRegion: $awsRegion, name: $name
          }}) {{
            errors
            amazonS3Configuration {{ {S3_FIELDS} group {{ fullPath }} }}
          }}
        }}"
    )
}

fn s3_update() -> String {
    format!(
        "mutation($id: AuditEventsAmazonS3ConfigurationID!, $accessKeyXid: String, $secretAccessKey: String,
                  $bucketName: String, $awsRegion: String, $name: String, $active: Boolean) {{
          auditEventsAmazonS3ConfigurationUpdate(input: {{
            id: $id, accessKeyXid: $accessKeyXid, secretAccessKey: $secretAccessKey, bucketName: $bucketName,
            awsRegion: $awsRegion, name: $name, active: $active
          }}) {{
            errors
            amazonS3Configuration {{ {S3_FIELDS} }}
          }}
        }}"
    )
}

const S3_DELETE: &str = "mutation($id: AuditEventsAmazonS3ConfigurationID!) {
  auditEventsAmazonS3ConfigurationDelete(input: { id: $id }) { errors }
}";

fn s3_query() -> String {
    format!(
        "query($fullPath: ID!) {{ group(fullPath: $fullPath) {{ amazonS3Configurations {{ nodes {{ {S3_FIELDS} }} }} }} }}"
    )
}

fn instance_s3_create() -> String {
    format!(
        "mutation($accessKeyXid: String!, $secretAccessKey: String!, $bucketName: String!, $awsRegion: String!,
                  $name: String) {{
          auditEventsInstanceAmazonS3ConfigurationCreate(input: {{
            accessKeyXid: $accessKeyXid, secretAccessKey: $secretAccessKey, bucketName: $bucketName,
            awsRegion: $awsRegion, name: $name
          }}) {{
            errors
            instanceAmazonS3Configuration {{ {S3_FIELDS} }}
          }}
        }}"
    )
}

fn instance_s3_update() -> String {
    format!(
        "mutation($id: AuditEventsInstanceAmazonS3ConfigurationID!, $awsRegion: String, $name: String,
                  $active: Boolean) {{
          auditEventsInstanceAmazonS3ConfigurationUpdate(input: {{
            id: $id, awsRegion: $awsRegion, name: $name, active: $active
          }}) {{
            errors
            instanceAmazonS3Configuration {{ {S3_FIELDS} }}
          }}
        }}"
    )
}

const INSTANCE_S3_DELETE: &str = "mutation($id: AuditEventsInstanceAmazonS3ConfigurationID!) {
  auditEventsInstanceAmazonS3ConfigurationDelete(input: { id: $id }) { errors }
}";

fn instance_s3_query() -> String {
    format!("query {{ auditEventsInstanceAmazonS3Configurations {{ nodes {{ {S3_FIELDS} }} }} }}")
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// Runs a document that must succeed (no top-level `errors`); returns `data`.
async fn data(api: &Api, query: &str, variables: Value) -> Value {
    let reply = api.graphql(query, variables).await.expect(200);
    assert!(reply.body.get("errors").is_none(), "unexpected GraphQL errors: {}", reply.text);
    reply.body["data"].clone()
}

/// Runs a document that must fail with top-level `errors`; returns the first message.
async fn top_level_error(api: &Api, query: &str, variables: Value) -> String {
    let reply = api.graphql(query, variables).await;
    let message = reply.body["errors"][0]["message"].as_str();
    assert!(message.is_some(), "expected top-level GraphQL errors (status {}): {}", reply.status, reply.text);
    message.unwrap().to_owned()
}

/// A mutation's payload, by field name.
async fn payload(api: &Api, query: &str, field: &str, variables: Value) -> Value {
    data(api, query, variables).await[field].clone()
}

async fn create_group_destination(api: &Api, variables: Value) -> Value {
    payload(api, &group_create(), "groupAuditEventStreamingDestinationsCreate", variables).await
}

async fn update_group_destination(api: &Api, variables: Value) -> Value {
    payload(api, &group_update(), "groupAuditEventStreamingDestinationsUpdate", variables).await
}

/// Creates an HTTP destination that must succeed; returns the destination.
async fn http_destination(api: &Api, group: &str, url: &str, name: &str) -> Value {
    let created = create_group_destination(
        api,
        json!({"groupPath": group, "category": "http", "config": {"url": url}, "name": name}),
    )
    .await;
    assert_eq!(created["errors"], json!([]), "{created}");
    created["externalAuditEventDestination"].clone()
}

async fn group_destinations(api: &Api, group: &str) -> Vec<Value> {
    let data = data(api, &group_destinations_query(), json!({"fullPath": group})).await;
    data["group"]["externalAuditEventStreamingDestinations"]["nodes"].as_array().unwrap().clone()
}

async fn instance_destinations(api: &Api) -> Vec<Value> {
    let data = data(api, &instance_destinations_query(), json!({})).await;
    data["auditEventsInstanceStreamingDestinations"]["nodes"].as_array().unwrap().clone()
}

fn gcp_variables(group: &str, project: &str, private_key: &str, name: &str) -> Value {
    json!({
        "groupPath": group,
        "googleProjectIdName": project,
        "clientEmail": format!("audit@{project}.iam.gserviceaccount.com"),
        "privateKey": private_key,
        "name": name,
    })
}

fn s3_variables(group: &str, bucket: &str, secret: &str, name: &str) -> Value {
    json!({
        "groupPath": group,
        "accessKeyXid": "AKIAIOSFODNN7EXAMPLE",
        "secretAccessKey": secret,
        "bucketName": bucket,
        "awsRegion": "eu-west-1",
        "name": name,
    })
}

fn sorted(list: &Value) -> Vec<String> {
    let mut items: Vec<String> =
        list.as_array().expect("a list").iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    items.sort();
    items
}

fn names(nodes: &[Value]) -> Vec<&str> {
    nodes.iter().map(|n| n["name"].as_str().unwrap()).collect()
}

/// `event_name` of every audit event the instance API lists, newest first.
async fn event_names(root: &Api) -> Vec<String> {
    let events = root.get("/api/v4/audit_events?per_page=100").await.expect(200);
    events.body.as_array().unwrap().iter().map(|e| e["event_name"].as_str().unwrap().to_owned()).collect()
}

fn count(names: &[String], name: &str) -> usize {
    names.iter().filter(|n| *n == name).count()
}

async fn create_project(api: &Api, path: &str, namespace_id: i64) -> i64 {
    let project = api
        .post("/api/v4/projects", &json!({"name": path, "path": path, "namespace_id": namespace_id}))
        .await
        .expect(201);
    project.body["id"].as_i64().unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. Consolidated group destinations

async fn group_http_destinations(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (_, alice) = user_with_token(&root, "alice", &["api"]).await;
    let acme = create_group(&alice, "acme", None).await;
    create_group(&alice, "platform", Some(acme)).await;

    // Without secretToken, a 24-character token is generated.
    let created = create_group_destination(
        &alice,
        json!({"groupPath": "acme", "category": "http", "config": {"url": "https://siem.example.com/ingest"}, "name": "siem"}),
    )
    .await;
    assert_eq!(created["errors"], json!([]));
    let siem = &created["externalAuditEventDestination"];
    let siem_id = siem["id"].as_str().unwrap().to_owned();
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
    let collector = &with_token["externalAuditEventDestination"];
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

    // The group's list, as the UI queries it.
    let nodes = group_destinations(&alice, "acme").await;
    assert_eq!(nodes.len(), 4);
    let listed = nodes.iter().find(|n| n["id"] == siem_id.as_str()).unwrap();
    assert_eq!(listed["secretToken"], siem["secretToken"]);
    assert_eq!(listed["config"], siem["config"]);
    let listed = nodes.iter().find(|n| n["name"] == "collector").unwrap();
    assert_eq!(listed["config"], config);

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
    let new_config =
        json!({"url": "https://siem.example.com/v2", "headers": {"X-Env": {"value": "prod", "active": true}}});
    let reconfigured = update_group_destination(&alice, json!({"id": siem_id, "config": new_config})).await;
    assert_eq!(reconfigured["errors"], json!([]));
    assert_eq!(reconfigured["externalAuditEventDestination"]["config"], new_config);
    assert_eq!(reconfigured["externalAuditEventDestination"]["name"], "siem-2");
    assert_eq!(reconfigured["externalAuditEventDestination"]["secretToken"], "new-secret-token-1234");

    // Delete.
    let deleted =
        payload(&alice, GROUP_DELETE, "groupAuditEventStreamingDestinationsDelete", json!({"id": siem_id})).await;
    assert_eq!(deleted["errors"], json!([]));
    let nodes = group_destinations(&alice, "acme").await;
    assert_eq!(nodes.len(), 3);
    assert!(nodes.iter().all(|n| n["id"] != siem_id.as_str()));
    let again = top_level_error(&alice, GROUP_DELETE, json!({"id": siem_id})).await;
    assert_eq!(again, RESOURCE_ACCESS_ERROR);
}

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

// ---------------------------------------------------------------------------------------------
// 2. Event type filters

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

// ---------------------------------------------------------------------------------------------
// 4. Instance destinations

async fn instance_streaming_destinations(backend: Backend) {
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
    assert!(!listed.text.contains("siem-2"), "a non-admin must not see instance destinations: {}", listed.text);
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

// ---------------------------------------------------------------------------------------------
// 5. Legacy Google Cloud Logging

async fn legacy_gcp_configurations(backend: Backend) {
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

// ---------------------------------------------------------------------------------------------
// 6. Legacy Amazon S3

async fn legacy_s3_configurations(backend: Backend) {
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

// ---------------------------------------------------------------------------------------------
// 7. One model behind both generations

async fn one_model_behind_both_apis(backend: Backend) {
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

    // The same at instance level.
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
    // Group destinations and instance destinations stay apart.
    assert_eq!(group_destinations(&root, "acme").await.len(), 3);
}

// ---------------------------------------------------------------------------------------------
// 8. Secrets at rest

const GCP_SECRET: &str = "-----BEGIN PRIVATE KEY-----secretvalue123";
const AWS_SECRET: &str = "aws-secret-value-123456";

async fn secrets_are_encrypted_at_rest(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    create_group(&root, "acme", None).await;
    let gcp = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "gcp", "secretToken": GCP_SECRET,
               "config": {"googleProjectIdName": "acme-audit", "clientEmail": "sa@example.com"}}),
    )
    .await;
    assert_eq!(gcp["errors"], json!([]));
    let aws = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "aws", "secretToken": AWS_SECRET,
               "config": {"accessKeyXid": "AKIAIOSFODNN7EXAMPLE", "bucketName": "acme-audit", "awsRegion": "eu-west-1"}}),
    )
    .await;
    assert_eq!(aws["errors"], json!([]));
    let legacy_gcp = payload(
        &root,
        &gcp_create_default_log(),
        "googleCloudLoggingConfigurationCreate",
        gcp_variables("acme", "acme-legacy", &format!("{GCP_SECRET}-legacy"), "legacy-gcp"),
    )
    .await;
    assert_eq!(legacy_gcp["errors"], json!([]));
    let legacy_s3 = payload(
        &root,
        &s3_create(),
        "auditEventsAmazonS3ConfigurationCreate",
        s3_variables("acme", "acme-legacy", &format!("{AWS_SECRET}-legacy"), "legacy-s3"),
    )
    .await;
    assert_eq!(legacy_s3["errors"], json!([]));
    let http = create_group_destination(
        &root,
        json!({"groupPath": "acme", "category": "http", "secretToken": "http-token-abcdef-123", "config": {"url": "https://siem.example.com"}}),
    )
    .await;
    assert_eq!(http["errors"], json!([]));
    // The secrets are not echoed back by any API either.
    let everything = root.graphql(&group_destinations_query(), json!({"fullPath": "acme"})).await;
    assert!(
        !everything.text.contains("secretvalue123") && !everything.text.contains(AWS_SECRET),
        "{}",
        everything.text
    );
    let secrets = [GCP_SECRET.as_bytes(), AWS_SECRET.as_bytes(), b"secretvalue123", b"http-token-abcdef-123"];

    match backend {
        Backend::Sqlite => assert_sqlite_free_of(&server, &secrets),
        Backend::Postgres => assert_postgres_free_of(&server, &secrets),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_sqlite_free_of(server: &TestServer, secrets: &[&[u8]]) {
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&server.data_dir).expect("data dir") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("auditrelay.db") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read database file");
        for secret in secrets {
            assert!(!contains(&bytes, secret), "{name} holds the plain secret {}", String::from_utf8_lossy(secret));
        }
        checked.push(name);
    }
    assert!(
        checked.iter().any(|n| n == "auditrelay.db"),
        "no database file in {}: {checked:?}",
        server.data_dir.display()
    );
}

fn psql(url: &str, sql: &str) -> String {
    let output = std::process::Command::new("psql").arg(url).args(["-Atc", sql]).output().expect("run psql");
    assert!(output.status.success(), "psql failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn assert_postgres_free_of(server: &TestServer, secrets: &[&[u8]]) {
    let url = server.database_url.as_deref().expect("a PostgreSQL server has a database URL");
    let stored = psql(url, "select secret from destinations");
    let values: Vec<&str> = stored.lines().collect();
    assert_eq!(values.len(), 5, "{stored}");
    assert!(values.iter().all(|v| v.starts_with("v1:")), "every secret is sealed: {stored}");
    // Every column of every destination and header row, as text.
    let rows = psql(url, "select d::text from destinations d union all select h::text from destination_headers h");
    for secret in secrets {
        let secret = std::str::from_utf8(secret).unwrap();
        assert!(!stored.contains(secret), "secret column holds {secret}");
        assert!(!rows.contains(secret), "a destination row holds {secret}: {rows}");
    }
}

// ---------------------------------------------------------------------------------------------
// 9. Audit events of the mutations

async fn mutations_record_audit_events(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let acme = create_group(&root, "acme", None).await;
    create_group(&root, "platform", Some(acme)).await;

    let d = http_destination(&root, "acme", "https://siem.example.com", "siem").await;
    let id = d["id"].as_str().unwrap();
    // Two changed columns → two events; an update that changes nothing → none.
    let updated =
        update_group_destination(&root, json!({"id": id, "name": "siem-2", "secretToken": "another-token-12345"}))
            .await;
    assert_eq!(updated["errors"], json!([]));
    let same = update_group_destination(
        &root,
        json!({"id": id, "name": "siem-2", "config": {"url": "https://siem.example.com"}}),
    )
    .await;
    assert_eq!(same["errors"], json!([]));
    let paused = update_group_destination(&root, json!({"id": id, "active": false})).await;
    assert_eq!(paused["errors"], json!([]));
    // A refused change records nothing.
    let refused = update_group_destination(&root, json!({"id": id, "secretToken": "short"})).await;
    assert_eq!(refused["errors"].as_array().unwrap().len(), 1);

    let added = payload(
        &root,
        GROUP_EVENTS_ADD,
        "auditEventsGroupDestinationEventsAdd",
        json!({"destinationId": id, "eventTypeFilters": ["user_created"]}),
    )
    .await;
    assert_eq!(added["errors"], json!([]));
    let filter = payload(
        &root,
        GROUP_FILTER_CREATE,
        "auditEventsGroupDestinationNamespaceFilterCreate",
        json!({"destinationId": id, "namespacePath": "acme/platform"}),
    )
    .await;
    assert_eq!(filter["errors"], json!([]));
    let filter_deleted = payload(
        &root,
        GROUP_FILTER_DELETE,
        "auditEventsGroupDestinationNamespaceFilterDelete",
        json!({"namespaceFilterId": filter["namespaceFilter"]["id"]}),
    )
    .await;
    assert_eq!(filter_deleted["errors"], json!([]));
    let deleted = payload(&root, GROUP_DELETE, "groupAuditEventStreamingDestinationsDelete", json!({"id": id})).await;
    assert_eq!(deleted["errors"], json!([]));

    let gcp = payload(
        &root,
        &gcp_create_default_log(),
        "googleCloudLoggingConfigurationCreate",
        gcp_variables("acme", "acme-audit", "key", "gcp"),
    )
    .await;
    assert_eq!(gcp["errors"], json!([]));
    let s3 = payload(
        &root,
        &s3_create(),
        "auditEventsAmazonS3ConfigurationCreate",
        s3_variables("acme", "acme-audit", "key", "s3"),
    )
    .await;
    assert_eq!(s3["errors"], json!([]));

    // Instance variants.
    let instance = payload(
        &root,
        &instance_create(),
        "instanceAuditEventStreamingDestinationsCreate",
        json!({"category": "http", "config": {"url": "https://instance.example.com"}, "name": "inst"}),
    )
    .await;
    assert_eq!(instance["errors"], json!([]));
    let instance_id = instance["externalAuditEventDestination"]["id"].as_str().unwrap();
    let renamed = payload(
        &root,
        &instance_update(),
        "instanceAuditEventStreamingDestinationsUpdate",
        json!({"id": instance_id, "name": "inst-2"}),
    )
    .await;
    assert_eq!(renamed["errors"], json!([]));
    let instance_filter = payload(
        &root,
        INSTANCE_FILTER_CREATE,
        "auditEventsInstanceDestinationNamespaceFilterCreate",
        json!({"destinationId": instance_id, "namespacePath": "acme"}),
    )
    .await;
    assert_eq!(instance_filter["errors"], json!([]));
    let instance_deleted =
        payload(&root, INSTANCE_DELETE, "instanceAuditEventStreamingDestinationsDelete", json!({"id": instance_id}))
            .await;
    assert_eq!(instance_deleted["errors"], json!([]));
    let mut vars = gcp_variables("", "inst-audit", "key", "inst-gcp");
    vars.as_object_mut().unwrap().remove("groupPath");
    assert_eq!(
        payload(&root, &instance_gcp_create(), "instanceGoogleCloudLoggingConfigurationCreate", vars).await["errors"],
        json!([])
    );
    let mut vars = s3_variables("", "inst-audit", "key", "inst-s3");
    vars.as_object_mut().unwrap().remove("groupPath");
    assert_eq!(
        payload(&root, &instance_s3_create(), "auditEventsInstanceAmazonS3ConfigurationCreate", vars).await["errors"],
        json!([])
    );

    let names = event_names(&root).await;
    for (name, expected) in [
        ("created_group_audit_event_streaming_destination", 1),
        // name, secret_token, then active.
        ("updated_group_audit_event_streaming_destination", 3),
        ("deleted_group_audit_event_streaming_destination", 1),
        ("event_type_filters_created", 1),
        ("created_group_namespace_filter", 1),
        ("deleted_group_namespace_filter", 1),
        ("google_cloud_logging_configuration_created", 1),
        ("amazon_s3_configuration_created", 1),
        ("created_instance_audit_event_streaming_destination", 1),
        ("updated_instance_audit_event_streaming_destination", 1),
        ("created_instance_namespace_filter", 1),
        ("deleted_instance_audit_event_streaming_destination", 1),
        ("instance_google_cloud_logging_configuration_created", 1),
        ("instance_amazon_s3_configuration_created", 1),
    ] {
        assert_eq!(count(&names, name), expected, "{name} in {names:?}");
    }

    // Group events are about the group; instance events about the instance.
    let events = root.get("/api/v4/audit_events?per_page=100").await.expect(200);
    let events = events.body.as_array().unwrap();
    let created = events.iter().find(|e| e["event_name"] == "created_group_audit_event_streaming_destination").unwrap();
    assert_eq!(created["entity_type"], "Group");
    assert_eq!(created["entity_id"], acme);
    let instance_created =
        events.iter().find(|e| e["event_name"] == "created_instance_audit_event_streaming_destination").unwrap();
    assert_eq!(instance_created["entity_type"], "Gitlab::Audit::InstanceScope");
}

on_both_backends!(
    group_http_destinations,
    group_gcp_and_aws_destinations,
    local_urls_need_the_admin_setting,
    active_destination_limit,
    group_event_type_filters,
    group_namespace_filters,
    instance_streaming_destinations,
    legacy_gcp_configurations,
    legacy_s3_configurations,
    one_model_behind_both_apis,
    secrets_are_encrypted_at_rest,
    mutations_record_audit_events,
);
