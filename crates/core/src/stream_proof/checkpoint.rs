//! Checkpoints: a signed statement "stream S reached position N with chain C; these positions
//! were parked". The signature is Ed25519 over the canonical JSON of the five checkpoint fields
//! (keys sorted, no whitespace), so any verifier can rebuild the signed bytes. Pure.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::chain::{ChainDigest, StreamPosition};

/// A parked position: delivered never (so far), but accounted for by its body's digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedPosition {
    pub sequence: StreamPosition,
    /// Lowercase hex SHA-256 of the body that would have been sent.
    pub body_sha256: String,
}

/// The signed content of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The stream id (the destination's global id).
    pub stream: String,
    /// The last position the checkpoint covers.
    pub sequence: StreamPosition,
    /// `chain(sequence)` in lowercase hex.
    pub chain: String,
    /// Positions up to `sequence` that are parked, in ascending order.
    pub parked: Vec<ParkedPosition>,
    /// When it was made, GitLab's time format (`2026-12-01T10:00:00.000Z`).
    pub created_at: String,
}

/// A checkpoint as listed, stored and sent: its fields, the signing key's id and the signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    #[serde(flatten)]
    pub checkpoint: Checkpoint,
    /// `key_id` of the public key that verifies it.
    pub key_id: String,
    /// Standard base64 of the 64-byte Ed25519 signature over `checkpoint.canonical_json()`.
    pub signature: String,
}

/// Why a checkpoint does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckpointError {
    #[error("the public key is not 32 bytes of standard base64")]
    BadPublicKey,
    #[error("the signature is not 64 bytes of standard base64")]
    BadSignatureEncoding,
    #[error("the checkpoint was signed by key {found}, not by key {expected}")]
    WrongKey { expected: String, found: String },
    #[error("the signature does not match the checkpoint's content")]
    SignatureMismatch,
}

impl Checkpoint {
    /// The exact bytes the signature covers: keys sorted, no whitespace, strings JSON-escaped.
    pub fn canonical_json(&self) -> String {
        let text = |value: &str| serde_json::Value::String(value.to_owned()).to_string();
        let parked: Vec<String> = self
            .parked
            .iter()
            .map(|p| format!(r#"{{"body_sha256":{},"sequence":{}}}"#, text(&p.body_sha256), p.sequence))
            .collect();
        format!(
            r#"{{"chain":{},"created_at":{},"parked":[{}],"sequence":{},"stream":{}}}"#,
            text(&self.chain),
            text(&self.created_at),
            parked.join(","),
            self.sequence,
            text(&self.stream)
        )
    }

    /// The chain digest, when the field holds one.
    pub fn chain_digest(&self) -> Option<ChainDigest> {
        ChainDigest::from_hex(&self.chain)
    }

    /// Signs with the instance key.
    pub fn sign(self, key: &SigningKey) -> SignedCheckpoint {
        let signature = key.sign(self.canonical_json().as_bytes());
        SignedCheckpoint {
            key_id: key_id(&key.verifying_key()),
            signature: base64_encode(&signature.to_bytes()),
            checkpoint: self,
        }
    }
}

impl SignedCheckpoint {
    /// Checks the signature with a public key given as standard base64 of its 32 bytes.
    pub fn verify(&self, public_key_base64: &str) -> Result<(), CheckpointError> {
        let key = parse_public_key(public_key_base64)?;
        let expected = key_id(&key);
        if expected != self.key_id {
            return Err(CheckpointError::WrongKey { expected, found: self.key_id.clone() });
        }
        let bytes: [u8; 64] = base64_decode(&self.signature)
            .and_then(|raw| raw.try_into().ok())
            .ok_or(CheckpointError::BadSignatureEncoding)?;
        key.verify(self.checkpoint.canonical_json().as_bytes(), &Signature::from_bytes(&bytes))
            .map_err(|_| CheckpointError::SignatureMismatch)
    }
}

/// A public key from standard base64 of its 32 raw bytes.
pub fn parse_public_key(public_key_base64: &str) -> Result<VerifyingKey, CheckpointError> {
    let bytes: [u8; 32] = base64_decode(public_key_base64.trim())
        .and_then(|raw| raw.try_into().ok())
        .ok_or(CheckpointError::BadPublicKey)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| CheckpointError::BadPublicKey)
}

/// Standard base64 of a public key's 32 bytes, as `GET /api/v4/streaming/public_key` gives it.
pub fn public_key_base64(key: &VerifyingKey) -> String {
    base64_encode(key.as_bytes())
}

/// A key's id: the first 8 bytes of SHA-256 of its raw 32 bytes, in lowercase hex.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn sample() -> Checkpoint {
        Checkpoint {
            stream: "gid://gitlab/AuditEvents::ExternalAuditEventDestination/3".into(),
            sequence: 1000,
            chain: ChainDigest::genesis("s").to_hex(),
            parked: vec![ParkedPosition { sequence: 17, body_sha256: "ab".into() }],
            created_at: "2026-12-01T10:00:00.000Z".into(),
        }
    }

    #[test]
    fn canonical_json_sorts_keys_and_has_no_whitespace() {
        let json = sample().canonical_json();
        assert!(json.starts_with(r#"{"chain":""#));
        assert!(json.contains(r#","created_at":"2026-12-01T10:00:00.000Z","parked":[{"body_sha256":"ab","sequence":17}],"sequence":1000,"stream":"gid://"#));
        assert!(!json.contains(' '));
        let reparsed: Checkpoint = serde_json::from_str(&json).unwrap();
        assert_eq!(reparsed, sample());
    }

    #[test]
    fn signed_checkpoint_verifies_and_detects_any_change() {
        let public = public_key_base64(&key().verifying_key());
        let signed = sample().sign(&key());
        assert_eq!(signed.verify(&public), Ok(()));

        let wire = serde_json::to_string(&signed).unwrap();
        let back: SignedCheckpoint = serde_json::from_str(&wire).unwrap();
        assert_eq!(back.verify(&public), Ok(()));

        let mut altered = signed.clone();
        altered.checkpoint.sequence = 1001;
        assert_eq!(altered.verify(&public), Err(CheckpointError::SignatureMismatch));
        let other = public_key_base64(&SigningKey::from_bytes(&[8u8; 32]).verifying_key());
        assert!(matches!(signed.verify(&other), Err(CheckpointError::WrongKey { .. })));
        assert_eq!(signed.verify("not base64!"), Err(CheckpointError::BadPublicKey));
    }
}
