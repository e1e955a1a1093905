//! Failed-attempt throttling (sign-in): after `limit` failures of one key within a window, the
//! key is refused until that window ends. [`SignInThrottle`] counts per username and per client
//! address. Pure; the caller passes the clock.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::time::Micros;

/// Keys kept at most. Past this, expired windows are dropped, then the unlocked key with the
/// fewest failures; a locked key is never dropped (other names' failures must not unlock it),
/// and when every key kept is locked a new key is refused too (fail closed).
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

    /// True while `key` has used up its failures in the current window, and for a key not
    /// kept while the table is full of locked keys.
    pub fn is_blocked(&self, key: &str, now: Micros) -> bool {
        match self.windows.get(key) {
            Some(&(start, count)) => self.locked(start, count, now),
            None => self.windows.len() >= MAX_KEYS && self.windows.values().all(|&(s, c)| self.locked(s, c, now)),
        }
    }

    fn locked(&self, start: Micros, count: u32, now: Micros) -> bool {
        now < start + self.window && count >= self.limit
    }

    pub fn record_failure(&mut self, key: &str, now: Micros) {
        if self.windows.len() >= MAX_KEYS && !self.windows.contains_key(key) && !self.make_room(now) {
            return;
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

    /// Frees one place if it can without dropping a locked key.
    fn make_room(&mut self, now: Micros) -> bool {
        let window = self.window;
        self.windows.retain(|_, &mut (start, _)| now < start + window);
        if self.windows.len() < MAX_KEYS {
            return true;
        }
        let weakest = self
            .windows
            .iter()
            .filter(|(_, (start, count))| !self.locked(*start, *count, now))
            .min_by_key(|(_, (start, count))| (*count, *start))
            .map(|(key, _)| key.clone());
        match weakest {
            Some(key) => self.windows.remove(&key).is_some(),
            None => false,
        }
    }
}

/// The web sign-in lock: `name_limit` failures of one username, or `address_limit` failures
/// from one client address (an IPv6 client by its /64, which one host usually holds whole),
/// within the window refuse further attempts until the window ends. The two are kept apart, so
/// failures of many names never push out an address's count or the reverse.
#[derive(Debug)]
pub struct SignInThrottle {
    names: FailureThrottle,
    addresses: FailureThrottle,
}

impl SignInThrottle {
    pub fn new(name_limit: u32, address_limit: u32, window: Micros) -> SignInThrottle {
        SignInThrottle {
            names: FailureThrottle::new(name_limit, window),
            addresses: FailureThrottle::new(address_limit, window),
        }
    }

    pub fn is_blocked(&self, name: &str, address: Option<IpAddr>, now: Micros) -> bool {
        self.names.is_blocked(name, now) || address.is_some_and(|a| self.addresses.is_blocked(&address_key(a), now))
    }

    pub fn record_failure(&mut self, name: &str, address: Option<IpAddr>, now: Micros) {
        self.names.record_failure(name, now);
        if let Some(address) = address {
            self.addresses.record_failure(&address_key(address), now);
        }
    }

    /// A success forgets the name's failures; the address keeps its count, so one known
    /// password does not reset a guesser's budget.
    pub fn clear(&mut self, name: &str) {
        self.names.clear(name);
    }
}

/// The key of a client address: IPv4 whole (also when IPv4-mapped), IPv6 by its /64.
pub fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
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
    fn a_lock_survives_ten_thousand_other_names() {
        let mut t = FailureThrottle::new(3, 10 * MINUTE);
        for i in 0..3 {
            t.record_failure("victim", i);
        }
        for i in 0..(MAX_KEYS as i64 + 10) {
            t.record_failure(&format!("other-{i}"), 10 + i);
        }
        assert!(t.is_blocked("victim", MINUTE), "still locked");
        assert!(t.windows.len() <= MAX_KEYS);
        // When every key kept is locked, a new key is refused rather than kept or evicting one.
        let mut full = FailureThrottle::new(1, 10 * MINUTE);
        for i in 0..MAX_KEYS as i64 {
            full.record_failure(&format!("k{i}"), i);
        }
        assert!(full.is_blocked("never-seen", MAX_KEYS as i64), "fail closed");
        full.record_failure("never-seen", MAX_KEYS as i64);
        assert!(full.is_blocked("k0", MAX_KEYS as i64), "no locked key was dropped");
        assert!(!full.is_blocked("never-seen", 10 * MINUTE), "the window has ended");
    }

    #[test]
    fn sign_in_counts_per_name_and_per_address() {
        let one: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        for (case, failures, check, blocked) in [
            ("one name, one address", vec![("alice", Some(one)); 3], ("alice", Some(other)), true),
            ("one name: another name is free", vec![("alice", Some(one)); 3], ("bob", Some(other)), false),
            (
                "a success clears the name, not the address",
                (0..5).map(|_| ("x", Some(one))).collect(),
                ("bob", Some(one)),
                true,
            ),
            (
                "many different names from one address lock the address",
                vec![("a", Some(one)), ("b", Some(one)), ("c", Some(one)), ("d", Some(one)), ("e", Some(one))],
                ("root", Some(one)),
                true,
            ),
            (
                "an address lock is not another address's",
                vec![("a", Some(one)), ("b", Some(one)), ("c", Some(one)), ("d", Some(one)), ("e", Some(one))],
                ("root", Some(other)),
                false,
            ),
            ("no address known", vec![("a", None), ("b", None)], ("root", None), false),
        ] {
            let mut t = SignInThrottle::new(3, 5, 10 * MINUTE);
            for (i, (name, address)) in failures.iter().enumerate() {
                t.record_failure(name, *address, i as i64);
                if *name == "x" {
                    t.clear("x");
                }
            }
            let (name, address) = check;
            assert_eq!(t.is_blocked(name, address, MINUTE), blocked, "{case}");
        }
    }

    #[test]
    fn addresses_are_keyed_by_host() {
        for (address, key) in [
            ("203.0.113.7", "203.0.113.7"),
            ("::ffff:203.0.113.7", "203.0.113.7"),
            ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ] {
            assert_eq!(address_key(address.parse().unwrap()), key);
        }
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
