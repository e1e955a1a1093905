//! auditrelay's stream mutation (not in GitLab): whether an HTTP destination also receives its
//! signed checkpoints in-band, as their own POSTs (docs/completeness.md).

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::payload::payload;
use super::signing::destination;
use crate::graphql::context::{outcome, service};
use crate::graphql::stream::{AuditrelayStream, auditrelay_stream};

#[derive(Default)]
pub struct StreamMutation;

#[derive(InputObject)]
pub struct AuditrelayStreamUpdateInput {
    pub client_mutation_id: Option<String>,
    /// The destination's global id (either API generation).
    pub destination_id: ID,
    /// Also POST each checkpoint to the destination (header `X-Auditrelay-Checkpoint: 1`).
    pub in_band_checkpoints: bool,
}

payload!(AuditrelayStreamUpdatePayload, stream: Option<AuditrelayStream>);

#[Object]
impl StreamMutation {
    /// Changes how a destination's stream is delivered.
    async fn auditrelay_stream_update(
        &self,
        ctx: &Context<'_>,
        input: AuditrelayStreamUpdateInput,
    ) -> Result<AuditrelayStreamUpdatePayload> {
        let (d, _) = destination(ctx, &input.destination_id).await?;
        let changed = service(ctx).streams().set_in_band_checkpoints(&d, input.in_band_checkpoints).await;
        let (changed, errors) = outcome(changed)?;
        let stream = match changed {
            Some(()) => Some(auditrelay_stream(ctx, d.destination()).await?),
            None => None,
        };
        Ok(AuditrelayStreamUpdatePayload { client_mutation_id: input.client_mutation_id, errors, stream })
    }
}
