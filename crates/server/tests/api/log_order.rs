//! The log's ordering promise: a reader following `seq` never skips an event that becomes
//! visible later, under many concurrent writers (and, on PostgreSQL, two processes).

use auditrelay_testkit::{Api, Backend};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::on_both_backends;

const PRODUCERS: usize = 16;
const REQUESTS_PER_PRODUCER: usize = 30;
const EVENTS_PER_REQUEST: usize = 20;

async fn follower_never_skips_an_event(backend: Backend) {
    let first = crate::server(backend).await;
    let second = match backend {
        Backend::Postgres => {
            Some(crate::builder(backend).database_url(first.database_url.as_deref().unwrap()).start().await)
        }
        Backend::Sqlite => None,
    };
    let mut targets = vec![first.root()];
    if let Some(second) = &second {
        targets.push(second.root());
    }
    let start_after = head_id(&first.root()).await;

    let done = Arc::new(AtomicBool::new(false));
    let follower = tokio::spawn(follow(first.root(), start_after, done.clone()));
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let api = targets[p % targets.len()].clone();
        producers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for r in 0..REQUESTS_PER_PRODUCER {
                let batch: Vec<Value> = (0..EVENTS_PER_REQUEST)
                    .map(|i| json!({"event_type": "hammer", "entity_type": "Group", "entity_path": format!("load/p{p}"), "details": {"r": r, "i": i}}))
                    .collect();
                let reply = api.post("/api/v4/audit_events", &Value::Array(batch)).await.expect(201);
                acked.extend(reply.body["ids"].as_array().unwrap().iter().map(|id| id.as_i64().unwrap()));
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for producer in producers {
        acked.extend(producer.await.unwrap());
    }
    done.store(true, Ordering::SeqCst);
    let followed = follower.await.unwrap();

    acked.sort_unstable();
    let expected = PRODUCERS * REQUESTS_PER_PRODUCER * EVENTS_PER_REQUEST;
    assert_eq!(acked.len(), expected);
    assert!(followed.windows(2).all(|w| w[1] == w[0] + 1), "the follower saw a gap or a reordering");
    // Namespace-creating events of the service itself may interleave; ours must all be there.
    let ours: Vec<i64> = followed.iter().copied().filter(|id| acked.binary_search(id).is_ok()).collect();
    assert_eq!(ours, acked, "the follower saw every acknowledged event exactly once, in order");
}

/// Tails the instance log oldest-first until told to stop and then caught up.
async fn follow(api: Api, after: i64, done: Arc<AtomicBool>) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut url = format!("/api/v4/audit_events?pagination=keyset&sort=asc&per_page=100&cursor={}", cursor(after));
    loop {
        let finished = done.load(Ordering::SeqCst);
        let page = api.get(&url).await.expect(200);
        let events = page.body.as_array().unwrap();
        seen.extend(events.iter().map(|e| e["id"].as_i64().unwrap()));
        if let Some(next) = page.next_link() {
            url = next;
        }
        if events.is_empty() {
            if finished {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

async fn head_id(api: &Api) -> i64 {
    let newest = api.get("/api/v4/audit_events?per_page=1").await.expect(200);
    newest.body[0]["id"].as_i64().unwrap_or(0)
}

/// The keyset cursor of the API: URL-safe base64 of `{"seq": N}`.
fn cursor(seq: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"seq": seq}).to_string())
}

on_both_backends!(follower_never_skips_an_event);
