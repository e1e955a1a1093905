//! When to try again: a transient failure waits a share of how long its request has been
//! failing (short at first, growing with the outage, capped), a permanent one backs off
//! exponentially; both with jitter, `Retry-After` honoured; and how many attempts a permanently
//! failing event gets before it is parked.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The first wait.
    pub base: Duration,
    /// The longest wait between two attempts (also caps a destination's `Retry-After`).
    pub max: Duration,
    /// Attempts an event that fails permanently (4xx) gets before it is parked.
    pub permanent_attempts: u32,
}

/// A wait is this fraction of the outage so far: a destination that was down for a minute is
/// tried again within 60 s / 32 < 2 s of its return, while one that is down for long is asked
/// rarely (up to the cap).
pub const OUTAGE_SHARE: u32 = 32;

/// The longest a transient failure waits before its next attempt (the breaker's probe cap).
pub const TRANSIENT_MAX: Duration = Duration::from_secs(25);

/// The wait after an outage of `outage`: its [`OUTAGE_SHARE`], at least `first`, at most `max`.
pub fn wait_for_outage(outage: Duration, first: Duration, max: Duration) -> Duration {
    (outage / OUTAGE_SHARE).max(first).min(max.max(first))
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { base: Duration::from_millis(250), max: Duration::from_secs(300), permanent_attempts: 3 }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (after `attempt` failures, from 1), with `jitter` in
    /// [0, 1): half the exponential step plus a random half, so retries of many destinations
    /// spread out. A `Retry-After` longer than that wins (up to `max`).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let step = self.base.saturating_mul(1u32 << exponent).min(self.max);
        let jittered = step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        match retry_after {
            Some(asked) => asked.min(self.max).max(jittered),
            None => jittered,
        }
    }

    /// The wait before the next attempt of a request that failed transiently and has been
    /// failing for `failing_for`, with `jitter` in [0, 1): between half and all of
    /// [`wait_for_outage`] (from `base`, up to [`TRANSIENT_MAX`] and `max`). A `Retry-After`
    /// longer than that wins (up to `max`).
    pub fn transient_delay(&self, failing_for: Duration, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let step = wait_for_outage(failing_for, self.base, TRANSIENT_MAX.min(self.max));
        let jittered = step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        match retry_after {
            Some(asked) => asked.min(self.max).max(jittered),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_waits_grow_with_the_outage_and_are_capped() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.transient_delay(Duration::ZERO, None, 1.0), Duration::from_millis(250), "short at first");
        assert_eq!(policy.transient_delay(Duration::from_secs(4), None, 1.0), Duration::from_millis(250));
        assert_eq!(policy.transient_delay(Duration::from_secs(32), None, 1.0), Duration::from_secs(1));
        assert!(policy.transient_delay(Duration::from_secs(59), None, 1.0) < Duration::from_secs(2), "a minute: < 2 s");
        assert_eq!(policy.transient_delay(Duration::from_secs(3600), None, 1.0), TRANSIENT_MAX, "capped");
        assert_eq!(policy.transient_delay(Duration::from_secs(32), None, 0.0), Duration::from_millis(500), "jitter");
        let quick = RetryPolicy { max: Duration::from_secs(1), ..policy };
        assert_eq!(quick.transient_delay(Duration::from_secs(3600), None, 1.0), Duration::from_secs(1));
        assert_eq!(policy.transient_delay(Duration::ZERO, Some(Duration::from_secs(7)), 0.0), Duration::from_secs(7));
    }

    proptest::proptest! {
        #[test]
        fn transient_waits_stay_within_the_bounds(outage_ms in 0u64..100_000_000, jitter in 0.0f64..1.0) {
            let policy = RetryPolicy::default();
            let outage = Duration::from_millis(outage_ms);
            let delay = policy.transient_delay(outage, None, jitter);
            proptest::prop_assert!(delay <= TRANSIENT_MAX);
            proptest::prop_assert!(delay <= (outage / OUTAGE_SHARE).max(policy.base));
        }
    }

    #[test]
    fn grows_exponentially_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(1, None, 1.0), Duration::from_millis(250));
        assert_eq!(policy.delay(2, None, 1.0), Duration::from_millis(500));
        assert_eq!(policy.delay(5, None, 1.0), Duration::from_secs(4));
        assert_eq!(policy.delay(40, None, 1.0), Duration::from_secs(300));
    }

    #[test]
    fn jitter_spreads_between_half_and_full() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(3, None, 0.0), Duration::from_millis(500));
        assert_eq!(policy.delay(3, None, 0.5), Duration::from_millis(750));
    }

    #[test]
    fn retry_after_is_honoured_but_capped() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(1, Some(Duration::from_secs(7)), 0.0), Duration::from_secs(7));
        assert_eq!(policy.delay(1, Some(Duration::from_secs(9999)), 0.0), Duration::from_secs(300));
        assert_eq!(policy.delay(10, Some(Duration::from_millis(1)), 1.0), policy.delay(10, None, 1.0));
    }

    proptest::proptest! {
        #[test]
        fn never_exceeds_the_cap(attempt in 0u32..10_000, jitter in 0.0f64..1.0, after in proptest::option::of(0u64..100_000)) {
            let policy = RetryPolicy::default();
            let delay = policy.delay(attempt, after.map(Duration::from_secs), jitter);
            proptest::prop_assert!(delay <= policy.max);
        }
    }
}
