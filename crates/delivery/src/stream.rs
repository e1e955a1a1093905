//! Provable streams, the delivery side's pure parts: an event's stamp (stream id, position,
//! chain) and how each sink carries it, the signer the service hands the engine, and the
//! checkpoint policy. The contract is in `docs/completeness.md`.

use auditrelay_core::stream_proof::{ChainDigest, Checkpoint, SignedCheckpoint, names};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// An event's place in its destination's stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    /// The stream id: the destination's global id.
    pub stream: Arc<str>,
    /// 1, 2, 3, … over every event routed to the destination.
    pub position: u64,
    /// `chain(position)`.
    pub chain: ChainDigest,
}

/// The stamp's HTTP headers, parsed once (`names::*_HEADER`, lowercased; checked by a test).
const STREAM: HeaderName = HeaderName::from_static("x-auditrelay-stream");
const SEQUENCE: HeaderName = HeaderName::from_static("x-auditrelay-sequence");
const CHAIN: HeaderName = HeaderName::from_static("x-auditrelay-chain");

impl Stamp {
    /// `X-Auditrelay-Stream`, `-Sequence`, `-Chain` (GitLab's own headers are left as they are).
    pub fn add_headers(&self, headers: &mut HeaderMap) {
        // A global id and hex digits are always valid header values.
        if let Ok(stream) = HeaderValue::from_str(&self.stream) {
            headers.insert(STREAM, stream);
        }
        headers.insert(SEQUENCE, HeaderValue::from(self.position));
        if let Ok(chain) = HeaderValue::from_bytes(&self.chain.hex_digits()) {
            headers.insert(CHAIN, chain);
        }
    }

    /// S3 user metadata `auditrelay_stream`, `_sequence`, `_chain` (as `x-amz-meta-*` headers).
    pub fn add_s3_metadata(&self, headers: &mut HeaderMap) {
        let [s, q, c] =
            [names::STREAM_LABEL, names::SEQUENCE_LABEL, names::CHAIN_LABEL].map(|n| format!("x-amz-meta-{n}"));
        let values = [self.stream.to_string(), self.position.to_string(), self.chain.to_hex()];
        for (name, value) in [s, q, c].into_iter().zip(values) {
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
                headers.insert(name, value);
            }
        }
    }

    /// Google Cloud Logging entry labels.
    pub fn gcp_labels(&self) -> serde_json::Value {
        serde_json::json!({
            names::STREAM_LABEL: &*self.stream,
            names::SEQUENCE_LABEL: self.position.to_string(),
            names::CHAIN_LABEL: self.chain.to_hex(),
        })
    }
}

/// Signs checkpoints with the instance key; the service implements it (the key stays there).
pub trait CheckpointSigner: Send + Sync {
    fn sign(&self, checkpoint: Checkpoint) -> SignedCheckpoint;
}

/// When a checkpoint is due: at least every `positions` positions or `every` of activity.
#[derive(Clone)]
pub struct CheckpointPolicy {
    pub positions: u64,
    pub every: Duration,
    /// `None`: no checkpoints (tests and the bench may run without a key).
    pub signer: Option<Arc<dyn CheckpointSigner>>,
}

impl std::fmt::Debug for CheckpointPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointPolicy")
            .field("positions", &self.positions)
            .field("every", &self.every)
            .field("signer", &self.signer.is_some())
            .finish()
    }
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        CheckpointPolicy { positions: 1000, every: Duration::from_secs(60), signer: None }
    }
}

impl CheckpointPolicy {
    /// Whether a checkpoint at `through` is due, the last one being at `last` made `age` ago.
    pub fn due(&self, through: u64, last: u64, age: Duration) -> bool {
        through > last && (through - last >= self.positions || age >= self.every)
    }
}

/// The positions handed out but not yet passed by the cursor, and the last one passed: what a
/// checkpoint may cover (every position up to it has an outcome). Pure.
#[derive(Debug, Default)]
pub struct Tail {
    open: VecDeque<(i64, u64, ChainDigest)>,
    through: Option<(u64, ChainDigest)>,
}

impl Tail {
    /// A stamped event at `seq` (in log order).
    pub fn assigned(&mut self, seq: i64, stamp: &Stamp) {
        if self.open.back().is_none_or(|(s, _, _)| *s < seq) {
            self.open.push_back((seq, stamp.position, stamp.chain));
        }
    }

    /// The cursor reached `seq`: positions at or before it are settled; returns them.
    pub fn passed(&mut self, seq: i64) -> Vec<(u64, ChainDigest)> {
        let mut settled = Vec::new();
        while let Some(&(s, position, chain)) = self.open.front() {
            if s > seq {
                break;
            }
            self.through = Some((position, chain));
            settled.push((position, chain));
            self.open.pop_front();
        }
        settled
    }

    /// The last settled position and its chain.
    pub fn through(&self) -> Option<(u64, ChainDigest)> {
        self.through
    }

    pub fn clear(&mut self) {
        *self = Tail::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(position: u64) -> Stamp {
        Stamp { stream: "gid://gitlab/X/1".into(), position, chain: ChainDigest::genesis(&position.to_string()) }
    }

    #[test]
    fn the_parsed_header_names_are_the_contracts() {
        for (parsed, name) in
            [(STREAM, names::STREAM_HEADER), (SEQUENCE, names::SEQUENCE_HEADER), (CHAIN, names::CHAIN_HEADER)]
        {
            assert_eq!(parsed, HeaderName::from_bytes(name.as_bytes()).unwrap());
        }
    }

    #[test]
    fn headers_and_labels_carry_the_three_names() {
        let mut headers = HeaderMap::new();
        stamp(7).add_headers(&mut headers);
        assert_eq!(headers["x-auditrelay-stream"], "gid://gitlab/X/1");
        assert_eq!(headers["x-auditrelay-sequence"], "7");
        assert_eq!(headers["x-auditrelay-chain"], stamp(7).chain.to_hex());
        let mut meta = HeaderMap::new();
        stamp(7).add_s3_metadata(&mut meta);
        assert_eq!(meta["x-amz-meta-auditrelay_sequence"], "7");
        assert_eq!(stamp(7).gcp_labels()["auditrelay_sequence"], "7");
    }

    #[test]
    fn the_tail_settles_positions_the_cursor_passed() {
        let mut tail = Tail::default();
        tail.assigned(10, &stamp(1));
        tail.assigned(12, &stamp(2));
        tail.assigned(12, &stamp(2));
        assert_eq!(tail.passed(11).len(), 1);
        assert_eq!(tail.through().map(|t| t.0), Some(1));
        tail.passed(9);
        assert_eq!(tail.through().map(|t| t.0), Some(1));
        tail.passed(20);
        assert_eq!(tail.through().map(|t| t.0), Some(2));
    }

    #[test]
    fn checkpoints_are_due_by_count_or_by_time_with_activity() {
        let policy = CheckpointPolicy { positions: 1000, every: Duration::from_secs(60), signer: None };
        assert!(policy.due(1000, 0, Duration::ZERO));
        assert!(!policy.due(999, 0, Duration::from_secs(59)));
        assert!(policy.due(1, 0, Duration::from_secs(60)));
        assert!(!policy.due(5, 5, Duration::from_secs(600)));
    }
}
