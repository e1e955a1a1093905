//! `AppState`: what every handler can reach (the service, the GraphQL schema, the metrics).

use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

use auditrelay_service::Service;

use crate::graphql::AuditSchema;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub graphql: AuditSchema,
    pub metrics: Option<PrometheusHandle>,
}
