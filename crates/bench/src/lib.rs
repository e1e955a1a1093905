//! `auditrelay bench`: measures the service on this machine, against in-process servers on
//! loopback, on the embedded store or (given a URL) PostgreSQL. Scenarios: ingest throughput at
//! several batch sizes, one event per request from 16 connections, and batches over many
//! namespaces (new and known); delivery: the direct rate of a load generator posting straight to a
//! receiver (the physical limit of the same run), delivered events/s to 1 and 10 HTTP
//! destinations, and ingest-to-delivery latency at fixed offered rates; and the catch-up after a
//! destination outage with a large backlog. See docs/benchmarks.md.

mod args;
mod catch_up;
mod delivery;
mod drain;
mod fill;
mod ingest;
mod launch;
mod namespaces;
mod process;
mod receiver;
mod report;
mod server;

pub use args::{BenchArgs, Scenario};
pub use launch::{Launcher, ServeFuture, ServerOptions};

use std::sync::Arc;

use server::Bench;

/// `auditrelay bench`: every measurement `args` asks for, against servers that `launcher` starts.
pub async fn run(args: BenchArgs, launcher: Arc<dyn Launcher>) -> anyhow::Result<()> {
    let args = Bench::new(args, launcher);
    let mut rows = Vec::new();
    if matches!(args.scenario, Scenario::Ingest | Scenario::All) {
        rows.extend(ingest::run(&args).await?);
        rows.extend(namespaces::run(&args).await?);
    }
    if args.scenario == Scenario::Ingest {
        // The ratios need the direct rate of this run (the delivery scenarios measure it too).
        rows.push(namespaces::direct(&args).await?);
    }
    if matches!(args.scenario, Scenario::Delivery | Scenario::CatchUp | Scenario::Drain | Scenario::All) {
        rows.extend(delivery::run(&args).await?);
    }
    // Every rate also as a ratio of the direct rate of this run (the best of its measurements).
    let direct = rows.iter().filter(|r| r.scenario == "direct").map(|r| r.rate).reduce(f64::max);
    if let Some(direct) = direct {
        for row in rows.iter_mut().filter(|r| r.ratio.is_none()) {
            row.ratio = Some(row.rate / direct);
        }
    }
    report::report(&args, &rows);
    Ok(())
}
