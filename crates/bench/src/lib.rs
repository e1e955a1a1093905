//! `auditrelay bench`: measures the service on this machine, against in-process servers on
//! loopback, on the embedded store or (given a URL) PostgreSQL. Scenarios: ingest throughput at
//! several batch sizes; delivery: the direct rate of a load generator posting straight to a
//! receiver (the physical limit of the same run), delivered events/s to 1 and 10 HTTP
//! destinations, and ingest-to-delivery latency at fixed offered rates; and the catch-up after a
//! destination outage with a large backlog. See docs/benchmarks.md.

mod catch_up;
mod delivery;
mod ingest;
mod launch;
mod receiver;

pub use launch::{Launcher, ServeFuture, ServerOptions};

use anyhow::bail;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

use launch::random_string;

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Ingest throughput only.
    Ingest,
    /// Direct rate, delivered events/s and latency.
    Delivery,
    /// Direct rate and the catch-up after an outage with a backlog (at two backlog sizes).
    CatchUp,
    /// Everything.
    All,
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Scenario::All)]
    pub scenario: Scenario,
    /// Events per ingest request of the ingest measurements (one measurement each).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 100, 1_000])]
    pub ingest_batches: Vec<usize>,
    /// Events per ingest request when the delivery and catch-up measurements fill the log.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Concurrent producer connections.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Events per ingest measurement (after a warm-up of one batch per client); a tenth of it
    /// with batches of fewer than 10 events.
    #[arg(long, default_value_t = 200_000)]
    pub events: usize,
    /// Run auditrelay on PostgreSQL instead of the embedded store: a server URL whose user may
    /// create databases. Each measurement gets a scratch database, dropped afterwards.
    #[arg(long, alias = "postgres-url", env = "AUDITRELAY_BENCH_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Single-event requests the load generator posts straight to the receiver (the direct rate).
    #[arg(long, default_value_t = 200_000)]
    pub direct_requests: usize,
    /// Keep-alive connections of the direct load generator.
    #[arg(long, default_value_t = 16)]
    pub direct_connections: usize,
    /// Events ingested per delivery measurement (every destination gets all of them).
    #[arg(long, default_value_t = 100_000)]
    pub delivery_events: usize,
    /// Numbers of HTTP destinations to deliver to (at most 10: 5 on the group, 5 on the instance).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 10])]
    pub destinations: Vec<usize>,
    /// Requests in flight per destination to measure with, e.g. `8,16,32` (default: the
    /// server's own default, `AUDITRELAY_DELIVERY_IN_FLIGHT` or 8).
    #[arg(long, value_delimiter = ',')]
    pub in_flight: Vec<usize>,
    /// Offered rates (events/s) of the latency measurement, to one destination.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000, 5_000, 20_000])]
    pub latency_rates: Vec<usize>,
    /// Seconds each latency rate is offered (0: no latency measurement).
    #[arg(long, default_value_t = 10)]
    pub latency_seconds: u64,
    /// Events behind a destination during its outage; the catch-up is also measured with a
    /// tenth of it, to show the memory does not grow with the backlog (0: no catch-up).
    #[arg(long, default_value_t = 1_000_000)]
    pub backlog: usize,
    /// Print the results as JSON instead of a table (only the JSON goes to stdout).
    #[arg(long)]
    pub json: bool,
}

/// One line of the results.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    pub scenario: &'static str,
    pub store: &'static str,
    pub destinations: Option<usize>,
    pub in_flight: Option<usize>,
    /// Events (per destination for delivery; requests for the direct rate).
    pub events: usize,
    pub seconds: f64,
    /// Events/s (per destination for delivery).
    pub rate: f64,
    /// Delivery: events/s over all destinations.
    pub total_rate: Option<f64>,
    /// `rate` (and `total_rate`) over the direct rate of the same run.
    pub ratio: Option<f64>,
    pub total_ratio: Option<f64>,
    /// Latency: the offered rate and p50/p95/p99 in milliseconds.
    pub offered: Option<usize>,
    pub latency_ms: Option<[f64; 3]>,
    /// Peak resident memory of the process during this measurement (MiB).
    pub peak_rss_mib: Option<f64>,
    /// Ingest shape, or remarks such as a rate the machine did not keep up with.
    pub note: String,
    pub extra: Option<Value>,
}

/// A run of the bench: its arguments, and how it starts servers.
pub(crate) struct Bench {
    args: BenchArgs,
    launcher: Arc<dyn Launcher>,
}

impl std::ops::Deref for Bench {
    type Target = BenchArgs;

    fn deref(&self) -> &BenchArgs {
        &self.args
    }
}

/// `auditrelay bench`: every measurement `args` asks for, against servers that `launcher` starts.
pub async fn run(args: BenchArgs, launcher: Arc<dyn Launcher>) -> anyhow::Result<()> {
    let args = Bench { args, launcher };
    let mut rows = Vec::new();
    if matches!(args.scenario, Scenario::Ingest | Scenario::All) {
        rows.extend(ingest::run(&args).await?);
    }
    if matches!(args.scenario, Scenario::Delivery | Scenario::CatchUp | Scenario::All) {
        rows.extend(delivery::run(&args).await?);
    }
    // Every rate also as a ratio of the direct rate of this run (the best of its measurements).
    let direct = rows.iter().filter(|r| r.scenario == "direct").map(|r| r.rate).reduce(f64::max);
    if let Some(direct) = direct {
        for row in rows.iter_mut().filter(|r| r.ratio.is_none()) {
            row.ratio = Some(row.rate / direct);
        }
    }
    report(&args, &rows);
    Ok(())
}

/// The store label of the rows.
fn store_name(args: &Bench) -> &'static str {
    if args.database_url.is_some() { "postgres" } else { "sqlite" }
}

/// Like [`with_server`], on the bench's store: the embedded one, or a scratch PostgreSQL
/// database that is dropped afterwards.
async fn with_bench_server<T, Fut>(
    args: &Bench,
    mut serve: ServerOptions,
    work: impl FnOnce(Server) -> Fut,
) -> anyhow::Result<T>
where
    Fut: Future<Output = anyhow::Result<T>>,
{
    let Some(url) = &args.database_url else { return with_server(args, serve, work).await };
    let (scratch_url, drop_scratch) = scratch_database(url).await?;
    serve.database_url = Some(scratch_url);
    let result = with_server(args, serve, work).await;
    drop_scratch.await?;
    result
}

/// Creates a scratch database next to `url`; returns its URL and a future that drops it.
async fn scratch_database(url: &str) -> anyhow::Result<(String, impl Future<Output = anyhow::Result<()>>)> {
    use anyhow::Context;
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

fn report(args: &BenchArgs, rows: &[Row]) {
    // Each measurement restarts the peak; the process's is the highest of them all.
    let peak =
        rows.iter().filter_map(|r| r.peak_rss_mib).chain(peak_rss_bytes().map(|b| b as f64 / MIB)).reduce(f64::max);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    if args.json {
        let mut out: Vec<Value> = rows.iter().map(row_json).collect();
        out.push(
            json!({"scenario": "process", "peak_rss_mib": peak.map(round1), "cores": cores(), "load_average": load}),
        );
        println!("{}", Value::Array(out));
        return;
    }
    println!(
        "{:<9} {:<8} {:>5} {:>9} {:>8} {:>8} {:>9} {:>6} {:>9} {:>6} {:>7} {:>7} {:>7} {:>7}  note",
        "scenario",
        "store",
        "dests",
        "in-flight",
        "events",
        "seconds",
        "events/s",
        "ratio",
        "total/s",
        "ratio",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "rss MiB"
    );
    let opt = |v: Option<f64>, digits: usize| v.map_or("-".to_owned(), |v| format!("{v:.digits$}"));
    let count = |v: Option<usize>| v.map_or("-".to_owned(), |v| v.to_string());
    for r in rows {
        let [p50, p95, p99] = r.latency_ms.map_or([None; 3], |l| l.map(Some));
        println!(
            "{:<9} {:<8} {:>5} {:>9} {:>8} {:>8.2} {:>9.0} {:>6} {:>9} {:>6} {:>7} {:>7} {:>7} {:>7}  {}",
            r.scenario,
            r.store,
            count(r.destinations),
            count(r.in_flight),
            r.events,
            r.seconds,
            r.rate,
            opt(r.ratio, 2),
            opt(r.total_rate, 0),
            opt(r.total_ratio, 2),
            opt(p50, 1),
            opt(p95, 1),
            opt(p99, 1),
            opt(r.peak_rss_mib, 0),
            r.note
        );
    }
    println!(
        "peak RSS of the process: {} MiB; {} cores; load average {}",
        opt(peak, 0),
        cores(),
        load.unwrap_or_else(|| "?".into())
    );
}

fn row_json(r: &Row) -> Value {
    let mut row = json!({
        "scenario": r.scenario,
        "store": r.store,
        "destinations": r.destinations,
        "in_flight": r.in_flight,
        "events": r.events,
        "seconds": (r.seconds * 1000.0).round() / 1000.0,
        "events_per_second": r.rate.round(),
        "total_events_per_second": r.total_rate.map(f64::round),
        "ratio_to_direct": r.ratio.map(round3),
        "total_ratio_to_direct": r.total_ratio.map(round3),
        "offered_events_per_second": r.offered,
        "p50_ms": r.latency_ms.map(|l| round1(l[0])),
        "p95_ms": r.latency_ms.map(|l| round1(l[1])),
        "p99_ms": r.latency_ms.map(|l| round1(l[2])),
        "peak_rss_mib": r.peak_rss_mib.map(round1),
        "note": r.note,
    });
    if let (Some(Value::Object(extra)), Some(object)) = (&r.extra, row.as_object_mut()) {
        object.extend(extra.clone());
    }
    row
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

const MIB: f64 = 1024.0 * 1024.0;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The process's peak resident set (`VmHWM`), in bytes.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// CPU time (user + system) this process has used so far, in seconds.
fn cpu_seconds() -> f64 {
    // Fields 14 and 15 of /proc/self/stat, in clock ticks (100 per second on Linux), counted
    // after the command name, which is in parentheses and may contain spaces.
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return f64::NAN };
    let Some((_, after)) = stat.rsplit_once(')') else { return f64::NAN };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |n: usize| fields.get(n).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (ticks(11) + ticks(12)) / 100.0
}

/// Starts a new peak for [`peak_rss_bytes`] (Linux: `5` to `clear_refs` resets `VmHWM`).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Runs `work` against a fresh in-process server; stops the server when `work` is done.
/// The server runs on this task (its future need not be `Send`); the work runs beside it.
async fn with_server<T, Fut>(args: &Bench, serve: ServerOptions, work: impl FnOnce(Server) -> Fut) -> anyhow::Result<T>
where
    Fut: Future<Output = anyhow::Result<T>>,
{
    let token = serve.root_token.clone();
    let data_dir = serve.data_dir.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stopping = async {
        let _ = stopped.await;
    };
    // Quiet: stdout carries only the results (the table, or JSON with `--json`).
    let server = args.launcher.serve(serve, listener, Box::pin(stopping));
    let load = async {
        let result = async {
            let server = Server::new(base, token)?;
            wait_ready(&server.client, &server.base).await?;
            work(server).await
        }
        .await;
        let _ = stop.send(());
        result
    };
    let (served, loaded) = tokio::join!(server, load);
    let _ = std::fs::remove_dir_all(&data_dir);
    served?;
    loaded
}

/// Serve arguments for a bench server on a fresh data dir, with a known root token.
fn bench_serve_args() -> ServerOptions {
    ServerOptions {
        data_dir: std::env::temp_dir().join(format!("auditrelay-bench-{}", random_string(8))),
        database_url: None,
        root_token: format!("glpat-{}", random_string(26)),
        root_password: random_string(24),
        in_flight: None,
        breaker_open_seconds: None,
    }
}

/// A client of a bench server, as `root`.
#[derive(Clone)]
pub(crate) struct Server {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
}

impl Server {
    fn new(base: String, token: String) -> anyhow::Result<Server> {
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).tcp_nodelay(true).build()?;
        Ok(Server { base, token, client })
    }

    /// Sends a JSON request; fails unless it succeeds. Returns the JSON answer.
    async fn call(&self, method: reqwest::Method, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .header("PRIVATE-TOKEN", &self.token)
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{method} {path} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Runs a GraphQL mutation; fails on any error.
    async fn graphql(&self, query: &str) -> anyhow::Result<Value> {
        let answer = self.call(reqwest::Method::POST, "/api/graphql", &json!({ "query": query })).await?;
        let data_errors = answer["data"].as_object().and_then(|d| d.values().next()).map(|m| m["errors"].clone());
        if answer.get("errors").is_some()
            || data_errors.as_ref().is_some_and(|e| e.as_array().is_some_and(|a| !a.is_empty()))
        {
            bail!("GraphQL failed: {answer}");
        }
        Ok(answer)
    }

    /// Posts one ingest request body; returns the ids it was given.
    async fn ingest(&self, body: String) -> anyhow::Result<Vec<Value>> {
        self.post_ingest(body, true).await
    }

    /// Posts one ingest request body; returns the ids it was given if `ids`.
    async fn post_ingest(&self, body: String, ids: bool) -> anyhow::Result<Vec<Value>> {
        let response = self
            .client
            .post(format!("{}/api/v4/audit_events", self.base))
            .header("PRIVATE-TOKEN", &self.token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        // Read the whole answer: the connection goes back to the pool only then.
        let text = response.bytes().await?;
        if status != reqwest::StatusCode::CREATED {
            bail!("ingest answered {status}: {}", String::from_utf8_lossy(&text));
        }
        if !ids {
            return Ok(Vec::new());
        }
        let answer: Value = serde_json::from_slice(&text).unwrap_or(Value::Null);
        Ok(answer["ids"].as_array().cloned().unwrap_or_default())
    }

    /// Posts `requests` bodies from `clients` concurrent connections, each taking the next body;
    /// request `n` posts `bodies[n % bodies.len()]`.
    async fn ingest_all(&self, bodies: Arc<Vec<String>>, requests: usize, clients: usize) -> anyhow::Result<()> {
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..clients.max(1) {
            let (next, server, bodies) = (next.clone(), self.clone(), bodies.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= requests || bodies.is_empty() {
                        return anyhow::Ok(());
                    }
                    server.post_ingest(bodies[n % bodies.len()].clone(), false).await?;
                }
            }));
        }
        for task in tasks {
            task.await??;
        }
        Ok(())
    }
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
