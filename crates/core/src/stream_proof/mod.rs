//! Provable streams: the pure half of the completeness proof, shared by the delivery engine that
//! produces it and `auditrelay verify` that checks it. The contract is in `docs/completeness.md`.
//!
//! - `chain`: stream positions and the SHA-256 hash chain over the exact bodies sent.
//! - `checkpoint`: the signed statement of a stream's position, its canonical JSON and Ed25519.
//! - `webhook_signature`: Standard Webhooks 1.0 signatures (`webhook-id`, `-timestamp`, `-signature`).
//! - `audit`: the receiver's check of a stream (`auditrelay verify`); `capture`: the capture format.

pub mod audit;
pub mod capture;
pub mod chain;
pub mod checkpoint;
pub mod webhook_signature;

#[cfg(test)]
mod worked_example;

pub use chain::{ChainDigest, StreamPosition, body_sha256};
pub use checkpoint::{Checkpoint, CheckpointError, ParkedPosition, SignedCheckpoint, key_id};
pub use webhook_signature::{WebhookSecret, WebhookSecretError};

/// Header and label names a receiver finds on every delivery (HTTP headers; lowercased with
/// underscores as Google Cloud Logging labels and S3 object metadata).
pub mod names {
    /// HTTP header carrying the stream id (the destination's global id).
    pub const STREAM_HEADER: &str = "X-Auditrelay-Stream";
    /// HTTP header carrying the event's position in the stream (1, 2, 3, …).
    pub const SEQUENCE_HEADER: &str = "X-Auditrelay-Sequence";
    /// HTTP header carrying `chain(n)` in lowercase hex.
    pub const CHAIN_HEADER: &str = "X-Auditrelay-Chain";
    /// HTTP header marking an in-band checkpoint POST (value `1`).
    pub const CHECKPOINT_HEADER: &str = "X-Auditrelay-Checkpoint";
    /// Label / metadata key for the stream id.
    pub const STREAM_LABEL: &str = "auditrelay_stream";
    /// Label / metadata key for the position.
    pub const SEQUENCE_LABEL: &str = "auditrelay_sequence";
    /// Label / metadata key for the chain digest.
    pub const CHAIN_LABEL: &str = "auditrelay_chain";
    /// S3 key prefix of checkpoint objects: `auditrelay-checkpoints/<destination id>/`.
    pub const CHECKPOINT_PREFIX: &str = "auditrelay-checkpoints";
}
