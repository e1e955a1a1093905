//! Where a worker's cursor may go: the highest `seq` below which every event read from the log
//! has an outcome (delivered, parked, or not for this destination). Sends finish out of order
//! within the in-flight window and across batches; the cursor only moves over a contiguous run.
//! Pure, no I/O.

use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AckTracker {
    /// Every event with `seq` at most this has been read from the log.
    read_upto: i64,
    /// Read events still waiting for an outcome.
    outstanding: BTreeSet<i64>,
}

impl AckTracker {
    /// Starts at the persisted cursor: everything up to it is done.
    pub(crate) fn new(cursor: i64) -> AckTracker {
        AckTracker { read_upto: cursor, outstanding: BTreeSet::new() }
    }

    /// The log was read up to `last_seq`; of those events, `sent` still need an outcome (the
    /// others are not for this destination and are done at once).
    pub(crate) fn read(&mut self, last_seq: i64, sent: impl IntoIterator<Item = i64>) {
        self.outstanding.extend(sent.into_iter().filter(|seq| *seq > self.read_upto && *seq <= last_seq));
        self.read_upto = self.read_upto.max(last_seq);
    }

    /// `seq` has an outcome.
    pub(crate) fn done(&mut self, seq: i64) {
        self.outstanding.remove(&seq);
    }

    /// The highest `seq` the cursor may be moved to: nothing at or below it is outstanding.
    pub(crate) fn contiguous(&self) -> i64 {
        match self.outstanding.first() {
            Some(first) => first - 1,
            None => self.read_upto,
        }
    }

    /// The highest `seq` read so far (the next read starts after it).
    pub(crate) fn read_upto(&self) -> i64 {
        self.read_upto
    }

    /// Events read but without an outcome yet.
    #[cfg(test)]
    pub(crate) fn outstanding(&self) -> usize {
        self.outstanding.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_the_cursor() {
        let t = AckTracker::new(41);
        assert_eq!(t.contiguous(), 41);
        assert_eq!(t.read_upto(), 41);
    }

    #[test]
    fn unrouted_events_are_done_at_once() {
        let mut t = AckTracker::new(0);
        t.read(10, []);
        assert_eq!(t.contiguous(), 10);
    }

    #[test]
    fn the_cursor_waits_for_the_oldest_outstanding_event() {
        let mut t = AckTracker::new(0);
        t.read(5, [2, 4, 5]);
        assert_eq!(t.contiguous(), 1, "1 and 3 are not for this destination, 2 is in flight");
        t.done(4);
        t.done(5);
        assert_eq!(t.contiguous(), 1, "later acknowledgements do not move it past 2");
        t.done(2);
        assert_eq!(t.contiguous(), 5);
        assert_eq!(t.outstanding(), 0);
    }

    #[test]
    fn continues_across_batches() {
        let mut t = AckTracker::new(100);
        t.read(200, 101..=200);
        t.read(300, 201..=300);
        for seq in 201..=300 {
            t.done(seq);
        }
        assert_eq!(t.contiguous(), 100, "the first batch is still in flight");
        for seq in 101..=150 {
            t.done(seq);
        }
        assert_eq!(t.contiguous(), 150);
        for seq in 151..=200 {
            t.done(seq);
        }
        assert_eq!(t.contiguous(), 300);
    }

    #[test]
    fn never_goes_back_or_tracks_what_is_behind_the_cursor() {
        let mut t = AckTracker::new(50);
        t.read(40, [45]);
        assert_eq!(t.contiguous(), 50, "a stale read changes nothing");
        t.done(7);
        assert_eq!(t.contiguous(), 50, "an unknown acknowledgement changes nothing");
        t.read(60, [55, 70]);
        assert_eq!(t.outstanding(), 1, "a seq beyond what was read is ignored");
        assert_eq!(t.contiguous(), 54);
    }
}
