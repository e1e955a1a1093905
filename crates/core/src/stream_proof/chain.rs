//! The hash chain of a destination's stream: `chain(0)` from the stream id, then each position
//! folds in the SHA-256 of the exact body sent. Pure.

use sha2::{Digest, Sha256};
use std::fmt;

/// A position in a destination's stream: 1 for the first event routed to it, gapless after.
pub type StreamPosition = u64;

/// What `chain(0)` is derived from, before the stream id (the version names the algorithm).
const GENESIS_PREFIX: &[u8] = b"auditrelay-stream-v1\n";

/// One SHA-256 value of the chain (`chain(n)`), or a body digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainDigest(pub [u8; 32]);

impl ChainDigest {
    /// `chain(0) = SHA-256("auditrelay-stream-v1\n" + stream id)`.
    pub fn genesis(stream_id: &str) -> ChainDigest {
        let mut hash = Sha256::new();
        hash.update(GENESIS_PREFIX);
        hash.update(stream_id.as_bytes());
        ChainDigest(hash.finalize().into())
    }

    /// `chain(n) = SHA-256(chain(n-1) ‖ SHA-256(body(n)))`, the digests joined as raw bytes.
    pub fn next(&self, body: &[u8]) -> ChainDigest {
        self.next_with_body_digest(&body_sha256(body))
    }

    /// As `next`, when the body's digest is already known (a parked event's record).
    pub fn next_with_body_digest(&self, body_digest: &ChainDigest) -> ChainDigest {
        let mut hash = Sha256::new();
        hash.update(self.0);
        hash.update(body_digest.0);
        ChainDigest(hash.finalize().into())
    }

    /// Lowercase hex, as in headers, labels and checkpoints.
    pub fn to_hex(&self) -> String {
        String::from_utf8_lossy(&self.hex_digits()).into_owned()
    }

    /// [`to_hex`](Self::to_hex) without allocating: every delivered event's headers and stream
    /// record carry its digests (`hex::encode` goes through a `char` iterator, 1.6 % of a drain).
    pub fn hex_digits(&self) -> [u8; 64] {
        let mut digits = [0u8; 64];
        // Cannot fail: the buffer is twice the digest's length.
        let _ = hex::encode_to_slice(self.0, &mut digits);
        digits
    }

    /// Parses 64 hex digits (either case); `None` for anything else.
    pub fn from_hex(text: &str) -> Option<ChainDigest> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes).ok()?;
        Some(ChainDigest(bytes))
    }

    /// The raw 32 bytes (for storage).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From stored bytes; `None` unless exactly 32.
    pub fn from_slice(bytes: &[u8]) -> Option<ChainDigest> {
        Some(ChainDigest(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for ChainDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainDigest({})", self.to_hex())
    }
}

impl fmt::Display for ChainDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// SHA-256 of a body, as the chain folds it in.
pub fn body_sha256(body: &[u8]) -> ChainDigest {
    ChainDigest(Sha256::digest(body).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_hashes_prefix_and_stream_id() {
        let expected =
            Sha256::digest(b"auditrelay-stream-v1\ngid://gitlab/AuditEvents::InstanceExternalAuditEventDestination/1");
        let genesis = ChainDigest::genesis("gid://gitlab/AuditEvents::InstanceExternalAuditEventDestination/1");
        assert_eq!(genesis.0.as_slice(), expected.as_slice());
    }

    #[test]
    fn next_joins_raw_digests_not_hex() {
        let start = ChainDigest::genesis("s");
        let body = br#"{"id":"1"}"#;
        let mut joined = start.0.to_vec();
        joined.extend_from_slice(&Sha256::digest(body));
        assert_eq!(start.next(body).0.as_slice(), Sha256::digest(&joined).as_slice());
    }

    #[test]
    fn order_and_content_change_the_chain() {
        let start = ChainDigest::genesis("s");
        let ab = start.next(b"a").next(b"b");
        assert_ne!(ab, start.next(b"b").next(b"a"));
        assert_ne!(ab, start.next(b"a").next(b"c"));
        assert_eq!(ab, start.next(b"a").next_with_body_digest(&body_sha256(b"b")));
    }

    #[test]
    fn hex_round_trips_and_rejects_wrong_lengths() {
        let digest = ChainDigest::genesis("x");
        assert_eq!(ChainDigest::from_hex(&digest.to_hex()), Some(digest));
        assert_eq!(digest.to_hex(), hex::encode(digest.as_bytes()), "lowercase, two digits a byte");
        assert_eq!(ChainDigest::from_hex(&digest.to_hex().to_uppercase()), Some(digest));
        assert_eq!(ChainDigest::from_hex("abcd"), None);
        assert_eq!(ChainDigest::from_slice(&[0u8; 31]), None);
    }
}
