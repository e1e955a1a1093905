//! The delivery shapes of a backlog: the drain to 1 and 10 HTTP destinations (each destination
//! is down while the backlog is ingested, then back; the rate runs from the first arrival to the
//! last), the same drain to a destination that answers 500 to a share of its requests at random
//! (as a ratio to the healthy drain too), and the time from a destination's return after an
//! outage of N seconds to its first delivery.

use anyhow::Context;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::fill::{STALL, batch_body, set_up, warm_up};
use crate::process::{MIB, cpu_seconds, peak_rss_bytes, reset_peak_rss};
use crate::receiver::{MAX_DESTINATIONS, Receiver};
use crate::report::Row;
use crate::server::{Bench, bench_serve_args, store_name, with_bench_server};

/// The longest a drain is followed: a destination that cannot keep up is measured over this
/// long (and marked incomplete) rather than waited for.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);
/// The longest the bench waits for the first delivery after an outage.
const RECOVERY_LIMIT: Duration = Duration::from_secs(120);
/// Events the producer posts every [`TRICKLE_EVERY`] during an outage.
const TRICKLE: usize = 10;
const TRICKLE_EVERY: Duration = Duration::from_millis(100);

pub(super) async fn run(args: &Bench, receiver: &Receiver, in_flight: usize) -> anyhow::Result<Vec<Row>> {
    if let Some(n) = args.drain_destinations.iter().find(|n| **n == 0 || **n > MAX_DESTINATIONS) {
        anyhow::bail!("--drain-destinations {n}: between 1 and {MAX_DESTINATIONS}");
    }
    let mut rows = Vec::new();
    for &destinations in &args.drain_destinations {
        rows.push(drain(args, receiver, in_flight, destinations, 0.0).await?);
    }
    if args.failure_share > 0.0 {
        let healthy_rate = match rows.iter().find(|r| r.destinations == Some(1)) {
            Some(row) => row.rate,
            None => drain(args, receiver, in_flight, 1, 0.0).await?.rate,
        };
        let mut partial = drain(args, receiver, in_flight, 1, args.failure_share).await?;
        let ratio = partial.rate / healthy_rate;
        partial.note = format!("{ratio:.2} of the healthy drain; {}", partial.note);
        if let Some(extra) = partial.extra.as_mut().and_then(|e| e.as_object_mut()) {
            extra.insert("ratio_to_healthy".into(), json!((ratio * 1000.0).round() / 1000.0));
        }
        rows.push(partial);
    }
    for &outage in args.outage_seconds.iter().filter(|o| **o > 0) {
        rows.push(recovery(args, receiver, in_flight, outage).await?);
    }
    Ok(rows)
}

/// Ingests `--drain-events` events while `destinations` destinations are down, brings them back
/// (answering 500 to `failing` of the requests at random), and measures until every destination
/// has every event (or [`DRAIN_LIMIT`] has passed).
async fn drain(
    args: &Bench,
    receiver: &Receiver,
    in_flight: usize,
    destinations: usize,
    failing: f64,
) -> anyhow::Result<Row> {
    let mut serve = bench_serve_args();
    serve.in_flight = Some(in_flight);
    let batch = args.batch.max(1);
    let events = args.drain_events.max(1).div_ceil(batch) * batch;
    let slots = 1..destinations + 1;
    let measured = with_bench_server(args, serve, |server| async move {
        set_up(&server, receiver, destinations).await?;
        let warm = warm_up(&server, receiver, destinations, batch).await?;
        for slot in slots.clone() {
            receiver.set_down(slot, true);
        }
        let bodies: Arc<Vec<String>> = Arc::new((0..16).map(|b| batch_body(b * batch, batch, None)).collect());
        receiver.reset(warm + 1, slots.clone(), events);
        server.ingest_all(bodies, events / batch, args.clients).await?;
        reset_peak_rss();
        for slot in slots.clone() {
            receiver.set_failing(slot, failing);
            receiver.set_down(slot, false);
        }
        let back = Instant::now();
        let cpu = cpu_seconds();
        let complete = loop {
            if slots.clone().all(|n| receiver.counted(n) >= events) {
                break true;
            }
            if back.elapsed() > DRAIN_LIMIT {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let stopped = Instant::now();
        let cores_busy = (cpu_seconds() - cpu) / stopped.duration_since(back).as_secs_f64();
        let arrivals = receiver.wait_for(slots.clone(), if complete { events } else { 0 }, STALL).await?;
        for slot in slots.clone() {
            receiver.set_failing(slot, 0.0);
        }
        let first = arrivals.iter().flat_map(|a| a.log.iter().map(|(_, at)| *at)).min().context("nothing arrived")?;
        let last = if complete { arrivals.iter().filter_map(|a| a.last()).max().unwrap_or(stopped) } else { stopped };
        let delivered: usize = arrivals.iter().map(|a| a.log.len() - a.duplicates).sum();
        anyhow::Ok(Drained {
            seconds: last.duration_since(first).as_secs_f64(),
            waited: first.saturating_duration_since(back).as_secs_f64(),
            delivered,
            complete,
            duplicates: arrivals.iter().map(|a| a.duplicates).sum(),
            cores_busy,
        })
    })
    .await?;
    let Drained { seconds, waited, delivered, complete, duplicates, cores_busy } = measured;
    let total = delivered as f64 / seconds;
    let mut note = if failing > 0.0 {
        format!("{:.0}% of requests answered 500 at random; ", failing * 100.0)
    } else {
        String::new()
    };
    note.push_str(&format!(
        "backlog {events} per destination; first delivery {waited:.1} s after the return; {cores_busy:.2} cores busy"
    ));
    if !complete {
        note.push_str(&format!("; INCOMPLETE: {delivered} of {} after {:.0} s", events * destinations, seconds));
    }
    if duplicates > 0 {
        note.push_str(&format!("; {duplicates} duplicates"));
    }
    Ok(Row {
        scenario: if failing > 0.0 { "partial" } else { "drain" },
        store: store_name(args),
        destinations: Some(destinations),
        in_flight: Some(in_flight),
        events,
        seconds,
        rate: total / destinations as f64,
        total_rate: Some(total),
        peak_rss_mib: peak_rss_bytes().map(|b| b as f64 / MIB),
        note,
        extra: Some(json!({
            "backlog": events,
            "failing_share": failing,
            "delivered": delivered,
            "complete": complete,
            "seconds_to_first_delivery": (waited * 1000.0).round() / 1000.0,
            "duplicates": duplicates,
            "cores_busy": (cores_busy * 100.0).round() / 100.0,
        })),
        ..Row::default()
    })
}

struct Drained {
    seconds: f64,
    waited: f64,
    delivered: usize,
    complete: bool,
    duplicates: usize,
    /// CPU of the whole process (server, receiver) from the return to the last arrival.
    cores_busy: f64,
}

/// Takes a destination down for `outage` seconds while a producer keeps posting a few events,
/// brings it back, and measures how long until it gets its first delivery. The server's own
/// breaker and retry settings, as in production.
async fn recovery(args: &Bench, receiver: &Receiver, in_flight: usize, outage: u64) -> anyhow::Result<Row> {
    let mut serve = bench_serve_args();
    serve.in_flight = Some(in_flight);
    let waited = with_bench_server(args, serve, |server| async move {
        set_up(&server, receiver, 1).await?;
        let warm = warm_up(&server, receiver, 1, args.batch.max(1)).await?;
        receiver.set_down(1, true);
        receiver.reset(warm + 1, 1..2, 100_000);
        let producing = Arc::new(AtomicBool::new(true));
        let producer = {
            let (server, producing) = (server.clone(), producing.clone());
            tokio::spawn(async move {
                let mut pace = tokio::time::interval(TRICKLE_EVERY);
                while producing.load(Ordering::Relaxed) {
                    pace.tick().await;
                    server.post_ingest(batch_body(0, TRICKLE, None), false).await?;
                }
                anyhow::Ok(())
            })
        };
        tokio::time::sleep(Duration::from_secs(outage)).await;
        receiver.set_down(1, false);
        let back = Instant::now();
        let arrivals = receiver.wait_for(1..2, 1, RECOVERY_LIMIT).await;
        producing.store(false, Ordering::Relaxed);
        producer.await??;
        let first = arrivals?[0].log.iter().map(|(_, at)| *at).min().context("nothing arrived")?;
        anyhow::Ok(first.saturating_duration_since(back).as_secs_f64())
    })
    .await?;
    Ok(Row {
        scenario: "recovery",
        store: store_name(args),
        destinations: Some(1),
        in_flight: Some(in_flight),
        events: 1,
        seconds: waited,
        // Not a rate: the seconds column holds the wait from the return to the first delivery.
        rate: f64::NAN,
        note: format!(
            "outage of {outage} s ({TRICKLE} events every {} ms meanwhile); first delivery {waited:.2} s after the return",
            TRICKLE_EVERY.as_millis()
        ),
        extra: Some(json!({"outage_seconds": outage, "seconds_to_first_delivery": (waited * 1000.0).round() / 1000.0})),
        ..Row::default()
    })
}
