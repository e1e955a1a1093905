//! The per-destination circuit breaker: closed (sending), open (resting after a high failure
//! rate), half-open (one probe decides), and paused (credentials or configuration refused:
//! nothing is sent until the destination is changed or a slow probe succeeds). Nothing is ever
//! dropped by the breaker; it only decides when to try.
//!
//! It opens on the failure rate over a sliding window (by default at least half of at least 20
//! requests in the last 30 s), so a destination that fails a fifth of its requests at random
//! keeps sending. Once open, it probes after a wait that grows with the outage: a short one at
//! first, then a fixed share of how long the destination has been failing, up to a cap. A
//! destination back after a minute's outage is probed again within two seconds; after a long
//! one within the cap.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::failure::FailureKind;
use crate::retry::wait_for_outage;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// The share of failed requests in the window at which the breaker opens.
    pub failure_rate: f64,
    /// Requests the window must hold before its failure rate counts.
    pub min_requests: u32,
    /// How far back the failure rate looks.
    pub window: Duration,
    /// The wait before the first probe after the breaker opens.
    pub first_probe_after: Duration,
    /// The longest wait between two probes, however long the outage.
    pub max_probe_every: Duration,
    /// How long a paused (auth-failing) destination waits between probes.
    pub paused_probe_every: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_rate: 0.5,
            min_requests: 20,
            window: Duration::from_secs(30),
            first_probe_after: Duration::from_millis(250),
            max_probe_every: Duration::from_secs(25),
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

/// Outcomes within a slice of the window.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    start: Instant,
    ok: u32,
    failed: u32,
}

/// The window is kept as this many slices: memory is constant whatever the request rate.
const SLICES: u32 = 10;

/// Successes and transient failures over the last `window`, in constant memory.
#[derive(Debug, Clone)]
struct Outcomes {
    window: Duration,
    buckets: VecDeque<Bucket>,
}

impl Outcomes {
    fn new(window: Duration) -> Outcomes {
        Outcomes { window: window.max(Duration::from_millis(SLICES.into())), buckets: VecDeque::new() }
    }

    fn record(&mut self, now: Instant, failed: bool) {
        let slice = self.window / SLICES;
        while self.buckets.front().is_some_and(|b| now.saturating_duration_since(b.start) >= self.window) {
            self.buckets.pop_front();
        }
        match self.buckets.back_mut() {
            Some(b) if now.saturating_duration_since(b.start) < slice => {}
            _ => self.buckets.push_back(Bucket { start: now, ok: 0, failed: 0 }),
        }
        if let Some(b) = self.buckets.back_mut() {
            if failed {
                b.failed += 1;
            } else {
                b.ok += 1;
            }
        }
    }

    /// (requests, failures) within the window as of `now`.
    fn totals(&self, now: Instant) -> (u32, u32) {
        self.buckets
            .iter()
            .filter(|b| now.saturating_duration_since(b.start) < self.window)
            .fold((0, 0), |(n, f), b| (n + b.ok + b.failed, f + b.failed))
    }

    fn clear(&mut self) {
        self.buckets.clear();
    }
}

#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    state: BreakerState,
    consecutive_failures: u32,
    /// A half-open breaker lets one request through; the others wait for its outcome.
    probing: bool,
    outcomes: Outcomes,
    /// The first transient failure since the last success: how long the outage has lasted.
    failing_since: Option<Instant>,
}

/// How long a request waits while another one probes a half-open breaker.
const PROBE_WAIT: Duration = Duration::from_millis(50);

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Breaker {
            config,
            state: BreakerState::Closed,
            consecutive_failures: 0,
            probing: false,
            outcomes: Outcomes::new(config.window),
            failing_since: None,
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// Whether requests are held back (open, half-open or paused): a failed request then waits
    /// for the breaker rather than for its own backoff.
    pub fn holding(&self) -> bool {
        self.state != BreakerState::Closed
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

    /// Records a success. A probe's (or any answer while paused) closes the breaker; one that
    /// was sent before the breaker opened only counts in the window.
    pub fn on_success(&mut self, now: Instant) {
        self.consecutive_failures = 0;
        self.failing_since = None;
        if matches!(self.state, BreakerState::Open { .. }) && !self.probing {
            self.outcomes.record(now, false);
            return;
        }
        if self.state != BreakerState::Closed {
            self.outcomes.clear();
        }
        self.outcomes.record(now, false);
        self.state = BreakerState::Closed;
        self.probing = false;
    }

    /// Records a failure. Permanent failures concern one event, not the destination, so they
    /// do not count towards opening the breaker.
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
                self.outcomes.record(now, true);
                let since = *self.failing_since.get_or_insert(now);
                let probe_failed = was_probe || self.state == BreakerState::HalfOpen;
                if probe_failed || (self.state == BreakerState::Closed && self.rate_exceeded(now)) {
                    self.state =
                        BreakerState::Open { until: now + self.probe_wait(now.saturating_duration_since(since)) };
                }
            }
        }
    }

    /// Whether the window holds enough requests and too many of them failed.
    fn rate_exceeded(&self, now: Instant) -> bool {
        let (requests, failed) = self.outcomes.totals(now);
        requests >= self.config.min_requests.max(1)
            && f64::from(failed) >= self.config.failure_rate * f64::from(requests)
    }

    /// The wait before the next probe of an outage that has lasted `outage`.
    pub fn probe_wait(&self, outage: Duration) -> Duration {
        wait_for_outage(outage, self.config.first_probe_after, self.config.max_probe_every)
    }

    /// The destination was changed (new credentials, URL…): try again right away.
    pub fn resume(&mut self) {
        if matches!(self.state, BreakerState::Paused { .. } | BreakerState::Open { .. }) {
            self.state = BreakerState::HalfOpen;
        }
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
