//! auditrelay's delivery mutations (not in GitLab): replay a range of the log to a destination,
//! and re-send its parked events. Any destination global id of either API generation works.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use auditrelay_core::DestinationId;

use super::payload::payload;
use crate::error::ServiceError;
use crate::graphql::context::{caller, outcome, service, top_level};
use auditrelay_service::access::need;
use auditrelay_service::delivery::ReplayRange;

#[derive(Default)]
pub struct DeliveryMutation;

/// Every class a destination's global id may name.
pub(super) const DESTINATION_CLASSES: [&str; 8] = [
    "AuditEvents::ExternalAuditEventDestination",
    "AuditEvents::InstanceExternalAuditEventDestination",
    "AuditEvents::GoogleCloudLoggingConfiguration",
    "AuditEvents::Instance::GoogleCloudLoggingConfiguration",
    "AuditEvents::AmazonS3Configuration",
    "AuditEvents::Instance::AmazonS3Configuration",
    "AuditEvents::Group::ExternalStreamingDestination",
    "AuditEvents::Instance::ExternalStreamingDestination",
];

fn destination_id(gid: &str) -> Result<DestinationId, ServiceError> {
    gid.strip_prefix("gid://gitlab/")
        .and_then(|rest| rest.rsplit_once('/'))
        .filter(|(class, _)| DESTINATION_CLASSES.contains(class))
        .and_then(|(_, id)| id.parse().ok())
        .ok_or_else(|| ServiceError::BadParam(format!("\"{gid}\" is not the global id of a streaming destination")))
}

#[derive(InputObject)]
pub struct AuditEventStreamingDestinationReplayInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: ID,
    pub from_seq: Option<i64>,
    pub to_seq: Option<i64>,
    /// ISO-8601 date-time or date.
    pub created_after: Option<String>,
    pub created_before: Option<String>,
}

#[derive(InputObject)]
pub struct AuditEventStreamingDestinationResendParkedInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: ID,
}

#[derive(SimpleObject)]
pub struct DestinationReplay {
    pub id: i64,
    pub from_seq: i64,
    pub to_seq: i64,
    pub sent: i64,
    pub state: String,
}

payload!(AuditEventStreamingDestinationReplayPayload, replay: Option<DestinationReplay>);
payload!(AuditEventStreamingDestinationResendParkedPayload, resent: Option<i64>);

fn time(text: Option<String>, name: &str) -> Result<Option<i64>, ServiceError> {
    text.map(|t| {
        auditrelay_core::time::parse_timestamp(&t).ok_or_else(|| ServiceError::BadParam(format!("{name} is invalid")))
    })
    .transpose()
}

#[Object]
impl DeliveryMutation {
    /// Re-sends a destination's events in a `seq` and/or time range (filters still apply).
    async fn audit_event_streaming_destination_replay(
        &self,
        ctx: &Context<'_>,
        input: AuditEventStreamingDestinationReplayInput,
    ) -> Result<AuditEventStreamingDestinationReplayPayload> {
        let (s, c) = (service(ctx), caller(ctx)?);
        let id = destination_id(&input.destination_id).map_err(top_level)?;
        let d = s.access().any_destination::<need::Read>(c, id).await.map_err(top_level)?;
        let range = ReplayRange {
            from_seq: input.from_seq,
            to_seq: input.to_seq,
            created_after: time(input.created_after, "createdAfter").map_err(top_level)?,
            created_before: time(input.created_before, "createdBefore").map_err(top_level)?,
        };
        let replay = async { s.delivery().replay(&d.needing()?, range).await };
        let (replay, errors) = outcome(replay.await)?;
        let replay = replay.map(|r| DestinationReplay {
            id: r.id,
            from_seq: r.from_seq,
            to_seq: r.to_seq,
            sent: r.sent,
            state: r.state,
        });
        Ok(AuditEventStreamingDestinationReplayPayload { client_mutation_id: input.client_mutation_id, errors, replay })
    }

    /// Sends a destination's parked events again.
    async fn audit_event_streaming_destination_resend_parked(
        &self,
        ctx: &Context<'_>,
        input: AuditEventStreamingDestinationResendParkedInput,
    ) -> Result<AuditEventStreamingDestinationResendParkedPayload> {
        let (s, c) = (service(ctx), caller(ctx)?);
        let id = destination_id(&input.destination_id).map_err(top_level)?;
        let d = s.access().any_destination(c, id).await.map_err(top_level)?;
        let (resent, errors) = outcome(s.delivery().resend_parked(&d).await)?;
        Ok(AuditEventStreamingDestinationResendParkedPayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            resent: resent.map(|n| n as i64),
        })
    }
}
