//! GraphQL as GitLab's docs, UI and clients use it: the documented destination list and
//! namespace-filter documents with `fullName`, `Group.fullName`/`webUrl`, `currentUser`,
//! queries over `GET /api/graphql`, mutations refused over GET, `config` as a JSON string.

use auditrelay_testkit::Backend;
use serde_json::{Value, json};

use crate::delivery::allow_local;
use crate::{on_both_backends, user_with_token};

/// GitLab's documented consolidated destination list, selecting the UI fragment's fields
/// (`reference/gitlab-streaming.md` §1.7) with the namespace's `fullName`.
const DESTINATIONS_LIST: &str = r#"query {
  group(fullPath: "acme") {
    id
    fullName
    webUrl
    externalAuditEventStreamingDestinations {
      nodes {
        id
        name
        category
        config
        secretToken
        eventTypeFilters
        active
        namespaceFilters {
          id
          namespace {
            id
            name
            fullName
            fullPath
          }
        }
      }
    }
  }
}"#;

/// GitLab's documented namespace filter create for a consolidated group destination.
const NAMESPACE_FILTER_CREATE: &str = r#"mutation($destinationId: AuditEventsGroupExternalStreamingDestinationID!) {
  auditEventsGroupDestinationNamespaceFilterCreate(input: {
    destinationId: $destinationId,
    namespacePath: "acme/web-team/site"
  }) {
    errors
    namespaceFilter {
      id
      namespace {
        id
        name
        fullName
      }
    }
  }
}"#;

/// GitLab's documented legacy HTTP namespace filter add.
const LEGACY_NAMESPACE_FILTER_ADD: &str = r#"mutation($destinationId: AuditEventsExternalAuditEventDestinationID!) {
  auditEventsStreamingHttpNamespaceFiltersAdd(input: {
    destinationId: $destinationId,
    groupPath: "acme/web-team"
  }) {
    errors
    namespaceFilter {
      id
      namespace {
        id
        name
        fullName
      }
    }
  }
}"#;

const CURRENT_USER: &str = "query { currentUser { id username name webUrl } }";

fn data(reply: auditrelay_testkit::Reply) -> Value {
    let reply = reply.expect(200);
    assert!(reply.body.get("errors").is_none(), "{}", reply.text);
    reply.body["data"].clone()
}

async fn gitlabs_documented_graphql_runs(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    allow_local(&root).await;
    let acme = root.post("/api/v4/groups", &json!({"name": "Acme Corp", "path": "acme"})).await.expect(201);
    let acme = acme.body["id"].as_i64().unwrap();
    let web = root.post("/api/v4/groups", &json!({"name": "Web Team", "path": "web-team", "parent_id": acme})).await;
    let web = web.expect(201).body["id"].as_i64().unwrap();
    root.post("/api/v4/projects", &json!({"name": "Site", "path": "site", "namespace_id": web})).await.expect(201);

    // The consolidated create, `config` given as a JSON string (as a variable and inline).
    let create = "mutation($config: JSON!) { groupAuditEventStreamingDestinationsCreate(input: { groupPath: \"acme\", category: \"http\", config: $config }) { errors externalAuditEventDestination { id config } } }";
    let as_string = json!({"config": json!({"url": "http://127.0.0.1:9/as-string"}).to_string()});
    let created = data(root.graphql(create, as_string).await);
    let created = &created["groupAuditEventStreamingDestinationsCreate"];
    assert_eq!(created["errors"], json!([]), "{created}");
    assert_eq!(created["externalAuditEventDestination"]["config"]["url"], "http://127.0.0.1:9/as-string");
    let destination = created["externalAuditEventDestination"]["id"].clone();
    let inline = r#"mutation { groupAuditEventStreamingDestinationsCreate(input: { groupPath: "acme", category: "http", config: "{\"url\": \"http://127.0.0.1:9/inline\"}" }) { errors } }"#;
    assert_eq!(
        data(root.graphql(inline, json!({})).await)["groupAuditEventStreamingDestinationsCreate"]["errors"],
        json!([])
    );
    let object = json!({"config": {"url": "http://127.0.0.1:9/object"}});
    assert_eq!(
        data(root.graphql(create, object).await)["groupAuditEventStreamingDestinationsCreate"]["errors"],
        json!([])
    );
    let not_a_hash = data(root.graphql(create, json!({"config": "[1]"})).await);
    assert_eq!(not_a_hash["groupAuditEventStreamingDestinationsCreate"]["errors"], json!(["Config must be a hash"]));

    let filter = data(root.graphql(NAMESPACE_FILTER_CREATE, json!({"destinationId": destination})).await);
    let filter = &filter["auditEventsGroupDestinationNamespaceFilterCreate"];
    assert_eq!(filter["errors"], json!([]), "{filter}");
    assert_eq!(filter["namespaceFilter"]["namespace"]["fullName"], "Acme Corp / Web Team / Site");

    let legacy = "mutation { externalAuditEventDestinationCreate(input: { destinationUrl: \"http://127.0.0.1:9/legacy\", groupPath: \"acme\" }) { errors externalAuditEventDestination { id } } }";
    let legacy = data(root.graphql(legacy, json!({})).await);
    let legacy_id = legacy["externalAuditEventDestinationCreate"]["externalAuditEventDestination"]["id"].clone();
    let added = data(root.graphql(LEGACY_NAMESPACE_FILTER_ADD, json!({"destinationId": legacy_id})).await);
    let added = &added["auditEventsStreamingHttpNamespaceFiltersAdd"];
    assert_eq!(added["errors"], json!([]), "{added}");
    assert_eq!(added["namespaceFilter"]["namespace"]["fullName"], "Acme Corp / Web Team");

    let listed = data(root.graphql(DESTINATIONS_LIST, json!({})).await);
    let group = &listed["group"];
    assert_eq!(group["fullName"], "Acme Corp");
    assert!(group["webUrl"].as_str().unwrap().ends_with("/groups/acme"), "{group}");
    let nodes = group["externalAuditEventStreamingDestinations"]["nodes"].as_array().unwrap();
    assert!(nodes.len() >= 4, "{nodes:?}");
    let ours = nodes.iter().find(|n| n["id"] == destination).unwrap();
    assert_eq!(ours["namespaceFilters"][0]["namespace"]["fullName"], "Acme Corp / Web Team / Site");
    assert_eq!(ours["namespaceFilters"][0]["namespace"]["fullPath"], "acme/web-team/site");

    let (alice, alice_api) = user_with_token(&root, "alice", &["read_api"]).await;
    let me = data(alice_api.graphql(CURRENT_USER, json!({})).await);
    assert_eq!(me["currentUser"]["id"], format!("gid://gitlab/User/{alice}"));
    assert_eq!(me["currentUser"]["username"], "alice");
    assert!(me["currentUser"]["webUrl"].as_str().unwrap().ends_with("/alice"));

    // Queries over GET, as GitLab serves them; never mutations.
    let encoded = |q: &str| serde_urlencoded::to_string([("query", q)]).unwrap();
    let got = data(alice_api.get(&format!("/api/graphql?{}", encoded(CURRENT_USER))).await);
    assert_eq!(got, me);
    let with_variables = serde_urlencoded::to_string([
        ("query", "query($path: ID!) { group(fullPath: $path) { fullName } }"),
        ("variables", r#"{"path": "acme/web-team"}"#),
    ])
    .unwrap();
    assert_eq!(
        data(root.get(&format!("/api/graphql?{with_variables}")).await)["group"]["fullName"],
        "Acme Corp / Web Team"
    );
    let mutation = root.get(&format!("/api/graphql?{}", encoded(inline))).await.expect(422);
    assert_eq!(mutation.body["errors"][0]["message"], "Mutations are forbidden in GET requests");
    let named = serde_urlencoded::to_string([
        ("query", "query Q { currentUser { id } } mutation M { groupAuditEventStreamingDestinationsDelete(input: {id: \"x\"}) { errors } }"),
        ("operationName", "M"),
    ])
    .unwrap();
    root.get(&format!("/api/graphql?{named}")).await.expect(422);
    let count = data(root.graphql(DESTINATIONS_LIST, json!({})).await)["group"]["externalAuditEventStreamingDestinations"]["nodes"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(count, nodes.len(), "nothing changed by the refused GET");
    root.get("/api/graphql").await.expect(400);
    let anonymous = auditrelay_testkit::Api::new(root.base(), None);
    assert_eq!(
        data(anonymous.get(&format!("/api/graphql?{}", encoded(CURRENT_USER))).await)["currentUser"],
        Value::Null
    );
}

on_both_backends!(gitlabs_documented_graphql_runs);

const CREATE_HTTP: &str = "mutation($url: String!) { groupAuditEventStreamingDestinationsCreate(input: { groupPath: \"acme\", category: \"http\", config: { url: $url } }) { errors externalAuditEventDestination { id } } }";
const SET_ACTIVE: &str = "mutation($id: AuditEventsGroupExternalStreamingDestinationID!, $active: Boolean) { groupAuditEventStreamingDestinationsUpdate(input: { id: $id, active: $active }) { errors } }";

async fn gitlabs_newer_destination_limits_behind_a_setting(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    allow_local(&root).await;
    crate::create_group(&root, "acme", None).await;
    let settings = root.get("/api/v4/application/settings").await.expect(200);
    assert_eq!(settings.body["audit_event_streaming_newer_limits_enabled"], false, "off by default");
    // Off: 50 destinations (kept inactive under the 5-active limit) and 100 changes in a minute.
    let mut ids = Vec::new();
    for i in 0..50 {
        let created = data(root.graphql(CREATE_HTTP, json!({"url": format!("http://127.0.0.1:9/d{i}")})).await);
        let created = &created["groupAuditEventStreamingDestinationsCreate"];
        assert_eq!(created["errors"], json!([]), "{created}");
        let id = created["externalAuditEventDestination"]["id"].clone();
        let off = data(root.graphql(SET_ACTIVE, json!({"id": id, "active": false})).await);
        assert_eq!(off["groupAuditEventStreamingDestinationsUpdate"]["errors"], json!([]));
        ids.push(id);
    }
    root.put("/api/v4/application/settings", &json!({"audit_event_streaming_newer_limits_enabled": true}))
        .await
        .expect(200);
    let refused = data(root.graphql(CREATE_HTTP, json!({"url": "http://127.0.0.1:9/d50"})).await);
    assert_eq!(
        refused["groupAuditEventStreamingDestinationsCreate"]["errors"],
        json!(["Maximum number of audit event streaming destinations per group (50) exceeded"])
    );
    for id in &ids[..10] {
        let ok = data(root.graphql(SET_ACTIVE, json!({"id": id, "active": false})).await);
        assert_eq!(ok["groupAuditEventStreamingDestinationsUpdate"]["errors"], json!([]));
    }
    let throttled = data(root.graphql(SET_ACTIVE, json!({"id": ids[10], "active": false})).await);
    let message = throttled["groupAuditEventStreamingDestinationsUpdate"]["errors"][0].as_str().unwrap().to_owned();
    assert!(message.starts_with("Too many destination changes: at most 10"), "{message}");
    // Turning the setting off lifts both limits.
    root.put("/api/v4/application/settings", &json!({"audit_event_streaming_newer_limits_enabled": false}))
        .await
        .expect(200);
    let again = data(root.graphql(CREATE_HTTP, json!({"url": "http://127.0.0.1:9/d50"})).await);
    assert_eq!(again["groupAuditEventStreamingDestinationsCreate"]["errors"], json!([]));
}

on_both_backends!(gitlabs_newer_destination_limits_behind_a_setting);
