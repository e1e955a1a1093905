//! The servers the bench measures: started through the launcher on a fresh store (the embedded
//! one, or a scratch PostgreSQL database), and a client that sets them up and loads them.

use anyhow::bail;
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

use crate::args::BenchArgs;
use crate::launch::{Launcher, ServerOptions, random_string};

/// A run of the bench: its arguments, and how it starts servers.
pub(crate) struct Bench {
    args: BenchArgs,
    pub launcher: Arc<dyn Launcher>,
}

impl Bench {
    pub fn new(args: BenchArgs, launcher: Arc<dyn Launcher>) -> Bench {
        Bench { args, launcher }
    }
}

impl std::ops::Deref for Bench {
    type Target = BenchArgs;

    fn deref(&self) -> &BenchArgs {
        &self.args
    }
}

/// The store label of the rows.
pub(crate) fn store_name(args: &Bench) -> &'static str {
    if args.database_url.is_some() { "postgres" } else { "sqlite" }
}

/// Like [`with_server`], on the bench's store: the embedded one, or a scratch PostgreSQL
/// database that is dropped afterwards.
pub(crate) async fn with_bench_server<T, Fut>(
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
pub(crate) async fn scratch_database(url: &str) -> anyhow::Result<(String, impl Future<Output = anyhow::Result<()>>)> {
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

/// Runs `work` against a fresh in-process server; stops the server when `work` is done.
/// The server runs on this task (its future need not be `Send`); the work runs beside it.
pub(crate) async fn with_server<T, Fut>(
    args: &Bench,
    serve: ServerOptions,
    work: impl FnOnce(Server) -> Fut,
) -> anyhow::Result<T>
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
pub(crate) fn bench_serve_args() -> ServerOptions {
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
    pub(crate) fn new(base: String, token: String) -> anyhow::Result<Server> {
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).tcp_nodelay(true).build()?;
        Ok(Server { base, token, client })
    }

    /// Sends a JSON request; fails unless it succeeds. Returns the JSON answer.
    pub(crate) async fn call(&self, method: reqwest::Method, path: &str, body: &Value) -> anyhow::Result<Value> {
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
    pub(crate) async fn graphql(&self, query: &str) -> anyhow::Result<Value> {
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
    pub(crate) async fn ingest(&self, body: String) -> anyhow::Result<Vec<Value>> {
        self.post_ingest(body, true).await
    }

    /// Posts one ingest request body; returns the ids it was given if `ids`.
    pub(crate) async fn post_ingest(&self, body: String, ids: bool) -> anyhow::Result<Vec<Value>> {
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
    pub(crate) async fn ingest_all(
        &self,
        bodies: Arc<Vec<String>>,
        requests: usize,
        clients: usize,
    ) -> anyhow::Result<()> {
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

/// The log writer's commits and the namespace learning so far, from the server's `/-/metrics`:
/// a run's figures are the difference of two readings (the recorder is global, so it spans the
/// bench's servers).
#[derive(Clone, Copy)]
pub(crate) struct Commits {
    count: f64,
    events: f64,
    seconds: f64,
    /// Batches that learned new group paths, and their time (waiting for the write connection
    /// included).
    learns: f64,
    learn_seconds: f64,
}

/// What the log writer and the namespace learning did between two readings.
#[derive(Clone, Copy)]
pub(crate) struct CommitStats {
    pub events_per_commit: f64,
    pub ms_per_commit: f64,
    /// The time each batch took to learn its new group paths, when any did.
    pub ms_per_learn: Option<f64>,
}

impl Commits {
    /// The commits between `self` (the earlier reading) and `later`; `None` if there were none.
    pub(crate) fn until(self, later: Commits) -> Option<CommitStats> {
        let commits = later.count - self.count;
        let learns = later.learns - self.learns;
        (commits > 0.0).then(|| CommitStats {
            events_per_commit: (later.events - self.events) / commits,
            ms_per_commit: (later.seconds - self.seconds) * 1000.0 / commits,
            ms_per_learn: (learns > 0.0).then(|| (later.learn_seconds - self.learn_seconds) * 1000.0 / learns),
        })
    }
}

impl Server {
    /// Reads the log writer's commits so far (how many, their events, their time) and the
    /// namespace learning's.
    pub(crate) async fn commits(&self) -> anyhow::Result<Commits> {
        let text = self
            .client
            .get(format!("{}/-/metrics", self.base))
            .header("PRIVATE-TOKEN", &self.token)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let value = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        Ok(Commits {
            count: value("auditrelay_log_commit_events_count"),
            events: value("auditrelay_log_commit_events_sum"),
            seconds: value("auditrelay_log_commit_seconds_sum"),
            learns: value("auditrelay_namespace_learn_seconds_count"),
            learn_seconds: value("auditrelay_namespace_learn_seconds_sum"),
        })
    }
}

pub(crate) async fn wait_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if client.get(format!("{base}/-/readiness")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not become ready")
}

#[cfg(test)]
mod tests {
    use super::Commits;

    #[test]
    fn commit_stats_are_the_difference_of_two_readings() {
        let before = Commits { count: 10.0, events: 100.0, seconds: 0.5, learns: 2.0, learn_seconds: 0.01 };
        let after = Commits { count: 30.0, events: 260.0, seconds: 0.53, learns: 6.0, learn_seconds: 0.018 };
        let stats = before.until(after).expect("commits happened");
        assert!((stats.events_per_commit - 8.0).abs() < 1e-9);
        assert!((stats.ms_per_commit - 1.5).abs() < 1e-9);
        assert!((stats.ms_per_learn.expect("paths were learned") - 2.0).abs() < 1e-9);
        let unlearned = Commits { learns: 2.0, learn_seconds: 0.01, ..after };
        assert!(before.until(unlearned).expect("commits happened").ms_per_learn.is_none());
        assert!(after.until(after).is_none(), "no commits, no figures");
    }
}
