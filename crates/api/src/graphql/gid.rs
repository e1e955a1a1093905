//! GitLab global IDs (`gid://gitlab/<Class>/<id>`) and their typed GraphQL scalars.

use async_graphql::{ID, InputValueError, InputValueResult, Scalar, ScalarType, Value};

pub fn gid(class: &str, id: i64) -> ID {
    ID(format!("gid://gitlab/{class}/{id}"))
}

/// The numeric id of a global id of `class`, or GitLab's complaint.
fn parse(value: &Value, class: &str) -> Result<i64, String> {
    let Value::String(text) = value else { return Err(format!("{value} is not a valid Global ID")) };
    text.strip_prefix("gid://gitlab/")
        .and_then(|rest| rest.rsplit_once('/'))
        .filter(|(found, _)| *found == class)
        .and_then(|(_, id)| id.parse::<i64>().ok())
        .ok_or_else(|| format!("\"{text}\" does not represent an instance of {class}"))
}

macro_rules! gid_scalar {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $class:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $ty(pub i64);

        #[Scalar(name = $name)]
        impl ScalarType for $ty {
            fn parse(value: Value) -> InputValueResult<Self> {
                parse(&value, $class).map($ty).map_err(InputValueError::custom)
            }

            fn to_value(&self) -> Value {
                Value::String(format!("gid://gitlab/{}/{}", $class, self.0))
            }
        }

        impl $ty {

            pub fn id(id: i64) -> ID {
                gid($class, id)
            }
        }
    };
}

gid_scalar!(
    ExternalDestinationId,
    "AuditEventsExternalAuditEventDestinationID",
    "AuditEvents::ExternalAuditEventDestination"
);
gid_scalar!(
    InstanceExternalDestinationId,
    "AuditEventsInstanceExternalAuditEventDestinationID",
    "AuditEvents::InstanceExternalAuditEventDestination"
);
gid_scalar!(HeaderId, "AuditEventsStreamingHeaderID", "AuditEvents::Streaming::Header");
gid_scalar!(InstanceHeaderId, "AuditEventsStreamingInstanceHeaderID", "AuditEvents::Streaming::InstanceHeader");
gid_scalar!(
    HttpNamespaceFilterId,
    "AuditEventsStreamingHTTPNamespaceFilterID",
    "AuditEvents::Streaming::HTTP::NamespaceFilter"
);
gid_scalar!(
    GcpConfigId,
    "AuditEventsGoogleCloudLoggingConfigurationID",
    "AuditEvents::GoogleCloudLoggingConfiguration"
);
gid_scalar!(
    InstanceGcpConfigId,
    "AuditEventsInstanceGoogleCloudLoggingConfigurationID",
    "AuditEvents::Instance::GoogleCloudLoggingConfiguration"
);
gid_scalar!(S3ConfigId, "AuditEventsAmazonS3ConfigurationID", "AuditEvents::AmazonS3Configuration");
gid_scalar!(
    InstanceS3ConfigId,
    "AuditEventsInstanceAmazonS3ConfigurationID",
    "AuditEvents::Instance::AmazonS3Configuration"
);
gid_scalar!(
    GroupStreamingDestinationId,
    "AuditEventsGroupExternalStreamingDestinationID",
    "AuditEvents::Group::ExternalStreamingDestination"
);
gid_scalar!(
    InstanceStreamingDestinationId,
    "AuditEventsInstanceExternalStreamingDestinationID",
    "AuditEvents::Instance::ExternalStreamingDestination"
);
gid_scalar!(GroupNamespaceFilterId, "AuditEventsGroupNamespaceFilterID", "AuditEvents::Group::NamespaceFilter");
gid_scalar!(
    InstanceNamespaceFilterId,
    "AuditEventsInstanceNamespaceFilterID",
    "AuditEvents::Instance::NamespaceFilter"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_its_own_class() {
        let value = Value::String("gid://gitlab/AuditEvents::ExternalAuditEventDestination/42".into());
        assert_eq!(<ExternalDestinationId as ScalarType>::parse(value.clone()).unwrap(), ExternalDestinationId(42));
        let error = <InstanceExternalDestinationId as ScalarType>::parse(value).unwrap_err();
        assert!(
            error
                .into_server_error(Default::default())
                .message
                .contains("does not represent an instance of AuditEvents::InstanceExternalAuditEventDestination")
        );
        assert!(
            <HeaderId as ScalarType>::parse(Value::String("gid://gitlab/AuditEvents::Streaming::Header/x".into()))
                .is_err()
        );
        assert_eq!(
            ExternalDestinationId(7).to_value(),
            Value::String("gid://gitlab/AuditEvents::ExternalAuditEventDestination/7".into())
        );
    }
}
