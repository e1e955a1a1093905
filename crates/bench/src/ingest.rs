//! Ingest throughput: events/s into the bench's store, posted in batches of each size of
//! `--ingest-batches` from several connections.

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

use crate::process::{MIB, peak_rss_bytes, reset_peak_rss};
use crate::report::Row;
use crate::server::{Bench, Server, bench_serve_args, store_name, with_bench_server};

pub(super) async fn run(args: &Bench) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for &batch in &args.ingest_batches {
        rows.push(measure_ingest(args, batch.max(1)).await?);
    }
    Ok(rows)
}

/// Starts a server, posts `args.events` events (a tenth of them for tiny batches, which are
/// slow) in batches of `batch` from `args.clients` connections, and stops it.
async fn measure_ingest(args: &Bench, batch: usize) -> anyhow::Result<Row> {
    reset_peak_rss();
    let wanted = if batch < 10 { args.events / 10 } else { args.events }.max(1);
    let batches = wanted.div_ceil(batch);
    let seconds =
        with_bench_server(args, bench_serve_args(), |server| generate_load(args, server, batch, batches)).await?;
    let events = batches * batch;
    Ok(Row {
        scenario: "ingest",
        store: store_name(args),
        events,
        seconds,
        rate: events as f64 / seconds,
        peak_rss_mib: peak_rss_bytes().map(|b| b as f64 / MIB),
        note: format!("{} clients, batch {batch}", args.clients),
        extra: Some(json!({"clients": args.clients, "batch": batch})),
        ..Row::default()
    })
}

/// Posts `batches` batches of `batch` events from `args.clients` connections; returns the
/// seconds taken.
async fn generate_load(args: &Bench, server: Server, batch: usize, batches: usize) -> anyhow::Result<f64> {
    for client_no in 0..args.clients {
        server.ingest(batch_body(client_no, 0, batch)).await?;
    }
    // Bodies are made before the clock starts: the load generator shares the cores with the
    // service, and its own JSON encoding is not the service's cost.
    let bodies: Arc<Vec<String>> = Arc::new((0..batches).map(|n| batch_body(n % args.clients, n + 1, batch)).collect());
    let started = Instant::now();
    server.ingest_all(bodies, batches, args.clients).await?;
    Ok(started.elapsed().as_secs_f64())
}

/// A batch of realistic events over a few projects of one group.
fn batch_body(client_no: usize, batch_no: usize, size: usize) -> String {
    let events: Vec<Value> = (0..size)
        .map(|i| {
            json!({
                "event_type": "repository_git_operation",
                "entity_type": "Project",
                "entity_path": format!("bench/team-{}/service-{}", client_no % 4, i % 8),
                "author_id": 1000 + (i % 50) as i64,
                "author_name": "Bench User",
                "ip_address": "10.1.2.3",
                "target_type": "Project",
                "target_id": 42,
                "target_details": "service",
                "details": {"custom_message": {"protocol": "ssh", "action": "git-upload-pack"}, "batch": batch_no, "n": i}
            })
        })
        .collect();
    Value::Array(events).to_string()
}
