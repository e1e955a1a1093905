//! Ingest throughput: events/s into the embedded store and (given a URL) PostgreSQL, posted in
//! batches from several connections.

use anyhow::Context;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

use super::{BenchArgs, Row, Server, bench_serve_args, peak_rss_bytes, reset_peak_rss, with_server};
use crate::service::secrets::random_string;

pub(super) async fn run(args: &BenchArgs) -> anyhow::Result<Vec<Row>> {
    let mut rows = vec![measure_ingest(args, "sqlite", None).await?];
    if let Some(url) = &args.postgres_url {
        let (scratch_url, drop_scratch) = scratch_database(url).await?;
        let measured = measure_ingest(args, "postgres", Some(scratch_url)).await;
        drop_scratch.await?;
        rows.push(measured?);
    }
    Ok(rows)
}

/// Starts a server on its own data dir, posts `args.events` events in batches from
/// `args.clients` connections, and stops it.
async fn measure_ingest(args: &BenchArgs, store: &'static str, database_url: Option<String>) -> anyhow::Result<Row> {
    reset_peak_rss();
    let mut serve = bench_serve_args();
    serve.database_url = database_url;
    let seconds = with_server(serve, |server| generate_load(args, server)).await?;
    let events = args.events.div_ceil(args.batch) * args.batch;
    Ok(Row {
        scenario: "ingest",
        store,
        events,
        seconds,
        rate: events as f64 / seconds,
        peak_rss_mib: peak_rss_bytes().map(|b| b as f64 / super::MIB),
        note: format!("{} clients, batch {}", args.clients, args.batch),
        extra: Some(json!({"clients": args.clients, "batch": args.batch})),
        ..Row::default()
    })
}

/// Posts the measured batches from `args.clients` connections; returns the seconds taken.
async fn generate_load(args: &BenchArgs, server: Server) -> anyhow::Result<f64> {
    for client_no in 0..args.clients {
        server.ingest(batch_body(client_no, 0, args.batch)).await?;
    }
    // Bodies are made before the clock starts: the load generator shares the cores with the
    // service, and its own JSON encoding is not the service's cost.
    let batches = args.events.div_ceil(args.batch);
    let bodies: Arc<Vec<String>> =
        Arc::new((0..batches).map(|n| batch_body(n % args.clients, n + 1, args.batch)).collect());
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

/// Creates a scratch database next to `url`; returns its URL and a future that drops it.
async fn scratch_database(
    url: &str,
) -> anyhow::Result<(String, impl std::future::Future<Output = anyhow::Result<()>>)> {
    use sqlx::Connection;
    let name = format!("auditrelay_bench_{}", random_string(8).to_lowercase());
    let mut admin = sqlx::PgConnection::connect(url).await.context("cannot connect to the PostgreSQL server")?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
    let (prefix, _) = url.rsplit_once('/').context("the PostgreSQL URL has no database part")?;
    let scratch = format!("{prefix}/{name}");
    let url = url.to_owned();
    let drop = async move {
        let mut admin = sqlx::PgConnection::connect(&url).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await?;
        Ok(())
    };
    Ok((scratch, drop))
}
