//! The catch-up after a destination outage: the destination answers 503 while a backlog is
//! ingested, then comes back, and the bench measures how fast the backlog drains. Measured at a
//! tenth of `--backlog` and then at all of it: the peaks of the two show whether the memory
//! grows with the backlog (it should not: a worker holds at most a few batches).

use anyhow::Context;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

use crate::fill::{STALL, batch_body, set_up, warm_up};
use crate::process::{MIB, peak_rss_bytes, reset_peak_rss};
use crate::receiver::Receiver;
use crate::report::Row;
use crate::server::{Bench, bench_serve_args, store_name, with_bench_server};

/// Bytes the bench itself holds per arrival at its peak: the receiver's record (an id and an
/// `Instant`, 24 bytes) and the copy of the ids it sorts to count distinct ones (8 bytes). Part
/// of the peak RSS that belongs to the bench, not to the service.
const RECORD_BYTES: usize = 32;

pub(super) async fn run(args: &Bench, receiver: &Receiver, in_flight: usize) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let small = args.backlog / 10;
    if small >= args.batch.max(1) {
        rows.push(measure(args, receiver, in_flight, small).await?);
    }
    rows.push(measure(args, receiver, in_flight, args.backlog).await?);
    Ok(rows)
}

async fn measure(args: &Bench, receiver: &Receiver, in_flight: usize, backlog: usize) -> anyhow::Result<Row> {
    let mut serve = bench_serve_args();
    serve.in_flight = Some(in_flight);
    // The breaker probes again a second after it opened: the bench waits less for the start.
    serve.breaker_open_seconds = Some(1);
    let batch = args.batch.max(1);
    let events = backlog.div_ceil(batch) * batch;
    let measured = with_bench_server(args, serve, |server| async move {
        set_up(&server, receiver, 1).await?;
        let warm = warm_up(&server, receiver, 1, batch).await?;
        receiver.set_down(1, true);
        reset_peak_rss();
        let bodies: Arc<Vec<String>> = Arc::new((0..16).map(|b| batch_body(b * batch, batch, None)).collect());
        receiver.reset(warm + 1, 1..2, events);
        let started = Instant::now();
        let ingested = server.ingest_all(bodies, events / batch, args.clients).await;
        let ingest_seconds = started.elapsed().as_secs_f64();
        receiver.set_down(1, false);
        ingested?;
        let recovered = Instant::now();
        let arrivals = receiver.wait_for(1..2, events, STALL).await?;
        let log = &arrivals[0].log;
        let first = log.iter().map(|(_, at)| *at).min().context("nothing arrived")?;
        let last = log.iter().map(|(_, at)| *at).max().context("nothing arrived")?;
        anyhow::Ok(Measured {
            ingest_seconds,
            waited: first.saturating_duration_since(recovered).as_secs_f64(),
            seconds: last.duration_since(first).as_secs_f64(),
            duplicates: arrivals[0].duplicates,
            peak_rss_mib: peak_rss_bytes().map(|b| b as f64 / MIB),
        })
    })
    .await?;
    let Measured { ingest_seconds, waited, seconds, duplicates, peak_rss_mib } = measured;
    let receiver_mib = (events * RECORD_BYTES) as f64 / MIB;
    let mut note = format!(
        "backlog {events}, ingested in {ingest_seconds:.1} s during the outage; first delivery {waited:.1} s after \
         recovery (retry backoff); the receiver's records are {receiver_mib:.0} MiB of the RSS"
    );
    if duplicates > 0 {
        note.push_str(&format!("; {duplicates} duplicates"));
    }
    Ok(Row {
        scenario: "catch-up",
        store: store_name(args),
        destinations: Some(1),
        in_flight: Some(in_flight),
        events,
        seconds,
        rate: events as f64 / seconds,
        peak_rss_mib,
        note,
        extra: Some(json!({
            "backlog": events,
            "ingest_seconds": (ingest_seconds * 1000.0).round() / 1000.0,
            "seconds_to_first_delivery": (waited * 1000.0).round() / 1000.0,
            "receiver_records_mib": (receiver_mib * 10.0).round() / 10.0,
            "peak_rss_without_receiver_mib": peak_rss_mib.map(|p| ((p - receiver_mib) * 10.0).round() / 10.0),
            "duplicates": duplicates,
        })),
        ..Row::default()
    })
}

struct Measured {
    ingest_seconds: f64,
    waited: f64,
    seconds: f64,
    duplicates: usize,
    peak_rss_mib: Option<f64>,
}
