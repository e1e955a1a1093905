//! Legacy Google Cloud Logging and Amazon S3 configurations (group and instance). Their fields
//! are checked with the legacy messages; private keys and secret keys are never returned.

use async_graphql::{Context, ID, InputObject, Object, Result};
use auditrelay_core::DestinationId;
use auditrelay_core::destination::config::DestinationConfig;
use auditrelay_core::destination::{Category, LEGACY_GCP_LOG_ID, rules};
use std::sync::Arc;

use super::guards::managed;
use super::payload::payload;
use crate::error::{ServiceError, ServiceResult};
use crate::graphql::context::{caller, outcome, service, top_level};
use crate::graphql::gid::*;
use crate::graphql::types::*;
use auditrelay_service::access::{DestinationGrant, need};
use auditrelay_service::destinations::{Api, CreateDestination, Destination, DestinationUpdate};

#[derive(Default)]
pub struct CloudMutation;

#[derive(InputObject)]
pub struct GoogleCloudLoggingConfigurationCreateInput {
    pub client_mutation_id: Option<String>,
    pub group_path: ID,
    pub google_project_id_name: String,
    pub client_email: String,
    pub private_key: String,
    #[graphql(default_with = "Some(\"audit_events\".to_owned())")]
    pub log_id_name: Option<String>,
    pub name: Option<String>,
}

#[derive(InputObject)]
pub struct InstanceGoogleCloudLoggingConfigurationCreateInput {
    pub client_mutation_id: Option<String>,
    pub google_project_id_name: String,
    pub client_email: String,
    pub private_key: String,
    #[graphql(default_with = "Some(\"audit_events\".to_owned())")]
    pub log_id_name: Option<String>,
    pub name: Option<String>,
}

#[derive(InputObject)]
pub struct GoogleCloudLoggingConfigurationUpdateInput {
    pub client_mutation_id: Option<String>,
    pub id: GcpConfigId,
    pub google_project_id_name: Option<String>,
    pub client_email: Option<String>,
    pub private_key: Option<String>,
    pub log_id_name: Option<String>,
    pub name: Option<String>,
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct InstanceGoogleCloudLoggingConfigurationUpdateInput {
    pub client_mutation_id: Option<String>,
    pub id: InstanceGcpConfigId,
    pub google_project_id_name: Option<String>,
    pub client_email: Option<String>,
    pub private_key: Option<String>,
    pub log_id_name: Option<String>,
    pub name: Option<String>,
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct GoogleCloudLoggingConfigurationDestroyInput {
    pub client_mutation_id: Option<String>,
    pub id: GcpConfigId,
}

#[derive(InputObject)]
pub struct InstanceGoogleCloudLoggingConfigurationDestroyInput {
    pub client_mutation_id: Option<String>,
    pub id: InstanceGcpConfigId,
}

#[derive(InputObject)]
pub struct AuditEventsAmazonS3ConfigurationCreateInput {
    pub client_mutation_id: Option<String>,
    pub group_path: ID,
    pub access_key_xid: String,
    pub secret_access_key: String,
    pub bucket_name: String,
    pub aws_region: String,
    pub name: Option<String>,
}

#[derive(InputObject)]
pub struct AuditEventsInstanceAmazonS3ConfigurationCreateInput {
    pub client_mutation_id: Option<String>,
    pub access_key_xid: String,
    pub secret_access_key: String,
    pub bucket_name: String,
    pub aws_region: String,
    pub name: Option<String>,
}

#[derive(InputObject)]
pub struct AuditEventsAmazonS3ConfigurationUpdateInput {
    pub client_mutation_id: Option<String>,
    pub id: S3ConfigId,
    pub access_key_xid: Option<String>,
    pub secret_access_key: Option<String>,
    pub bucket_name: Option<String>,
    pub aws_region: Option<String>,
    pub name: Option<String>,
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct AuditEventsInstanceAmazonS3ConfigurationUpdateInput {
    pub client_mutation_id: Option<String>,
    pub id: InstanceS3ConfigId,
    pub access_key_xid: Option<String>,
    pub secret_access_key: Option<String>,
    pub bucket_name: Option<String>,
    pub aws_region: Option<String>,
    pub name: Option<String>,
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct AuditEventsAmazonS3ConfigurationDeleteInput {
    pub client_mutation_id: Option<String>,
    pub id: S3ConfigId,
}

#[derive(InputObject)]
pub struct AuditEventsInstanceAmazonS3ConfigurationDeleteInput {
    pub client_mutation_id: Option<String>,
    pub id: InstanceS3ConfigId,
}

payload!(GoogleCloudLoggingConfigurationCreatePayload, google_cloud_logging_configuration: Option<Gcp>);
payload!(GoogleCloudLoggingConfigurationUpdatePayload, google_cloud_logging_configuration: Option<Gcp>);
payload!(GoogleCloudLoggingConfigurationDestroyPayload);
payload!(InstanceGoogleCloudLoggingConfigurationCreatePayload, instance_google_cloud_logging_configuration: Option<InstanceGcp>);
payload!(InstanceGoogleCloudLoggingConfigurationUpdatePayload, instance_google_cloud_logging_configuration: Option<InstanceGcp>);
payload!(InstanceGoogleCloudLoggingConfigurationDestroyPayload);
payload!(AuditEventsAmazonS3ConfigurationCreatePayload, amazon_s3_configuration: Option<S3>);
payload!(AuditEventsAmazonS3ConfigurationUpdatePayload, amazon_s3_configuration: Option<S3>);
payload!(AuditEventsAmazonS3ConfigurationDeletePayload);
payload!(AuditEventsInstanceAmazonS3ConfigurationCreatePayload, instance_amazon_s3_configuration: Option<InstanceS3>);
payload!(AuditEventsInstanceAmazonS3ConfigurationUpdatePayload, instance_amazon_s3_configuration: Option<InstanceS3>);
payload!(AuditEventsInstanceAmazonS3ConfigurationDeletePayload);

fn invalid(message: String) -> ServiceError {
    ServiceError::Validation(vec![message])
}

/// GCP fields with the legacy messages; `None` keeps what `current` has.
fn gcp_config(
    current: Option<&DestinationConfig>,
    project: Option<String>,
    email: Option<String>,
    log: Option<String>,
) -> ServiceResult<DestinationConfig> {
    let (old_project, old_email, old_log) = match current {
        Some(DestinationConfig::Gcp { google_project_id_name, client_email, log_id_name }) => {
            (google_project_id_name.clone(), client_email.clone(), log_id_name.clone())
        }
        _ => (String::new(), String::new(), LEGACY_GCP_LOG_ID.to_owned()),
    };
    let google_project_id_name = project.unwrap_or(old_project);
    let client_email = email.unwrap_or(old_email);
    let log_id_name = log.unwrap_or(old_log);
    rules::google_project_id_name(&google_project_id_name).map_err(invalid)?;
    rules::client_email(&client_email).map_err(invalid)?;
    rules::log_id_name(&log_id_name).map_err(invalid)?;
    Ok(DestinationConfig::Gcp { google_project_id_name, client_email, log_id_name })
}

fn aws_config(
    current: Option<&DestinationConfig>,
    key: Option<String>,
    bucket: Option<String>,
    region: Option<String>,
) -> ServiceResult<DestinationConfig> {
    let (old_key, old_bucket, old_region) = match current {
        Some(DestinationConfig::Aws { access_key_xid, bucket_name, aws_region }) => {
            (access_key_xid.clone(), bucket_name.clone(), aws_region.clone())
        }
        _ => Default::default(),
    };
    let access_key_xid = key.unwrap_or(old_key);
    let bucket_name = bucket.unwrap_or(old_bucket);
    let aws_region = region.unwrap_or(old_region);
    rules::access_key_xid(&access_key_xid).map_err(invalid)?;
    rules::bucket_name(&bucket_name).map_err(invalid)?;
    rules::aws_region(&aws_region).map_err(invalid)?;
    Ok(DestinationConfig::Aws { access_key_xid, bucket_name, aws_region })
}

async fn create(
    ctx: &Context<'_>,
    group_path: Option<&str>,
    config: ServiceResult<DestinationConfig>,
    name: Option<String>,
    secret: String,
) -> Result<(Option<Destination>, Vec<String>)> {
    let (s, c) = (service(ctx), caller(ctx)?);
    let owner = s.access().owner::<need::Read>(c, group_path).await.map_err(top_level)?;
    let result = match config {
        Ok(config) => {
            s.destinations()
                .create_destination(
                    &match owner.needing() {
                        Ok(owner) => owner,
                        Err(error) => return outcome(Err(error)),
                    },
                    Api::Legacy,
                    CreateDestination { config, name, secret: Some(secret), strict_order: false },
                )
                .await
        }
        Err(error) => Err(error),
    };
    outcome(result)
}

async fn update(
    ctx: &Context<'_>,
    d: &DestinationGrant<'_, need::Read>,
    config: ServiceResult<DestinationConfig>,
    name: Option<String>,
    secret: Option<String>,
    active: Option<bool>,
) -> Result<(Option<Destination>, Vec<String>)> {
    let result = match config {
        Ok(config) => {
            let d = match d.needing() {
                Ok(d) => d,
                Err(error) => return outcome(Err(error)),
            };
            service(ctx)
                .destinations()
                .update_destination(
                    &d,
                    Api::Legacy,
                    DestinationUpdate { config: Some(config), name, secret, active, strict_order: None },
                )
                .await
        }
        Err(error) => Err(error),
    };
    outcome(result)
}

async fn delete(ctx: &Context<'_>, id: i64, instance: bool, category: Category) -> Result<Vec<String>> {
    let d = managed(ctx, DestinationId(id), instance, category).await?;
    Ok(outcome(service(ctx).destinations().delete_destination(&d, Api::Legacy).await)?.1)
}

#[Object]
impl CloudMutation {
    async fn google_cloud_logging_configuration_create(
        &self,
        ctx: &Context<'_>,
        input: GoogleCloudLoggingConfigurationCreateInput,
    ) -> Result<GoogleCloudLoggingConfigurationCreatePayload> {
        let config = gcp_config(None, Some(input.google_project_id_name), Some(input.client_email), input.log_id_name);
        let (d, errors) = create(ctx, Some(&input.group_path), config, input.name, input.private_key).await?;
        Ok(GoogleCloudLoggingConfigurationCreatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            google_cloud_logging_configuration: d.map(|d| Gcp(Arc::new(d))),
        })
    }

    async fn google_cloud_logging_configuration_update(
        &self,
        ctx: &Context<'_>,
        input: GoogleCloudLoggingConfigurationUpdateInput,
    ) -> Result<GoogleCloudLoggingConfigurationUpdatePayload> {
        let d = managed::<need::Read>(ctx, DestinationId(input.id.0), false, Category::Gcp).await?;
        let config = gcp_config(
            Some(&d.destination().config),
            input.google_project_id_name,
            input.client_email,
            input.log_id_name,
        );
        let (d, errors) = update(ctx, &d, config, input.name, input.private_key, input.active).await?;
        Ok(GoogleCloudLoggingConfigurationUpdatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            google_cloud_logging_configuration: d.map(|d| Gcp(Arc::new(d))),
        })
    }

    async fn google_cloud_logging_configuration_destroy(
        &self,
        ctx: &Context<'_>,
        input: GoogleCloudLoggingConfigurationDestroyInput,
    ) -> Result<GoogleCloudLoggingConfigurationDestroyPayload> {
        let errors = delete(ctx, input.id.0, false, Category::Gcp).await?;
        Ok(GoogleCloudLoggingConfigurationDestroyPayload { client_mutation_id: input.client_mutation_id, errors })
    }

    async fn instance_google_cloud_logging_configuration_create(
        &self,
        ctx: &Context<'_>,
        input: InstanceGoogleCloudLoggingConfigurationCreateInput,
    ) -> Result<InstanceGoogleCloudLoggingConfigurationCreatePayload> {
        let config = gcp_config(None, Some(input.google_project_id_name), Some(input.client_email), input.log_id_name);
        let (d, errors) = create(ctx, None, config, input.name, input.private_key).await?;
        Ok(InstanceGoogleCloudLoggingConfigurationCreatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            instance_google_cloud_logging_configuration: d.map(|d| InstanceGcp(Arc::new(d))),
        })
    }

    async fn instance_google_cloud_logging_configuration_update(
        &self,
        ctx: &Context<'_>,
        input: InstanceGoogleCloudLoggingConfigurationUpdateInput,
    ) -> Result<InstanceGoogleCloudLoggingConfigurationUpdatePayload> {
        let d = managed::<need::Read>(ctx, DestinationId(input.id.0), true, Category::Gcp).await?;
        let config = gcp_config(
            Some(&d.destination().config),
            input.google_project_id_name,
            input.client_email,
            input.log_id_name,
        );
        let (d, errors) = update(ctx, &d, config, input.name, input.private_key, input.active).await?;
        Ok(InstanceGoogleCloudLoggingConfigurationUpdatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            instance_google_cloud_logging_configuration: d.map(|d| InstanceGcp(Arc::new(d))),
        })
    }

    async fn instance_google_cloud_logging_configuration_destroy(
        &self,
        ctx: &Context<'_>,
        input: InstanceGoogleCloudLoggingConfigurationDestroyInput,
    ) -> Result<InstanceGoogleCloudLoggingConfigurationDestroyPayload> {
        let errors = delete(ctx, input.id.0, true, Category::Gcp).await?;
        Ok(InstanceGoogleCloudLoggingConfigurationDestroyPayload {
            client_mutation_id: input.client_mutation_id,
            errors,
        })
    }

    async fn audit_events_amazon_s3_configuration_create(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsAmazonS3ConfigurationCreateInput,
    ) -> Result<AuditEventsAmazonS3ConfigurationCreatePayload> {
        let config = aws_config(None, Some(input.access_key_xid), Some(input.bucket_name), Some(input.aws_region));
        let (d, errors) = create(ctx, Some(&input.group_path), config, input.name, input.secret_access_key).await?;
        Ok(AuditEventsAmazonS3ConfigurationCreatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            amazon_s3_configuration: d.map(|d| S3(Arc::new(d))),
        })
    }

    async fn audit_events_amazon_s3_configuration_update(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsAmazonS3ConfigurationUpdateInput,
    ) -> Result<AuditEventsAmazonS3ConfigurationUpdatePayload> {
        let d = managed::<need::Read>(ctx, DestinationId(input.id.0), false, Category::Aws).await?;
        let config =
            aws_config(Some(&d.destination().config), input.access_key_xid, input.bucket_name, input.aws_region);
        let (d, errors) = update(ctx, &d, config, input.name, input.secret_access_key, input.active).await?;
        Ok(AuditEventsAmazonS3ConfigurationUpdatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            amazon_s3_configuration: d.map(|d| S3(Arc::new(d))),
        })
    }

    async fn audit_events_amazon_s3_configuration_delete(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsAmazonS3ConfigurationDeleteInput,
    ) -> Result<AuditEventsAmazonS3ConfigurationDeletePayload> {
        let errors = delete(ctx, input.id.0, false, Category::Aws).await?;
        Ok(AuditEventsAmazonS3ConfigurationDeletePayload { client_mutation_id: input.client_mutation_id, errors })
    }

    async fn audit_events_instance_amazon_s3_configuration_create(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsInstanceAmazonS3ConfigurationCreateInput,
    ) -> Result<AuditEventsInstanceAmazonS3ConfigurationCreatePayload> {
        let config = aws_config(None, Some(input.access_key_xid), Some(input.bucket_name), Some(input.aws_region));
        let (d, errors) = create(ctx, None, config, input.name, input.secret_access_key).await?;
        Ok(AuditEventsInstanceAmazonS3ConfigurationCreatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            instance_amazon_s3_configuration: d.map(|d| InstanceS3(Arc::new(d))),
        })
    }

    async fn audit_events_instance_amazon_s3_configuration_update(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsInstanceAmazonS3ConfigurationUpdateInput,
    ) -> Result<AuditEventsInstanceAmazonS3ConfigurationUpdatePayload> {
        let d = managed::<need::Read>(ctx, DestinationId(input.id.0), true, Category::Aws).await?;
        let config =
            aws_config(Some(&d.destination().config), input.access_key_xid, input.bucket_name, input.aws_region);
        let (d, errors) = update(ctx, &d, config, input.name, input.secret_access_key, input.active).await?;
        Ok(AuditEventsInstanceAmazonS3ConfigurationUpdatePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
            instance_amazon_s3_configuration: d.map(|d| InstanceS3(Arc::new(d))),
        })
    }

    async fn audit_events_instance_amazon_s3_configuration_delete(
        &self,
        ctx: &Context<'_>,
        input: AuditEventsInstanceAmazonS3ConfigurationDeleteInput,
    ) -> Result<AuditEventsInstanceAmazonS3ConfigurationDeletePayload> {
        let errors = delete(ctx, input.id.0, true, Category::Aws).await?;
        Ok(AuditEventsInstanceAmazonS3ConfigurationDeletePayload {
            client_mutation_id: input.client_mutation_id,
            errors,
        })
    }
}
