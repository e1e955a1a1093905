//! Authenticated tokens, remembered by digest so that a producer's requests need no store
//! query each. Correctness rules (docs/benchmarks.md, "Ingest: one event per request"):
//! - a revocation in this process clears the cache in the same code path, after its commit, so
//!   the next request is checked against the store; a lookup that raced the revocation cannot
//!   put its stale answer back (each clear starts a new generation, and an answer read in an
//!   older generation is dropped);
//! - another process's revocation (servers sharing PostgreSQL) takes effect here when the
//!   entry expires: entries live at most [`TTL`];
//! - a token's own expiry is checked on every use, and an entry never outlives it.
//!   Only successful authentications are remembered: unknown tokens always go to the store.

use auditrelay_core::Scope;
use auditrelay_core::TokenId;
use auditrelay_core::time::Micros;
use auditrelay_store::identity::User;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long another process's revocation may go unseen here.
pub const TTL: Duration = Duration::from_secs(2);
/// Distinct tokens remembered at most; the cache starts over when full (tokens are few).
const MAX_ENTRIES: usize = 10_000;

/// What a remembered authentication holds.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub token_id: TokenId,
    pub expires_at: Option<Micros>,
    pub scopes: Vec<Scope>,
    pub user: User,
}

struct Entry {
    found: Authenticated,
    until: Instant,
}

#[derive(Default)]
struct Inner {
    generation: u64,
    entries: HashMap<String, Entry>,
}

#[derive(Default)]
pub struct TokenCache {
    inner: Mutex<Inner>,
}

/// The cache's generation when a store lookup began (see [`TokenCache::put`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

impl TokenCache {
    /// The remembered authentication of `digest`, if still fresh at `now`.
    pub fn get(&self, digest: &str, now: Instant) -> Option<Authenticated> {
        let inner = self.inner.lock().ok()?;
        let entry = inner.entries.get(digest)?;
        (now < entry.until).then(|| entry.found.clone())
    }

    /// Taken before a store lookup whose answer may be remembered.
    pub fn generation(&self) -> Generation {
        Generation(self.inner.lock().map_or(u64::MAX, |inner| inner.generation))
    }

    /// Remembers an authentication read from the store in `generation`, unless the cache was
    /// cleared since (the answer may predate a revocation). `lifetime` caps the entry's life
    /// (the token's remaining validity).
    pub fn put(&self, generation: Generation, digest: String, found: Authenticated, now: Instant, lifetime: Duration) {
        let Ok(mut inner) = self.inner.lock() else { return };
        if inner.generation != generation.0 {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(digest, Entry { found, until: now + lifetime.min(TTL) });
    }

    /// Forgets everything: called by every change that can make a token invalid.
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.generation += 1;
            inner.entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrelay_core::UserId;

    fn found() -> Authenticated {
        let user = User {
            id: UserId(1),
            username: "root".into(),
            name: "Root".into(),
            email: "root@example.com".into(),
            password_hash: String::new(),
            is_admin: true,
            state: auditrelay_core::states::UserState::Active,
            created_at: 0,
        };
        Authenticated { token_id: TokenId(7), expires_at: None, scopes: vec![Scope::Api], user }
    }

    #[test]
    fn entries_expire_and_are_capped_by_the_ttl() {
        let cache = TokenCache::default();
        let now = Instant::now();
        cache.put(cache.generation(), "d".into(), found(), now, Duration::from_secs(3600));
        assert_eq!(cache.get("d", now).map(|f| f.token_id), Some(TokenId(7)));
        assert!(cache.get("d", now + TTL).is_none(), "no entry outlives the TTL");
        cache.put(cache.generation(), "e".into(), found(), now, Duration::from_millis(10));
        assert!(cache.get("e", now + Duration::from_millis(10)).is_none(), "nor the token's validity");
        assert!(cache.get("unknown", now).is_none());
    }

    #[test]
    fn a_clear_forgets_and_drops_answers_read_before_it() {
        let cache = TokenCache::default();
        let now = Instant::now();
        let before = cache.generation();
        cache.put(before, "d".into(), found(), now, TTL);
        cache.clear();
        assert!(cache.get("d", now).is_none());
        cache.put(before, "d".into(), found(), now, TTL);
        assert!(cache.get("d", now).is_none(), "a lookup that raced the revocation is not remembered");
        cache.put(cache.generation(), "d".into(), found(), now, TTL);
        assert!(cache.get("d", now).is_some());
    }
}
