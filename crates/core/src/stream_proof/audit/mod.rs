//! The receiver's side of the proof: given what a receiver kept (deliveries with their stream
//! headers), the signed checkpoints and the public keys, say whether the stream is complete and
//! unaltered, and if not, where. `auditrelay verify` is this plus reading the inputs. Pure.
//!
//! - `walk`: the algorithm over one stream (missing, duplicates, order, chain, checkpoints).
//! - `report`: the findings, serialized as `verify --json`.

mod report;
mod walk;

#[cfg(test)]
mod tests;

pub use report::{
    CheckpointSummary, Coverage, Duplicate, Duplicates, LateArrival, Mismatch, MismatchKind, OutOfOrder, PositionRange,
    RejectedCheckpoint, Report, Status, StreamReport,
};

use std::collections::{BTreeMap, BTreeSet};

use super::checkpoint::{CheckpointError, SignedCheckpoint, key_id, parse_public_key};
use super::{ChainDigest, StreamPosition};

/// One request (or object) a receiver kept that carried stream headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// `X-Auditrelay-Stream`.
    pub stream: String,
    /// `X-Auditrelay-Sequence`.
    pub position: StreamPosition,
    /// `X-Auditrelay-Chain`.
    pub chain: ChainDigest,
    /// SHA-256 of the exact body received (the body itself is not needed).
    pub body_sha256: ChainDigest,
    /// Order of receipt, 0 first.
    pub arrival: u64,
    /// Where it came from, to name in findings (`line 12`, an S3 key).
    pub origin: String,
}

/// The public keys checkpoints may be signed with, by key id.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: BTreeMap<String, String>,
}

impl KeyRing {
    /// From public keys as standard base64 of their 32 bytes.
    pub fn from_base64<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<KeyRing, CheckpointError> {
        let mut ring = KeyRing::default();
        for text in keys {
            let key = parse_public_key(text)?;
            ring.keys.insert(key_id(&key), text.trim().to_owned());
        }
        Ok(ring)
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// `None` when no key has the checkpoint's key id; else whether its signature verifies.
    fn check(&self, checkpoint: &SignedCheckpoint) -> Option<Result<(), CheckpointError>> {
        self.keys.get(&checkpoint.key_id).map(|key| checkpoint.verify(key))
    }
}

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
