//! The instance's Ed25519 checkpoint signing key: made on first start, sealed at rest by the
//! secret box, and the signer handed to the delivery engine (a rotation swaps its key).

use auditrelay_core::stream_proof::checkpoint::public_key_base64;
use auditrelay_core::stream_proof::{Checkpoint, SignedCheckpoint, key_id};
use auditrelay_core::time::now_micros;
use auditrelay_delivery::stream::CheckpointSigner;
use auditrelay_store::Store;
use auditrelay_store::streams::SigningKeyRow;
use ed25519_dalek::SigningKey;

use crate::error::{ServiceError, ServiceResult};
use crate::secret_box::SecretBox;

/// The instance's current signing key.
pub struct InstanceSigner {
    key: std::sync::RwLock<SigningKey>,
}

impl InstanceSigner {
    fn new(key: SigningKey) -> InstanceSigner {
        InstanceSigner { key: std::sync::RwLock::new(key) }
    }

    /// Signs with `key` from now on (a rotation).
    pub(crate) fn replace(&self, key: SigningKey) {
        *self.key.write().unwrap_or_else(std::sync::PoisonError::into_inner) = key;
    }
}

impl CheckpointSigner for InstanceSigner {
    fn sign(&self, checkpoint: Checkpoint) -> SignedCheckpoint {
        let key = self.key.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        checkpoint.sign(&key)
    }
}

/// A fresh key and its row, the secret half sealed by `secrets`.
pub(crate) fn new_key_row(secrets: &SecretBox) -> (SigningKey, SigningKeyRow) {
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let public = key.verifying_key();
    let row = SigningKeyRow {
        key_id: key_id(&public),
        public_key: public_key_base64(&public),
        sealed_secret: secrets.seal(&hex::encode(key.to_bytes())),
        valid_from: now_micros(),
        valid_until: None,
    };
    (key, row)
}

fn open_key(secrets: &SecretBox, row: &SigningKeyRow) -> ServiceResult<SigningKey> {
    let text = secrets.open(&row.sealed_secret)?;
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ServiceError::Internal(format!("stream signing key {} is not 32 bytes", row.key_id)))?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// The current signing key, made (and stored sealed) the first time.
pub async fn instance_signer(store: &Store, secrets: &SecretBox) -> ServiceResult<InstanceSigner> {
    let current = |keys: Vec<SigningKeyRow>| keys.into_iter().rev().find(|k| k.valid_until.is_none());
    if let Some(row) = current(store.signing_keys().await?) {
        return Ok(InstanceSigner::new(open_key(secrets, &row)?));
    }
    let (key, row) = new_key_row(secrets);
    store.install_signing_key(&row).await?;
    Ok(InstanceSigner::new(key))
}
