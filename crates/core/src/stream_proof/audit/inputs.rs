//! What the audit reads: the deliveries a receiver kept, and the public keys checkpoints may be
//! signed with.

use std::collections::BTreeMap;

use crate::stream_proof::checkpoint::{CheckpointError, SignedCheckpoint, key_id, parse_public_key};
use crate::stream_proof::{ChainDigest, StreamPosition};

/// One request (or object) a receiver kept that carried stream headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// `X-Auditrelay-Stream`.
    pub stream: String,
    /// `X-Auditrelay-Sequence`.
    pub position: StreamPosition,
    /// `X-Auditrelay-Chain`.
    pub chain: ChainDigest,
    /// SHA-256 of the exact body received (the body itself is not needed).
    pub body_sha256: ChainDigest,
    /// Order of receipt, 0 first.
    pub arrival: u64,
    /// Where it came from, to name in findings (`line 12`, an S3 key).
    pub origin: String,
}

/// The public keys checkpoints may be signed with, by key id.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: BTreeMap<String, String>,
}

impl KeyRing {
    /// From public keys as standard base64 of their 32 bytes.
    pub fn from_base64<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<KeyRing, CheckpointError> {
        let mut ring = KeyRing::default();
        for text in keys {
            let key = parse_public_key(text)?;
            ring.keys.insert(key_id(&key), text.trim().to_owned());
        }
        Ok(ring)
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// `None` when no key has the checkpoint's key id; else whether its signature verifies.
    pub(super) fn check(&self, checkpoint: &SignedCheckpoint) -> Option<Result<(), CheckpointError>> {
        self.keys.get(&checkpoint.key_id).map(|key| checkpoint.verify(key))
    }
}
