//! GraphQL object types of GitLab's audit event streaming schema, as views of one
//! [`Destination`] model.

use async_graphql::{Context, ID, Interface, Json, Object, Result, SimpleObject};
use auditrelay_core::destination::config::DestinationConfig;
use auditrelay_core::event_catalogue::Definition;
use auditrelay_store::destinations::HeaderRow;
use std::sync::Arc;

use super::context::{caller, service, top_level};
pub use super::delivery_health::{DestinationDeliveryHealth, delivery_health};
use super::gid::*;
pub use super::namespaces::{GroupRef, NamespaceRef};
use super::webhook_signing::{self, AuditrelayWebhookSigning};
use auditrelay_core::destination::{MAX_HEADERS, MAX_NAMESPACE_FILTERS};
use auditrelay_service::destinations::{Destination, NamespaceFilter, Owner};
#[derive(SimpleObject, Clone, Default)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// A connection holding the whole (small) list: GitLab caps destinations per owner.
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty) => {
        #[derive(SimpleObject, Clone)]
        pub struct $edge {
            pub node: $node,
            pub cursor: String,
        }

        #[derive(SimpleObject, Clone)]
        pub struct $conn {
            pub nodes: Vec<$node>,
            pub edges: Vec<$edge>,
            pub page_info: PageInfo,
            pub count: i32,
        }

        impl $conn {
            pub fn of(nodes: Vec<$node>) -> Self {
                let edges: Vec<$edge> =
                    nodes.iter().enumerate().map(|(i, n)| $edge { node: n.clone(), cursor: i.to_string() }).collect();
                let page_info = PageInfo {
                    start_cursor: edges.first().map(|e| e.cursor.clone()),
                    end_cursor: edges.last().map(|e| e.cursor.clone()),
                    ..PageInfo::default()
                };
                $conn { count: nodes.len() as i32, nodes, edges, page_info }
            }
        }
    };
}

connection!(ExternalAuditEventDestinationConnection, ExternalAuditEventDestinationEdge, LegacyHttp);
connection!(
    InstanceExternalAuditEventDestinationConnection,
    InstanceExternalAuditEventDestinationEdge,
    InstanceLegacyHttp
);
connection!(AuditEventStreamingHeaderConnection, AuditEventStreamingHeaderEdge, Header);
connection!(AuditEventsStreamingInstanceHeaderConnection, AuditEventsStreamingInstanceHeaderEdge, InstanceHeader);
connection!(GoogleCloudLoggingConfigurationTypeConnection, GoogleCloudLoggingConfigurationTypeEdge, Gcp);
connection!(
    InstanceGoogleCloudLoggingConfigurationTypeConnection,
    InstanceGoogleCloudLoggingConfigurationTypeEdge,
    InstanceGcp
);
connection!(AmazonS3ConfigurationTypeConnection, AmazonS3ConfigurationTypeEdge, S3);
connection!(InstanceAmazonS3ConfigurationTypeConnection, InstanceAmazonS3ConfigurationTypeEdge, InstanceS3);
connection!(GroupAuditEventStreamingDestinationConnection, GroupAuditEventStreamingDestinationEdge, GroupStreaming);
connection!(
    InstanceAuditEventStreamingDestinationConnection,
    InstanceAuditEventStreamingDestinationEdge,
    InstanceStreaming
);
connection!(AuditEventDefinitionConnection, AuditEventDefinitionEdge, AuditEventDefinition);

/// The destinations of `owner` in `category`, as GraphQL nodes.
pub async fn destinations<T>(
    ctx: &Context<'_>,
    owner: &Owner,
    pick: impl Fn(Arc<Destination>) -> Option<T>,
) -> Result<Vec<T>> {
    let s = service(ctx);
    let grant = s.access().owner_of(caller(ctx)?, owner).await.map_err(top_level)?;
    let all = s.destinations().destinations_of(&grant).await.map_err(top_level)?;
    Ok(all.into_iter().map(Arc::new).filter_map(pick).collect())
}

pub(super) fn of_category(
    d: Arc<Destination>,
    category: auditrelay_core::destination::Category,
) -> Option<Arc<Destination>> {
    (d.category == category).then_some(d)
}

fn owner_group(d: &Destination) -> Result<GroupRef> {
    match &d.owner {
        Owner::Group(g) => Ok(GroupRef(g.clone())),
        Owner::Instance => Err("an instance destination has no group".into()),
    }
}

macro_rules! header_type {
    ($ty:ident, $name:literal, $id:ident) => {
        #[derive(Clone)]
        pub struct $ty(pub HeaderRow);

        #[Object(name = $name)]
        impl $ty {
            async fn id(&self) -> ID {
                $id::id(self.0.id)
            }
            async fn key(&self) -> &str {
                &self.0.key
            }
            async fn value(&self) -> &str {
                &self.0.value
            }
            async fn active(&self) -> bool {
                self.0.active
            }
        }
    };
}

header_type!(Header, "AuditEventStreamingHeader", HeaderId);
header_type!(InstanceHeader, "AuditEventsStreamingInstanceHeader", InstanceHeaderId);

fn url(d: &Destination) -> &str {
    d.url().unwrap_or_default()
}

#[derive(Clone)]
pub struct LegacyHttp(pub Arc<Destination>);

#[Object(name = "ExternalAuditEventDestination")]
impl LegacyHttp {
    async fn id(&self) -> ID {
        ExternalDestinationId::id(self.0.id.get())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn destination_url(&self) -> &str {
        url(&self.0)
    }
    async fn verification_token(&self) -> &str {
        &self.0.secret
    }
    async fn delivery_health(&self, ctx: &Context<'_>) -> Result<DestinationDeliveryHealth> {
        delivery_health(ctx, &self.0).await
    }
    async fn auditrelay_stream(&self, ctx: &Context<'_>) -> Result<super::stream::AuditrelayStream> {
        super::stream::auditrelay_stream(ctx, &self.0).await
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn event_type_filters(&self) -> &[String] {
        &self.0.event_types
    }
    #[graphql(complexity = "1 + MAX_HEADERS * child_complexity")]
    async fn headers(&self) -> AuditEventStreamingHeaderConnection {
        AuditEventStreamingHeaderConnection::of(self.0.headers.iter().cloned().map(Header).collect())
    }
    async fn namespace_filter(&self) -> Option<HttpNamespaceFilter> {
        self.0.namespace_filters.first().map(|f| HttpNamespaceFilter { filter: f.clone(), destination: self.0.clone() })
    }
    /// auditrelay: Standard Webhooks signing (never the secret).
    async fn auditrelay_webhook_signing(&self) -> Option<AuditrelayWebhookSigning> {
        webhook_signing::of(&self.0)
    }
    async fn group(&self) -> Result<GroupRef> {
        owner_group(&self.0)
    }
}

#[derive(Clone)]
pub struct InstanceLegacyHttp(pub Arc<Destination>);

#[Object(name = "InstanceExternalAuditEventDestination")]
impl InstanceLegacyHttp {
    async fn id(&self) -> ID {
        InstanceExternalDestinationId::id(self.0.id.get())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn destination_url(&self) -> &str {
        url(&self.0)
    }
    async fn verification_token(&self) -> &str {
        &self.0.secret
    }
    async fn delivery_health(&self, ctx: &Context<'_>) -> Result<DestinationDeliveryHealth> {
        delivery_health(ctx, &self.0).await
    }
    async fn auditrelay_stream(&self, ctx: &Context<'_>) -> Result<super::stream::AuditrelayStream> {
        super::stream::auditrelay_stream(ctx, &self.0).await
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn event_type_filters(&self) -> &[String] {
        &self.0.event_types
    }
    #[graphql(complexity = "1 + MAX_HEADERS * child_complexity")]
    async fn headers(&self) -> AuditEventsStreamingInstanceHeaderConnection {
        AuditEventsStreamingInstanceHeaderConnection::of(self.0.headers.iter().cloned().map(InstanceHeader).collect())
    }
    /// auditrelay: Standard Webhooks signing (never the secret).
    async fn auditrelay_webhook_signing(&self) -> Option<AuditrelayWebhookSigning> {
        webhook_signing::of(&self.0)
    }
}

#[derive(Clone)]
pub struct HttpNamespaceFilter {
    pub filter: NamespaceFilter,
    pub destination: Arc<Destination>,
}

#[Object(name = "AuditEventStreamingHTTPNamespaceFilter")]
impl HttpNamespaceFilter {
    async fn id(&self) -> ID {
        HttpNamespaceFilterId::id(self.filter.row.id)
    }
    async fn namespace(&self) -> NamespaceRef {
        NamespaceRef(self.filter.target.clone())
    }
    async fn external_audit_event_destination(&self) -> LegacyHttp {
        LegacyHttp(self.destination.clone())
    }
}

fn gcp_field(d: &Destination, pick: fn(&str, &str, &str) -> String) -> String {
    match &d.config {
        DestinationConfig::Gcp { google_project_id_name, client_email, log_id_name } => {
            pick(google_project_id_name, client_email, log_id_name)
        }
        _ => String::new(),
    }
}

fn aws_field(d: &Destination, pick: fn(&str, &str, &str) -> String) -> String {
    match &d.config {
        DestinationConfig::Aws { access_key_xid, bucket_name, aws_region } => {
            pick(access_key_xid, bucket_name, aws_region)
        }
        _ => String::new(),
    }
}

macro_rules! gcp_type {
    ($ty:ident, $name:literal, $id:ident $(, $group:ident)?) => {
        #[derive(Clone)]
        pub struct $ty(pub Arc<Destination>);

        #[Object(name = $name)]
        impl $ty {
            async fn id(&self) -> ID {
                $id::id(self.0.id.get())
            }
            async fn name(&self) -> &str {
                &self.0.name
            }
            async fn active(&self) -> bool {
                self.0.active
            }
            async fn delivery_health(&self, ctx: &Context<'_>) -> Result<DestinationDeliveryHealth> {
                delivery_health(ctx, &self.0).await
            }
            async fn auditrelay_stream(&self, ctx: &Context<'_>) -> Result<super::stream::AuditrelayStream> {
                super::stream::auditrelay_stream(ctx, &self.0).await
            }
            async fn google_project_id_name(&self) -> String {
                gcp_field(&self.0, |p, _, _| p.to_owned())
            }
            async fn client_email(&self) -> String {
                gcp_field(&self.0, |_, e, _| e.to_owned())
            }
            async fn log_id_name(&self) -> String {
                gcp_field(&self.0, |_, _, l| l.to_owned())
            }
            $(async fn $group(&self) -> Result<GroupRef> {
                owner_group(&self.0)
            })?
        }
    };
}

gcp_type!(Gcp, "GoogleCloudLoggingConfigurationType", GcpConfigId, group);
gcp_type!(InstanceGcp, "InstanceGoogleCloudLoggingConfigurationType", InstanceGcpConfigId);

macro_rules! s3_type {
    ($ty:ident, $name:literal, $id:ident $(, $group:ident)?) => {
        #[derive(Clone)]
        pub struct $ty(pub Arc<Destination>);

        #[Object(name = $name)]
        impl $ty {
            async fn id(&self) -> ID {
                $id::id(self.0.id.get())
            }
            async fn name(&self) -> &str {
                &self.0.name
            }
            async fn active(&self) -> bool {
                self.0.active
            }
            async fn delivery_health(&self, ctx: &Context<'_>) -> Result<DestinationDeliveryHealth> {
                delivery_health(ctx, &self.0).await
            }
            async fn auditrelay_stream(&self, ctx: &Context<'_>) -> Result<super::stream::AuditrelayStream> {
                super::stream::auditrelay_stream(ctx, &self.0).await
            }
            async fn access_key_xid(&self) -> String {
                aws_field(&self.0, |k, _, _| k.to_owned())
            }
            async fn bucket_name(&self) -> String {
                aws_field(&self.0, |_, b, _| b.to_owned())
            }
            async fn aws_region(&self) -> String {
                aws_field(&self.0, |_, _, r| r.to_owned())
            }
            $(async fn $group(&self) -> Result<GroupRef> {
                owner_group(&self.0)
            })?
        }
    };
}

s3_type!(S3, "AmazonS3ConfigurationType", S3ConfigId, group);
s3_type!(InstanceS3, "InstanceAmazonS3ConfigurationType", InstanceS3ConfigId);

macro_rules! streaming_type {
    ($ty:ident, $name:literal, $id:ident, $filter:ident, $filter_name:literal, $filter_id:ident $(, $group:ident)?) => {
        #[derive(Clone)]
        pub struct $ty(pub Arc<Destination>);

        #[Object(name = $name)]
        impl $ty {
            async fn id(&self) -> ID {
                $id::id(self.0.id.get())
            }
            async fn name(&self) -> &str {
                &self.0.name
            }
            async fn category(&self) -> &str {
                self.0.category.as_str()
            }
            async fn config(&self) -> Json<serde_json::Value> {
                Json(self.0.config.to_json())
            }
            async fn event_type_filters(&self) -> &[String] {
                &self.0.event_types
            }
            async fn active(&self) -> bool {
                self.0.active
            }
            async fn delivery_health(&self, ctx: &Context<'_>) -> Result<DestinationDeliveryHealth> {
                delivery_health(ctx, &self.0).await
            }
            async fn auditrelay_stream(&self, ctx: &Context<'_>) -> Result<super::stream::AuditrelayStream> {
                super::stream::auditrelay_stream(ctx, &self.0).await
            }
            /// auditrelay extension: strict arrival order (no event is sent while an earlier one
            /// is being retried); off by default, as GitLab promises no order.
            async fn auditrelay_strict_order(&self) -> bool {
                self.0.strict_order
            }
            /// The HTTP verification token; `""` for GCP and AWS, whose keys are never shown.
            async fn secret_token(&self) -> &str {
                self.0.secret_token()
            }
            /// auditrelay: Standard Webhooks signing of an HTTP destination; `null` otherwise.
            async fn auditrelay_webhook_signing(&self) -> Option<AuditrelayWebhookSigning> {
                webhook_signing::of(&self.0)
            }
            #[graphql(complexity = "1 + MAX_NAMESPACE_FILTERS * child_complexity")]
            async fn namespace_filters(&self) -> Vec<$filter> {
                self.0.namespace_filters.iter().map(|f| $filter { filter: f.clone(), destination: self.0.clone() }).collect()
            }
            $(async fn $group(&self) -> Result<GroupRef> {
                owner_group(&self.0)
            })?
        }

        #[derive(Clone)]
        pub struct $filter {
            pub filter: NamespaceFilter,
            pub destination: Arc<Destination>,
        }

        #[Object(name = $filter_name)]
        impl $filter {
            async fn id(&self) -> ID {
                $filter_id::id(self.filter.row.id)
            }
            async fn namespace(&self) -> NamespaceRef {
                NamespaceRef(self.filter.target.clone())
            }
            async fn external_streaming_destination(&self) -> $ty {
                $ty(self.destination.clone())
            }
        }
    };
}

streaming_type!(
    GroupStreaming,
    "GroupAuditEventStreamingDestination",
    GroupStreamingDestinationId,
    GroupNamespaceFilter,
    "GroupAuditEventNamespaceFilter",
    GroupNamespaceFilterId,
    group
);
streaming_type!(
    InstanceStreaming,
    "InstanceAuditEventStreamingDestination",
    InstanceStreamingDestinationId,
    InstanceNamespaceFilter,
    "InstanceAuditEventNamespaceFilter",
    InstanceNamespaceFilterId
);

/// What both consolidated destination types have in common.
#[allow(clippy::duplicated_attributes)] // several fields share a type
#[derive(Interface)]
#[graphql(
    name = "AuditEventStreamingDestinationInterface",
    field(name = "id", ty = "ID"),
    field(name = "name", ty = "&str"),
    field(name = "category", ty = "&str"),
    field(name = "config", ty = "Json<serde_json::Value>"),
    field(name = "event_type_filters", ty = "&[String]"),
    field(name = "active", ty = "bool"),
    field(name = "secret_token", ty = "&str")
)]
pub enum StreamingDestinationInterface {
    Group(GroupStreaming),
    Instance(InstanceStreaming),
}

#[derive(Clone)]
pub struct AuditEventDefinition(pub &'static Definition);

#[Object]
impl AuditEventDefinition {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn feature_category(&self) -> &str {
        &self.0.feature_category
    }
    async fn milestone(&self) -> &str {
        &self.0.milestone
    }
    async fn introduced_by_issue(&self) -> Option<String> {
        None
    }
    async fn introduced_by_mr(&self) -> Option<String> {
        None
    }
    async fn saved_to_database(&self) -> bool {
        self.0.saved_to_database
    }
    async fn streamed(&self) -> bool {
        self.0.streamed
    }
}
