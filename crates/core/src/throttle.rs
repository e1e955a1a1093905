//! Failed-attempt throttling (sign-in): after `limit` failures of one key within a window, the
//! key is refused until that window ends. Pure; the caller passes the clock.

use std::collections::HashMap;

use crate::time::Micros;

/// Keys kept at most; past this, expired windows are dropped and, if still full, the oldest.
const MAX_KEYS: usize = 10_000;

#[derive(Debug)]
pub struct FailureThrottle {
    limit: u32,
    window: Micros,
    /// Per key: when its window started and how many failures it holds.
    windows: HashMap<String, (Micros, u32)>,
}

impl FailureThrottle {
    pub fn new(limit: u32, window: Micros) -> FailureThrottle {
        FailureThrottle { limit: limit.max(1), window, windows: HashMap::new() }
    }

    /// True while `key` has used up its failures in the current window.
    pub fn is_blocked(&self, key: &str, now: Micros) -> bool {
        self.windows.get(key).is_some_and(|&(start, count)| now < start + self.window && count >= self.limit)
    }

    pub fn record_failure(&mut self, key: &str, now: Micros) {
        if self.windows.len() >= MAX_KEYS && !self.windows.contains_key(key) {
            self.make_room(now);
        }
        let window = self.window;
        let entry = self.windows.entry(key.to_owned()).or_insert((now, 0));
        if now >= entry.0 + window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// A success forgets the key's failures.
    pub fn clear(&mut self, key: &str) {
        self.windows.remove(key);
    }

    fn make_room(&mut self, now: Micros) {
        let window = self.window;
        self.windows.retain(|_, &mut (start, _)| now < start + window);
        if self.windows.len() >= MAX_KEYS
            && let Some(oldest) = self.windows.iter().min_by_key(|(_, (start, _))| *start).map(|(k, _)| k.clone())
        {
            self.windows.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Micros = 60_000_000;

    #[test]
    fn a_key_is_blocked_after_the_limit_until_its_window_ends() {
        let mut t = FailureThrottle::new(3, 10 * MINUTE);
        for i in 0..3 {
            assert!(!t.is_blocked("alice", i * MINUTE));
            t.record_failure("alice", i * MINUTE);
        }
        assert!(t.is_blocked("alice", 3 * MINUTE));
        assert!(!t.is_blocked("bob", 3 * MINUTE), "other keys are not affected");
        assert!(t.is_blocked("alice", 10 * MINUTE - 1));
        assert!(!t.is_blocked("alice", 10 * MINUTE), "the window has ended");
        t.record_failure("alice", 10 * MINUTE);
        assert!(!t.is_blocked("alice", 10 * MINUTE), "a new window starts with one failure");
    }

    #[test]
    fn a_success_clears_the_failures() {
        let mut t = FailureThrottle::new(2, MINUTE);
        t.record_failure("alice", 0);
        t.clear("alice");
        t.record_failure("alice", 1);
        assert!(!t.is_blocked("alice", 2));
    }

    #[test]
    fn memory_stays_bounded() {
        let mut t = FailureThrottle::new(1, MINUTE);
        for i in 0..(MAX_KEYS as i64 + 50) {
            t.record_failure(&format!("k{i}"), i);
        }
        assert!(t.windows.len() <= MAX_KEYS);
        assert!(t.is_blocked(&format!("k{}", MAX_KEYS + 49), MAX_KEYS as i64 + 49));
    }
}
