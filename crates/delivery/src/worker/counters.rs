//! Counters of a worker's units in flight: those failing (between a failed attempt and their
//! outcome) and those resting (waiting for their next attempt). Guards, so an abandoned send
//! never leaves a count behind.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts a unit among the failing ones from its first failure until it has an outcome (or its
/// send is abandoned).
pub(super) struct Failing<'a> {
    pub(super) counter: &'a AtomicUsize,
    pub(super) counted: bool,
}

impl Failing<'_> {
    pub(super) fn mark(&mut self) {
        if !self.counted {
            self.counter.fetch_add(1, Ordering::Relaxed);
            self.counted = true;
        }
    }
}

impl Drop for Failing<'_> {
    fn drop(&mut self) {
        if self.counted {
            self.counter.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Counts a unit among the resting ones while it waits (also if its send is abandoned then).
pub(super) struct Resting<'a>(&'a AtomicUsize);

impl<'a> Resting<'a> {
    pub(super) fn start(counter: &'a AtomicUsize) -> Resting<'a> {
        counter.fetch_add(1, Ordering::Relaxed);
        Resting(counter)
    }
}

impl Drop for Resting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
