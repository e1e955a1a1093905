//! GitLab's audit event names for changes to destinations, per API generation and owner.

use auditrelay_core::destination::Category;

use super::{Api, Owner};

#[derive(Clone, Copy)]
pub enum Change {
    Created,
    Updated,
    Deleted,
}

/// The event type GitLab records when a destination is created, updated or deleted.
pub fn destination_event(api: Api, owner: &Owner, category: Category, change: Change) -> &'static str {
    use Category::*;
    use Change::*;
    let instance = owner.is_instance();
    match (api, category, change, instance) {
        (Api::Consolidated, _, Created, false) => "created_group_audit_event_streaming_destination",
        (Api::Consolidated, _, Updated, false) => "updated_group_audit_event_streaming_destination",
        (Api::Consolidated, _, Deleted, false) => "deleted_group_audit_event_streaming_destination",
        (Api::Consolidated, _, Created, true) => "created_instance_audit_event_streaming_destination",
        (Api::Consolidated, _, Updated, true) => "updated_instance_audit_event_streaming_destination",
        (Api::Consolidated, _, Deleted, true) => "deleted_instance_audit_event_streaming_destination",
        (Api::Legacy, Http, Created, false) => "create_event_streaming_destination",
        (Api::Legacy, Http, Updated, false) => "update_event_streaming_destination",
        (Api::Legacy, Http, Deleted, false) => "destroy_event_streaming_destination",
        (Api::Legacy, Http, Created, true) => "create_instance_event_streaming_destination",
        (Api::Legacy, Http, Updated, true) => "update_instance_event_streaming_destination",
        (Api::Legacy, Http, Deleted, true) => "destroy_instance_event_streaming_destination",
        (Api::Legacy, Gcp, Created, false) => "google_cloud_logging_configuration_created",
        (Api::Legacy, Gcp, Updated, false) => "google_cloud_logging_configuration_updated",
        (Api::Legacy, Gcp, Deleted, false) => "google_cloud_logging_configuration_deleted",
        (Api::Legacy, Gcp, Created, true) => "instance_google_cloud_logging_configuration_created",
        (Api::Legacy, Gcp, Updated, true) => "instance_google_cloud_logging_configuration_updated",
        (Api::Legacy, Gcp, Deleted, true) => "instance_google_cloud_logging_configuration_deleted",
        (Api::Legacy, Aws, Created, false) => "amazon_s3_configuration_created",
        (Api::Legacy, Aws, Updated, false) => "amazon_s3_configuration_updated",
        (Api::Legacy, Aws, Deleted, false) => "amazon_s3_configuration_deleted",
        (Api::Legacy, Aws, Created, true) => "instance_amazon_s3_configuration_created",
        (Api::Legacy, Aws, Updated, true) => "instance_amazon_s3_configuration_updated",
        (Api::Legacy, Aws, Deleted, true) => "instance_amazon_s3_configuration_deleted",
    }
}

pub fn header_event(owner: &Owner, change: Change) -> &'static str {
    match (owner.is_instance(), change) {
        (false, Change::Created) => "audit_events_streaming_headers_create",
        (false, Change::Updated) => "audit_events_streaming_headers_update",
        (false, Change::Deleted) => "audit_events_streaming_headers_destroy",
        (true, Change::Created) => "audit_events_streaming_instance_headers_create",
        (true, Change::Updated) => "audit_events_streaming_instance_headers_update",
        (true, Change::Deleted) => "audit_events_streaming_instance_headers_destroy",
    }
}

pub fn namespace_filter_event(api: Api, owner: &Owner, created: bool) -> &'static str {
    match (api, owner.is_instance(), created) {
        (Api::Legacy, _, true) => "create_http_namespace_filter",
        (Api::Legacy, _, false) => "delete_http_namespace_filter",
        (Api::Consolidated, false, true) => "created_group_namespace_filter",
        (Api::Consolidated, false, false) => "deleted_group_namespace_filter",
        (Api::Consolidated, true, true) => "created_instance_namespace_filter",
        (Api::Consolidated, true, false) => "deleted_instance_namespace_filter",
    }
}

/// GitLab's class name of a destination, as audit events name their target.
pub fn target_type(api: Api, owner: &Owner, category: Category) -> &'static str {
    match (api, owner.is_instance(), category) {
        (Api::Consolidated, false, _) => "AuditEvents::Group::ExternalStreamingDestination",
        (Api::Consolidated, true, _) => "AuditEvents::Instance::ExternalStreamingDestination",
        (Api::Legacy, false, Category::Http) => "AuditEvents::ExternalAuditEventDestination",
        (Api::Legacy, true, Category::Http) => "AuditEvents::InstanceExternalAuditEventDestination",
        (Api::Legacy, false, Category::Gcp) => "AuditEvents::GoogleCloudLoggingConfiguration",
        (Api::Legacy, true, Category::Gcp) => "AuditEvents::Instance::GoogleCloudLoggingConfiguration",
        (Api::Legacy, false, Category::Aws) => "AuditEvents::AmazonS3Configuration",
        (Api::Legacy, true, Category::Aws) => "AuditEvents::Instance::AmazonS3Configuration",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrelay_core::GroupId;

    #[test]
    fn every_name_is_in_the_catalogue() {
        let owners = [
            Owner::Instance,
            Owner::Group(auditrelay_store::namespaces::Group {
                id: GroupId(1),
                name: "g".into(),
                path: "g".into(),
                parent_id: None,
                root_id: GroupId(1),
                full_path: "g".into(),
                created_at: 0,
            }),
        ];
        for owner in &owners {
            for api in [Api::Legacy, Api::Consolidated] {
                for category in Category::ALL {
                    for change in [Change::Created, Change::Updated, Change::Deleted] {
                        let name = destination_event(api, owner, category, change);
                        assert!(auditrelay_core::event_catalogue::is_defined(name), "{name}");
                        assert!(auditrelay_core::event_catalogue::is_defined(header_event(owner, change)));
                    }
                }
                for created in [true, false] {
                    assert!(auditrelay_core::event_catalogue::is_defined(namespace_filter_event(api, owner, created)));
                }
            }
        }
    }
}
