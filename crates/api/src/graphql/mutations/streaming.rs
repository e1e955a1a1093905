//! The consolidated streaming destination API (GitLab 16.11+, what GitLab's UI uses):
//! `category` + JSON `config` + `secretToken`, event-type and namespace filters.

use async_graphql::{Context, ID, InputObject, Json, Object, Result};
use auditrelay_core::DestinationId;
use auditrelay_core::destination::Category;
use auditrelay_core::destination::config::parse_config;
use std::sync::Arc;

use super::payload::payload;
use crate::error::{ServiceError, ServiceResult};
use crate::graphql::context::{caller, outcome, service, top_level};
use crate::graphql::gid::*;
use crate::graphql::types::*;
use auditrelay_service::access::need;
use auditrelay_service::destinations::{Api, CreateDestination, Destination, DestinationUpdate, NamespaceFilter};

#[derive(Default)]
pub struct StreamingMutation;

#[derive(InputObject)]
pub struct GroupAuditEventStreamingDestinationsCreateInput {
    pub client_mutation_id: Option<String>,
    pub group_path: ID,
    pub category: String,
    pub config: Json<serde_json::Value>,
    pub name: Option<String>,
    pub secret_token: Option<String>,
    /// auditrelay extension: strict arrival order (no event is sent while an earlier one is
    /// being retried). Off by default: GitLab promises no order, and a failed request is then
    /// retried while the rest keep flowing.
    pub auditrelay_strict_order: Option<bool>,
}

#[derive(InputObject)]
pub struct InstanceAuditEventStreamingDestinationsCreateInput {
    pub client_mutation_id: Option<String>,
    pub category: String,
    pub config: Json<serde_json::Value>,
    pub name: Option<String>,
    pub secret_token: Option<String>,
    /// auditrelay extension: strict arrival order (no event is sent while an earlier one is
    /// being retried). Off by default: GitLab promises no order, and a failed request is then
    /// retried while the rest keep flowing.
    pub auditrelay_strict_order: Option<bool>,
}

#[derive(InputObject)]
pub struct GroupAuditEventStreamingDestinationsUpdateInput {
    pub client_mutation_id: Option<String>,
    pub id: GroupStreamingDestinationId,
    pub config: Option<Json<serde_json::Value>>,
    pub name: Option<String>,
    pub category: Option<String>,
    pub secret_token: Option<String>,
    pub active: Option<bool>,
    /// auditrelay extension: strict arrival order (no event is sent while an earlier one is
    /// being retried). Off by default: GitLab promises no order, and a failed request is then
    /// retried while the rest keep flowing.
    pub auditrelay_strict_order: Option<bool>,
}

#[derive(InputObject)]
pub struct InstanceAuditEventStreamingDestinationsUpdateInput {
    pub client_mutation_id: Option<String>,
    pub id: InstanceStreamingDestinationId,
    pub config: Option<Json<serde_json::Value>>,
    pub name: Option<String>,
    pub category: Option<String>,
    pub secret_token: Option<String>,
    pub active: Option<bool>,
    /// auditrelay extension: strict arrival order (no event is sent while an earlier one is
    /// being retried). Off by default: GitLab promises no order, and a failed request is then
    /// retried while the rest keep flowing.
    pub auditrelay_strict_order: Option<bool>,
}

#[derive(InputObject)]
pub struct GroupAuditEventStreamingDestinationsDeleteInput {
    pub client_mutation_id: Option<String>,
    pub id: GroupStreamingDestinationId,
}

#[derive(InputObject)]
pub struct InstanceAuditEventStreamingDestinationsDeleteInput {
    pub client_mutation_id: Option<String>,
    pub id: InstanceStreamingDestinationId,
}

#[derive(InputObject)]
pub struct AuditEventsGroupDestinationEventsAddInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: GroupStreamingDestinationId,
    pub event_type_filters: Vec<String>,
}

#[derive(InputObject)]
pub struct AuditEventsGroupDestinationEventsDeleteInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: GroupStreamingDestinationId,
    pub event_type_filters: Vec<String>,
}

#[derive(InputObject)]
pub struct AuditEventsInstanceDestinationEventsAddInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: InstanceStreamingDestinationId,
    pub event_type_filters: Vec<String>,
}

#[derive(InputObject)]
pub struct AuditEventsInstanceDestinationEventsDeleteInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: InstanceStreamingDestinationId,
    pub event_type_filters: Vec<String>,
}

#[derive(InputObject)]
pub struct AuditEventsGroupDestinationNamespaceFilterCreateInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: GroupStreamingDestinationId,
    pub namespace_path: Option<String>,
}

#[derive(InputObject)]
pub struct AuditEventsGroupDestinationNamespaceFilterDeleteInput {
    pub client_mutation_id: Option<String>,
    pub namespace_filter_id: GroupNamespaceFilterId,
}

#[derive(InputObject)]
pub struct AuditEventsInstanceDestinationNamespaceFilterCreateInput {
    pub client_mutation_id: Option<String>,
    pub destination_id: InstanceStreamingDestinationId,
    pub namespace_path: Option<String>,
}

#[derive(InputObject)]
pub struct AuditEventsInstanceDestinationNamespaceFilterDeleteInput {
    pub client_mutation_id: Option<String>,
    pub namespace_filter_id: InstanceNamespaceFilterId,
}

payload!(GroupAuditEventStreamingDestinationsCreatePayload, external_audit_event_destination: Option<GroupStreaming>);
payload!(GroupAuditEventStreamingDestinationsUpdatePayload, external_audit_event_destination: Option<GroupStreaming>);
payload!(GroupAuditEventStreamingDestinationsDeletePayload);
payload!(InstanceAuditEventStreamingDestinationsCreatePayload, external_audit_event_destination: Option<InstanceStreaming>);
payload!(InstanceAuditEventStreamingDestinationsUpdatePayload, external_audit_event_destination: Option<InstanceStreaming>);
payload!(InstanceAuditEventStreamingDestinationsDeletePayload);
payload!(AuditEventsGroupDestinationEventsAddPayload, event_type_filters: Option<Vec<String>>);
payload!(AuditEventsGroupDestinationEventsDeletePayload);
payload!(AuditEventsInstanceDestinationEventsAddPayload, event_type_filters: Option<Vec<String>>);
payload!(AuditEventsInstanceDestinationEventsDeletePayload);
payload!(AuditEventsGroupDestinationNamespaceFilterCreatePayload, namespace_filter: Option<GroupNamespaceFilter>);
payload!(AuditEventsGroupDestinationNamespaceFilterDeletePayload);
payload!(AuditEventsInstanceDestinationNamespaceFilterCreatePayload, namespace_filter: Option<InstanceNamespaceFilter>);
payload!(AuditEventsInstanceDestinationNamespaceFilterDeletePayload);

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::Validation(vec![message.into()])
}

fn category(text: &str) -> ServiceResult<Category> {
    Category::parse(text)
        .ok_or_else(|| invalid(format!("Category '{text}' is not a valid category: use http, gcp or aws")))
}

/// `config` as GitLab's clients send it: a JSON object, or that object as a JSON string (the
/// `JSON` scalar in a variable typed `String`, as some clients and the docs' examples do).
fn config_object(config: &serde_json::Value) -> std::borrow::Cow<'_, serde_json::Value> {
    match config {
        serde_json::Value::String(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(parsed @ serde_json::Value::Object(_)) => std::borrow::Cow::Owned(parsed),
            _ => std::borrow::Cow::Borrowed(config),
        },
        other => std::borrow::Cow::Borrowed(other),
    }
}

async fn create(
    ctx: &Context<'_>,
    group_path: Option<&str>,
    category_text: &str,
    config: &serde_json::Value,
    name: Option<String>,
    secret: Option<String>,
    strict_order: Option<bool>,
) -> Result<(Option<Destination>, Vec<String>)> {
    let (s, c) = (service(ctx), caller(ctx)?);
    let owner = s.access().owner::<need::Read>(c, group_path).await.map_err(top_level)?;
    let attempt = async {
        let category = category(category_text)?;
        // GitLab checks this before building the model.
        if category != Category::Http && secret.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(invalid("Secret token is required for category"));
        }
        let config = parse_config(category, &config_object(config)).map_err(invalid)?;
        s.destinations()
            .create_destination(
                &owner.needing()?,
                Api::Consolidated,
                CreateDestination { config, name, secret, strict_order: strict_order.unwrap_or(false) },
            )
            .await
    };
    outcome(attempt.await)
}

struct Changes {
    config: Option<serde_json::Value>,
    name: Option<String>,
    category: Option<String>,
    secret: Option<String>,
    active: Option<bool>,
    strict_order: Option<bool>,
}

async fn update(
    ctx: &Context<'_>,
    id: i64,
    instance: bool,
    changes: Changes,
) -> Result<(Option<Destination>, Vec<String>)> {
    let (s, c) = (service(ctx), caller(ctx)?);
    let grant = s.access().destination::<need::Read>(c, DestinationId(id), instance).await.map_err(top_level)?;
    let d = grant.destination();
    let attempt = async {
        let category = match &changes.category {
            Some(text) => category(text)?,
            None => d.category,
        };
        let config = match (changes.config, category != d.category) {
            (Some(config), _) => Some(parse_config(category, &config_object(&config)).map_err(invalid)?),
            (None, true) => return Err(invalid("Config must be a valid json schema")),
            (None, false) => None,
        };
        let update = DestinationUpdate {
            config,
            name: changes.name,
            secret: changes.secret,
            active: changes.active,
            strict_order: changes.strict_order,
        };
        s.destinations().update_destination(&grant.needing()?, Api::Consolidated, update).await
    };
    outcome(attempt.await)
}

async fn delete(ctx: &Context<'_>, id: i64, instance: bool) -> Result<Vec<String>> {
    let (s, c) = (service(ctx), caller(ctx)?);
    let d = s.access().destination(c, DestinationId(id), instance).await.map_err(top_level)?;
    Ok(outcome(s.destinations().delete_destination(&d, Api::Consolidated).await)?.1)
}

async fn add_events(
    ctx: &Context<'_>,
    id: i64,
    instance: bool,
    types: &[String],
) -> Result<(Option<Vec<String>>, Vec<String>)> {
    let (s, c) = (service(ctx), caller(ctx)?);
    let d = s.access().destination(c, DestinationId(id), instance).await.map_err(top_level)?;
    outcome(s.destinations().add_event_type_filters(&d, types).await)
}

async fn delete_events(ctx: &Context<'_>, id: i64, instance: bool, types: &[String]) -> Result<Vec<String>> {
    let (s, c) = (service(ctx), caller(ctx)?);
    let d = s.access().destination(c, DestinationId(id), instance).await.map_err(top_level)?;
    Ok(outcome(s.destinations().remove_event_type_filters(&d, types).await)?.1)
}

async fn create_filter(
    ctx: &Context<'_>,
    id: i64,
    instance: bool,
    path: Option<String>,
) -> Result<(Option<(NamespaceFilter, Arc<Destination>)>, Vec<String>)> {
    let (s, c) = (service(ctx), caller(ctx)?);
    let d = s.access().destination(c, DestinationId(id), instance).await.map_err(top_level)?;
    let path = path.unwrap_or_default();
    let (filter, errors) = outcome(s.destinations().add_namespace_filter(&d, &path).await)?;
    let destination = Arc::new(d.into_destination());
    Ok((filter.map(|f| (f, destination)), errors))
}

async fn delete_filter(ctx: &Context<'_>, id: i64, instance: bool) -> Result<Vec<String>> {
    let (s, c) = (service(ctx), caller(ctx)?);
    let (d, filter) = s.access().namespace_filter(c, id, instance, false).await.map_err(top_level)?;
    Ok(outcome(s.destinations().delete_namespace_filter(&d, &filter, Api::Consolidated).await)?.1)
}

#[Object]
impl StreamingMutation {
    async fn group_audit_event_streaming_destinations_create(
        &self,
        ctx: &Context<'_>,
        input: GroupAuditEventStreamingDestinationsCreateInput,
    ) -> Result<GroupAuditEventStreamingDestinationsCreatePayload> {
        let (d, errors) = create(
            ctx,
            Some(&input.group_path),
            &input.category,
            &input.config,
            input.name,
            input.secret_token,
            input.auditrelay_strict_order,
        )
        .await?;
        Ok(GroupAuditEventStreamingDestinationsCreatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            external_audit_event_destination: d.map(|d| GroupStreaming(Arc::new(d))),
        })
    }

    async fn group_audit_event_streaming_destinations_update(
        &self,
        ctx: &Context<'_>,
        input: GroupAuditEventStreamingDestinationsUpdateInput,
    ) -> Result<GroupAuditEventStreamingDestinationsUpdatePayload> {
        let changes = Changes {
            config: input.config.map(|c| c.0),
            name: input.name,
            category: input.category,
            secret: input.secret_token,
            active: input.active,
            strict_order: input.auditrelay_strict_order,
        };
        let (d, errors) = update(ctx, input.id.0, false, changes).await?;
        Ok(GroupAuditEventStreamingDestinationsUpdatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            external_audit_event_destination: d.map(|d| GroupStreaming(Arc::new(d))),
        })
    }

    async fn group_audit_event_streaming_destinations_delete(
        &self,
        ctx: &Context<'_>,
        input: GroupAuditEventStreamingDestinationsDeleteInput,
    ) -> Result<GroupAuditEventStreamingDestinationsDeletePayload> {
        let errors = delete(ctx, input.id.0, false).await?;
        Ok(GroupAuditEventStreamingDestinationsDeletePayload { client_mutation_id: input.client_mutation_id, errors })
    }

    async fn instance_audit_event_streaming_destinations_create(
        &self,
        ctx: &Context<'_>,
        input: InstanceAuditEventStreamingDestinationsCreateInput,
    ) -> Result<InstanceAuditEventStreamingDestinationsCreatePayload> {
        let (d, errors) = create(
            ctx,
            None,
            &input.category,
            &input.config,
            input.name,
            input.secret_token,
            input.auditrelay_strict_order,
        )
        .await?;
        Ok(InstanceAuditEventStreamingDestinationsCreatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            external_audit_event_destination: d.map(|d| InstanceStreaming(Arc::new(d))),
        })
    }

    async fn instance_audit_event_streaming_destinations_update(
        &self,
        ctx: &Context<'_>,
        input: InstanceAuditEventStreamingDestinationsUpdateInput,
    ) -> Result<InstanceAuditEventStreamingDestinationsUpdatePayload> {
        let changes = Changes {
            config: input.config.map(|c| c.0),
            name: input.name,
            category: input.category,
            secret: input.secret_token,
            active: input.active,
            strict_order: input.auditrelay_strict_order,
        };
        let (d, errors) = update(ctx, input.id.0, true, changes).await?;
        Ok(InstanceAuditEventStreamingDestinationsUpdatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            external_audit_event_destination: d.map(|d| InstanceStreaming(Arc::new(d))),
        })
    }

    async fn instance_audit_event_streaming_destinations_delete(
        &self,
        ctx: &Context<'_>,
        input: InstanceAuditEventStreamingDestinationsDeleteInput,
    ) -> Result<InstanceAuditEventStreamingDestinationsDeletePayload> {
        let errors = delete(ctx, input.id.0, true).await?;
        Ok(InstanceAuditEventStreamingDestinationsDeletePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
        })
    }

    async fn audit_events_group_destination_events_add(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsGroupDestinationEventsAddInput,
    ) -> Result<AuditEventsGroupDestinationEventsAddPayload> {
        let (types, errors) = add_events(ctx, input.destination_id.0, false, &input.event_type_filters).await?;
        Ok(AuditEventsGroupDestinationEventsAddPayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            event_type_filters: types,
        })
    }

    async fn audit_events_group_destination_events_delete(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsGroupDestinationEventsDeleteInput,
    ) -> Result<AuditEventsGroupDestinationEventsDeletePayload> {
        let errors = delete_events(ctx, input.destination_id.0, false, &input.event_type_filters).await?;
        Ok(AuditEventsGroupDestinationEventsDeletePayload { client_mutation_id: input.client_mutation_id, errors })
    }

    async fn audit_events_instance_destination_events_add(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsInstanceDestinationEventsAddInput,
    ) -> Result<AuditEventsInstanceDestinationEventsAddPayload> {
        let (types, errors) = add_events(ctx, input.destination_id.0, true, &input.event_type_filters).await?;
        Ok(AuditEventsInstanceDestinationEventsAddPayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            event_type_filters: types,
        })
    }

    async fn audit_events_instance_destination_events_delete(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsInstanceDestinationEventsDeleteInput,
    ) -> Result<AuditEventsInstanceDestinationEventsDeletePayload> {
        let errors = delete_events(ctx, input.destination_id.0, true, &input.event_type_filters).await?;
        Ok(AuditEventsInstanceDestinationEventsDeletePayload { client_mutation_id: input.client_mutation_id, errors })
    }

    async fn audit_events_group_destination_namespace_filter_create(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsGroupDestinationNamespaceFilterCreateInput,
    ) -> Result<AuditEventsGroupDestinationNamespaceFilterCreatePayload> {
        let (created, errors) = create_filter(ctx, input.destination_id.0, false, input.namespace_path).await?;
        let namespace_filter = created.map(|(filter, destination)| GroupNamespaceFilter { filter, destination });
        Ok(AuditEventsGroupDestinationNamespaceFilterCreatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            namespace_filter,
        })
    }

    async fn audit_events_group_destination_namespace_filter_delete(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsGroupDestinationNamespaceFilterDeleteInput,
    ) -> Result<AuditEventsGroupDestinationNamespaceFilterDeletePayload> {
        let errors = delete_filter(ctx, input.namespace_filter_id.0, false).await?;
        Ok(AuditEventsGroupDestinationNamespaceFilterDeletePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
        })
    }

    async fn audit_events_instance_destination_namespace_filter_create(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsInstanceDestinationNamespaceFilterCreateInput,
    ) -> Result<AuditEventsInstanceDestinationNamespaceFilterCreatePayload> {
        let (created, errors) = create_filter(ctx, input.destination_id.0, true, input.namespace_path).await?;
        let namespace_filter = created.map(|(filter, destination)| InstanceNamespaceFilter { filter, destination });
        Ok(AuditEventsInstanceDestinationNamespaceFilterCreatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            namespace_filter,
        })
    }

    async fn audit_events_instance_destination_namespace_filter_delete(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsInstanceDestinationNamespaceFilterDeleteInput,
    ) -> Result<AuditEventsInstanceDestinationNamespaceFilterDeletePayload> {
        let errors = delete_filter(ctx, input.namespace_filter_id.0, true).await?;
        Ok(AuditEventsInstanceDestinationNamespaceFilterDeletePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
        })
    }
}
