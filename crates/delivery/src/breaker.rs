//! The per-destination circuit breaker: closed (sending), open (resting after repeated
//! failures), half-open (one probe decides), and paused (credentials or configuration refused:
//! nothing is sent until the destination is changed or a slow probe succeeds). Nothing is ever
//! dropped by the breaker; it only decides when to try.

use std::time::{Duration, Instant};

use crate::failure::FailureKind;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Consecutive transient failures that open the breaker.
    pub failure_threshold: u32,
    /// How long it stays open before a probe.
    pub open_for: Duration,
    /// How long a paused (auth-failing) destination waits between probes.
    pub paused_probe_every: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            open_for: Duration::from_secs(30),
            paused_probe_every: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open { until: Instant },
    HalfOpen,
    Paused { probe_at: Instant },
}

impl BreakerState {
    pub fn name(&self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open { .. } => "open",
            BreakerState::HalfOpen => "half_open",
            BreakerState::Paused { .. } => "paused",
        }
    }
}

/// What the worker should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    Send,
    /// Send one request; its outcome closes or reopens the breaker.
    Probe,
    WaitUntil(Instant),
}

#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    state: BreakerState,
    consecutive_failures: u32,
    /// A half-open breaker lets one request through; the others wait for its outcome.
    probing: bool,
}

/// How long a request waits while another one probes a half-open breaker.
const PROBE_WAIT: Duration = Duration::from_millis(50);

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Breaker { config, state: BreakerState::Closed, consecutive_failures: 0, probing: false }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    pub fn permit(&mut self, now: Instant) -> Permit {
        match self.state {
            BreakerState::Closed => Permit::Send,
            BreakerState::HalfOpen if self.probing => Permit::WaitUntil(now + PROBE_WAIT),
            BreakerState::HalfOpen => {
                self.probing = true;
                Permit::Probe
            }
            BreakerState::Open { until } | BreakerState::Paused { probe_at: until } if now >= until => {
                self.state = BreakerState::HalfOpen;
                self.probing = true;
                Permit::Probe
            }
            BreakerState::Open { until } | BreakerState::Paused { probe_at: until } => Permit::WaitUntil(until),
        }
    }

    pub fn on_success(&mut self) {
        self.state = BreakerState::Closed;
        self.consecutive_failures = 0;
        self.probing = false;
    }

    /// Records a failure. Permanent failures concern one event, not the destination, so they
    /// do not trip the breaker.
    pub fn on_failure(&mut self, kind: FailureKind, now: Instant) {
        let was_probe = std::mem::take(&mut self.probing);
        match kind {
            // A permanent failure concerns one event; if it was the probe, the destination
            // answered, so it is reachable again.
            FailureKind::Permanent if was_probe => self.state = BreakerState::Closed,
            FailureKind::Permanent => {}
            FailureKind::Auth => {
                self.consecutive_failures += 1;
                self.state = BreakerState::Paused { probe_at: now + self.config.paused_probe_every };
            }
            FailureKind::Transient => {
                self.consecutive_failures += 1;
                let probe_failed = was_probe || self.state == BreakerState::HalfOpen;
                if probe_failed || self.consecutive_failures >= self.config.failure_threshold {
                    self.state = BreakerState::Open { until: now + self.config.open_for };
                }
            }
        }
    }

    /// The destination was changed (new credentials, URL…): try again right away.
    pub fn resume(&mut self) {
        if matches!(self.state, BreakerState::Paused { .. } | BreakerState::Open { .. }) {
            self.state = BreakerState::HalfOpen;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> (Breaker, Instant) {
        (
            Breaker::new(BreakerConfig {
                failure_threshold: 3,
                open_for: Duration::from_secs(10),
                paused_probe_every: Duration::from_secs(60),
            }),
            Instant::now(),
        )
    }

    #[test]
    fn opens_after_threshold_then_probes() {
        let (mut b, t0) = breaker();
        for _ in 0..2 {
            b.on_failure(FailureKind::Transient, t0);
            assert_eq!(b.permit(t0), Permit::Send);
        }
        b.on_failure(FailureKind::Transient, t0);
        assert_eq!(b.state().name(), "open");
        assert_eq!(b.permit(t0 + Duration::from_secs(5)), Permit::WaitUntil(t0 + Duration::from_secs(10)));
        assert_eq!(b.permit(t0 + Duration::from_secs(10)), Permit::Probe);
        assert_eq!(b.state().name(), "half_open");
    }

    #[test]
    fn a_failed_probe_reopens_and_a_good_one_closes() {
        let (mut b, t0) = breaker();
        for _ in 0..3 {
            b.on_failure(FailureKind::Transient, t0);
        }
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(b.permit(t1), Permit::Probe);
        b.on_failure(FailureKind::Transient, t1);
        assert_eq!(b.state(), BreakerState::Open { until: t1 + Duration::from_secs(10) });
        assert_eq!(b.permit(t1 + Duration::from_secs(10)), Permit::Probe);
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.consecutive_failures(), 0);
    }

    #[test]
    fn auth_failures_pause_until_resumed_or_probe_time() {
        let (mut b, t0) = breaker();
        b.on_failure(FailureKind::Auth, t0);
        assert_eq!(b.state().name(), "paused");
        assert_eq!(b.permit(t0 + Duration::from_secs(1)), Permit::WaitUntil(t0 + Duration::from_secs(60)));
        b.resume();
        assert_eq!(b.permit(t0 + Duration::from_secs(1)), Permit::Probe);
    }

    #[test]
    fn one_probe_at_a_time() {
        let (mut b, t0) = breaker();
        b.on_failure(FailureKind::Auth, t0);
        b.resume();
        assert_eq!(b.permit(t0), Permit::Probe);
        assert_eq!(b.permit(t0), Permit::WaitUntil(t0 + PROBE_WAIT));
        b.on_success();
        assert_eq!(b.permit(t0), Permit::Send);
    }

    #[test]
    fn permanent_failures_do_not_trip() {
        let (mut b, t0) = breaker();
        for _ in 0..10 {
            b.on_failure(FailureKind::Permanent, t0);
        }
        assert_eq!(b.permit(t0), Permit::Send);
    }
}
