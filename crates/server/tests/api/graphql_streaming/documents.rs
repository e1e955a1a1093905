//! The GraphQL documents the streaming tests send: GitLab's field selections and mutations for
//! the consolidated destinations, their filters and the legacy GCP and S3 configurations.

pub(super) const RESOURCE_ACCESS_ERROR: &str =
    "The resource that you are attempting to access does not exist or you don't have permission to perform this action";

/// The fields GitLab's UI selects (`streaming_destination.fragment.graphql`).
pub(super) const DESTINATION_FIELDS: &str =
    "id name category config secretToken eventTypeFilters active namespaceFilters { id namespace { id fullPath } }";

pub(super) fn group_create() -> String {
    format!(
        "mutation($groupPath: ID!, $category: String!, $config: JSON!, $name: String, $secretToken: String) {{
          groupAuditEventStreamingDestinationsCreate(input: {{
            groupPath: $groupPath, category: $category, config: $config, name: $name, secretToken: $secretToken
          }}) {{
            errors
            externalAuditEventDestination {{ {DESTINATION_FIELDS} group {{ fullPath }} }}
          }}
        }}"
    )
}

pub(super) fn group_update() -> String {
    format!(
        "mutation($id: AuditEventsGroupExternalStreamingDestinationID!, $config: JSON, $name: String,
                  $category: String, $secretToken: String, $active: Boolean) {{
          groupAuditEventStreamingDestinationsUpdate(input: {{
            id: $id, config: $config, name: $name, category: $category, secretToken: $secretToken, active: $active
          }}) {{
            errors
            externalAuditEventDestination {{ {DESTINATION_FIELDS} }}
          }}
        }}"
    )
}

pub(super) const GROUP_DELETE: &str = "mutation($id: AuditEventsGroupExternalStreamingDestinationID!) {
  groupAuditEventStreamingDestinationsDelete(input: { id: $id }) { errors }
}";

pub(super) fn group_destinations_query() -> String {
    format!(
        "query($fullPath: ID!) {{
          group(fullPath: $fullPath) {{ externalAuditEventStreamingDestinations {{ nodes {{ {DESTINATION_FIELDS} }} }} }}
        }}"
    )
}

pub(super) fn instance_create() -> String {
    format!(
        "mutation($category: String!, $config: JSON!, $name: String, $secretToken: String) {{
          instanceAuditEventStreamingDestinationsCreate(input: {{
            category: $category, config: $config, name: $name, secretToken: $secretToken
          }}) {{
            errors
            externalAuditEventDestination {{ {DESTINATION_FIELDS} }}
          }}
        }}"
    )
}

pub(super) fn instance_update() -> String {
    format!(
        "mutation($id: AuditEventsInstanceExternalStreamingDestinationID!, $config: JSON, $name: String,
                  $secretToken: String, $active: Boolean) {{
          instanceAuditEventStreamingDestinationsUpdate(input: {{
            id: $id, config: $config, name: $name, secretToken: $secretToken, active: $active
          }}) {{
            errors
            externalAuditEventDestination {{ {DESTINATION_FIELDS} }}
          }}
        }}"
    )
}

pub(super) const INSTANCE_DELETE: &str = "mutation($id: AuditEventsInstanceExternalStreamingDestinationID!) {
  instanceAuditEventStreamingDestinationsDelete(input: { id: $id }) { errors }
}";

pub(super) fn instance_destinations_query() -> String {
    format!("query {{ auditEventsInstanceStreamingDestinations {{ nodes {{ {DESTINATION_FIELDS} }} }} }}")
}

pub(super) const GROUP_EVENTS_ADD: &str =
    "mutation($destinationId: AuditEventsGroupExternalStreamingDestinationID!, $eventTypeFilters: [String!]!) {
  auditEventsGroupDestinationEventsAdd(input: { destinationId: $destinationId, eventTypeFilters: $eventTypeFilters }) {
    errors
    eventTypeFilters
  }
}";

pub(super) const GROUP_EVENTS_DELETE: &str =
    "mutation($destinationId: AuditEventsGroupExternalStreamingDestinationID!, $eventTypeFilters: [String!]!) {
  auditEventsGroupDestinationEventsDelete(input: { destinationId: $destinationId, eventTypeFilters: $eventTypeFilters }) {
    errors
  }
}";

pub(super) const GROUP_FILTER_CREATE: &str =
    "mutation($destinationId: AuditEventsGroupExternalStreamingDestinationID!, $namespacePath: String) {
  auditEventsGroupDestinationNamespaceFilterCreate(input: { destinationId: $destinationId, namespacePath: $namespacePath }) {
    errors
    namespaceFilter { id namespace { id fullPath } externalStreamingDestination { id name } }
  }
}";

pub(super) const GROUP_FILTER_DELETE: &str = "mutation($namespaceFilterId: AuditEventsGroupNamespaceFilterID!) {
  auditEventsGroupDestinationNamespaceFilterDelete(input: { namespaceFilterId: $namespaceFilterId }) { errors }
}";

pub(super) const INSTANCE_EVENTS_ADD: &str =
    "mutation($destinationId: AuditEventsInstanceExternalStreamingDestinationID!, $eventTypeFilters: [String!]!) {
  auditEventsInstanceDestinationEventsAdd(input: { destinationId: $destinationId, eventTypeFilters: $eventTypeFilters }) {
    errors
    eventTypeFilters
  }
}";

pub(super) const INSTANCE_EVENTS_DELETE: &str =
    "mutation($destinationId: AuditEventsInstanceExternalStreamingDestinationID!, $eventTypeFilters: [String!]!) {
  auditEventsInstanceDestinationEventsDelete(input: { destinationId: $destinationId, eventTypeFilters: $eventTypeFilters }) {
    errors
  }
}";

pub(super) const INSTANCE_FILTER_CREATE: &str =
    "mutation($destinationId: AuditEventsInstanceExternalStreamingDestinationID!, $namespacePath: String) {
  auditEventsInstanceDestinationNamespaceFilterCreate(input: { destinationId: $destinationId, namespacePath: $namespacePath }) {
    errors
    namespaceFilter { id namespace { id fullPath } externalStreamingDestination { id name } }
  }
}";

pub(super) const INSTANCE_FILTER_DELETE: &str = "mutation($namespaceFilterId: AuditEventsInstanceNamespaceFilterID!) {
  auditEventsInstanceDestinationNamespaceFilterDelete(input: { namespaceFilterId: $namespaceFilterId }) { errors }
}";

pub(super) const GCP_FIELDS: &str = "id name googleProjectIdName clientEmail logIdName active";

pub(super) fn gcp_create() -> String {
    format!(
        "mutation($groupPath: ID!, $googleProjectIdName: String!, $clientEmail: String!, $privateKey: String!,
                  $logIdName: String!, $name: String) {{
          googleCloudLoggingConfigurationCreate(input: {{
            groupPath: $groupPath, googleProjectIdName: $googleProjectIdName, clientEmail: $clientEmail,
            privateKey: $privateKey, logIdName: $logIdName, name: $name
          }}) {{
            errors
            googleCloudLoggingConfiguration {{ {GCP_FIELDS} group {{ fullPath }} }}
          }}
        }}"
    )
}

/// Like GitLab's docs: `logIdName` left out, so its default applies.
pub(super) fn gcp_create_default_log() -> String {
    format!(
        "mutation($groupPath: ID!, $googleProjectIdName: String!, $clientEmail: String!, $privateKey: String!,
                  $name: String) {{
          googleCloudLoggingConfigurationCreate(input: {{
            groupPath: $groupPath, googleProjectIdName: $googleProjectIdName, clientEmail: $clientEmail,
            privateKey: $privateKey, name: $name
          }}) {{
            errors
            googleCloudLoggingConfiguration {{ {GCP_FIELDS} group {{ fullPath }} }}
          }}
        }}"
    )
}

pub(super) fn gcp_update() -> String {
    format!(
        "mutation($id: AuditEventsGoogleCloudLoggingConfigurationID!, $googleProjectIdName: String,
                  $clientEmail: String, $privateKey: String, $logIdName: String, $name: String, $active: Boolean) {{
          googleCloudLoggingConfigurationUpdate(input: {{
            id: $id, googleProjectIdName: $googleProjectIdName, clientEmail: $clientEmail, privateKey: $privateKey,
            logIdName: $logIdName, name: $name, active: $active
          }}) {{
            errors
            googleCloudLoggingConfiguration {{ {GCP_FIELDS} }}
          }}
        }}"
    )
}

pub(super) const GCP_DESTROY: &str = "mutation($id: AuditEventsGoogleCloudLoggingConfigurationID!) {
  googleCloudLoggingConfigurationDestroy(input: { id: $id }) { errors }
}";

pub(super) fn gcp_query() -> String {
    format!(
        "query($fullPath: ID!) {{ group(fullPath: $fullPath) {{ googleCloudLoggingConfigurations {{ nodes {{ {GCP_FIELDS} }} }} }} }}"
    )
}

pub(super) fn instance_gcp_create() -> String {
    format!(
        "mutation($googleProjectIdName: String!, $clientEmail: String!, $privateKey: String!, $name: String) {{
          instanceGoogleCloudLoggingConfigurationCreate(input: {{
            googleProjectIdName: $googleProjectIdName, clientEmail: $clientEmail, privateKey: $privateKey, name: $name
          }}) {{
            errors
            instanceGoogleCloudLoggingConfiguration {{ {GCP_FIELDS} }}
          }}
        }}"
    )
}

pub(super) fn instance_gcp_update() -> String {
    format!(
        "mutation($id: AuditEventsInstanceGoogleCloudLoggingConfigurationID!, $logIdName: String, $name: String,
                  $active: Boolean) {{
          instanceGoogleCloudLoggingConfigurationUpdate(input: {{
            id: $id, logIdName: $logIdName, name: $name, active: $active
          }}) {{
            errors
            instanceGoogleCloudLoggingConfiguration {{ {GCP_FIELDS} }}
          }}
        }}"
    )
}

pub(super) const INSTANCE_GCP_DESTROY: &str = "mutation($id: AuditEventsInstanceGoogleCloudLoggingConfigurationID!) {
  instanceGoogleCloudLoggingConfigurationDestroy(input: { id: $id }) { errors }
}";

pub(super) fn instance_gcp_query() -> String {
    format!("query {{ instanceGoogleCloudLoggingConfigurations {{ nodes {{ {GCP_FIELDS} }} }} }}")
}

pub(super) const S3_FIELDS: &str = "id name accessKeyXid bucketName awsRegion active";

pub(super) fn s3_create() -> String {
    format!(
        "mutation($groupPath: ID!, $accessKeyXid: String!, $secretAccessKey: String!, $bucketName: String!,
                  $awsRegion: String!, $name: String) {{
          auditEventsAmazonS3ConfigurationCreate(input: {{
            groupPath: $groupPath, accessKeyXid: $accessKeyXid, secretAccessKey: $secretAccessKey,
            bucketName: $bucketName, awsRegion: $awsRegion, name: $name
          }}) {{
            errors
            amazonS3Configuration {{ {S3_FIELDS} group {{ fullPath }} }}
          }}
        }}"
    )
}

pub(super) fn s3_update() -> String {
    format!(
        "mutation($id: AuditEventsAmazonS3ConfigurationID!, $accessKeyXid: String, $secretAccessKey: String,
                  $bucketName: String, $awsRegion: String, $name: String, $active: Boolean) {{
          auditEventsAmazonS3ConfigurationUpdate(input: {{
            id: $id, accessKeyXid: $accessKeyXid, secretAccessKey: $secretAccessKey, bucketName: $bucketName,
            awsRegion: $awsRegion, name: $name, active: $active
          }}) {{
            errors
            amazonS3Configuration {{ {S3_FIELDS} }}
          }}
        }}"
    )
}

pub(super) const S3_DELETE: &str = "mutation($id: AuditEventsAmazonS3ConfigurationID!) {
  auditEventsAmazonS3ConfigurationDelete(input: { id: $id }) { errors }
}";

pub(super) fn s3_query() -> String {
    format!(
        "query($fullPath: ID!) {{ group(fullPath: $fullPath) {{ amazonS3Configurations {{ nodes {{ {S3_FIELDS} }} }} }} }}"
    )
}

pub(super) fn instance_s3_create() -> String {
    format!(
        "mutation($accessKeyXid: String!, $secretAccessKey: String!, $bucketName: String!, $awsRegion: String!,
                  $name: String) {{
          auditEventsInstanceAmazonS3ConfigurationCreate(input: {{
            accessKeyXid: $accessKeyXid, secretAccessKey: $secretAccessKey, bucketName: $bucketName,
            awsRegion: $awsRegion, name: $name
          }}) {{
            errors
            instanceAmazonS3Configuration {{ {S3_FIELDS} }}
          }}
        }}"
    )
}

pub(super) fn instance_s3_update() -> String {
    format!(
        "mutation($id: AuditEventsInstanceAmazonS3ConfigurationID!, $awsRegion: String, $name: String,
                  $active: Boolean) {{
          auditEventsInstanceAmazonS3ConfigurationUpdate(input: {{
            id: $id, awsRegion: $awsRegion, name: $name, active: $active
          }}) {{
            errors
            instanceAmazonS3Configuration {{ {S3_FIELDS} }}
          }}
        }}"
    )
}

pub(super) const INSTANCE_S3_DELETE: &str = "mutation($id: AuditEventsInstanceAmazonS3ConfigurationID!) {
  auditEventsInstanceAmazonS3ConfigurationDelete(input: { id: $id }) { errors }
}";

pub(super) fn instance_s3_query() -> String {
    format!("query {{ auditEventsInstanceAmazonS3Configurations {{ nodes {{ {S3_FIELDS} }} }} }}")
}
