//! The last hour of each destination's deliveries, in memory on the node that delivers: events
//! delivered and the largest lag (send time minus event time) per 10-second bucket. Bounded: a
//! ring of 360 buckets per destination, kept across worker restarts. Pure but for the lock.

use auditrelay_core::DestinationId;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Seconds per bucket.
pub const BUCKET_SECONDS: i64 = 10;
/// Buckets kept: one hour.
pub const BUCKETS: usize = 360;

/// One bucket: `[start, start + BUCKET_SECONDS)` in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub start: i64,
    pub delivered: u64,
    /// The largest lag of an event delivered in the bucket, in milliseconds.
    pub max_lag_ms: u64,
}

/// Every destination's ring.
#[derive(Debug, Default)]
pub struct DeliveryHistory {
    rings: Mutex<HashMap<DestinationId, VecDeque<Bucket>>>,
}

impl DeliveryHistory {
    /// Records `count` events delivered at `now` (unix seconds), the oldest `max_lag_ms` behind.
    pub fn record(&self, destination_id: DestinationId, now: i64, count: u64, max_lag_ms: u64) {
        let Ok(mut rings) = self.rings.lock() else { return };
        let ring = rings.entry(destination_id).or_default();
        let start = now - now.rem_euclid(BUCKET_SECONDS);
        match ring.back_mut() {
            Some(last) if last.start == start => {
                last.delivered += count;
                last.max_lag_ms = last.max_lag_ms.max(max_lag_ms);
            }
            _ => {
                if ring.len() == BUCKETS {
                    ring.pop_front();
                }
                ring.push_back(Bucket { start, delivered: count, max_lag_ms });
            }
        }
    }

    /// The buckets of the hour before `now`, oldest first (buckets without deliveries absent).
    pub fn last_hour(&self, destination_id: DestinationId, now: i64) -> Vec<Bucket> {
        let Ok(rings) = self.rings.lock() else { return Vec::new() };
        let from = now - BUCKET_SECONDS * BUCKETS as i64;
        rings.get(&destination_id).map(|r| r.iter().filter(|b| b.start > from).copied().collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_add_up_and_keep_the_largest_lag() {
        let history = DeliveryHistory::default();
        history.record(DestinationId(1), 1000, 3, 40);
        history.record(DestinationId(1), 1009, 2, 10);
        history.record(DestinationId(1), 1010, 1, 5);
        history.record(DestinationId(2), 1000, 7, 0);
        assert_eq!(
            history.last_hour(DestinationId(1), 1010),
            [Bucket { start: 1000, delivered: 5, max_lag_ms: 40 }, Bucket { start: 1010, delivered: 1, max_lag_ms: 5 }]
        );
        assert_eq!(history.last_hour(DestinationId(2), 1010).len(), 1);
        assert!(history.last_hour(DestinationId(3), 1010).is_empty());
    }

    #[test]
    fn memory_is_bounded_and_old_buckets_age_out() {
        let history = DeliveryHistory::default();
        for i in 0..1000 {
            history.record(DestinationId(1), i * BUCKET_SECONDS, 1, 0);
        }
        let now = 999 * BUCKET_SECONDS;
        let kept = history.last_hour(DestinationId(1), now);
        assert_eq!(kept.len(), BUCKETS, "the hour up to now, the current bucket included");
        assert_eq!(kept[0].start, now - 3600 + BUCKET_SECONDS);
        assert_eq!(
            history.last_hour(DestinationId(1), now + BUCKET_SECONDS).len(),
            BUCKETS - 1,
            "a bucket an hour old is out"
        );
        assert_eq!(history.rings.lock().unwrap()[&DestinationId(1)].len(), BUCKETS);
        assert!(history.last_hour(DestinationId(1), now + 3600 + BUCKET_SECONDS).is_empty());
    }
}
