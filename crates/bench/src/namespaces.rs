//! GitLab's traffic shapes for ingest: one event per request from many connections (with the
//! producer's ack latency), and batches spread over many distinct namespaces (`--namespaces N`),
//! measured while the namespaces are new and again once they are known. Bodies are made per
//! request from a text template, so the load generator's memory does not grow with N and the
//! process's peak RSS is the server's.

use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::process::{MIB, cpu_seconds, peak_rss_bytes, reset_peak_rss};
use crate::report::{Row, round3};
use crate::server::{Bench, CommitStats, Server, bench_serve_args, store_name, with_bench_server};

/// Events per request of the namespace measurements (the issue's shape).
const NAMESPACE_BATCH: usize = 100;
/// Producer ids of these runs, far from anything else the bench posts.
const ID_BASE: i64 = 3_000_000_000_000;

pub(super) async fn run(args: &Bench) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    if args.single_events > 0 {
        rows.push(measure_single(args).await?);
    }
    for &namespaces in &args.namespaces {
        rows.extend(measure_namespaces(args, namespaces.max(1)).await?);
    }
    Ok(rows)
}

/// The direct rate (load generator straight to a receiver) for runs of the ingest scenario alone.
pub(super) async fn direct(args: &Bench) -> anyhow::Result<Row> {
    let receiver = crate::receiver::Receiver::start().await?;
    crate::delivery::measure_direct(args, &receiver).await
}

/// One Group event (≈ 430 bytes as sent) under `path`, with its own producer id.
fn event_text(id: i64, path: &str, n: usize) -> String {
    format!(
        r#"{{"id":{id},"event_type":"member_updated","entity_type":"Group","entity_path":"{path}","author_id":{author},"author_name":"Bench User","ip_address":"10.1.2.3","target_type":"User","target_id":4242,"target_details":"Jane Doe","details":{{"change":"access_level","from":"Developer","to":"Maintainer","author_email":"bench.user@example.com","target_email":"jane.doe@example.com","custom_message":"Changed access level","n":{n}}}}}"#,
        author = 1000 + n % 50,
    )
}

/// The group path of namespace `k`.
fn namespace_path(k: usize) -> String {
    format!("ns/g-{k:06}")
}

/// `--single-events` single-event requests from `--single-connections` connections.
async fn measure_single(args: &Bench) -> anyhow::Result<Row> {
    reset_peak_rss();
    let (requests, connections) = (args.single_events, args.single_connections.max(1));
    let load = |server: Server| async move {
        // The namespace exists before the clock starts: this shape measures the request path.
        server.post_ingest(format!("[{}]", event_text(ID_BASE - 1, "bench", 0)), false).await?;
        let body = |n: usize| event_text(ID_BASE + n as i64, "bench", n);
        let (before, cpu) = (server.commits().await?, cpu_seconds());
        let (seconds, latencies) = drive(&server, requests, connections, body).await?;
        let cores_busy = (cpu_seconds() - cpu) / seconds;
        anyhow::Ok((seconds, latencies, before.until(server.commits().await?), cores_busy))
    };
    let (seconds, latencies, commits, cores_busy) = with_bench_server(args, bench_serve_args(), load).await?;
    Ok(Row {
        scenario: "ingest-1",
        store: store_name(args),
        events: requests,
        seconds,
        rate: requests as f64 / seconds,
        latency_ms: Some(percentiles(&latencies)),
        peak_rss_mib: peak_rss_bytes().map(|b| b as f64 / MIB),
        note: format!(
            "{connections} connections, 1 event per request, ack latency; {cores_busy:.2} cores busy{}",
            commits_note(commits)
        ),
        extra: Some(json!({
            "connections": connections,
            "batch": 1,
            "max_ms": latencies.last().map(|l| round3(*l)),
            "cores_busy": round3(cores_busy),
            "events_per_commit": commits.map(|c| round3(c.events_per_commit)),
            "ms_per_commit": commits.map(|c| round3(c.ms_per_commit)),
        })),
        ..Row::default()
    })
}

/// Batches of 100 over `namespaces` distinct group paths: first every path once (new), then
/// `--events` events over the same paths (known), on one server.
async fn measure_namespaces(args: &Bench, namespaces: usize) -> anyhow::Result<Vec<Row>> {
    reset_peak_rss();
    let connections = args.clients.max(1);
    let known_events = args.events.max(NAMESPACE_BATCH);
    let load = |server: Server| async move {
        // The parent group and the connections exist before the clock starts.
        server.post_ingest(format!("[{}]", event_text(ID_BASE - 2, "ns", 0)), false).await?;
        let new_requests = namespaces.div_ceil(NAMESPACE_BATCH);
        let new_body = move |r: usize| {
            batch_text((r * NAMESPACE_BATCH..((r + 1) * NAMESPACE_BATCH).min(namespaces)).map(|k| (k, k)))
        };
        let before = server.commits().await?;
        let (new_seconds, new_latencies) = drive(&server, new_requests, connections, new_body).await?;
        let (new_rss, between) = (peak_rss_bytes(), server.commits().await?);
        let new_commits = before.until(between);
        let known_requests = known_events / NAMESPACE_BATCH;
        // Spread over every namespace, in an order unlike the one they were learned in.
        let known_body = move |r: usize| {
            batch_text((0..NAMESPACE_BATCH).map(|i| {
                let n = namespaces + r * NAMESPACE_BATCH + i;
                (n, (n.wrapping_mul(7919)) % namespaces)
            }))
        };
        let (known_seconds, known_latencies) = drive(&server, known_requests, connections, known_body).await?;
        let known_commits = between.until(server.commits().await?);
        let new = Phase { events: namespaces, seconds: new_seconds, latencies: new_latencies, commits: new_commits };
        let known = Phase {
            events: known_requests * NAMESPACE_BATCH,
            seconds: known_seconds,
            latencies: known_latencies,
            commits: known_commits,
        };
        anyhow::Ok((new, new_rss, known))
    };
    let (new, new_rss, known) = with_bench_server(args, bench_serve_args(), load).await?;
    let rss = |bytes: Option<u64>| bytes.map(|b| b as f64 / MIB);
    let row = |scenario: &'static str, phase: Phase, peak: Option<f64>| Row {
        scenario,
        store: store_name(args),
        events: phase.events,
        seconds: phase.seconds,
        rate: phase.events as f64 / phase.seconds,
        latency_ms: Some(percentiles(&phase.latencies)),
        peak_rss_mib: peak,
        note: format!(
            "{namespaces} namespaces, batch {NAMESPACE_BATCH}, {connections} clients{}{}",
            commits_note(phase.commits),
            learn_note(phase.commits)
        ),
        extra: Some(json!({
            "namespaces": namespaces,
            "batch": NAMESPACE_BATCH,
            "clients": connections,
            "events_per_commit": phase.commits.map(|c| round3(c.events_per_commit)),
            "ms_per_commit": phase.commits.map(|c| round3(c.ms_per_commit)),
            "ms_per_learn": phase.commits.and_then(|c| c.ms_per_learn).map(round3),
        })),
        ..Row::default()
    };
    Ok(vec![row("ns-new", new, rss(new_rss)), row("ns-known", known, rss(peak_rss_bytes()))])
}

/// One phase of the namespace measurement: its events, time, latencies and commits.
struct Phase {
    events: usize,
    seconds: f64,
    latencies: Vec<f64>,
    commits: Option<CommitStats>,
}

/// "; learning new paths M ms per batch" for a row's note (empty when nothing was learned).
fn learn_note(commits: Option<CommitStats>) -> String {
    commits
        .and_then(|c| c.ms_per_learn)
        .map(|ms| format!("; learning new paths {ms:.2} ms per batch"))
        .unwrap_or_default()
}

/// "; N events per commit, M ms each" for a row's note (empty when nothing was committed).
fn commits_note(commits: Option<CommitStats>) -> String {
    commits
        .map(|c| format!("; {:.1} events per commit, {:.2} ms each", c.events_per_commit, c.ms_per_commit))
        .unwrap_or_default()
}

/// A JSON array of events `(n, namespace)`.
fn batch_text(events: impl Iterator<Item = (usize, usize)>) -> String {
    let mut body = String::from("[");
    for (n, k) in events {
        if body.len() > 1 {
            body.push(',');
        }
        body.push_str(&event_text(ID_BASE + n as i64, &namespace_path(k), n));
    }
    body.push(']');
    body
}

/// Posts request bodies `body(0..requests)` from `connections` connections, each taking the
/// next; returns the seconds taken and every request's latency (ms, sorted).
async fn drive(
    server: &Server,
    requests: usize,
    connections: usize,
    body: impl Fn(usize) -> String + Send + Sync + 'static,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let (next, body) = (Arc::new(AtomicUsize::new(0)), Arc::new(body));
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (next, server, body) = (next.clone(), server.clone(), body.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= requests {
                        return anyhow::Ok(latencies);
                    }
                    let text = body(n);
                    let sent = Instant::now();
                    server.post_ingest(text, false).await?;
                    latencies.push(sent.elapsed());
                }
            })
        })
        .collect();
    let mut latencies: Vec<f64> = Vec::with_capacity(requests);
    for task in tasks {
        latencies.extend(task.await??.iter().map(Duration::as_secs_f64).map(|s| s * 1000.0));
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok((seconds, latencies))
}

/// p50, p95 and p99 of sorted latencies.
fn percentiles(sorted: &[f64]) -> [f64; 3] {
    if sorted.is_empty() {
        return [f64::NAN; 3];
    }
    let at = |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    [at(0.50), at(0.95), at(0.99)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_valid_json_of_the_issue_size() {
        let text = event_text(ID_BASE, &namespace_path(9_999), 123);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["entity_path"], "ns/g-009999");
        assert!((400..600).contains(&text.len()), "{} bytes", text.len());
        let batch: serde_json::Value = serde_json::from_str(&batch_text([(1, 2), (3, 4)].into_iter())).unwrap();
        assert_eq!(batch.as_array().unwrap().len(), 2);
    }

    #[test]
    fn percentiles_of_sorted_latencies() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentiles(&sorted), [50.0, 95.0, 99.0]);
        assert!(percentiles(&[]).iter().all(|p| p.is_nan()));
    }
}
