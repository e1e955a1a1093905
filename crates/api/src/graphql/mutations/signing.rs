//! auditrelay's Standard Webhooks signing mutations (not in GitLab): enable, rotate, remove the
//! old secret, disable. Any HTTP destination's global id of either API generation works; a new
//! secret is in the answer of the mutation that made it, and nowhere ever after.

use async_graphql::{Context, ID, InputObject, Object, Result};
use auditrelay_core::DestinationId;
use auditrelay_service::access::DestinationGrant;
use auditrelay_service::access::need::Needed;
use auditrelay_service::destinations::Api;

use super::delivery::DESTINATION_CLASSES;
use super::payload::payload;
use crate::error::ServiceError;
use crate::graphql::context::{caller, outcome, service, top_level};
use crate::graphql::webhook_signing::AuditrelayWebhookSigning;

#[derive(Default)]
pub struct SigningMutation;

/// The consolidated API's classes; the others are the legacy API's.
const CONSOLIDATED: [&str; 2] =
    ["AuditEvents::Group::ExternalStreamingDestination", "AuditEvents::Instance::ExternalStreamingDestination"];

/// The destination id and the API generation whose wording its audit events use.
fn parse_gid(gid: &str) -> Result<(i64, Api), ServiceError> {
    gid.strip_prefix("gid://gitlab/")
        .and_then(|rest| rest.rsplit_once('/'))
        .filter(|(class, _)| DESTINATION_CLASSES.contains(class))
        .and_then(|(class, id)| {
            let api = if CONSOLIDATED.contains(&class) { Api::Consolidated } else { Api::Legacy };
            id.parse().ok().map(|id| (id, api))
        })
        .ok_or_else(|| ServiceError::BadParam(format!("\"{gid}\" is not the global id of a streaming destination")))
}

#[derive(InputObject)]
pub struct AuditrelayWebhookSigningInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: ID,
    /// A `whsec_` secret of your own (24 to 64 bytes); by default the service makes one of 32.
    pub secret: Option<String>,
}

#[derive(InputObject)]
pub struct AuditrelayWebhookSigningDestinationInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: ID,
}

// `secret`: the new `whsec_` secret, shown this once.
payload!(AuditrelayWebhookSecretPayload, secret: Option<String>, webhook_signing: Option<AuditrelayWebhookSigning>);
payload!(AuditrelayWebhookSigningPayload, webhook_signing: Option<AuditrelayWebhookSigning>);

pub(super) async fn destination<'a, N: Needed>(ctx: &Context<'a>, gid: &ID) -> Result<(DestinationGrant<'a, N>, Api)> {
    let (id, api) = parse_gid(gid).map_err(top_level)?;
    let d = service(ctx).access().any_destination(caller(ctx)?, DestinationId(id)).await.map_err(top_level)?;
    Ok((d, api))
}

/// The answer of a mutation that makes a secret: shown here once, never again.
fn secret_payload(
    client_mutation_id: Option<String>,
    made: auditrelay_service::ServiceResult<auditrelay_service::destinations::NewSigningSecret>,
) -> Result<AuditrelayWebhookSecretPayload> {
    let (made, errors) = outcome(made)?;
    Ok(AuditrelayWebhookSecretPayload {
        client_mutation_id,
        errors,
        secret: made.as_ref().map(|m| m.secret.clone()),
        webhook_signing: made.map(|m| m.signing.into()),
    })
}

#[Object]
impl SigningMutation {
    /// Turns Standard Webhooks signing on with a new secret.
    async fn auditrelay_webhook_signing_enable(
        &self,
        ctx: &Context<'_>,
        input: AuditrelayWebhookSigningInput,
    ) -> Result<AuditrelayWebhookSecretPayload> {
        let (d, api) = destination(ctx, &input.destination_id).await?;
        let made = service(ctx).destinations().enable_webhook_signing(&d, api, input.secret.as_deref()).await;
        secret_payload(input.client_mutation_id, made)
    }

    /// Adds a new secret; the old one keeps signing beside it until it is removed.
    async fn auditrelay_webhook_secret_rotate(
        &self,
        ctx: &Context<'_>,
        input: AuditrelayWebhookSigningInput,
    ) -> Result<AuditrelayWebhookSecretPayload> {
        let (d, api) = destination(ctx, &input.destination_id).await?;
        let made = service(ctx).destinations().rotate_webhook_secret(&d, api, input.secret.as_deref()).await;
        secret_payload(input.client_mutation_id, made)
    }

    /// Ends a rotation: the old secret stops signing.
    async fn auditrelay_webhook_secret_remove_old(
        &self,
        ctx: &Context<'_>,
        input: AuditrelayWebhookSigningDestinationInput,
    ) -> Result<AuditrelayWebhookSigningPayload> {
        let (d, api) = destination(ctx, &input.destination_id).await?;
        let (signing, errors) = outcome(service(ctx).destinations().remove_old_webhook_secret(&d, api).await)?;
        Ok(AuditrelayWebhookSigningPayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            webhook_signing: signing.map(Into::into),
        })
    }

    /// Turns signing off and deletes every secret.
    async fn auditrelay_webhook_signing_disable(
        &self,
        ctx: &Context<'_>,
        input: AuditrelayWebhookSigningDestinationInput,
    ) -> Result<AuditrelayWebhookSigningPayload> {
        let (d, api) = destination(ctx, &input.destination_id).await?;
        let (signing, errors) = outcome(service(ctx).destinations().disable_webhook_signing(&d, api).await)?;
        Ok(AuditrelayWebhookSigningPayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            webhook_signing: signing.map(Into::into),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_pick_the_generation() {
        let legacy = parse_gid("gid://gitlab/AuditEvents::ExternalAuditEventDestination/3").unwrap();
        assert_eq!(legacy, (3, Api::Legacy));
        let consolidated = parse_gid("gid://gitlab/AuditEvents::Instance::ExternalStreamingDestination/9").unwrap();
        assert_eq!(consolidated, (9, Api::Consolidated));
        let error = parse_gid("gid://gitlab/User/1").unwrap_err().to_string();
        assert!(error.contains("gid://gitlab/User/1") && error.contains("streaming destination"), "{error}");
    }
}
