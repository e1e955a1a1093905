//! GraphQL's `Group` and `Namespace` types: GitLab's fields its docs and UI select (`fullName`,
//! `webUrl`), and a group's destinations of both API generations.

use async_graphql::{Context, ID, Object, Result};
use auditrelay_store::namespaces::Group;

use super::context::{service, top_level, web_base};
use super::gid::gid;
use super::limits::LISTED_DESTINATIONS;
use super::types::*;
use auditrelay_service::destinations::{FilterTarget, Owner};

#[derive(Clone)]
pub struct GroupRef(pub Group);

#[Object(name = "Group")]
impl GroupRef {
    async fn id(&self) -> ID {
        gid("Group", self.0.id.get())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn path(&self) -> &str {
        &self.0.path
    }
    async fn full_path(&self) -> &str {
        &self.0.full_path
    }
    /// The names (not paths) of the group's ancestors and itself, joined by ` / `.
    async fn full_name(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(service(ctx).directory().named_group(self.0.clone()).await.map_err(top_level)?.full_name)
    }
    async fn web_url(&self, ctx: &Context<'_>) -> String {
        format!("{}/groups/{}", web_base(ctx), self.0.full_path)
    }
    /// Legacy HTTP destinations.
    #[graphql(complexity = "1 + LISTED_DESTINATIONS * child_complexity")]
    async fn external_audit_event_destinations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<ExternalAuditEventDestinationConnection> {
        let owner = Owner::Group(self.0.clone());
        let nodes =
            destinations(ctx, &owner, |d| of_category(d, auditrelay_core::destination::Category::Http).map(LegacyHttp))
                .await?;
        Ok(ExternalAuditEventDestinationConnection::of(nodes))
    }
    #[graphql(complexity = "1 + LISTED_DESTINATIONS * child_complexity")]
    async fn google_cloud_logging_configurations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<GoogleCloudLoggingConfigurationTypeConnection> {
        let owner = Owner::Group(self.0.clone());
        let nodes =
            destinations(ctx, &owner, |d| of_category(d, auditrelay_core::destination::Category::Gcp).map(Gcp)).await?;
        Ok(GoogleCloudLoggingConfigurationTypeConnection::of(nodes))
    }
    #[graphql(complexity = "1 + LISTED_DESTINATIONS * child_complexity")]
    async fn amazon_s3_configurations(&self, ctx: &Context<'_>) -> Result<AmazonS3ConfigurationTypeConnection> {
        let owner = Owner::Group(self.0.clone());
        let nodes =
            destinations(ctx, &owner, |d| of_category(d, auditrelay_core::destination::Category::Aws).map(S3)).await?;
        Ok(AmazonS3ConfigurationTypeConnection::of(nodes))
    }
    /// Consolidated destinations of every category.
    #[graphql(complexity = "1 + LISTED_DESTINATIONS * child_complexity")]
    async fn external_audit_event_streaming_destinations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<GroupAuditEventStreamingDestinationConnection> {
        let owner = Owner::Group(self.0.clone());
        let nodes = destinations(ctx, &owner, |d| Some(GroupStreaming(d))).await?;
        Ok(GroupAuditEventStreamingDestinationConnection::of(nodes))
    }
}

#[derive(Clone)]
pub struct NamespaceRef(pub FilterTarget);

#[Object(name = "Namespace")]
impl NamespaceRef {
    async fn id(&self) -> ID {
        match &self.0 {
            FilterTarget::Group(g) => gid("Group", g.id.get()),
            FilterTarget::Project(p) => gid("Namespaces::ProjectNamespace", p.id.get()),
        }
    }
    async fn full_path(&self) -> &str {
        auditrelay_service::destinations::filter_path(&self.0)
    }
    /// GitLab's `fullName`: a group's full name; a project's name with its namespace's.
    async fn full_name(&self, ctx: &Context<'_>) -> Result<String> {
        let s = service(ctx);
        Ok(match &self.0 {
            FilterTarget::Group(g) => s.directory().named_group(g.clone()).await.map_err(top_level)?.full_name,
            FilterTarget::Project(p) => match s.directory().project_namespace(p).await.map_err(top_level)? {
                Some(namespace) => format!("{} / {}", namespace.full_name, p.name),
                None => p.name.clone(),
            },
        })
    }
    async fn name(&self) -> &str {
        match &self.0 {
            FilterTarget::Group(g) => &g.name,
            FilterTarget::Project(p) => &p.name,
        }
    }
}
