//! `auditrelayStream` on every destination type (an auditrelay extension): the destination's
//! provable stream, its position and last checkpoint (docs/completeness.md).

use async_graphql::{Context, Result, SimpleObject};
use auditrelay_service::access::need;
use auditrelay_service::destinations::Destination;

use super::context::{caller, service, top_level};

/// A destination's provable stream.
#[derive(SimpleObject, Clone)]
pub struct AuditrelayStream {
    /// The stream id: the destination's global id.
    pub id: String,
    /// The last position handed out.
    pub position: i64,
    /// The last position every event up to which has an outcome (delivered or parked).
    pub delivered_through: i64,
    pub last_checkpoint: Option<AuditrelayCheckpoint>,
    /// Whether checkpoints are also POSTed to the destination (HTTP only).
    pub in_band_checkpoints: bool,
}

/// A signed checkpoint of a stream (the whole signed JSON is in the REST listing).
#[derive(SimpleObject, Clone)]
pub struct AuditrelayCheckpoint {
    pub sequence: i64,
    /// `chain(sequence)`, lowercase hex.
    pub chain: String,
    pub created_at: String,
    /// Whether it reached the destination (S3 objects, in-band HTTP POSTs).
    pub delivered: bool,
}

pub async fn auditrelay_stream(ctx: &Context<'_>, d: &Destination) -> Result<AuditrelayStream> {
    let s = service(ctx);
    let grant = s.access().manages::<need::Read>(caller(ctx)?, d).await.map_err(top_level)?;
    let view = s.streams().destination_stream(&grant).await.map_err(top_level)?;
    let last_checkpoint = view.last_checkpoint.map(|c| {
        let signed: serde_json::Value = serde_json::from_str(&c.signed).unwrap_or_default();
        AuditrelayCheckpoint {
            sequence: c.sequence,
            chain: signed["chain"].as_str().unwrap_or_default().to_owned(),
            created_at: signed["created_at"].as_str().unwrap_or_default().to_owned(),
            delivered: c.delivered,
        }
    });
    Ok(AuditrelayStream {
        id: view.id,
        position: view.position,
        delivered_through: view.delivered_through,
        last_checkpoint,
        in_band_checkpoints: view.in_band_checkpoints,
    })
}
