//! When to try again: exponential backoff with jitter, `Retry-After` honoured, and how many
//! attempts a permanently failing event gets before it is parked.

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
}

#[cfg(test)]
mod tests {
    use super::*;

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
