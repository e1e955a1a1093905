//! Integration tests: the real `auditrelay` binary on port 0, over HTTP, on SQLite and on
//! PostgreSQL. PostgreSQL variants are `#[ignore]`d for plain `cargo test` (it needs no outside
//! service); `scripts/test.sh` runs them with `--include-ignored` and fails if PostgreSQL is down.

mod ai;
mod ai_producer;
mod ai_sessions;
mod ai_ui;
mod archive;
mod bad_input;
mod caches;
mod clients;
mod clients_events;
mod clients_graphql;
mod consistency;
mod consistency_routing;
mod delivery;
mod delivery_cloud;
mod durability;
mod faults;
mod graphql_legacy;
mod graphql_streaming;
mod hardening_graphql;
mod hardening_secrets;
mod hardening_web;
mod health;
mod identity;
mod ingest;
mod log_order;
mod read;
mod settings;
mod stream;
mod tenancy;
mod ui;
mod ui_signing;
mod verify;
mod webhook_signing;

use auditrelay_testkit::{Api, Backend, TestServer};
use serde_json::{Value, json};

pub async fn server(backend: Backend) -> TestServer {
    TestServer::builder(env!("CARGO_BIN_EXE_auditrelay"), backend).start().await
}

pub fn builder(backend: Backend) -> auditrelay_testkit::TestServerBuilder {
    TestServer::builder(env!("CARGO_BIN_EXE_auditrelay"), backend)
}

/// Runs each named `async fn(Backend)` as a `sqlite` and a `postgres` test.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$name(auditrelay_testkit::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                #[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
                async fn postgres() {
                    super::$name(auditrelay_testkit::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Creates a user and an `api` token for them; returns (user id, client as that user).
pub async fn user_with_token(root: &Api, username: &str, scopes: &[&str]) -> (i64, Api) {
    let user = root
        .post(
            "/api/v4/users",
            &json!({"username": username, "name": username, "email": format!("{username}@example.com"), "password": "password-123"}),
        )
        .await
        .expect(201);
    let id = user.body["id"].as_i64().unwrap();
    let token = root
        .post(&format!("/api/v4/users/{id}/personal_access_tokens"), &json!({"name": "t", "scopes": scopes}))
        .await
        .expect(201);
    (id, root.with_token(token.body["token"].as_str().unwrap()))
}

pub async fn create_group(api: &Api, path: &str, parent: Option<i64>) -> i64 {
    let reply = api.post("/api/v4/groups", &json!({"name": path, "path": path, "parent_id": parent})).await.expect(201);
    reply.body["id"].as_i64().unwrap()
}

pub fn event(event_type: &str, entity_type: &str, path: &str) -> Value {
    json!({"event_type": event_type, "entity_type": entity_type, "entity_path": path})
}

/// Every event's streamed id (the producer's, or the service's) the instance read API returns,
/// oldest first, following keyset pages.
pub async fn all_event_ids(api: &Api) -> Vec<Value> {
    let mut ids = Vec::new();
    let mut url = "/api/v4/audit_events?pagination=keyset&sort=asc&per_page=100".to_owned();
    loop {
        let page = api.get(&url).await.expect(200);
        ids.extend(page.body.as_array().unwrap().iter().map(|e| e["streamed_id"].clone()));
        match page.next_link() {
            Some(next) => url = next,
            None => return ids,
        }
    }
}
