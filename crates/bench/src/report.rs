//! The results: one [`Row`] per measurement, printed as a table or as JSON.

use serde_json::{Value, json};

use crate::args::BenchArgs;
use crate::process::{MIB, cores, peak_rss_bytes};

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

pub(crate) fn report(args: &BenchArgs, rows: &[Row]) {
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

pub(crate) fn row_json(r: &Row) -> Value {
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

pub(crate) fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

pub(crate) fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
