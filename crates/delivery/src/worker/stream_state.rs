//! What a worker knows of its provable stream between sends: the head, the settled tail and the
//! last checkpoint. Held in the `Worker`; read and moved by `stream`.

use auditrelay_store::streams::StreamHead;

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
}
