//! Recent stretches of the log, shared by the workers of a process: with N destinations a
//! stretch is read from the store (and decoded, the costly part) once instead of N times.
//! The log is cut into blocks of `block` seqs (`k·block+1 ..= (k+1)·block`); only complete blocks
//! are kept (their last seq has committed, so nothing can join them: `seq` is assigned in
//! commit order), a few at a time, so memory does not grow with a backlog. A worker reading
//! near the head reads the store directly. Reads run on their own task so the decoding does
//! not hold up the reader's requests in flight.

use auditrelay_store::{Store, StoreError, StoredEvent};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Blocks kept: enough for workers a few blocks apart to share them.
const BLOCKS: usize = 16;

pub struct LogCache {
    store: Store,
    head: watch::Receiver<i64>,
    block: i64,
    blocks: Mutex<VecDeque<(i64, Arc<[StoredEvent]>)>>,
    /// One block load at a time: workers that miss together wait for one read.
    loading: tokio::sync::Mutex<()>,
}

/// Events read after a seq: `events[from..]`.
pub struct Slice {
    pub events: Arc<[StoredEvent]>,
    pub from: usize,
}

impl Slice {
    pub fn events(&self) -> &[StoredEvent] {
        &self.events[self.from..]
    }
}

impl LogCache {
    pub fn new(store: Store, head: watch::Receiver<i64>, block: i64) -> LogCache {
        LogCache {
            store,
            head,
            block: block.max(1),
            blocks: Mutex::new(VecDeque::new()),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// Up to a block of events after `seq`, in log order.
    pub async fn after(&self, seq: i64) -> Result<Slice, StoreError> {
        let (number, end) = block_of(seq, self.block);
        if *self.head.borrow() < end {
            // The block is not complete yet: read just what is new.
            let events = self.read(seq, self.block).await?;
            return Ok(Slice { events: events.into(), from: 0 });
        }
        if let Some(hit) = self.cached(number, seq) {
            return Ok(hit);
        }
        let _loading = self.loading.lock().await;
        if let Some(hit) = self.cached(number, seq) {
            return Ok(hit);
        }
        let events = self.read(end - self.block, self.block).await?;
        let complete = events.len() as i64 == self.block && events.last().is_some_and(|e| e.seq == end);
        let events: Arc<[StoredEvent]> = events.into();
        if complete && let Ok(mut blocks) = self.blocks.lock() {
            if blocks.len() >= BLOCKS {
                blocks.pop_front();
            }
            blocks.push_back((number, events.clone()));
        }
        Ok(Slice { from: events.partition_point(|e| e.seq <= seq), events })
    }

    fn cached(&self, number: i64, seq: i64) -> Option<Slice> {
        let blocks = self.blocks.lock().ok()?;
        let (_, events) = blocks.iter().rev().find(|(n, _)| *n == number)?;
        Some(Slice { from: events.partition_point(|e| e.seq <= seq), events: events.clone() })
    }

    /// Reads on its own task: the rows are decoded there, not on the worker's.
    async fn read(&self, after: i64, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
        let store = self.store.clone();
        match tokio::spawn(async move { store.events_after(after, limit).await }).await {
            Ok(read) => read,
            Err(joined) if joined.is_panic() => std::panic::resume_unwind(joined.into_panic()),
            // Cancelled: the runtime is shutting down.
            Err(_) => Err(StoreError::WriterGone),
        }
    }
}

/// The block holding `seq + 1`: its number and its last seq.
fn block_of(seq: i64, block: i64) -> (i64, i64) {
    let number = seq.max(0) / block;
    (number, (number + 1) * block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrelay_store::PreparedEvent;

    fn event(n: i64) -> PreparedEvent {
        PreparedEvent {
            producer_id: None,
            created_at: 1_700_000_000_000_000 + n,
            event_type: "member_updated".into(),
            entity_type: "Group".into(),
            entity_id: 1,
            author_id: None,
            group_id: None,
            project_id: None,
            root_group_id: None,
            payload: format!("{{\"n\":{n}}}"),
            workflow_id: None,
            session_id: None,
            ai_sequence: None,
        }
    }

    fn seqs(slice: &Slice) -> (usize, Option<i64>, Option<i64>) {
        let events = slice.events();
        (events.len(), events.first().map(|e| e.seq), events.last().map(|e| e.seq))
    }

    /// Against a real embedded store: blocks are served whole or from the middle, only complete
    /// ones are kept, and near the head the store is read directly.
    #[tokio::test]
    async fn serves_the_log_in_blocks_and_reads_the_head_directly() {
        let dir = std::env::temp_dir().join(format!("auditrelay-log-cache-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open_sqlite(&dir).await.unwrap();
        let (_, head) = store.append_events(&(0..25).map(event).collect::<Vec<_>>()).await.unwrap();
        assert_eq!(head, 25);
        let (head_tx, head_rx) = watch::channel(head);
        let cache = LogCache::new(store.clone(), head_rx, 10);

        assert_eq!(seqs(&cache.after(0).await.unwrap()), (10, Some(1), Some(10)));
        assert_eq!(seqs(&cache.after(4).await.unwrap()), (6, Some(5), Some(10)), "from the middle of a block");
        assert_eq!(seqs(&cache.after(10).await.unwrap()), (10, Some(11), Some(20)));
        assert_eq!(cache.blocks.lock().unwrap().len(), 2, "the two complete blocks are kept");
        assert_eq!(seqs(&cache.after(20).await.unwrap()), (5, Some(21), Some(25)), "the head, read directly");
        assert_eq!(seqs(&cache.after(25).await.unwrap()), (0, None, None));
        assert_eq!(cache.blocks.lock().unwrap().len(), 2, "an incomplete block is not kept");

        // The third block completes: it is read whole once and kept.
        let (_, head) = store.append_events(&(25..35).map(event).collect::<Vec<_>>()).await.unwrap();
        head_tx.send(head).unwrap();
        assert_eq!(seqs(&cache.after(22).await.unwrap()), (8, Some(23), Some(30)));
        assert_eq!(cache.blocks.lock().unwrap().len(), 3);
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn blocks_hold_the_next_seq() {
        assert_eq!(block_of(0, 500), (0, 500), "seq 1 is in block 0");
        assert_eq!(block_of(499, 500), (0, 500));
        assert_eq!(block_of(500, 500), (1, 1000), "after 500 comes block 1");
        assert_eq!(block_of(1234, 500), (2, 1500));
    }
}
