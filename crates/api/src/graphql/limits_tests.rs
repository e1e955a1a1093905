//! The limits against the real schema: what the standard introspection query costs, and what
//! is refused.

use super::*;

const INTROSPECTION: &str = include_str!("testdata/introspection.graphql");

/// Runs `query` against the real schema as `tier`; the errors' messages.
async fn errors(query: &str, tier: Tier) -> (usize, Vec<String>) {
    let request = async_graphql::Request::new(query).data(Budget::new(tier));
    let response = super::super::schema().execute(request).await;
    let size = serde_json::to_vec(&response).unwrap().len();
    (size, response.errors.into_iter().map(|e| e.message).collect())
}

#[tokio::test]
async fn anonymous_callers_may_introspect_once() {
    let (size, refused) = errors(INTROSPECTION, Tier::Anonymous).await;
    assert!(refused.is_empty(), "{refused:?}");
    assert!(size > 50_000, "the whole schema: {size} bytes");
    eprintln!("standard introspection answer: {size} bytes");
    // The same introspection twice, under aliases, is refused before it runs.
    let twice = INTROSPECTION.replacen("__schema {", "a: __schema { types { ...FullType } } b: __schema {", 1);
    let (_, refused) = errors(&twice, Tier::Anonymous).await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].starts_with("Query has introspection complexity of "), "{}", refused[0]);
    assert!(refused[0].ends_with("which exceeds max introspection complexity of 100000"), "{}", refused[0]);
    // A signed-in user may.
    assert!(errors(&twice, Tier::User).await.1.is_empty());
}

#[tokio::test]
async fn nesting_through_type_references_multiplies() {
    let nested = "{ __schema { types { fields { type { ofType { fields { type { ofType { fields { type { ofType { fields { name } } } } } } } } } } } } }";
    let (_, refused) = errors(nested, Tier::Anonymous).await;
    assert!(refused.iter().any(|m| m.contains("exceeds max introspection complexity")), "{refused:?}");
    let aliases: String = (0..50).map(|i| format!("t{i}: __schema {{ types {{ name }} }} ")).collect();
    let (_, refused) = errors(&format!("{{ {aliases} }}"), Tier::Anonymous).await;
    assert!(refused.is_empty(), "50 lists of type names are cheap: {refused:?}");
    let aliases: String =
        (0..100).map(|i| format!("t{i}: __schema {{ types {{ fields {{ args {{ name }} }} }} }} ")).collect();
    let (_, refused) = errors(&format!("{{ {aliases} }}"), Tier::Anonymous).await;
    assert!(
        refused.iter().any(|m| m.contains("exceeds max introspection complexity")),
        "aliases multiply: {refused:?}"
    );
}

#[tokio::test]
async fn depth_is_limited_per_tier() {
    let deep = "{ __schema { types { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } } } }";
    let (_, refused) = errors(deep, Tier::Anonymous).await;
    assert_eq!(refused, vec!["Query has depth of 17, which exceeds max depth of 15".to_owned()]);
    assert!(errors(deep, Tier::User).await.1.is_empty());
}

#[test]
fn a_batch_shares_one_budget() {
    let budget = Budget::new(Tier::User);
    for _ in 0..4 {
        budget.charge(2_500, 0, 3).unwrap();
    }
    assert_eq!(
        budget.charge(1, 0, 3).unwrap_err(),
        "Queries of this batch have complexity of 10001, which exceeds max complexity of 10000"
    );
}

#[test]
fn batches_and_query_text_are_bounded() {
    let queries = vec!["{ __typename }"; MAX_BATCH];
    assert!(check_request(&queries).is_ok());
    let queries = vec!["{ __typename }"; MAX_BATCH + 1];
    assert_eq!(check_request(&queries).unwrap_err(), "Too many queries in a batch: 11 (maximum is 10)");
    let big = "x".repeat(MAX_QUERY_CHARS / 2 + 1);
    assert_eq!(check_request(&[&big, &big]).unwrap_err(), "Query too large");
}

#[test]
fn answers_stop_at_the_cap() {
    let part = |n: usize| Some(format!("{{\"data\":\"{}\"}}", "x".repeat(n)).into_bytes());
    let mut answer = Answer::with_cap(true, 100);
    answer.push(part(40));
    answer.push(part(80));
    answer.push(part(10));
    answer.push(part(30));
    let body: serde_json::Value = serde_json::from_slice(&answer.finish()).unwrap();
    let parts = body.as_array().unwrap();
    assert_eq!(parts.len(), 4);
    assert_eq!(parts[0]["data"].as_str().unwrap().len(), 40);
    assert_eq!(parts[1]["errors"][0]["message"], TOO_LARGE, "would pass the cap");
    assert_eq!(parts[2]["data"].as_str().unwrap().len(), 10);
    assert_eq!(parts[3]["errors"][0]["message"], TOO_LARGE);
    let mut single = Answer::with_cap(false, 10);
    single.push(part(40));
    let body: serde_json::Value = serde_json::from_slice(&single.finish()).unwrap();
    assert_eq!(body["errors"][0]["message"], TOO_LARGE);
}
