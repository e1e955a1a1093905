//! GitLab's legacy HTTP destination API over GraphQL: destinations, headers, event-type and
//! namespace filters (group and instance), one model shared with the consolidated API, and
//! authorization of every operation.

use auditrelay_testkit::{Api, Backend, Reply};
use serde_json::{Value, json};

use crate::{create_group, on_both_backends, user_with_token};

const CREATE: &str = "mutation($url: String!, $group: ID!, $name: String, $token: String) {
  externalAuditEventDestinationCreate(input: { destinationUrl: $url, groupPath: $group, name: $name, verificationToken: $token }) {
    errors
    externalAuditEventDestination { id name destinationUrl verificationToken active eventTypeFilters group { fullPath } }
  }
}";

const LIST: &str = "query($group: ID!) {
  group(fullPath: $group) {
    externalAuditEventDestinations {
      nodes { id name destinationUrl verificationToken active eventTypeFilters
              headers { nodes { id key value active } }
              namespaceFilter { id namespace { id fullPath } } }
    }
  }
}";

fn top_level_error(reply: &Reply) -> String {
    reply.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("expected a top-level error: {}", reply.text))
        .to_owned()
}

async fn create(api: &Api, url: &str) -> Value {
    let reply = api.graphql(CREATE, json!({"url": url, "group": "acme"})).await.expect(200);
    assert_eq!(reply.body["data"]["externalAuditEventDestinationCreate"]["errors"], json!([]), "{}", reply.text);
    reply.body["data"]["externalAuditEventDestinationCreate"]["externalAuditEventDestination"].clone()
}

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

async fn headers_and_filters(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let acme = create_group(&root, "acme", None).await;
    create_group(&root, "other", None).await;
    let sub = create_group(&root, "platform", Some(acme)).await;
    root.post("/api/v4/projects", &json!({"name": "web", "namespace_id": sub})).await.expect(201);
    let destination = create(&root, "https://siem.example.com").await;
    let id = destination["id"].as_str().unwrap();

    let add_header =
        "mutation($id: AuditEventsExternalAuditEventDestinationID!, $key: String!, $value: String!, $active: Boolean) {
      auditEventsStreamingHeadersCreate(input: { destinationId: $id, key: $key, value: $value, active: $active }) {
        errors header { id key value active } } }";
    let header = root.graphql(add_header, json!({"id": id, "key": "X-Splunk-Token", "value": "abc"})).await.expect(200);
    let header = &header.body["data"]["auditEventsStreamingHeadersCreate"]["header"];
    assert_eq!(header["active"], true, "active defaults to true");
    let header_id = header["id"].as_str().unwrap().to_owned();
    let inactive =
        root.graphql(add_header, json!({"id": id, "key": "X-Debug", "value": "1", "active": false})).await.expect(200);
    assert_eq!(inactive.body["data"]["auditEventsStreamingHeadersCreate"]["header"]["active"], false);
    for (key, value, message) in [
        ("X-Splunk-Token", "x", "Key has already been taken"),
        ("x-gitlab-event-streaming-token", "x", "Key cannot be X-Gitlab-Event-Streaming-Token"),
        ("X-Long", &"v".repeat(2001)[..], "Value is too long (maximum is 2000 characters)"),
    ] {
        let reply = root.graphql(add_header, json!({"id": id, "key": key, "value": value})).await.expect(200);
        assert_eq!(reply.body["data"]["auditEventsStreamingHeadersCreate"]["errors"], json!([message]));
    }
    for n in 2..20 {
        root.graphql(add_header, json!({"id": id, "key": format!("X-H{n}"), "value": "v"})).await.expect(200);
    }
    let twenty_first = root.graphql(add_header, json!({"id": id, "key": "X-Too-Many", "value": "v"})).await.expect(200);
    assert_eq!(
        twenty_first.body["data"]["auditEventsStreamingHeadersCreate"]["errors"],
        json!(["Headers are limited to 20 per destination"])
    );

    let update_header = "mutation($id: AuditEventsStreamingHeaderID!, $value: String, $active: Boolean) {
      auditEventsStreamingHeadersUpdate(input: { headerId: $id, value: $value, active: $active }) { errors header { key value active } } }";
    let updated =
        root.graphql(update_header, json!({"id": header_id, "value": "def", "active": false})).await.expect(200);
    assert_eq!(
        updated.body["data"]["auditEventsStreamingHeadersUpdate"]["header"],
        json!({"key": "X-Splunk-Token", "value": "def", "active": false})
    );
    let destroy_header = "mutation($id: AuditEventsStreamingHeaderID!) { auditEventsStreamingHeadersDestroy(input: { headerId: $id }) { errors } }";
    assert_eq!(
        root.graphql(destroy_header, json!({"id": header_id})).await.body["data"]["auditEventsStreamingHeadersDestroy"]
            ["errors"],
        json!([])
    );

    // Event-type filters.
    let add_types = "mutation($id: AuditEventsExternalAuditEventDestinationID!, $types: [String!]!) {
      auditEventsStreamingDestinationEventsAdd(input: { destinationId: $id, eventTypeFilters: $types }) { errors eventTypeFilters } }";
    let added = root
        .graphql(add_types, json!({"id": id, "types": ["repository_git_operation", "user_created"]}))
        .await
        .expect(200);
    assert_eq!(
        added.body["data"]["auditEventsStreamingDestinationEventsAdd"]["eventTypeFilters"],
        json!(["repository_git_operation", "user_created"])
    );
    let unknown = root.graphql(add_types, json!({"id": id, "types": ["made_up_event"]})).await.expect(200);
    assert_eq!(
        unknown.body["data"]["auditEventsStreamingDestinationEventsAdd"]["errors"],
        json!(["Validation failed: Audit event type with value made_up_event is undefined."])
    );
    let empty = root.graphql(add_types, json!({"id": id, "types": []})).await;
    assert_eq!(top_level_error(&empty), "event type filters must be present");
    let remove_types = "mutation($id: AuditEventsExternalAuditEventDestinationID!, $types: [String!]!) {
      auditEventsStreamingDestinationEventsRemove(input: { destinationId: $id, eventTypeFilters: $types }) { errors } }";
    let missing = root.graphql(remove_types, json!({"id": id, "types": ["group_created"]})).await.expect(200);
    assert_eq!(
        missing.body["data"]["auditEventsStreamingDestinationEventsRemove"]["errors"],
        json!(["Couldn't find event type filters where audit event type(s): group_created"])
    );
    root.graphql(remove_types, json!({"id": id, "types": ["user_created"]})).await.expect(200);

    // The legacy HTTP namespace filter: one per destination, within the top-level group.
    let add_filter = "mutation($id: AuditEventsExternalAuditEventDestinationID!, $group: ID, $project: ID) {
      auditEventsStreamingHttpNamespaceFiltersAdd(input: { destinationId: $id, groupPath: $group, projectPath: $project }) {
        errors namespaceFilter { id namespace { fullPath } externalAuditEventDestination { id } } } }";
    let outside = root.graphql(add_filter, json!({"id": id, "group": "other"})).await.expect(200);
    assert_eq!(
        outside.body["data"]["auditEventsStreamingHttpNamespaceFiltersAdd"]["errors"],
        json!(["External audit event destination does not belong to the top-level group of the namespace."])
    );
    let bad_path = root.graphql(add_filter, json!({"id": id, "group": "nowhere"})).await;
    assert_eq!(top_level_error(&bad_path), "group_path is invalid");
    let filter = root.graphql(add_filter, json!({"id": id, "project": "acme/platform/web"})).await.expect(200);
    let filter = &filter.body["data"]["auditEventsStreamingHttpNamespaceFiltersAdd"]["namespaceFilter"];
    assert_eq!(filter["namespace"]["fullPath"], "acme/platform/web");
    assert_eq!(filter["externalAuditEventDestination"]["id"], id);
    let second = root.graphql(add_filter, json!({"id": id, "group": "acme/platform"})).await.expect(200);
    assert_eq!(
        second.body["data"]["auditEventsStreamingHttpNamespaceFiltersAdd"]["errors"],
        json!(["External audit event destination has already been taken"])
    );

    let listed = root.graphql(LIST, json!({"group": "acme"})).await.expect(200);
    let node = &listed.body["data"]["group"]["externalAuditEventDestinations"]["nodes"][0];
    assert_eq!(node["eventTypeFilters"], json!(["repository_git_operation"]));
    assert_eq!(node["headers"]["nodes"].as_array().unwrap().len(), 19);
    assert_eq!(node["namespaceFilter"]["namespace"]["fullPath"], "acme/platform/web");

    let delete_filter = "mutation($id: AuditEventsStreamingHTTPNamespaceFilterID!) { auditEventsStreamingHttpNamespaceFiltersDelete(input: { namespaceFilterId: $id }) { errors } }";
    let deleted = root.graphql(delete_filter, json!({"id": filter["id"]})).await.expect(200);
    assert_eq!(deleted.body["data"]["auditEventsStreamingHttpNamespaceFiltersDelete"]["errors"], json!([]));

    let log = root.get("/api/v4/groups/acme/audit_events?per_page=100").await.expect(200);
    let names: Vec<&str> = log.body.as_array().unwrap().iter().map(|e| e["event_name"].as_str().unwrap()).collect();
    for expected in [
        "audit_events_streaming_headers_create",
        "audit_events_streaming_headers_update",
        "audit_events_streaming_headers_destroy",
        "event_type_filters_created",
        "event_type_filters_deleted",
        "create_http_namespace_filter",
        "delete_http_namespace_filter",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
}

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

on_both_backends!(
    legacy_http_destinations,
    active_destination_limit,
    headers_and_filters,
    one_model_for_both_generations,
    instance_legacy_http,
    everyone_but_owners_is_refused,
    event_definitions,
);
