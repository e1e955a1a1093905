//! The audit's findings on streams built with the real chain and signed with a test key.

use ed25519_dalek::SigningKey;

use super::*;
use crate::stream_proof::checkpoint::public_key_base64;
use crate::stream_proof::{ChainDigest, Checkpoint, ParkedPosition, body_sha256};

const STREAM: &str = "gid://gitlab/AuditEvents::ExternalAuditEventDestination/3";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn keys() -> KeyRing {
    KeyRing::from_base64([public_key_base64(&key().verifying_key()).as_str()]).unwrap()
}

fn body(n: u64) -> Vec<u8> {
    format!(r#"{{"id":"{n}","event_name":"e"}}"#).into_bytes()
}

/// Positions 1..=n as sent: each with its true chain header, arriving in order.
fn stream(n: u64) -> Vec<Delivery> {
    let mut chain = ChainDigest::genesis(STREAM);
    (1..=n)
        .map(|position| {
            chain = chain.next(&body(position));
            Delivery {
                stream: STREAM.into(),
                position,
                chain,
                body_sha256: body_sha256(&body(position)),
                arrival: position - 1,
                origin: format!("line {position}"),
            }
        })
        .collect()
}

fn chain_at(n: u64) -> ChainDigest {
    (1..=n).fold(ChainDigest::genesis(STREAM), |chain, p| chain.next(&body(p)))
}

fn checkpoint(sequence: u64, parked: &[u64]) -> SignedCheckpoint {
    Checkpoint {
        stream: STREAM.into(),
        sequence,
        chain: chain_at(sequence).to_hex(),
        parked: parked
            .iter()
            .map(|&p| ParkedPosition { sequence: p, body_sha256: body_sha256(&body(p)).to_hex() })
            .collect(),
        created_at: "2026-12-01T10:00:00.000Z".into(),
    }
    .sign(&key())
}

fn run(deliveries: &[Delivery], checkpoints: &[SignedCheckpoint]) -> StreamReport {
    let report = audit(deliveries, checkpoints, &keys(), None, 0);
    assert_eq!(report.streams.len(), 1);
    assert_eq!(report.exit_code, report.status.exit_code());
    report.streams.into_iter().next().unwrap()
}

#[test]
fn a_complete_stream_is_complete() {
    let report = run(&stream(5), &[checkpoint(3, &[]), checkpoint(5, &[])]);
    assert_eq!(report.status, Status::Complete);
    assert_eq!((report.events_received, report.distinct_positions, report.highest_position), (5, 5, 5));
    assert_eq!(report.checkpoints.valid, 2);
    assert_eq!(report.coverage, Coverage { checkpointed_through: Some(5), not_yet_covered: 0 });
    assert_eq!(report.missing_count(), 0);
    assert!(report.mismatches.is_empty() && report.first_mismatch.is_none());
}

#[test]
fn positions_after_the_last_checkpoint_are_not_yet_covered_but_fine() {
    let report = run(&stream(5), &[checkpoint(2, &[])]);
    assert_eq!(report.status, Status::Complete);
    assert_eq!(report.coverage, Coverage { checkpointed_through: Some(2), not_yet_covered: 3 });
    let no_checkpoints = run(&stream(2), &[]);
    assert_eq!(no_checkpoints.status, Status::Complete);
    assert_eq!(no_checkpoints.coverage.checkpointed_through, None);
}

#[test]
fn an_altered_body_fails_at_its_position_only() {
    let mut deliveries = stream(5);
    deliveries[2].body_sha256 = body_sha256(b"tampered");
    let report = run(&deliveries, &[checkpoint(5, &[])]);
    assert_eq!(report.status, Status::Problem);
    let first = report.first_mismatch.clone().unwrap();
    assert_eq!((first.sequence, first.kind, first.origin.as_deref()), (3, MismatchKind::Chain, Some("line 3")));
    assert_eq!(first.found, chain_at(3).to_hex());
    // The walk resumes from the header, so later positions and the checkpoint still agree.
    assert_eq!(report.mismatches.len(), 1);
}

#[test]
fn a_dropped_event_is_lost_and_a_parked_one_is_accounted_for() {
    let mut deliveries = stream(6);
    deliveries.remove(3); // position 4
    let lost = run(&deliveries, &[checkpoint(6, &[])]);
    assert_eq!(lost.status, Status::Problem);
    assert_eq!(lost.lost, vec![PositionRange { from: 4, to: 4 }]);
    assert!(lost.parked.is_empty());
    assert_eq!(lost.chain_unchecked, 1, "position 5 follows a lost one");

    let parked = run(&deliveries, &[checkpoint(6, &[4])]);
    assert_eq!(parked.status, Status::Parked);
    assert!(parked.lost.is_empty() && parked.mismatches.is_empty());
    assert_eq!(parked.parked, vec![ParkedPosition { sequence: 4, body_sha256: body_sha256(&body(4)).to_hex() }]);
    assert_eq!(parked.chain_unchecked, 0, "the parked digest carries the chain over the gap");

    // Parked, then re-sent and received: complete.
    assert_eq!(run(&stream(6), &[checkpoint(6, &[4])]).status, Status::Complete);
}

#[test]
fn gaps_after_the_last_checkpoint_and_at_the_end_are_told_apart() {
    let mut deliveries = stream(8);
    deliveries.remove(5); // position 6
    let report = run(&deliveries, &[checkpoint(4, &[])]);
    assert_eq!(report.status, Status::Problem);
    assert!(report.lost.is_empty());
    assert_eq!(report.missing_not_yet_covered, vec![PositionRange { from: 6, to: 6 }]);
    // The checkpoint says 6 positions exist; only 4 arrived: 5 and 6 lost.
    let truncated = run(&stream(4), &[checkpoint(6, &[])]);
    assert_eq!(truncated.lost, vec![PositionRange { from: 5, to: 6 }]);
    assert_eq!(truncated.highest_position, 6);
}

#[test]
fn swapped_arrivals_are_out_of_order_but_complete() {
    let mut deliveries = stream(5);
    deliveries[1].arrival = 2;
    deliveries[2].arrival = 1;
    let report = run(&deliveries, &[checkpoint(5, &[])]);
    assert_eq!(report.status, Status::Complete);
    assert_eq!(report.out_of_order.count, 1);
    assert_eq!(report.out_of_order.first, Some(LateArrival { sequence: 2, arrival: 2, after: 3 }));
}

#[test]
fn swapped_bodies_under_their_headers_are_a_mismatch_at_the_first() {
    let mut deliveries = stream(5);
    let (two, three) = (deliveries[1].body_sha256, deliveries[2].body_sha256);
    deliveries[1].body_sha256 = three;
    deliveries[2].body_sha256 = two;
    let report = run(&deliveries, &[checkpoint(5, &[])]);
    assert_eq!(report.status, Status::Problem);
    assert_eq!(report.first_mismatch.as_ref().map(|m| m.sequence), Some(2));
    assert_eq!(report.mismatches.iter().map(|m| m.sequence).collect::<Vec<_>>(), vec![2, 3]);
}

#[test]
fn duplicates_are_harmless_when_identical_and_a_problem_when_not() {
    let mut deliveries = stream(3);
    let mut again = deliveries[1].clone();
    again.arrival = 10;
    deliveries.push(again.clone());
    let report = run(&deliveries, &[checkpoint(3, &[])]);
    assert_eq!(report.status, Status::Complete);
    assert_eq!(report.duplicates.identical, vec![Duplicate { sequence: 2, count: 2 }]);
    assert_eq!(report.out_of_order.count, 0, "a repeat is a duplicate, not a late arrival");

    again.body_sha256 = body_sha256(b"other");
    again.arrival = 11;
    deliveries.push(again);
    let report = run(&deliveries, &[checkpoint(3, &[])]);
    assert_eq!(report.status, Status::Problem);
    assert_eq!(report.duplicates.conflicting, vec![Duplicate { sequence: 2, count: 3 }]);
}

#[test]
fn a_bad_signature_and_an_unknown_key_are_problems() {
    let mut forged = checkpoint(3, &[]);
    forged.checkpoint.parked.push(ParkedPosition { sequence: 2, body_sha256: "00".into() });
    let report = run(&stream(3), &[forged]);
    assert_eq!(report.status, Status::Problem);
    assert_eq!(report.checkpoints.invalid.len(), 1);
    assert!(report.parked.is_empty(), "a forged checkpoint's parked list is not believed");
    assert_eq!(report.coverage.checkpointed_through, None);

    let stranger = Checkpoint { ..checkpoint(3, &[]).checkpoint }.sign(&SigningKey::from_bytes(&[9u8; 32]));
    let report = run(&stream(3), &[stranger]);
    assert_eq!(report.status, Status::Problem);
    assert_eq!(report.checkpoints.unknown_key.len(), 1);
    assert_eq!(report.checkpoints.valid, 0);
}

#[test]
fn a_checkpoint_that_disagrees_with_the_bodies_is_named() {
    let mut signed = checkpoint(3, &[]).checkpoint;
    signed.chain = chain_at(2).to_hex();
    let report = run(&stream(3), &[signed.sign(&key())]);
    let first = report.first_mismatch.unwrap();
    assert_eq!((first.sequence, first.kind), (3, MismatchKind::Checkpoint));
    assert_eq!(first.expected, chain_at(3).to_hex());
}

#[test]
fn a_wrong_stream_id_fails_at_position_one() {
    let mut deliveries = stream(2);
    for delivery in &mut deliveries {
        delivery.stream = "gid://gitlab/AuditEvents::ExternalAuditEventDestination/4".into();
    }
    let report = audit(&deliveries, &[], &keys(), None, 0);
    assert_eq!(report.streams[0].first_mismatch.as_ref().map(|m| m.sequence), Some(1));
}

#[test]
fn several_streams_and_the_choice_of_one() {
    let mut deliveries = stream(2);
    let mut other = deliveries[0].clone();
    other.stream = "other".into();
    deliveries.push(other);
    let both = audit(&deliveries, &[], &keys(), None, 4);
    assert_eq!(both.streams.len(), 2);
    assert_eq!(both.unsequenced, 4);
    assert_eq!(both.status, Status::Problem, "the other stream's position 1 has a foreign chain");
    let one = audit(&deliveries, &[], &keys(), Some(STREAM), 0);
    assert_eq!((one.streams.len(), one.status), (1, Status::Complete));
    assert_eq!(audit(&[], &[], &keys(), None, 0).status, Status::Problem, "nothing proves nothing");
}

#[test]
fn huge_positions_are_walked_as_ranges() {
    let mut deliveries = stream(1);
    let mut far = deliveries[0].clone();
    far.position = u64::MAX;
    deliveries.push(far);
    let report = run(&deliveries, &[]);
    assert_eq!(report.missing_not_yet_covered, vec![PositionRange { from: 2, to: u64::MAX - 1 }]);
}

#[test]
fn keys_are_checked_when_given() {
    assert!(KeyRing::from_base64(["not a key"]).is_err());
    assert_eq!(keys().key_ids().count(), 1);
}
