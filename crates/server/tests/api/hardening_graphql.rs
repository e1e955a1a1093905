//! GraphQL amplification is bounded: batches, query text, complexity multiplied by list sizes
//! and aliases, introspection for anonymous callers, and the scope of every reading field.

use auditrelay_testkit::{Api, Backend};
use serde_json::{Value, json};

use crate::user_with_token;

const DEFINITIONS: &str = "auditEventDefinitions { nodes { name description featureCategory } }";

async fn post(api: &Api, body: Value) -> auditrelay_testkit::Reply {
    api.post("/api/graphql", &body).await
}

fn message(reply: &auditrelay_testkit::Reply) -> String {
    reply.body["errors"][0]["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn amplification_is_refused_before_it_runs() {
    let server = crate::server(Backend::Sqlite).await;
    let root = server.root();
    // 600 aliases of the catalogue answered 16 MB: now the query text alone is refused.
    let aliases: String = (0..600).map(|i| format!("a{i}: {DEFINITIONS} ")).collect();
    let reply = post(&root, json!({"query": format!("{{ {aliases} }}")})).await;
    assert_eq!((reply.status, message(&reply).as_str()), (422, "Query too large"), "{}", reply.text);
    // Within the text limit, aliases multiply the catalogue's size into the complexity.
    let aliases: String = (0..20).map(|i| format!("a{i}: {DEFINITIONS} ")).collect();
    let reply = post(&root, json!({"query": format!("{{ {aliases} }}")})).await.expect(200);
    assert!(reply.body["data"].is_null(), "nothing ran");
    assert!(
        message(&reply).starts_with("Query has complexity of ")
            && message(&reply).ends_with("which exceeds max complexity of 20000"),
        "{}",
        reply.text
    );
    // One whole catalogue is fine; `first` makes it cheaper.
    let one = post(&root, json!({"query": format!("{{ {DEFINITIONS} }}")})).await.expect(200);
    assert!(one.body["data"]["auditEventDefinitions"]["nodes"].as_array().unwrap().len() > 500, "{}", one.text);
    let aliases: String =
        (0..100).map(|i| format!("a{i}: auditEventDefinitions(first: 5) {{ nodes {{ name }} }} ")).collect();
    let reply = post(&root, json!({"query": format!("{{ {aliases} }}")})).await.expect(200);
    assert!(reply.body["errors"].is_null(), "{}", &reply.text[..300]);
    // Batches: at most 10 queries, sharing one budget.
    let batch: Vec<Value> = (0..11).map(|_| json!({"query": "{ __typename }"})).collect();
    let reply = post(&root, Value::Array(batch)).await;
    assert_eq!(reply.status, 422);
    assert_eq!(message(&reply), "Too many queries in a batch: 11 (maximum is 10)");
    let batch: Vec<Value> = (0..10).map(|_| json!({"query": format!("{{ {DEFINITIONS} }}")})).collect();
    let reply = post(&root, Value::Array(batch)).await.expect(200);
    let answers = reply.body.as_array().unwrap();
    assert_eq!(answers.len(), 10);
    let answered = answers.iter().filter(|a| a["errors"].is_null()).count();
    assert!((1..10).contains(&answered), "the budget runs out part way: {answered} answered");
    let refused = answers.iter().find(|a| !a["errors"].is_null()).unwrap();
    assert!(
        refused["errors"][0]["message"].as_str().unwrap().starts_with("Queries of this batch have complexity of "),
        "{refused}"
    );
    assert!(reply.text.len() < 4 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn anonymous_introspection_is_limited() {
    let server = crate::server(Backend::Sqlite).await;
    let anonymous = server.api(None);
    let full = include_str!("../../../api/src/graphql/testdata/introspection.graphql");
    let reply = post(&anonymous, json!({"query": full})).await.expect(200);
    assert!(reply.body["errors"].is_null() && reply.body["data"]["__schema"]["types"].is_array());
    let size = reply.text.len();
    // Twice in one document, or twice in a batch, is refused.
    let twice = full.replacen("__schema {", "again: __schema { types { ...FullType } } __schema {", 1);
    let reply = post(&anonymous, json!({"query": twice})).await.expect(200);
    assert!(reply.body["data"].is_null());
    assert!(message(&reply).contains("exceeds max introspection complexity of 100000"), "{}", reply.text);
    let batch = json!([{"query": full}, {"query": full}]);
    let reply = post(&anonymous, batch).await.expect(200);
    let answers = reply.body.as_array().unwrap();
    assert!(answers[0]["errors"].is_null());
    assert!(
        answers[1]["errors"][0]["message"].as_str().unwrap().starts_with("Queries of this batch have introspection")
    );
    assert!(reply.text.len() < 2 * size + 1_000, "one schema's worth, not two");
    // Types re-entered through their fields multiply, and depth is GitLab's 15.
    let nested = "{ __schema { types { fields { type { ofType { fields { type { ofType { fields { type { ofType { fields { name } } } } } } } } } } } } }";
    let reply = post(&anonymous, json!({"query": nested})).await.expect(200);
    assert!(message(&reply).contains("exceeds max introspection complexity"), "{}", reply.text);
    let deep = format!("{{ __schema {{ types {{ {} name {} }} }} }}", "ofType { ".repeat(14), "}".repeat(14));
    let reply = post(&anonymous, json!({"query": deep})).await.expect(200);
    assert_eq!(message(&reply), "Query has depth of 17, which exceeds max depth of 15");
    assert!(post(&server.root(), json!({"query": deep})).await.body["errors"].is_null(), "20 when signed in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_reading_field_checks_the_caller() {
    let server = crate::server(Backend::Sqlite).await;
    let root = server.root();
    let (_, ingest) = user_with_token(&root, "producer", &["ingest_audit_events"]).await;
    let (_, reader) = user_with_token(&root, "reader", &["read_api"]).await;
    let query = json!({"query": "{ auditEventDefinitions(first: 1) { nodes { name } } }"});
    for (who, api) in [("anonymous", server.api(None)), ("an ingest-only token", ingest)] {
        let reply = post(&api, query.clone()).await.expect(200);
        assert!(reply.body["data"].is_null(), "{who}: {}", reply.text);
        assert_eq!(
            message(&reply),
            "The resource that you are attempting to access does not exist or you don't have permission to perform this action",
            "{who}"
        );
    }
    let reply = post(&reader, query).await.expect(200);
    assert_eq!(reply.body["data"]["auditEventDefinitions"]["nodes"].as_array().unwrap().len(), 1, "{}", reply.text);
}
