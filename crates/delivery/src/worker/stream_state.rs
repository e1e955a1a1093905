//! What a worker knows of its provable stream between sends: the head, the settled tail, the
//! last checkpoint and one whose delivery is to be tried again. Held in the `Worker`; read and moved by `stream`.

use auditrelay_store::streams::StreamHead;
use std::time::{Duration, Instant};

use crate::stream::Tail;

/// The stream as this worker knows it.
#[derive(Default)]
pub(super) struct StreamState {
    /// The head as last read or written (reloaded at every live round: another node may have
    /// moved it).
    pub(super) head: Option<StreamHead>,
    pub(super) tail: Tail,
    /// The last checkpoint's position and time (micros); `None` until read from the store.
    pub(super) last_checkpoint: Option<(u64, i64)>,
    /// The latest checkpoint, when it has not reached the destination yet (it covers the ground
    /// of every older one, so only it is sent again).
    pub(super) undelivered: Option<Undelivered>,
}

/// A checkpoint whose delivery failed, and when to try again.
pub(super) struct Undelivered {
    pub(super) through: u64,
    pub(super) json: String,
    pub(super) next_try: Instant,
    pub(super) wait: Duration,
}

/// The first wait before a failed checkpoint delivery is tried again; it doubles up to the cap.
pub(super) const CHECKPOINT_RETRY_FIRST: Duration = Duration::from_secs(1);
pub(super) const CHECKPOINT_RETRY_CAP: Duration = Duration::from_secs(60);

impl Undelivered {
    pub(super) fn now(sequence: i64, json: String) -> Self {
        Undelivered { through: sequence.max(0) as u64, json, next_try: Instant::now(), wait: CHECKPOINT_RETRY_FIRST }
    }
}
