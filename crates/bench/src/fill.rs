//! Filling a bench server: its group and destinations, warm-up, and the events it ingests.

use anyhow::{Context, bail};
use auditrelay_core::destination::MAX_ACTIVE_DESTINATIONS;
use auditrelay_core::event::render_payload;
use auditrelay_core::time::now_micros;
use auditrelay_core::{IngestLimits, parse_ingest_body};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::receiver::Receiver;
use crate::server::Server;

pub(crate) const EVENT_TYPE: &str = "member_updated";
/// How long the receiver may see nothing new before a measurement is given up.
pub(crate) const STALL: Duration = Duration::from_secs(30);

/// Allows loopback destinations, creates group `bench` and `destinations` HTTP destinations
/// pointing at the receiver's slots 1..: up to GitLab's limit on the group, the rest on the
/// instance (every event of the group reaches both).
pub(crate) async fn set_up(server: &Server, receiver: &Receiver, destinations: usize) -> anyhow::Result<()> {
    receiver.reset(i64::MAX, 0..0, 0);
    server
        .call(
            reqwest::Method::PUT,
            "/api/v4/application/settings",
            &json!({"allow_local_requests_from_web_hooks_and_services": true}),
        )
        .await?;
    server.call(reqwest::Method::POST, "/api/v4/groups", &json!({"name": "bench", "path": "bench"})).await?;
    for n in 1..=destinations {
        let url = receiver.url(n);
        let mutation = if n <= MAX_ACTIVE_DESTINATIONS {
            format!(
                "mutation {{ groupAuditEventStreamingDestinationsCreate(input: {{ groupPath: \"bench\", category: \"http\", config: {{ url: \"{url}\" }} }}) {{ errors }} }}"
            )
        } else {
            format!(
                "mutation {{ instanceAuditEventStreamingDestinationsCreate(input: {{ category: \"http\", config: {{ url: \"{url}\" }} }}) {{ errors }} }}"
            )
        };
        server.graphql(&mutation).await?;
    }
    Ok(())
}

/// Ingests batches until every destination has got one: the workers run, their connections
/// are open, and everything before has been delivered. Returns the highest id ingested.
pub(crate) async fn warm_up(
    server: &Server,
    receiver: &Receiver,
    destinations: usize,
    batch: usize,
) -> anyhow::Result<i64> {
    for _ in 0..20 {
        let ids = server.ingest(batch_body(0, batch, None)).await?;
        let last = ids.iter().filter_map(Value::as_i64).max().context("ingest answered no ids")?;
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if (1..=destinations).all(|n| receiver.max_id(n) >= last) {
                return Ok(last);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    bail!("the destinations did not receive the warm-up events")
}

/// A realistic group event (≈ 450 bytes as delivered).
fn group_event(n: usize, producer_id: Option<i64>) -> Value {
    let mut event = json!({
        "event_type": EVENT_TYPE,
        "entity_type": "Group",
        "entity_path": "bench",
        "author_id": 1000 + (n % 50) as i64,
        "author_name": "Bench User",
        "ip_address": "10.1.2.3",
        "target_type": "User",
        "target_id": 4242,
        "target_details": "Jane Doe",
        "details": {"change": "access_level", "from": "Developer", "to": "Maintainer", "n": n}
    });
    if let Some(id) = producer_id {
        event["id"] = json!(id);
    }
    event
}

/// Events `first..first + size`, with producer ids from `producer_base` if given.
pub(crate) fn batch_body(first: usize, size: usize, producer_base: Option<i64>) -> String {
    let events: Vec<Value> =
        (0..size).map(|i| group_event(first + i, producer_base.map(|base| base + i as i64))).collect();
    Value::Array(events).to_string()
}

/// GitLab's payload of a bench event (without its id), as the service renders it.
pub(crate) fn payload_template() -> anyhow::Result<String> {
    let text = group_event(0, None).to_string();
    let events = parse_ingest_body(text.as_bytes(), false, IngestLimits::default())
        .map_err(|e| anyhow::anyhow!("the bench event is invalid: {e:?}"))?;
    let event = events.first().context("no event")?;
    Ok(render_payload(event, 1, "bench", now_micros()))
}
