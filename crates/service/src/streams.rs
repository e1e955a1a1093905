//! Provable streams, the service's half: the instance's signing keys listed and rotated (the
//! old public keys kept listed; the key itself is `stream_signer`), and the reads of a
//! destination's stream and checkpoints (who may read the destination may read them).

use auditrelay_core::time::Micros;
use auditrelay_store::streams::StoredCheckpoint;

use crate::Service;
use crate::access::need::Needed;
use crate::access::{Admin, DestinationGrant, need};
use crate::error::{ServiceError, ServiceResult};
use crate::stream_signer::new_key_row;

/// A public key as `GET /api/v4/streaming/public_key` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyView {
    pub key_id: String,
    pub public_key: String,
    pub valid_from: Micros,
    pub valid_until: Option<Micros>,
}

/// A destination's stream as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamView {
    /// The stream id (the destination's global id).
    pub id: String,
    /// The last position handed out.
    pub position: i64,
    /// The last position the cursor has passed (delivered or parked).
    pub delivered_through: i64,
    pub last_checkpoint: Option<StoredCheckpoint>,
    pub in_band_checkpoints: bool,
}

/// Provable streams: `service.streams()`.
#[derive(Clone, Copy)]
pub struct Streams<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn streams(&self) -> Streams<'_> {
        Streams { ctx: self }
    }
}

impl Streams<'_> {
    /// Every signing key, the current one last (`valid_until` null). Public: receivers verify
    /// checkpoints with them.
    pub async fn stream_public_keys(&self) -> ServiceResult<Vec<PublicKeyView>> {
        Ok(self
            .ctx
            .store
            .signing_keys()
            .await?
            .into_iter()
            .map(|k| PublicKeyView {
                key_id: k.key_id,
                public_key: k.public_key,
                valid_from: k.valid_from,
                valid_until: k.valid_until,
            })
            .collect())
    }

    /// Admins only: a new current key; the old one stays listed, valid until now. This node
    /// signs with the new key at once; other nodes sharing the store from their next start
    /// (their checkpoints still verify: the old key stays listed).
    /// (An administrator with any token: rotation has never asked for a scope.)
    #[tracing::instrument(skip_all, fields(caller = admin.caller().user.id.get()))]
    pub async fn rotate_stream_key(&self, admin: &Admin<'_, need::Any>) -> ServiceResult<PublicKeyView> {
        let (key, row) = new_key_row(&self.ctx.secrets);
        self.ctx.store.install_signing_key(&row).await?;
        if let Some(signer) = &self.ctx.stream_signer {
            signer.replace(key);
        }
        Ok(PublicKeyView {
            key_id: row.key_id,
            public_key: row.public_key,
            valid_from: row.valid_from,
            valid_until: None,
        })
    }

    /// A destination's stream (whoever manages the destination may read it).
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn destination_stream<N: Needed>(&self, grant: &DestinationGrant<'_, N>) -> ServiceResult<StreamView> {
        let destination = grant.destination();
        let head = self.ctx.store.stream_head(destination.id).await?;
        let cursor = self.ctx.store.cursor(destination.id).await?.unwrap_or_default();
        let delivered_through =
            self.ctx.store.stream_entry_at_or_before(destination.id, cursor).await?.map_or(0, |e| e.position);
        Ok(StreamView {
            id: destination.stream_id(),
            position: head.map_or(0, |h| h.position),
            delivered_through,
            last_checkpoint: self.ctx.store.last_checkpoint(destination.id).await?,
            in_band_checkpoints: self.ctx.store.in_band_checkpoints(destination.id).await?,
        })
    }

    /// Checkpoints after a position, ascending, at most `limit` (1–100).
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn destination_checkpoints<N: Needed>(
        &self,
        grant: &DestinationGrant<'_, N>,
        after_sequence: i64,
        limit: i64,
    ) -> ServiceResult<Vec<StoredCheckpoint>> {
        let destination = grant.destination();
        Ok(self.ctx.store.checkpoints_after(destination.id, after_sequence, limit.clamp(1, 100)).await?)
    }

    /// Turns in-band checkpoints on or off (HTTP destinations only).
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn set_in_band_checkpoints(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        on: bool,
    ) -> ServiceResult<()> {
        let destination = grant.destination();
        if on && destination.category != auditrelay_core::destination::Category::Http {
            return Err(ServiceError::invalid("auditrelay_in_band_checkpoints", "are for HTTP destinations only"));
        }
        Ok(self.ctx.store.set_in_band_checkpoints(destination.id, on).await?)
    }
}
