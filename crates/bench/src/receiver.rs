//! The benchmark's HTTP receiver: axum on loopback, answering 200 to every POST. It counts
//! requests per slot (`/direct` is slot 0, `/d<N>` is slot N) and records, for each request
//! whose event `id` is at least the current floor, the id and the arrival time. A slot can be
//! taken down (it answers 503 and records nothing) to simulate a destination outage, or made to
//! answer 500 to a random share of its requests (recording nothing for them), to simulate a
//! partly failing destination.

use anyhow::bail;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Slot 0 takes the direct load; slots 1..=MAX_DESTINATIONS take the destinations.
pub const MAX_DESTINATIONS: usize = 10;
const SLOTS: usize = MAX_DESTINATIONS + 1;

/// Requests that arrived at one slot.
#[derive(Default)]
struct Slot {
    requests: AtomicUsize,
    /// Requests whose id is at least the floor.
    counted: AtomicUsize,
    /// The highest id seen (any id, below the floor too).
    max_id: AtomicI64,
    /// (id, arrival) of the counted requests.
    log: Mutex<Vec<(i64, Instant)>>,
    /// An outage: every request is answered 503.
    down: AtomicBool,
    /// Requests answered 500 at random, per million.
    failing_per_million: AtomicU32,
}

struct Inner {
    floor: AtomicI64,
    slots: Vec<Slot>,
}

pub struct Receiver {
    pub base: String,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

/// What a slot got in one measurement.
pub struct Arrivals {
    /// (id, arrival) per counted request, in arrival order.
    pub log: Vec<(i64, Instant)>,
    /// Requests counted more than once (at-least-once delivery may repeat an event).
    pub duplicates: usize,
}

impl Arrivals {
    pub fn last(&self) -> Option<Instant> {
        self.log.iter().map(|(_, at)| *at).max()
    }
}

impl Receiver {
    pub async fn start() -> anyhow::Result<Receiver> {
        let inner = Arc::new(Inner {
            floor: AtomicI64::new(i64::MAX),
            slots: (0..SLOTS).map(|_| Slot { max_id: AtomicI64::new(i64::MIN), ..Slot::default() }).collect(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = Router::new().fallback(receive).with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Receiver { base, inner, task })
    }

    /// The URL of slot `n` (0: direct; 1..: destinations).
    pub fn url(&self, slot: usize) -> String {
        if slot == 0 { format!("{}/direct", self.base) } else { format!("{}/d{slot}", self.base) }
    }

    /// Starts a measurement: from now on only ids `>= floor` are counted and recorded; every
    /// slot forgets what it got, and the logs of `slots` are sized for `capacity` requests each.
    pub fn reset(&self, floor: i64, slots: std::ops::Range<usize>, capacity: usize) {
        self.inner.floor.store(floor, Ordering::SeqCst);
        for slot in &self.inner.slots {
            slot.counted.store(0, Ordering::SeqCst);
            slot.max_id.store(i64::MIN, Ordering::SeqCst);
            if let Ok(mut log) = slot.log.lock() {
                *log = Vec::new();
            }
        }
        for n in slots {
            if let Ok(mut log) = self.inner.slots[n].log.lock() {
                log.reserve_exact(capacity);
            }
        }
    }

    /// Takes slot `n` down (503 to everything) or brings it back.
    pub fn set_down(&self, slot: usize, down: bool) {
        self.inner.slots[slot].down.store(down, Ordering::SeqCst);
    }

    /// Makes slot `n` answer 500 to a random `share` of its requests (0: none).
    pub fn set_failing(&self, slot: usize, share: f64) {
        let per_million = (share.clamp(0.0, 1.0) * 1e6) as u32;
        self.inner.slots[slot].failing_per_million.store(per_million, Ordering::SeqCst);
    }

    /// Counted requests of slot `n` in this measurement (repeats included).
    pub fn counted(&self, slot: usize) -> usize {
        self.inner.slots[slot].counted.load(Ordering::SeqCst)
    }

    /// The highest id slot `n` has seen.
    pub fn max_id(&self, slot: usize) -> i64 {
        self.inner.slots[slot].max_id.load(Ordering::SeqCst)
    }

    /// Waits until every slot of `slots` has got `expected` distinct counted ids; gives up when
    /// nothing new arrives for `stall`. Returns each slot's arrivals.
    pub async fn wait_for(
        &self,
        slots: std::ops::Range<usize>,
        expected: usize,
        stall: Duration,
    ) -> anyhow::Result<Vec<Arrivals>> {
        let mut seen = 0;
        let mut progress_at = Instant::now();
        loop {
            let counts: Vec<usize> =
                slots.clone().map(|n| self.inner.slots[n].counted.load(Ordering::SeqCst)).collect();
            if counts.iter().all(|c| *c >= expected) && slots.clone().all(|n| self.distinct(n) >= expected) {
                return Ok(slots.map(|n| self.take(n)).collect());
            }
            let total: usize = counts.iter().sum();
            if total != seen {
                seen = total;
                progress_at = Instant::now();
            } else if progress_at.elapsed() > stall {
                let requests: Vec<usize> = slots.clone().map(|n| self.requests(n)).collect();
                bail!(
                    "the receiver stalled: {counts:?} of {expected} events per destination arrived ({requests:?} requests in all)"
                );
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Distinct ids in slot `n`'s log.
    fn distinct(&self, slot: usize) -> usize {
        self.inner.slots[slot].log.lock().map(|l| distinct_ids(&l)).unwrap_or(0)
    }

    /// Slot `n`'s log (the slot keeps an empty one).
    fn take(&self, slot: usize) -> Arrivals {
        let log = self.inner.slots[slot].log.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
        let duplicates = log.len() - distinct_ids(&log);
        Arrivals { log, duplicates }
    }

    /// Requests that arrived at slot `n` since the receiver started, counted or not.
    pub fn requests(&self, slot: usize) -> usize {
        self.inner.slots[slot].requests.load(Ordering::SeqCst)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(inner): State<Arc<Inner>>, uri: Uri, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let Some(slot) = slot_of(uri.path()).and_then(|n| inner.slots.get(n)) else { return StatusCode::OK };
    slot.requests.fetch_add(1, Ordering::Relaxed);
    if slot.down.load(Ordering::Relaxed) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let failing = slot.failing_per_million.load(Ordering::Relaxed);
    if failing > 0 && rand::random_range(0..1_000_000) < failing {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let Some(id) = event_id(&body) else { return StatusCode::OK };
    slot.max_id.fetch_max(id, Ordering::Relaxed);
    if id >= inner.floor.load(Ordering::Relaxed) {
        if let Ok(mut log) = slot.log.lock() {
            log.push((id, at));
        }
        slot.counted.fetch_add(1, Ordering::Release);
    }
    StatusCode::OK
}

fn distinct_ids(log: &[(i64, Instant)]) -> usize {
    let mut ids: Vec<i64> = log.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

fn slot_of(path: &str) -> Option<usize> {
    match path {
        "/direct" => Some(0),
        _ => path.strip_prefix("/d")?.parse().ok().filter(|n| (1..SLOTS).contains(n)),
    }
}

/// The integer `id` of a GitLab payload: read from its `{"id":N,` prefix, or else parsed.
fn event_id(body: &[u8]) -> Option<i64> {
    // Producer ids are streamed as text ("42"), the service's own ids as numbers (42).
    if let Some(rest) = body.strip_prefix(b"{\"id\":") {
        let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
        let end = rest.iter().position(|b| !(b.is_ascii_digit() || *b == b'-')).unwrap_or(rest.len());
        if let Some(id) = std::str::from_utf8(&rest[..end]).ok().and_then(|s| s.parse().ok()) {
            return Some(id);
        }
    }
    let id = serde_json::from_slice::<serde_json::Value>(body).ok()?.get("id")?.clone();
    id.as_i64().or_else(|| id.as_str()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_slots() {
        assert_eq!(event_id(br#"{"id":42,"a":1}"#), Some(42));
        assert_eq!(event_id(br#"{"a":1,"id":7}"#), Some(7));
        assert_eq!(event_id(br#"{"id":"x"}"#), None);
        assert_eq!(event_id(br#"{"id":"42","a":1}"#), Some(42));
        assert_eq!(event_id(br#"{"a":1,"id":"7"}"#), Some(7));
        assert_eq!(slot_of("/direct"), Some(0));
        assert_eq!(slot_of("/d10"), Some(10));
        assert_eq!(slot_of("/d11"), None);
        assert_eq!(slot_of("/x"), None);
    }
}
