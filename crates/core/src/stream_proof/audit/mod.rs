//! The receiver's side of the proof: given what a receiver kept (deliveries with their stream
//! headers), the signed checkpoints and the public keys, say whether the stream is complete and
//! unaltered, and if not, where. `auditrelay verify` is this plus reading the inputs. Pure.
//!
//! - `inputs`: what the audit reads (deliveries, the public keys).
//! - `walk`: the algorithm over one stream (missing, duplicates, order, chain, checkpoints).
//! - `report`: the findings, serialized as `verify --json`.

mod inputs;
mod report;
mod walk;

#[cfg(test)]
mod tests;

pub use inputs::{Delivery, KeyRing};
pub use report::{
    CheckpointSummary, Coverage, Duplicate, Duplicates, LateArrival, Mismatch, MismatchKind, OutOfOrder, PositionRange,
    RejectedCheckpoint, Report, Status, StreamReport,
};

use std::collections::BTreeSet;

use super::checkpoint::SignedCheckpoint;

/// Audits every stream present in `deliveries` or `checkpoints` (only `only` when given).
/// `unsequenced` is passed through: requests the reader found without stream headers.
pub fn audit(
    deliveries: &[Delivery],
    checkpoints: &[SignedCheckpoint],
    keys: &KeyRing,
    only: Option<&str>,
    unsequenced: u64,
) -> Report {
    let mut streams: BTreeSet<&str> = deliveries.iter().map(|d| d.stream.as_str()).collect();
    streams.extend(checkpoints.iter().map(|c| c.checkpoint.stream.as_str()));
    if let Some(only) = only {
        streams = BTreeSet::from([only]);
    }
    let reports: Vec<StreamReport> = streams
        .into_iter()
        .map(|stream| {
            let mine: Vec<&Delivery> = deliveries.iter().filter(|d| d.stream == stream).collect();
            let signed: Vec<&SignedCheckpoint> = checkpoints.iter().filter(|c| c.checkpoint.stream == stream).collect();
            audit_stream(stream, &mine, &signed, keys)
        })
        .collect();
    // No stream at all proves nothing: that is a problem, not an empty success.
    let status = reports.iter().map(|r| r.status).max().unwrap_or(Status::Problem);
    Report { status, exit_code: status.exit_code(), streams: reports, unsequenced }
}

/// Audits one stream: its deliveries (any order) and its checkpoints (any order, repeats allowed).
pub fn audit_stream(
    stream: &str,
    deliveries: &[&Delivery],
    checkpoints: &[&SignedCheckpoint],
    keys: &KeyRing,
) -> StreamReport {
    walk::Walk::new(stream, deliveries, checkpoints, keys).run()
}
