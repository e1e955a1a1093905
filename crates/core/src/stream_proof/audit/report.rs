//! What `auditrelay verify` finds about one stream, in the shape its `--json` output keeps
//! (field names are part of the contract in `docs/completeness.md`). Pure.

use serde::Serialize;

use crate::stream_proof::{ParkedPosition, StreamPosition};

/// The verdict on a stream, and on a whole report (the worst of its streams).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every position up to the highest one known was received, and everything matches.
    Complete,
    /// Nothing is wrong, but some positions were not received and a signed checkpoint lists
    /// them as parked (the service holds them; a re-send will deliver them).
    Parked,
    /// Something is missing unaccounted for, altered, conflicting, or badly signed.
    Problem,
}

impl Status {
    /// The process exit code of this verdict (documented in `docs/completeness.md`).
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Complete => 0,
            Status::Problem => 1,
            Status::Parked => 3,
        }
    }
}

/// Consecutive positions `from..=to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PositionRange {
    pub from: StreamPosition,
    pub to: StreamPosition,
}

impl PositionRange {
    pub fn len(&self) -> u64 {
        self.to - self.from + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// A position received more than once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Duplicate {
    pub sequence: StreamPosition,
    /// How many times it arrived.
    pub count: u64,
}

/// Duplicates split by whether the copies agree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Duplicates {
    /// Same body and chain every time: a retry the receiver saw twice; harmless.
    pub identical: Vec<Duplicate>,
    /// Different bodies or chains for one position: a problem.
    pub conflicting: Vec<Duplicate>,
}

/// One arrival earlier in the stream than an arrival before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LateArrival {
    pub sequence: StreamPosition,
    /// Its index in the receiver's order (0 = first received).
    pub arrival: u64,
    /// The highest position received before it.
    pub after: StreamPosition,
}

/// Arrivals out of stream order (concurrent deliveries, retries): reported, not a problem.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OutOfOrder {
    pub count: u64,
    pub first: Option<LateArrival>,
}

/// What did not match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// The delivery's chain header is not `chain(n-1)` folded with its body: the body, or the
    /// header, or the order of bodies was changed.
    Chain,
    /// A signed checkpoint's chain differs from the one recomputed from the received bodies.
    Checkpoint,
    /// A received body's digest differs from the one a checkpoint listed for that parked position.
    ParkedDigest,
}

/// One position where the proof fails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub sequence: StreamPosition,
    pub kind: MismatchKind,
    /// The value recomputed from what was received (lowercase hex).
    pub expected: String,
    /// The value found in the header, checkpoint or parked entry.
    pub found: String,
    /// Where the delivery came from (`line 12` of a capture, an S3 key), when one did.
    pub origin: Option<String>,
}

/// A checkpoint whose signature could not be accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RejectedCheckpoint {
    pub sequence: StreamPosition,
    pub key_id: String,
    pub reason: String,
}

/// The checkpoints of the stream and their signatures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CheckpointSummary {
    /// Distinct checkpoints seen (the same one from the API and in-band counts once).
    pub total: u64,
    pub valid: u64,
    /// Signed by a known key, but the signature does not verify.
    pub invalid: Vec<RejectedCheckpoint>,
    /// Signed by a key id that none of the given public keys has.
    pub unknown_key: Vec<RejectedCheckpoint>,
}

/// How far the signed checkpoints vouch for the stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// The highest position of a validly signed checkpoint.
    pub checkpointed_through: Option<StreamPosition>,
    /// Received positions above it: consistent so far, but no checkpoint vouches for them yet
    /// (a later checkpoint will; a stream cut there cannot be told from a finished one).
    pub not_yet_covered: u64,
}

/// Everything found about one stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StreamReport {
    pub stream: String,
    pub status: Status,
    /// Deliveries received, duplicates included.
    pub events_received: u64,
    pub distinct_positions: u64,
    /// The highest position received or checkpointed.
    pub highest_position: StreamPosition,
    /// Missing positions no checkpoint accounts for, up to the last checkpoint: lost.
    pub lost: Vec<PositionRange>,
    /// Missing positions a signed checkpoint lists as parked, with the parked body's digest.
    pub parked: Vec<ParkedPosition>,
    /// Missing positions after the last checkpoint, below a received one: parked or lost, no
    /// checkpoint says which yet. A gap, so a problem.
    pub missing_not_yet_covered: Vec<PositionRange>,
    pub duplicates: Duplicates,
    pub out_of_order: OutOfOrder,
    /// The first position whose body or chain does not match (also the first of `mismatches`).
    pub first_mismatch: Option<Mismatch>,
    pub mismatches: Vec<Mismatch>,
    /// Received positions whose chain could not be checked because the position before them is
    /// lost (the check resumes from their header).
    pub chain_unchecked: u64,
    pub checkpoints: CheckpointSummary,
    pub coverage: Coverage,
}

/// The report over every stream verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub status: Status,
    pub exit_code: i32,
    pub streams: Vec<StreamReport>,
    /// Requests or objects without stream headers or metadata (not part of any stream, e.g. a
    /// destination's test event), counted and otherwise ignored.
    pub unsequenced: u64,
}

impl StreamReport {
    /// Every missing position of the three kinds, counted.
    pub fn missing_count(&self) -> u64 {
        let ranges = |list: &[PositionRange]| list.iter().map(PositionRange::len).sum::<u64>();
        ranges(&self.lost) + ranges(&self.missing_not_yet_covered) + self.parked.len() as u64
    }
}
