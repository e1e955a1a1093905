//! Query root: groups' destinations, instance destinations, and the event type catalogue.

use async_graphql::{Context, ID, Object, Result};

use super::context::{caller, service, top_level};
use super::limits::LISTED_DESTINATIONS;
use super::types::*;
use auditrelay_core::destination::Category;
use auditrelay_service::access::need;
use auditrelay_service::destinations::Owner;

/// How many definitions `auditEventDefinitions(first:)` answers, for its complexity.
fn definitions_listed(first: Option<i32>) -> usize {
    let all = auditrelay_core::event_catalogue::definitions().len();
    first.map_or(all, |n| usize::try_from(n).unwrap_or(0).min(all))
}

pub struct Query;

#[Object]
impl Query {
    /// A group the caller can see (`null` otherwise), by full path.
    async fn group(&self, ctx: &Context<'_>, full_path: ID) -> Result<Option<GroupRef>> {
        let Ok(caller) = caller(ctx) else { return Ok(None) };
        let s = service(ctx);
        let Ok(grant) = s.access().group(caller, &full_path).await else { return Ok(None) };
        Ok(s.identity().group(&grant).await.ok().map(GroupRef))
    }

    #[graphql(complexity = "1 + LISTED_DESTINATIONS * child_complexity")]
    async fn instance_external_audit_event_destinations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<InstanceExternalAuditEventDestinationConnection> {
        let nodes =
            destinations(ctx, &Owner::Instance, |d| (d.category == Category::Http).then_some(InstanceLegacyHttp(d)))
                .await?;
        Ok(InstanceExternalAuditEventDestinationConnection::of(nodes))
    }

    #[graphql(complexity = "1 + LISTED_DESTINATIONS * child_complexity")]
    async fn instance_google_cloud_logging_configurations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<InstanceGoogleCloudLoggingConfigurationTypeConnection> {
        let nodes =
            destinations(ctx, &Owner::Instance, |d| (d.category == Category::Gcp).then_some(InstanceGcp(d))).await?;
        Ok(InstanceGoogleCloudLoggingConfigurationTypeConnection::of(nodes))
    }

    #[graphql(complexity = "1 + LISTED_DESTINATIONS * child_complexity")]
    async fn audit_events_instance_amazon_s3_configurations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<InstanceAmazonS3ConfigurationTypeConnection> {
        let nodes =
            destinations(ctx, &Owner::Instance, |d| (d.category == Category::Aws).then_some(InstanceS3(d))).await?;
        Ok(InstanceAmazonS3ConfigurationTypeConnection::of(nodes))
    }

    #[graphql(complexity = "1 + LISTED_DESTINATIONS * child_complexity")]
    async fn audit_events_instance_streaming_destinations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<InstanceAuditEventStreamingDestinationConnection> {
        let nodes = destinations(ctx, &Owner::Instance, |d| Some(InstanceStreaming(d))).await?;
        Ok(InstanceAuditEventStreamingDestinationConnection::of(nodes))
    }

    /// Every known audit event type (`first` limits the list).
    #[graphql(complexity = "1 + definitions_listed(first) * child_complexity")]
    async fn audit_event_definitions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> Result<AuditEventDefinitionConnection> {
        service(ctx).access().scoped::<need::Read>(caller(ctx)?).map_err(top_level)?;
        let all = auditrelay_core::event_catalogue::definitions();
        let take = first.map_or(all.len(), |n| n.max(0) as usize);
        Ok(AuditEventDefinitionConnection::of(all.iter().take(take).map(AuditEventDefinition).collect()))
    }

    /// The signed-in user (`null` when anonymous).
    async fn current_user(&self, ctx: &Context<'_>) -> Result<Option<CurrentUser>> {
        let Ok(caller) = caller(ctx) else { return Ok(None) };
        let s = service(ctx);
        let user =
            s.identity().current_user(&s.access().scoped(caller).map_err(top_level)?).await.map_err(top_level)?;
        Ok(Some(CurrentUser {
            id: super::gid::gid("User", user.id.get()),
            web_url: format!("{}/{}", super::context::web_base(ctx), user.username),
            username: user.username,
            name: user.name,
        }))
    }
}

/// GitLab's `UserCore`, with the fields its UI and clients select.
#[derive(async_graphql::SimpleObject)]
#[graphql(name = "UserCore")]
pub struct CurrentUser {
    pub id: ID,
    pub username: String,
    pub name: String,
    pub web_url: String,
}
