//! The completeness of an AI agent session from the producer's `sequence` numbers: which
//! arrived, which are missing between the first and the last, which repeat, whether the session
//! started and ended, and a SHA-256 digest over the event ids in sequence order that a producer
//! can compare with its own. Pure.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The service's own event, appended when a session ends (and again when its missing events
/// arrive later), carrying the session's summary.
pub const SESSION_SUMMARY_TYPE: &str = "ai_agent_session_summary";

/// Most missing numbers listed; `missing_count` always counts them all.
pub const MAX_LISTED_MISSING: usize = 1_000;

/// One stored event of a session, in the order the log holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequencedEvent {
    /// The producer's event id (the CloudEvent `id`), or the public id of an event that has none.
    pub event_id: String,
    pub event_type: String,
    pub sequence: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    pub events: usize,
    pub first_sequence: Option<i64>,
    pub last_sequence: Option<i64>,
    /// Numbers between the first and the last that did not arrive (at most
    /// [`MAX_LISTED_MISSING`] listed).
    pub missing_sequences: Vec<i64>,
    pub missing_count: u64,
    /// Numbers that more than one event carries.
    pub duplicate_sequences: Vec<i64>,
    /// Events sent with `sequence: null`.
    pub unsequenced_events: usize,
    pub started: bool,
    pub ended: bool,
    /// Started, ended, nothing missing and no number repeated.
    pub complete: bool,
    /// SHA-256 (hex) of the event ids joined by `\n`, in sequence order (events without a
    /// sequence last, in arrival order).
    pub digest_sha256: String,
}

impl SessionSummary {
    /// The summary of a session's events (the service's own summaries among them are skipped).
    pub fn of(events: &[SequencedEvent]) -> SessionSummary {
        let events: Vec<&SequencedEvent> = events.iter().filter(|e| e.event_type != SESSION_SUMMARY_TYPE).collect();
        let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
        for sequence in events.iter().filter_map(|e| e.sequence) {
            *counts.entry(sequence).or_default() += 1;
        }
        let first_sequence = counts.keys().next().copied();
        let last_sequence = counts.keys().next_back().copied();
        let (missing_sequences, missing_count) = match (first_sequence, last_sequence) {
            (Some(first), Some(last)) => {
                let span = (last as i128 - first as i128 + 1) as u128;
                let missing_count = (span - counts.len() as u128).min(u64::MAX as u128) as u64;
                let mut listed = Vec::new();
                let mut previous = first;
                for &n in counts.keys().skip(1) {
                    let mut gap = previous.saturating_add(1);
                    while gap < n && listed.len() < MAX_LISTED_MISSING {
                        listed.push(gap);
                        gap += 1;
                    }
                    previous = n;
                }
                (listed, missing_count)
            }
            _ => (Vec::new(), 0),
        };
        let duplicate_sequences: Vec<i64> = counts.iter().filter(|(_, c)| **c > 1).map(|(n, _)| *n).collect();
        let mut ordered: Vec<&&SequencedEvent> = events.iter().collect();
        // A stable sort: events of one number keep their arrival order; unsequenced go last.
        ordered.sort_by_key(|e| (e.sequence.is_none(), e.sequence));
        let joined: Vec<&str> = ordered.iter().map(|e| e.event_id.as_str()).collect();
        let digest_sha256 = hex::encode(Sha256::digest(joined.join("\n").as_bytes()));
        let started = events.iter().any(|e| e.event_type == "ai_agent_session_started");
        let ended = events.iter().any(|e| e.event_type == "ai_agent_session_ended");
        SessionSummary {
            events: events.len(),
            first_sequence,
            last_sequence,
            complete: started && ended && missing_count == 0 && duplicate_sequences.is_empty(),
            missing_sequences,
            missing_count,
            duplicate_sequences,
            unsequenced_events: events.iter().filter(|e| e.sequence.is_none()).count(),
            started,
            ended,
            digest_sha256,
        }
    }

    /// The summary as JSON fields (for the API and the summary event's details).
    pub fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(sequences: &[Option<i64>]) -> Vec<SequencedEvent> {
        let last = sequences.len().saturating_sub(1);
        sequences
            .iter()
            .enumerate()
            .map(|(i, s)| SequencedEvent {
                event_id: format!("e{}", s.map_or(format!("n{i}"), |s| s.to_string())),
                event_type: match i {
                    0 => "ai_agent_session_started".into(),
                    i if i == last => "ai_agent_session_ended".into(),
                    _ => "ai_tool_invoked".into(),
                },
                sequence: *s,
            })
            .collect()
    }

    fn numbers(list: &[i64]) -> Vec<Option<i64>> {
        list.iter().map(|n| Some(*n)).collect()
    }

    #[test]
    fn held_back_numbers_are_missing_until_they_arrive() {
        let partial = SessionSummary::of(&session(&numbers(&[1, 2, 3, 5, 6, 8, 9, 10])));
        assert_eq!(partial.missing_sequences, [4, 7]);
        assert_eq!(partial.missing_count, 2);
        assert_eq!((partial.first_sequence, partial.last_sequence), (Some(1), Some(10)));
        assert!(partial.started && partial.ended && !partial.complete);
        let mut all = session(&numbers(&[1, 2, 3, 5, 6, 8, 9, 10]));
        all.push(SequencedEvent { event_id: "e4".into(), event_type: "ai_tool_invoked".into(), sequence: Some(4) });
        all.push(SequencedEvent { event_id: "e7".into(), event_type: "ai_tool_invoked".into(), sequence: Some(7) });
        let full = SessionSummary::of(&all);
        assert!(full.complete && full.missing_sequences.is_empty() && full.events == 10);
        let in_order = SessionSummary::of(&session(&numbers(&(1..=10).collect::<Vec<_>>())));
        assert_eq!(full.digest_sha256, in_order.digest_sha256, "the digest follows the sequence, not arrival");
        let ids: Vec<String> = (1..=10).map(|n| format!("e{n}")).collect();
        assert_eq!(full.digest_sha256, hex::encode(Sha256::digest(ids.join("\n"))));
    }

    #[test]
    fn repeats_nulls_and_own_summaries() {
        let mut events = session(&[Some(1), None, Some(2), Some(2), Some(3)]);
        events.push(SequencedEvent { event_id: "s".into(), event_type: SESSION_SUMMARY_TYPE.into(), sequence: None });
        let summary = SessionSummary::of(&events);
        assert_eq!(summary.events, 5);
        assert_eq!(summary.duplicate_sequences, [2]);
        assert_eq!(summary.unsequenced_events, 1);
        assert!(!summary.complete, "a repeated number is not a complete session");
        let empty = SessionSummary::of(&[]);
        assert_eq!((empty.events, empty.first_sequence, empty.missing_count), (0, None, 0));
        assert!(!empty.started && !empty.complete);
    }

    #[test]
    fn a_huge_gap_is_counted_but_listed_only_in_part() {
        let summary = SessionSummary::of(&session(&[Some(i64::MIN), Some(i64::MAX)]));
        assert_eq!(summary.missing_sequences.len(), MAX_LISTED_MISSING);
        assert_eq!(summary.missing_count, u64::MAX - 1);
        let map = summary.to_map();
        assert_eq!(map["missing_sequences"].as_array().unwrap().len(), MAX_LISTED_MISSING);
        assert!(map.contains_key("digest_sha256"));
    }
}
