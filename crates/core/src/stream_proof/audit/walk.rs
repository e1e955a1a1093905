//! The audit of one stream: group deliveries by position, verify checkpoint signatures, then walk
//! the positions in order, recomputing the chain from `chain(0)` and comparing it with every
//! header and checkpoint. Gaps are walked as ranges, so a huge position costs nothing. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::inputs::{Delivery, KeyRing};
use super::report::*;
use crate::stream_proof::{ChainDigest, ParkedPosition, SignedCheckpoint, StreamPosition};

pub(super) struct Walk<'a> {
    stream: &'a str,
    /// Deliveries per position, each list in arrival order.
    by_position: BTreeMap<StreamPosition, Vec<&'a Delivery>>,
    /// Validly signed checkpoints per position.
    valid: BTreeMap<StreamPosition, Vec<&'a SignedCheckpoint>>,
    /// Parked positions a valid checkpoint lists, with the digest text it gives.
    parked: BTreeMap<StreamPosition, &'a str>,
    report: StreamReport,
}

impl<'a> Walk<'a> {
    pub(super) fn new(
        stream: &'a str,
        deliveries: &[&'a Delivery],
        checkpoints: &[&'a SignedCheckpoint],
        keys: &KeyRing,
    ) -> Walk<'a> {
        let mut arrived: Vec<&Delivery> = deliveries.to_vec();
        arrived.sort_by_key(|d| d.arrival);
        let mut by_position: BTreeMap<StreamPosition, Vec<&Delivery>> = BTreeMap::new();
        for delivery in &arrived {
            by_position.entry(delivery.position).or_default().push(delivery);
        }
        let mut walk = Walk {
            stream,
            by_position,
            valid: BTreeMap::new(),
            parked: BTreeMap::new(),
            report: empty_report(stream, arrived.len() as u64),
        };
        walk.report.out_of_order = out_of_order(&arrived);
        walk.check_signatures(checkpoints, keys);
        walk
    }

    pub(super) fn run(mut self) -> StreamReport {
        self.duplicates();
        let covered = self.valid.keys().next_back().copied();
        let mut points: BTreeSet<StreamPosition> = self.by_position.keys().copied().collect();
        points.extend(self.valid.keys().copied());
        points.extend(self.parked.keys().copied());
        points.remove(&0);

        // `known` is chain(previous): None after a lost position, until a header or checkpoint
        // gives the chain again.
        let mut known = Some(ChainDigest::genesis(self.stream));
        known = self.compare_checkpoints(0, known);
        let mut previous: StreamPosition = 0;
        for &position in &points {
            if position > previous + 1 {
                self.gap(PositionRange { from: previous + 1, to: position - 1 }, covered);
                known = None;
            }
            known = self.step(position, known, covered);
            known = self.compare_checkpoints(position, known);
            previous = position;
        }
        let report = &mut self.report;
        report.highest_position = previous;
        report.distinct_positions = self.by_position.len() as u64;
        report.coverage = Coverage {
            checkpointed_through: covered,
            not_yet_covered: self.by_position.range(covered.unwrap_or(0).saturating_add(1)..).count() as u64,
        };
        report.first_mismatch = report.mismatches.iter().min_by_key(|m| m.sequence).cloned();
        report.status = status(report);
        self.report
    }

    fn check_signatures(&mut self, checkpoints: &[&'a SignedCheckpoint], keys: &KeyRing) {
        let mut seen = BTreeSet::new();
        let summary = &mut self.report.checkpoints;
        for checkpoint in checkpoints {
            // The same checkpoint may come from the API and in-band; count it once.
            if !seen.insert((checkpoint.checkpoint.sequence, &checkpoint.signature, &checkpoint.key_id)) {
                continue;
            }
            summary.total += 1;
            let rejected = |reason: String| RejectedCheckpoint {
                sequence: checkpoint.checkpoint.sequence,
                key_id: checkpoint.key_id.clone(),
                reason,
            };
            match keys.check(checkpoint) {
                None => summary.unknown_key.push(rejected("no given public key has this key id".into())),
                Some(Err(error)) => summary.invalid.push(rejected(error.to_string())),
                Some(Ok(())) => {
                    summary.valid += 1;
                    self.valid.entry(checkpoint.checkpoint.sequence).or_default().push(checkpoint);
                    for parked in &checkpoint.checkpoint.parked {
                        self.parked.insert(parked.sequence, &parked.body_sha256);
                    }
                }
            }
        }
    }

    fn duplicates(&mut self) {
        for (&sequence, copies) in &self.by_position {
            if copies.len() < 2 {
                continue;
            }
            let first = copies[0];
            let duplicate = Duplicate { sequence, count: copies.len() as u64 };
            if copies.iter().all(|d| d.body_sha256 == first.body_sha256 && d.chain == first.chain) {
                self.report.duplicates.identical.push(duplicate);
            } else {
                self.report.duplicates.conflicting.push(duplicate);
            }
        }
    }

    /// Positions nothing accounts for: lost up to the last checkpoint, not yet covered after it.
    fn gap(&mut self, range: PositionRange, covered: Option<StreamPosition>) {
        let covered = covered.unwrap_or(0);
        if range.from <= covered {
            push_range(&mut self.report.lost, PositionRange { from: range.from, to: range.to.min(covered) });
        }
        if range.to > covered {
            let from = range.from.max(covered.saturating_add(1));
            push_range(&mut self.report.missing_not_yet_covered, PositionRange { from, to: range.to });
        }
    }

    /// One position that was received, parked, or checkpointed; returns chain(position) if known.
    fn step(
        &mut self,
        position: StreamPosition,
        known: Option<ChainDigest>,
        covered: Option<StreamPosition>,
    ) -> Option<ChainDigest> {
        let parked = self.parked.get(&position).copied();
        if let Some(first) = self.by_position.get(&position).map(|copies| copies[0]) {
            if let Some(listed) = parked.filter(|listed| ChainDigest::from_hex(listed) != Some(first.body_sha256)) {
                self.mismatch(position, MismatchKind::ParkedDigest, first.body_sha256, listed, Some(first));
            }
            match known {
                Some(previous) => {
                    let expected = previous.next_with_body_digest(&first.body_sha256);
                    if expected != first.chain {
                        self.mismatch(position, MismatchKind::Chain, expected, &first.chain.to_hex(), Some(first));
                    }
                }
                None => self.report.chain_unchecked += 1,
            }
            // Resume from the header: each altered position is named on its own.
            return Some(first.chain);
        }
        if let Some(listed) = parked {
            self.report.parked.push(ParkedPosition { sequence: position, body_sha256: listed.to_owned() });
            return match ChainDigest::from_hex(listed) {
                Some(digest) => known.map(|previous| previous.next_with_body_digest(&digest)),
                None => {
                    let zero = ChainDigest([0; 32]);
                    self.mismatch(position, MismatchKind::ParkedDigest, zero, listed, None);
                    None
                }
            };
        }
        // Only a checkpoint names this position: it was not received and is not parked.
        self.gap(PositionRange { from: position, to: position }, covered);
        None
    }

    /// Compares chain(position) with every valid checkpoint there; the checkpoint's chain takes
    /// over when the recomputed one is unknown.
    fn compare_checkpoints(&mut self, position: StreamPosition, known: Option<ChainDigest>) -> Option<ChainDigest> {
        let Some(checkpoints) = self.valid.get(&position).cloned() else { return known };
        let mut chain = known;
        for checkpoint in checkpoints {
            let text = &checkpoint.checkpoint.chain;
            match (known, ChainDigest::from_hex(text)) {
                (Some(expected), found) if found != Some(expected) => {
                    self.mismatch(position, MismatchKind::Checkpoint, expected, text, None);
                }
                (None, Some(found)) if chain.is_none() => chain = Some(found),
                _ => {}
            }
        }
        chain
    }

    fn mismatch(
        &mut self,
        sequence: StreamPosition,
        kind: MismatchKind,
        expected: ChainDigest,
        found: &str,
        delivery: Option<&Delivery>,
    ) {
        self.report.mismatches.push(Mismatch {
            sequence,
            kind,
            expected: expected.to_hex(),
            found: found.to_owned(),
            origin: delivery.map(|d| d.origin.clone()),
        });
    }
}

fn empty_report(stream: &str, events_received: u64) -> StreamReport {
    StreamReport {
        stream: stream.to_owned(),
        status: Status::Complete,
        events_received,
        distinct_positions: 0,
        highest_position: 0,
        lost: Vec::new(),
        parked: Vec::new(),
        missing_not_yet_covered: Vec::new(),
        duplicates: Duplicates::default(),
        out_of_order: OutOfOrder::default(),
        first_mismatch: None,
        mismatches: Vec::new(),
        chain_unchecked: 0,
        checkpoints: CheckpointSummary::default(),
        coverage: Coverage::default(),
    }
}

/// First arrivals of a position lower than one already received (repeats are duplicates).
fn out_of_order(arrived: &[&Delivery]) -> OutOfOrder {
    let mut result = OutOfOrder::default();
    let mut seen = BTreeSet::new();
    let mut highest: Option<StreamPosition> = None;
    for delivery in arrived {
        if !seen.insert(delivery.position) {
            continue;
        }
        match highest {
            Some(after) if delivery.position < after => {
                result.count += 1;
                result.first.get_or_insert(LateArrival {
                    sequence: delivery.position,
                    arrival: delivery.arrival,
                    after,
                });
            }
            _ => highest = Some(delivery.position),
        }
    }
    result
}

/// Appends a range, merging it with the last one when they touch.
fn push_range(list: &mut Vec<PositionRange>, range: PositionRange) {
    match list.last_mut() {
        Some(last) if last.to + 1 == range.from => last.to = range.to,
        _ => list.push(range),
    }
}

fn status(report: &StreamReport) -> Status {
    let problem = !report.lost.is_empty()
        || !report.missing_not_yet_covered.is_empty()
        || !report.mismatches.is_empty()
        || !report.duplicates.conflicting.is_empty()
        || !report.checkpoints.invalid.is_empty()
        || !report.checkpoints.unknown_key.is_empty()
        || report.events_received == 0 && report.checkpoints.valid == 0;
    if problem {
        Status::Problem
    } else if !report.parked.is_empty() {
        Status::Parked
    } else {
        Status::Complete
    }
}
