//! Delivery: the direct rate (a load generator posting single events straight to the receiver,
//! the physical limit of this run), delivered events/s to 1 and 10 HTTP destinations, and
//! ingest-to-delivery latency at fixed offered rates.

use anyhow::{Context, bail};
use auditrelay_core::EventId;
use auditrelay_core::event::payload_with_id;
use auditrelay_delivery::sinks::http::{HttpClient, HttpSpec, gitlab_headers};
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::args::Scenario;
use crate::fill::{EVENT_TYPE, STALL, batch_body, payload_template, set_up, warm_up};
use crate::process::{MIB, cpu_seconds, peak_rss_bytes, reset_peak_rss};
use crate::receiver::{Arrivals, MAX_DESTINATIONS, Receiver};
use crate::report::Row;
use crate::server::{Bench, Server, bench_serve_args, store_name, with_bench_server};

/// Ids of the direct load (far above any `seq` the bench servers give out).
const DIRECT_ID_BASE: i64 = 1_000_000_000_000;
/// Producer ids of the latency runs; each rate has its own range.
const LATENCY_ID_BASE: i64 = 2_000_000_000_000;
const LATENCY_ID_STRIDE: i64 = 1_000_000_000;
/// The producer's pace in the latency runs: one batch per tick.
const TICK: Duration = Duration::from_millis(10);

pub(super) async fn run(args: &Bench) -> anyhow::Result<Vec<Row>> {
    if let Some(n) = args.destinations.iter().find(|n| **n == 0 || **n > MAX_DESTINATIONS) {
        bail!("--destinations {n}: between 1 and {MAX_DESTINATIONS}");
    }
    let in_flights = match args.in_flight.as_slice() {
        [] => vec![args.launcher.default_in_flight()],
        given => given.to_vec(),
    };
    let receiver = Receiver::start().await?;
    // The direct rate before and after the delivery runs. The ratios are to the higher one:
    // the physical limit is the best the machine did, and a second run guards against a noisy
    // first. (The run after is often lower: the process has been through the delivery runs.)
    let before = measure_direct(args, &receiver).await?;
    let delivery = matches!(args.scenario, Scenario::Delivery | Scenario::All);
    let mut delivered = Vec::new();
    for &destinations in args.destinations.iter().filter(|_| delivery) {
        for &in_flight in &in_flights {
            delivered.push(measure_delivery(args, &receiver, destinations, in_flight).await?);
        }
    }
    if matches!(args.scenario, Scenario::CatchUp | Scenario::All) && args.backlog > 0 {
        delivered.extend(crate::catch_up::run(args, &receiver, in_flights[0]).await?);
    }
    if matches!(args.scenario, Scenario::Drain | Scenario::All) {
        delivered.extend(crate::drain::run(args, &receiver, in_flights[0]).await?);
    }
    let mut rows = vec![before];
    if !delivered.is_empty() {
        let mut after = measure_direct(args, &receiver).await?;
        after.note = format!("again after the delivery runs; {}", after.note);
        rows.push(after);
    }
    let direct_rate = rows.iter().map(|r| r.rate).fold(0.0, f64::max);
    for row in &mut rows {
        row.ratio = Some(row.rate / direct_rate);
    }
    for mut row in delivered {
        row.ratio = Some(row.rate / direct_rate);
        row.total_ratio = row.total_rate.map(|t| t / direct_rate);
        if row.scenario != "delivery" {
            rows.push(row);
            continue;
        }
        if let Some(after) = row.extra.as_mut().and_then(|e| e.as_object_mut()) {
            let rate = after.get("events_per_second_after_ingest").and_then(Value::as_f64).unwrap_or(f64::NAN);
            after.insert("ratio_after_ingest".into(), json!(round3(rate / direct_rate)));
            row.note = format!("then {rate:.0}/s ({:.2} of direct) after ingest; {}", rate / direct_rate, row.note);
        }
        rows.push(row);
    }
    if delivery && !args.latency_rates.is_empty() && args.latency_seconds > 0 {
        rows.extend(measure_latency(args, &receiver, in_flights[0]).await?);
    }
    Ok(rows)
}

/// The physical limit: single-event POSTs straight to the receiver over keep-alive
/// connections, with the HTTP sink's client settings and GitLab's headers and body.
pub(crate) async fn measure_direct(args: &Bench, receiver: &Receiver) -> anyhow::Result<Row> {
    // Let the previous measurement's aftermath (write-back of a deleted data dir) settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    reset_peak_rss();
    let requests = args.direct_requests.max(1);
    let connections = args.direct_connections.max(1);
    let payload = Arc::new(payload_template()?);
    let url = reqwest::Url::parse(&receiver.url(0))?;
    let spec = HttpSpec {
        url: url.to_string(),
        token: "bench-verification-token-0001".into(),
        headers: vec![],
        signing: vec![],
    };
    let mut headers = gitlab_headers(&spec).map_err(|e| anyhow::anyhow!("{e}"))?;
    headers.insert(HeaderName::from_static("x-gitlab-audit-event-type"), HeaderValue::from_static(EVENT_TYPE));
    let client = HttpClient::new(true, auditrelay_delivery::sinks::http::REQUEST_TIMEOUT);
    let uri: hyper::Uri = url.as_str().parse()?;
    let post = move |body: String| {
        let (client, uri, headers) = (client.clone(), uri.clone(), headers.clone());
        async move {
            let answer = client.post(&uri, headers, body.into()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if !answer.status.is_success() {
                bail!("the receiver answered {}", answer.status);
            }
            anyhow::Ok(())
        }
    };
    // Open the connections first; ids below the floor are not counted.
    receiver.reset(DIRECT_ID_BASE, 0..1, requests);
    let warm_up: Vec<_> =
        (0..connections).map(|n| tokio::spawn(post(payload_with_id(&EventId::Int(n as i64 + 1), &payload)))).collect();
    for task in warm_up {
        task.await??;
    }
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = cpu_seconds();
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (next, payload, post) = (next.clone(), payload.clone(), post.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= requests {
                        return anyhow::Ok(());
                    }
                    // Made per request, as the worker makes each event's body.
                    post(payload_with_id(&EventId::Int(DIRECT_ID_BASE + n as i64), &payload)).await?;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let arrivals = receiver.wait_for(0..1, requests, STALL).await?;
    let last = arrivals[0].last().context("nothing arrived")?;
    let seconds = last.duration_since(started).as_secs_f64();
    let cores_busy = (cpu_seconds() - cpu) / seconds;
    Ok(Row {
        scenario: "direct",
        store: "-",
        events: requests,
        seconds,
        rate: requests as f64 / seconds,
        peak_rss_mib: peak_rss_bytes().map(|b| b as f64 / MIB),
        note: format!("{connections} connections, 1 event per POST; {cores_busy:.2} cores busy"),
        extra: Some(
            json!({"connections": connections, "body_bytes": payload.len() + 20, "cores_busy": round2(cores_busy)}),
        ),
        ..Row::default()
    })
}

/// Ingests `args.delivery_events` events for group `bench` and measures the time from the
/// first ingest request until every destination has got every event.
async fn measure_delivery(
    args: &Bench,
    receiver: &Receiver,
    destinations: usize,
    in_flight: usize,
) -> anyhow::Result<Row> {
    reset_peak_rss();
    let mut serve = bench_serve_args();
    serve.in_flight = Some(in_flight);
    let batch = args.batch.max(1);
    let events = args.delivery_events.div_ceil(batch) * batch;
    let measured = with_bench_server(args, serve, |server| async move {
        set_up(&server, receiver, destinations).await?;
        let warm = warm_up(&server, receiver, destinations, batch).await?;
        // A few distinct bodies, posted in turn (the service gives every event its own id): the
        // bench's own buffers stay small, so the peak RSS is the service's.
        let bodies: Arc<Vec<String>> = Arc::new((0..16).map(|b| batch_body(b * batch, batch, None)).collect());
        receiver.reset(warm + 1, 1..destinations + 1, events);
        let cpu = cpu_seconds();
        let started = Instant::now();
        let ingest = {
            let server = server.clone();
            let clients = args.clients;
            tokio::spawn(
                async move { server.ingest_all(bodies, events / batch, clients).await.map(|()| started.elapsed()) },
            )
        };
        let arrivals = receiver.wait_for(1..destinations + 1, events, STALL).await?;
        let cpu = cpu_seconds() - cpu;
        let ingest_took = ingest.await??;
        let per_destination: Vec<f64> = arrivals
            .iter()
            .map(|a| a.last().map_or(f64::NAN, |last| last.duration_since(started).as_secs_f64()))
            .collect();
        let seconds = per_destination.iter().copied().fold(0.0, f64::max);
        // Delivery alone: the rate after the last ingest request was answered.
        let ingest_done = started + ingest_took;
        let after: usize = arrivals.iter().map(|a| a.log.iter().filter(|(_, at)| *at > ingest_done).count()).sum();
        let after_rate = after as f64 / (seconds - ingest_took.as_secs_f64()) / destinations as f64;
        let stalled = stalled_share(&arrivals[0], ingest_done);
        anyhow::Ok(Delivered {
            seconds,
            ingest_seconds: ingest_took.as_secs_f64(),
            per_destination,
            duplicates: arrivals.iter().map(|a| a.duplicates).sum(),
            cores_busy: cpu / seconds,
            after_rate,
            stalled,
        })
    })
    .await?;
    let Delivered { seconds, ingest_seconds, per_destination, duplicates, cores_busy, after_rate, stalled } = measured;
    let rate = events as f64 / seconds;
    let total = rate * destinations as f64;
    let fastest = per_destination.iter().copied().fold(f64::INFINITY, f64::min);
    let mut note = format!(
        "ingest took {ingest_seconds:.2} s; {:.0}% in gaps ≥ 1 ms after it; {cores_busy:.2} cores busy",
        stalled * 100.0
    );
    if destinations > 1 {
        note.push_str(&format!("; first destination done after {fastest:.2} s"));
    }
    if duplicates > 0 {
        note.push_str(&format!("; {duplicates} duplicates"));
    }
    Ok(Row {
        scenario: "delivery",
        store: store_name(args),
        destinations: Some(destinations),
        in_flight: Some(in_flight),
        events,
        seconds,
        rate,
        total_rate: Some(total),
        peak_rss_mib: peak_rss_bytes().map(|b| b as f64 / MIB),
        note,
        extra: Some(json!({
            "ingest_seconds": round3(ingest_seconds),
            "seconds_per_destination": per_destination.iter().copied().map(round3).collect::<Vec<_>>(),
            "duplicates": duplicates,
            "cores_busy": round2(cores_busy),
            "events_per_second_after_ingest": after_rate.round(),
            "stalled_share_after_ingest": round3(stalled),
            "batch": batch,
            "clients": args.clients,
        })),
        ..Row::default()
    })
}

struct Delivered {
    seconds: f64,
    ingest_seconds: f64,
    per_destination: Vec<f64>,
    duplicates: usize,
    cores_busy: f64,
    after_rate: f64,
    stalled: f64,
}

/// The share of the time after `from` in which the destination got nothing for 1 ms or more
/// (for a steady sender, the gaps between its rounds).
fn stalled_share(arrivals: &Arrivals, from: Instant) -> f64 {
    let mut times: Vec<Instant> = arrivals.log.iter().map(|(_, at)| *at).filter(|at| *at > from).collect();
    times.sort_unstable();
    let (Some(first), Some(last)) = (times.first(), times.last()) else { return 0.0 };
    let span = last.duration_since(*first).as_secs_f64();
    let gaps: f64 = times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]))
        .filter(|gap| *gap >= Duration::from_millis(1))
        .map(|gap| gap.as_secs_f64())
        .sum();
    if span > 0.0 { gaps / span } else { 0.0 }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Ingest-to-delivery latency to one destination at each offered rate: every 10 ms a batch
/// sized to the rate, with producer ids; latency = arrival at the receiver − send.
async fn measure_latency(args: &Bench, receiver: &Receiver, in_flight: usize) -> anyhow::Result<Vec<Row>> {
    let mut serve = bench_serve_args();
    serve.in_flight = Some(in_flight);
    with_bench_server(args, serve, |server| async move {
        set_up(&server, receiver, 1).await?;
        warm_up(&server, receiver, 1, args.batch.max(1)).await?;
        let mut rows = Vec::new();
        for (i, &rate) in args.latency_rates.iter().enumerate() {
            let base = LATENCY_ID_BASE + i as i64 * LATENCY_ID_STRIDE;
            rows.push(latency_at(args, &server, receiver, rate, base, in_flight).await?);
        }
        Ok(rows)
    })
    .await
}

async fn latency_at(
    args: &Bench,
    server: &Server,
    receiver: &Receiver,
    rate: usize,
    id_base: i64,
    in_flight: usize,
) -> anyhow::Result<Row> {
    reset_peak_rss();
    let ticks = (args.latency_seconds * 100) as usize;
    // Events of tick t: the rate spread evenly over the ticks of each second.
    let first_of: Vec<usize> = (0..=ticks).map(|t| rate * t / 100).collect();
    let total = first_of[ticks];
    if total == 0 {
        bail!("--latency-rates {rate}: too low to send anything");
    }
    let mut bodies: Vec<String> = (0..ticks)
        .map(|t| batch_body(first_of[t], first_of[t + 1] - first_of[t], Some(id_base + first_of[t] as i64)))
        .collect();
    receiver.reset(id_base, 1..2, total);
    let mut sent_at = Vec::with_capacity(ticks);
    let mut posts = Vec::with_capacity(ticks);
    let mut pace = tokio::time::interval(TICK);
    for (t, body) in bodies.iter_mut().enumerate() {
        pace.tick().await;
        sent_at.push(Instant::now());
        if first_of[t + 1] > first_of[t] {
            let (server, body) = (server.clone(), std::mem::take(body));
            posts.push(tokio::spawn(async move { server.post_ingest(body, false).await }));
        }
    }
    let sending = sent_at[ticks - 1].duration_since(sent_at[0]) + TICK;
    for post in posts {
        post.await??;
    }
    let arrivals = receiver.wait_for(1..2, total, STALL).await?;
    let Arrivals { log, duplicates } = &arrivals[0];
    let mut seen = std::collections::HashSet::with_capacity(total);
    let mut latencies: Vec<f64> = Vec::with_capacity(total);
    for (id, at) in log {
        if !seen.insert(*id) {
            continue; // a repeat of an event: its first arrival counts
        }
        let k = (id - id_base) as usize;
        let tick = first_of.partition_point(|first| *first <= k) - 1;
        latencies.push(at.saturating_duration_since(sent_at[tick]).as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let percentile = |p: f64| latencies[((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1];
    let last = arrivals[0].last().context("nothing arrived")?;
    let seconds = last.duration_since(sent_at[0]).as_secs_f64();
    let delivered = total as f64 / seconds;
    let offered = total as f64 / sending.as_secs_f64();
    let mut note = format!("offered {rate}/s (sent {offered:.0}/s)");
    if delivered < 0.95 * rate as f64 || offered < 0.95 * rate as f64 {
        note.push_str("; did not keep up");
    }
    if *duplicates > 0 {
        note.push_str(&format!("; {duplicates} duplicates"));
    }
    Ok(Row {
        scenario: "latency",
        store: store_name(args),
        destinations: Some(1),
        in_flight: Some(in_flight),
        events: total,
        seconds,
        rate: delivered,
        offered: Some(rate),
        latency_ms: Some([percentile(0.50), percentile(0.95), percentile(0.99)]),
        peak_rss_mib: peak_rss_bytes().map(|b| b as f64 / MIB),
        note,
        extra: Some(json!({
            "sent_events_per_second": offered.round(),
            "max_ms": latencies.last().copied().map(round3),
            "batch_every_ms": TICK.as_millis(),
            "duplicates": duplicates,
        })),
        ..Row::default()
    })
}
