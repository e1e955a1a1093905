//! Legacy HTTP destinations (group and instance), their custom headers, event-type filters
//! and the HTTP namespace filter.

use async_graphql::{Context, Error, Object, Result};
use auditrelay_core::DestinationId;
use auditrelay_core::destination::Category;
use auditrelay_core::destination::config::DestinationConfig;
use std::sync::Arc;

use super::guards::{managed, require_admin};
use super::legacy_inputs::*;
use super::payload::payload;
use crate::error::ServiceError;
use crate::graphql::context::{caller, outcome, service, top_level};
use crate::graphql::types::*;
use auditrelay_service::destinations::{Api, CreateDestination, DestinationUpdate};

#[derive(Default)]
pub struct LegacyMutation;

payload!(ExternalAuditEventDestinationCreatePayload, external_audit_event_destination: Option<LegacyHttp>);
payload!(ExternalAuditEventDestinationUpdatePayload, external_audit_event_destination: Option<LegacyHttp>);
payload!(ExternalAuditEventDestinationDestroyPayload);
payload!(InstanceExternalAuditEventDestinationCreatePayload, instance_external_audit_event_destination: Option<InstanceLegacyHttp>);
payload!(InstanceExternalAuditEventDestinationUpdatePayload, instance_external_audit_event_destination: Option<InstanceLegacyHttp>);
payload!(InstanceExternalAuditEventDestinationDestroyPayload);
payload!(AuditEventsStreamingHeadersCreatePayload, header: Option<Header>);
payload!(AuditEventsStreamingHeadersUpdatePayload, header: Option<Header>);
payload!(AuditEventsStreamingHeadersDestroyPayload);
payload!(AuditEventsStreamingInstanceHeadersCreatePayload, header: Option<InstanceHeader>);
payload!(AuditEventsStreamingInstanceHeadersUpdatePayload, header: Option<InstanceHeader>);
payload!(AuditEventsStreamingInstanceHeadersDestroyPayload);
payload!(AuditEventsStreamingDestinationEventsAddPayload, event_type_filters: Option<Vec<String>>);
payload!(AuditEventsStreamingDestinationEventsRemovePayload);
payload!(AuditEventsStreamingDestinationInstanceEventsAddPayload, event_type_filters: Option<Vec<String>>);
payload!(AuditEventsStreamingDestinationInstanceEventsRemovePayload);
payload!(AuditEventsStreamingHTTPNamespaceFiltersAddPayload, namespace_filter: Option<HttpNamespaceFilter>);
payload!(AuditEventsStreamingHTTPNamespaceFiltersDeletePayload);

fn http(url: String) -> DestinationConfig {
    DestinationConfig::Http { url, headers: Vec::new() }
}

/// The legacy update: a new URL keeps the destination's headers.
fn with_url(config: &DestinationConfig, url: Option<String>) -> Option<DestinationConfig> {
    match (config, url) {
        (DestinationConfig::Http { headers, .. }, Some(url)) => {
            Some(DestinationConfig::Http { url, headers: headers.clone() })
        }
        _ => None,
    }
}

/// Instance header mutations answer an unknown destination with GitLab's own words.
fn valid_destination(error: Error) -> Error {
    if error.message == crate::error::RESOURCE_ACCESS_ERROR {
        Error::new("Please provide valid destination id.")
    } else {
        error
    }
}

#[Object]
impl LegacyMutation {
    /// Legacy HTTP destination of a top-level group. Validation failures are raised.
    async fn external_audit_event_destination_create(
        &self,
        ctx: &Context<'_>,
        input: ExternalAuditEventDestinationCreateInput,
    ) -> Result<ExternalAuditEventDestinationCreatePayload> {
        let (s, c) = (service(ctx), caller(ctx)?);
        let owner = s.access().owner(c, Some(&input.group_path)).await.map_err(top_level)?;
        let create = CreateDestination {
            config: http(input.destination_url),
            name: input.name,
            secret: input.verification_token,
            strict_order: false,
        };
        match s.destinations().create_destination(&owner, Api::Legacy, create).await {
            Ok(d) => Ok(ExternalAuditEventDestinationCreatePayload {
                client_mutation_id: input.client_mutation_id,
                errors: vec![],
                external_audit_event_destination: Some(LegacyHttp(Arc::new(d))),
            }),
            Err(ServiceError::Validation(messages)) => {
                Err(Error::new(format!("Validation failed: {}", messages.join(", "))))
            }
            Err(other) => Err(top_level(other)),
        }
    }

    async fn external_audit_event_destination_update(
        &self,
        ctx: &Context<'_>,
        input: ExternalAuditEventDestinationUpdateInput,
    ) -> Result<ExternalAuditEventDestinationUpdatePayload> {
        let d = managed(ctx, DestinationId(input.id.0), false, Category::Http).await?;
        let update = DestinationUpdate {
            config: with_url(&d.destination().config, input.destination_url),
            name: input.name,
            active: input.active,
            secret: None,
            strict_order: None,
        };
        let (updated, errors) = outcome(service(ctx).destinations().update_destination(&d, Api::Legacy, update).await)?;
        Ok(ExternalAuditEventDestinationUpdatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            external_audit_event_destination: updated.map(|d| LegacyHttp(Arc::new(d))),
        })
    }

    async fn external_audit_event_destination_destroy(
        &self,
        ctx: &Context<'_>,
        input: ExternalAuditEventDestinationDestroyInput,
    ) -> Result<ExternalAuditEventDestinationDestroyPayload> {
        let d = managed(ctx, DestinationId(input.id.0), false, Category::Http).await?;
        let (_, errors) = outcome(service(ctx).destinations().delete_destination(&d, Api::Legacy).await)?;
        Ok(ExternalAuditEventDestinationDestroyPayload { client_mutation_id: input.client_mutation_id, errors })
    }

    async fn instance_external_audit_event_destination_create(
        &self,
        ctx: &Context<'_>,
        input: InstanceExternalAuditEventDestinationCreateInput,
    ) -> Result<InstanceExternalAuditEventDestinationCreatePayload> {
        require_admin(ctx)?;
        let create = CreateDestination {
            config: http(input.destination_url),
            name: input.name,
            secret: None,
            strict_order: false,
        };
        let (created, errors) = outcome(create_instance_destination(ctx, create).await)?;
        Ok(InstanceExternalAuditEventDestinationCreatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            instance_external_audit_event_destination: created.map(|d| InstanceLegacyHttp(Arc::new(d))),
        })
    }

    async fn instance_external_audit_event_destination_update(
        &self,
        ctx: &Context<'_>,
        input: InstanceExternalAuditEventDestinationUpdateInput,
    ) -> Result<InstanceExternalAuditEventDestinationUpdatePayload> {
        require_admin(ctx)?;
        let d = managed(ctx, DestinationId(input.id.0), true, Category::Http).await?;
        let update = DestinationUpdate {
            config: with_url(&d.destination().config, input.destination_url),
            name: input.name,
            active: input.active,
            secret: None,
            strict_order: None,
        };
        let (updated, errors) = outcome(service(ctx).destinations().update_destination(&d, Api::Legacy, update).await)?;
        Ok(InstanceExternalAuditEventDestinationUpdatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            instance_external_audit_event_destination: updated.map(|d| InstanceLegacyHttp(Arc::new(d))),
        })
    }

    async fn instance_external_audit_event_destination_destroy(
        &self,
        ctx: &Context<'_>,
        input: InstanceExternalAuditEventDestinationDestroyInput,
    ) -> Result<InstanceExternalAuditEventDestinationDestroyPayload> {
        require_admin(ctx)?;
        let d = managed(ctx, DestinationId(input.id.0), true, Category::Http).await?;
        let (_, errors) = outcome(service(ctx).destinations().delete_destination(&d, Api::Legacy).await)?;
        Ok(InstanceExternalAuditEventDestinationDestroyPayload { client_mutation_id: input.client_mutation_id, errors })
    }

    async fn audit_events_streaming_headers_create(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingHeadersCreateInput,
    ) -> Result<AuditEventsStreamingHeadersCreatePayload> {
        let d = managed(ctx, DestinationId(input.destination_id.0), false, Category::Http).await?;
        let (header, errors) = outcome(
            service(ctx).destinations().create_header(&d, &input.key, &input.value, input.active.unwrap_or(true)).await,
        )?;
        Ok(AuditEventsStreamingHeadersCreatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            header: header.map(Header),
        })
    }

    async fn audit_events_streaming_headers_update(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingHeadersUpdateInput,
    ) -> Result<AuditEventsStreamingHeadersUpdatePayload> {
        let (s, c) = (service(ctx), caller(ctx)?);
        let (d, header) = s.access().header(c, input.header_id.0, false).await.map_err(top_level)?;
        let (header, errors) =
            outcome(s.destinations().update_header(&d, &header, input.key, input.value, input.active).await)?;
        Ok(AuditEventsStreamingHeadersUpdatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            header: header.map(Header),
        })
    }

    async fn audit_events_streaming_headers_destroy(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingHeadersDestroyInput,
    ) -> Result<AuditEventsStreamingHeadersDestroyPayload> {
        let (s, c) = (service(ctx), caller(ctx)?);
        let (d, header) = s.access().header(c, input.header_id.0, false).await.map_err(top_level)?;
        let (_, errors) = outcome(s.destinations().delete_header(&d, &header).await)?;
        Ok(AuditEventsStreamingHeadersDestroyPayload { client_mutation_id: input.client_mutation_id, errors })
    }

    async fn audit_events_streaming_instance_headers_create(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingInstanceHeadersCreateInput,
    ) -> Result<AuditEventsStreamingInstanceHeadersCreatePayload> {
        require_admin(ctx)?;
        let d = managed(ctx, DestinationId(input.destination_id.0), true, Category::Http)
            .await
            .map_err(valid_destination)?;
        let (header, errors) = outcome(
            service(ctx).destinations().create_header(&d, &input.key, &input.value, input.active.unwrap_or(true)).await,
        )?;
        Ok(AuditEventsStreamingInstanceHeadersCreatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            header: header.map(InstanceHeader),
        })
    }

    async fn audit_events_streaming_instance_headers_update(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingInstanceHeadersUpdateInput,
    ) -> Result<AuditEventsStreamingInstanceHeadersUpdatePayload> {
        require_admin(ctx)?;
        let (s, c) = (service(ctx), caller(ctx)?);
        let (d, header) = s.access().header(c, input.header_id.0, true).await.map_err(top_level)?;
        let (header, errors) =
            outcome(s.destinations().update_header(&d, &header, input.key, input.value, input.active).await)?;
        Ok(AuditEventsStreamingInstanceHeadersUpdatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            header: header.map(InstanceHeader),
        })
    }

    async fn audit_events_streaming_instance_headers_destroy(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingInstanceHeadersDestroyInput,
    ) -> Result<AuditEventsStreamingInstanceHeadersDestroyPayload> {
        require_admin(ctx)?;
        let (s, c) = (service(ctx), caller(ctx)?);
        let (d, header) = s.access().header(c, input.header_id.0, true).await.map_err(top_level)?;
        let (_, errors) = outcome(s.destinations().delete_header(&d, &header).await)?;
        Ok(AuditEventsStreamingInstanceHeadersDestroyPayload { client_mutation_id: input.client_mutation_id, errors })
    }

    async fn audit_events_streaming_destination_events_add(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingDestinationEventsAddInput,
    ) -> Result<AuditEventsStreamingDestinationEventsAddPayload> {
        let d = managed(ctx, DestinationId(input.destination_id.0), false, Category::Http).await?;
        let (types, errors) =
            outcome(service(ctx).destinations().add_event_type_filters(&d, &input.event_type_filters).await)?;
        Ok(AuditEventsStreamingDestinationEventsAddPayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            event_type_filters: types,
        })
    }

    async fn audit_events_streaming_destination_events_remove(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingDestinationEventsRemoveInput,
    ) -> Result<AuditEventsStreamingDestinationEventsRemovePayload> {
        let d = managed(ctx, DestinationId(input.destination_id.0), false, Category::Http).await?;
        let (_, errors) =
            outcome(service(ctx).destinations().remove_event_type_filters(&d, &input.event_type_filters).await)?;
        Ok(AuditEventsStreamingDestinationEventsRemovePayload { client_mutation_id: input.client_mutation_id, errors })
    }

    async fn audit_events_streaming_destination_instance_events_add(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingDestinationInstanceEventsAddInput,
    ) -> Result<AuditEventsStreamingDestinationInstanceEventsAddPayload> {
        require_admin(ctx)?;
        let d = managed(ctx, DestinationId(input.destination_id.0), true, Category::Http).await?;
        let (types, errors) =
            outcome(service(ctx).destinations().add_event_type_filters(&d, &input.event_type_filters).await)?;
        Ok(AuditEventsStreamingDestinationInstanceEventsAddPayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            event_type_filters: types,
        })
    }

    async fn audit_events_streaming_destination_instance_events_remove(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingDestinationInstanceEventsRemoveInput,
    ) -> Result<AuditEventsStreamingDestinationInstanceEventsRemovePayload> {
        require_admin(ctx)?;
        let d = managed(ctx, DestinationId(input.destination_id.0), true, Category::Http).await?;
        let (_, errors) =
            outcome(service(ctx).destinations().remove_event_type_filters(&d, &input.event_type_filters).await)?;
        Ok(AuditEventsStreamingDestinationInstanceEventsRemovePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
        })
    }

    async fn audit_events_streaming_http_namespace_filters_add(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingHTTPNamespaceFiltersAddInput,
    ) -> Result<AuditEventsStreamingHTTPNamespaceFiltersAddPayload> {
        let d = managed(ctx, DestinationId(input.destination_id.0), false, Category::Http).await?;
        let result = service(ctx)
            .destinations()
            .add_legacy_namespace_filter(
                &d,
                input.group_path.as_ref().map(|p| p.as_str()),
                input.project_path.as_ref().map(|p| p.as_str()),
            )
            .await;
        let (filter, errors) = outcome(result)?;
        let destination = Arc::new(d.into_destination());
        Ok(AuditEventsStreamingHTTPNamespaceFiltersAddPayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            namespace_filter: filter.map(|filter| HttpNamespaceFilter { filter, destination }),
        })
    }

    async fn audit_events_streaming_http_namespace_filters_delete(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsStreamingHTTPNamespaceFiltersDeleteInput,
    ) -> Result<AuditEventsStreamingHTTPNamespaceFiltersDeletePayload> {
        let (s, c) = (service(ctx), caller(ctx)?);
        let (d, filter) =
            s.access().namespace_filter(c, input.namespace_filter_id.0, false, true).await.map_err(top_level)?;
        let (_, errors) = outcome(s.destinations().delete_namespace_filter(&d, &filter, Api::Legacy).await)?;
        Ok(AuditEventsStreamingHTTPNamespaceFiltersDeletePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
        })
    }
}

/// A legacy instance destination (the mutation is already kept to admins).
async fn create_instance_destination(
    ctx: &Context<'_>,
    create: CreateDestination,
) -> auditrelay_service::ServiceResult<auditrelay_service::destinations::Destination> {
    let (s, c) = (service(ctx), caller(ctx).map_err(|_| ServiceError::Unauthorized)?);
    s.destinations().create_destination(&s.access().owner(c, None).await?, Api::Legacy, create).await
}
