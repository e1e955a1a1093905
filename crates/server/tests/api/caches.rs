//! The ingest path's in-memory caches stay correct: a remembered token stops working the moment
//! it is revoked here, and within the cache's TTL on another server sharing the database; the
//! namespace index learned from a batch's many new group paths (one transaction) survives a
//! restart, is shared through the store by servers on one PostgreSQL database, and a path that
//! is a project's is still refused with the event's index.

use auditrelay_testkit::{Api, Backend};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::{all_event_ids, create_group, on_both_backends, user_with_token};

on_both_backends!(revocation_takes_effect_at_once, learned_group_paths_survive_a_restart);

/// A second server on the first one's PostgreSQL database (none on SQLite).
async fn second_node(
    backend: Backend,
    first: &auditrelay_testkit::TestServer,
) -> Option<auditrelay_testkit::TestServer> {
    match backend {
        Backend::Postgres => {
            Some(crate::builder(backend).database_url(first.database_url.as_deref().unwrap()).start().await)
        }
        Backend::Sqlite => None,
    }
}

async fn token_id_of(api: &Api) -> i64 {
    api.get("/api/v4/personal_access_tokens/self").await.expect(200).body["id"].as_i64().unwrap()
}

async fn revocation_takes_effect_at_once(backend: Backend) {
    let server = crate::server(backend).await;
    let root = server.root();
    let (_, alice) = user_with_token(&root, "alice", &["api"]).await;
    // A token made on one node authenticates on the other (nothing negative is remembered).
    let second = second_node(backend, &server).await;
    let alice_there = second.as_ref().map(|s| s.api(None).with_token(alice_token(&alice)));
    if let Some(there) = &alice_there {
        there.get("/api/v4/personal_access_tokens/self").await.expect(200);
    }
    // Used twice: the second answer comes from the cache.
    let id = token_id_of(&alice).await;
    token_id_of(&alice).await;

    root.delete(&format!("/api/v4/personal_access_tokens/{id}")).await.expect(204);
    let refused = alice.get("/api/v4/personal_access_tokens/self").await;
    assert_eq!(refused.status, 401, "the very next request with a revoked token is refused");
    alice.post("/api/v4/audit_events", &json!({"event_type": "x", "entity_type": "User"})).await.expect(401);

    // Another node forgets it within the cache's TTL (2 s), and does not take it back.
    if let Some(there) = &alice_there {
        let revoked_at = Instant::now();
        loop {
            let status = there.get("/api/v4/personal_access_tokens/self").await.status;
            if status == 401 {
                break;
            }
            assert_eq!(status, 200);
            assert!(revoked_at.elapsed() < Duration::from_secs(5), "the other node still accepts the revoked token");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        there.get("/api/v4/personal_access_tokens/self").await.expect(401);
    }
}

/// The token text a client sends (the testkit's `Api` keeps it as its `PRIVATE-TOKEN`).
fn alice_token(api: &Api) -> &str {
    api.token().expect("a client with a token")
}

fn batch(paths: impl Iterator<Item = String>) -> Value {
    Value::Array(paths.map(|p| json!({"event_type": "learned", "entity_type": "Group", "entity_path": p})).collect())
}

/// Group id and parent id of `path`.
async fn group_ids(api: &Api, path: &str) -> (i64, Option<i64>) {
    let body = api.get(&format!("/api/v4/groups/{}", path.replace('/', "%2F"))).await.expect(200).body;
    (body["id"].as_i64().unwrap(), body["parent_id"].as_i64())
}

async fn learned_group_paths_survive_a_restart(backend: Backend) {
    let mut server = crate::server(backend).await;
    let root = server.root();
    let paths = |range: std::ops::Range<usize>| range.map(|k| format!("learn/team-{}/g-{k}", k % 3));
    root.post("/api/v4/audit_events", &batch(paths(0..40))).await.expect(201);
    let (learn, _) = group_ids(&root, "learn").await;
    let mut before = Vec::new();
    for path in paths(0..40) {
        let (id, parent) = group_ids(&root, &path).await;
        let team = path.rsplit_once('/').unwrap().0;
        assert_eq!(parent, Some(group_ids(&root, team).await.0), "{path} sits under {team}");
        before.push(id);
    }
    assert_eq!(group_ids(&root, "learn/team-1").await.1, Some(learn));

    // A path that is a project's refuses the batch, naming the event; nothing is stored.
    let team = group_ids(&root, "learn/team-0").await.0;
    root.post("/api/v4/projects", &json!({"name": "app", "path": "app", "namespace_id": team})).await.expect(201);
    let stored = all_event_ids(&root).await.len();
    let mixed = batch(["learn/new-1".to_owned(), "learn/team-0/app".to_owned(), "learn/new-2".to_owned()].into_iter());
    let refused = root.post("/api/v4/audit_events", &mixed).await.expect(400);
    assert!(
        refused.body["message"].as_str().unwrap().starts_with("event 1: entity_path 'learn/team-0/app'"),
        "{}",
        refused.body
    );
    assert_eq!(all_event_ids(&root).await.len(), stored);

    server.restart();
    let root = server.root();
    // After a restart the index is learned again from the store: same groups, no duplicates.
    root.post("/api/v4/audit_events", &batch(paths(20..60))).await.expect(201);
    for (k, path) in paths(0..40).enumerate() {
        assert_eq!(group_ids(&root, &path).await.0, before[k], "{path} kept its id");
    }
    let group = before[25];
    let events = root.get(&format!("/api/v4/groups/{group}/audit_events")).await.expect(200);
    assert_eq!(events.body.as_array().unwrap().len(), 2, "both events of g-25 are placed in its group");

    // A second node learns the same new paths concurrently: one group each, the same for both.
    if let Some(second) = second_node(backend, &server).await {
        let other = second.root();
        let (here, there) = (batch(paths(100..160)), batch(paths(130..190)));
        let (a, b) = tokio::join!(root.post("/api/v4/audit_events", &here), other.post("/api/v4/audit_events", &there));
        a.expect(201);
        b.expect(201);
        for path in paths(100..190) {
            assert_eq!(group_ids(&root, &path).await, group_ids(&other, &path).await, "{path}");
        }
        let created = create_group(&other, "made-on-b", None).await;
        let placed = root.post("/api/v4/audit_events", &batch(["made-on-b".to_owned()].into_iter())).await.expect(201);
        let id = placed.body["ids"][0].as_i64().unwrap();
        let event = root.get(&format!("/api/v4/groups/{created}/audit_events/{id}")).await.expect(200);
        assert_eq!(event.body["entity_id"], created, "a group made on another node is used, not made again");
    }
}
