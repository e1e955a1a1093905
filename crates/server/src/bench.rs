//! `auditrelay bench`: measures ingest throughput on this machine, against an in-process server
//! on loopback, for the embedded store and (given a URL) PostgreSQL.

use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::service::secrets::{generate_token, random_string};

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Events per ingest request.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Concurrent producer connections.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Events to ingest per store (after a warm-up of one batch per client).
    #[arg(long, default_value_t = 200_000)]
    pub events: usize,
    /// Also measure PostgreSQL: a server URL whose user may create databases. A scratch
    /// database is created there and dropped afterwards.
    #[arg(long, env = "AUDITRELAY_BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

struct Measurement {
    store: &'static str,
    events: usize,
    seconds: f64,
}

impl Measurement {
    fn rate(&self) -> f64 {
        self.events as f64 / self.seconds
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let mut results = vec![measure_ingest(&args, "sqlite", None).await?];
    if let Some(url) = &args.postgres_url {
        let (scratch_url, drop_scratch) = scratch_database(url).await?;
        let measured = measure_ingest(&args, "postgres", Some(scratch_url)).await;
        drop_scratch.await?;
        results.push(measured?);
    }
    report(&args, &results);
    Ok(())
}

fn report(args: &BenchArgs, results: &[Measurement]) {
    if args.json {
        let rows: Vec<Value> = results
            .iter()
            .map(|m| json!({"scenario": "ingest", "store": m.store, "clients": args.clients, "batch": args.batch, "events": m.events, "seconds": m.seconds, "events_per_second": m.rate().round()}))
            .collect();
        println!("{}", Value::Array(rows));
        return;
    }
    println!(
        "{:<10} {:<8} {:>8} {:>6} {:>9} {:>9} {:>12}",
        "scenario", "store", "clients", "batch", "events", "seconds", "events/s"
    );
    for m in results {
        println!(
            "{:<10} {:<8} {:>8} {:>6} {:>9} {:>9.2} {:>12.0}",
            "ingest",
            m.store,
            args.clients,
            args.batch,
            m.events,
            m.seconds,
            m.rate()
        );
    }
}

/// Starts a server on its own data dir, posts `args.events` events in batches from
/// `args.clients` connections, and stops it.
async fn measure_ingest(
    args: &BenchArgs,
    store: &'static str,
    database_url: Option<String>,
) -> anyhow::Result<Measurement> {
    let data_dir = std::env::temp_dir().join(format!("auditrelay-bench-{}", random_string(8)));
    let token = generate_token();
    let mut serve = ServeArgs::embedded(data_dir.clone());
    serve.database_url = database_url;
    serve.root_token = Some(token.clone());
    serve.root_password = Some(random_string(24));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // The server runs on this task (its future need not be Send); the load runs beside it.
    let server = crate::app::run(serve, listener, async {
        let _ = stopped.await;
    });
    let load = async {
        let result = generate_load(args, &base, &token).await;
        let _ = stop.send(());
        result
    };
    let (served, loaded) = tokio::join!(server, load);
    served?;
    let seconds = loaded?;
    let _ = std::fs::remove_dir_all(&data_dir);
    let events = args.events.div_ceil(args.batch) * args.batch;
    Ok(Measurement { store, events, seconds })
}

/// Posts the measured batches from `args.clients` connections; returns the seconds taken.
async fn generate_load(args: &BenchArgs, base: &str, token: &str) -> anyhow::Result<f64> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.clients).build()?;
    wait_ready(&client, base).await?;
    let url = format!("{base}/api/v4/audit_events");
    let token = token.to_owned();
    let post = move |body: String| {
        let client = client.clone();
        let url = url.clone();
        let token = token.clone();
        async move {
            let response = client
                .post(url)
                .header("PRIVATE-TOKEN", token)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await?;
            if response.status() != reqwest::StatusCode::CREATED {
                bail!("ingest answered {}: {}", response.status(), response.text().await.unwrap_or_default());
            }
            Ok(())
        }
    };
    for client_no in 0..args.clients {
        post(batch_body(client_no, 0, args.batch)).await?;
    }
    // Bodies are made before the clock starts: the load generator shares the cores with the
    // service, and its own JSON encoding is not the service's cost.
    let batches = args.events.div_ceil(args.batch);
    let bodies: Arc<Vec<String>> =
        Arc::new((0..batches).map(|n| batch_body(n % args.clients, n + 1, args.batch)).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (next, post, bodies) = (next.clone(), post.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(n) else { return anyhow::Ok(()) };
                post(body.clone()).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
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

async fn wait_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if client.get(format!("{base}/-/readiness")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not become ready")
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
