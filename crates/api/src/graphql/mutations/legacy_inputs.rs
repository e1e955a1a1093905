//! The inputs of the legacy HTTP destination, header, event-type filter and HTTP namespace
//! filter mutations (`legacy.rs`), as GitLab names them.

use async_graphql::{ID, InputObject};

use crate::graphql::gid::*;

#[derive(InputObject)]
pub struct ExternalAuditEventDestinationCreateInput {
    pub client_mutation_id: Option<String>,
    pub destination_url: String,
    pub group_path: ID,
    pub name: Option<String>,
    pub verification_token: Option<String>,
}

#[derive(InputObject)]
pub struct ExternalAuditEventDestinationUpdateInput {
    pub client_mutation_id: Option<String>,
    pub id: ExternalDestinationId,
    pub destination_url: Option<String>,
    pub name: Option<String>,
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct ExternalAuditEventDestinationDestroyInput {
    pub client_mutation_id: Option<String>,
    pub id: ExternalDestinationId,
}

#[derive(InputObject)]
pub struct InstanceExternalAuditEventDestinationCreateInput {
    pub client_mutation_id: Option<String>,
    pub destination_url: String,
    pub name: Option<String>,
}

#[derive(InputObject)]
pub struct InstanceExternalAuditEventDestinationUpdateInput {
    pub client_mutation_id: Option<String>,
    pub id: InstanceExternalDestinationId,
    pub destination_url: Option<String>,
    pub name: Option<String>,
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct InstanceExternalAuditEventDestinationDestroyInput {
    pub client_mutation_id: Option<String>,
    pub id: InstanceExternalDestinationId,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingHeadersCreateInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: ExternalDestinationId,
    pub key: String,
    pub value: String,
    /// Whether the header is sent (default true).
    #[graphql(default_with = "Some(true)")]
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingHeadersUpdateInput {
    pub client_mutation_id: Option<String>,
    pub header_id: HeaderId,
    pub key: Option<String>,
    pub value: Option<String>,
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingHeadersDestroyInput {
    pub client_mutation_id: Option<String>,
    pub header_id: HeaderId,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingInstanceHeadersCreateInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: InstanceExternalDestinationId,
    pub key: String,
    pub value: String,
    /// Whether the header is sent (default true).
    #[graphql(default_with = "Some(true)")]
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingInstanceHeadersUpdateInput {
    pub client_mutation_id: Option<String>,
    pub header_id: InstanceHeaderId,
    pub key: Option<String>,
    pub value: Option<String>,
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingInstanceHeadersDestroyInput {
    pub client_mutation_id: Option<String>,
    pub header_id: InstanceHeaderId,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingDestinationEventsAddInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: ExternalDestinationId,
    pub event_type_filters: Vec<String>,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingDestinationEventsRemoveInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: ExternalDestinationId,
    pub event_type_filters: Vec<String>,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingDestinationInstanceEventsAddInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: InstanceExternalDestinationId,
    pub event_type_filters: Vec<String>,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingDestinationInstanceEventsRemoveInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: InstanceExternalDestinationId,
    pub event_type_filters: Vec<String>,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingHTTPNamespaceFiltersAddInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: ExternalDestinationId,
    pub group_path: Option<ID>,
    pub project_path: Option<ID>,
}

#[derive(InputObject)]
pub struct AuditEventsStreamingHTTPNamespaceFiltersDeleteInput {
    pub client_mutation_id: Option<String>,
    pub namespace_filter_id: HttpNamespaceFilterId,
}
