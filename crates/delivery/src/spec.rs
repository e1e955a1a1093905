//! What the engine is handed: its tunables (`EngineConfig`), the instance settings that change
//! delivery (`DeliverySettings`) and each destination as the service layer built it
//! (`DestinationSpec`). Shared by the supervisor and its workers.

use auditrelay_core::DestinationId;
use auditrelay_core::ai_events::ContentFields;
use std::sync::Arc;
use std::time::Duration;

use crate::breaker::BreakerConfig;
use crate::retry::RetryPolicy;
use crate::routing::RouteSpec;
use crate::sinks::{CloudEndpoints, Target};

/// Tunables of delivery.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This process's name in leases.
    pub node_id: String,
    /// How long a lease lasts without renewal. A node renews its leases every quarter of this
    /// on a task of their own (however busy delivery is); a dead node's destinations resume on
    /// another node about this long after it died.
    pub lease_ttl: Duration,
    /// Events read from the log at a time.
    pub batch_size: i64,
    /// Requests in flight per destination (events are sent in log order; the cursor moves in
    /// order; a receiver may see neighbours within this window swapped).
    pub in_flight: usize,
    pub retry: RetryPolicy,
    pub breaker: BreakerConfig,
    /// Fallback poll for events committed by other processes.
    pub poll_every: Duration,
    pub endpoints: CloudEndpoints,
    /// When checkpoints are made and who signs them.
    pub checkpoints: crate::stream::CheckpointPolicy,
    /// The last hour of deliveries per destination (shared by every worker of the process).
    pub history: Arc<crate::history::DeliveryHistory>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            node_id: format!("node-{}", rand::random::<u32>()),
            lease_ttl: Duration::from_secs(10),
            batch_size: 500,
            in_flight: 8,
            retry: RetryPolicy::default(),
            breaker: BreakerConfig::default(),
            poll_every: Duration::from_millis(500),
            endpoints: CloudEndpoints::default(),
            checkpoints: crate::stream::CheckpointPolicy::default(),
            history: Arc::default(),
        }
    }
}

/// Instance settings that change how events are delivered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliverySettings {
    pub allow_local: bool,
    pub ai_streaming_enabled: bool,
    /// Stream AI events with their content replaced by a hash and length.
    pub ai_redact_content: bool,
    /// Which fields of an AI event are content (the admin's list).
    pub ai_content_fields: ContentFields,
}

impl DeliverySettings {
    /// The content fields to redact in streamed AI events, if any.
    pub fn redaction(&self) -> Option<&ContentFields> {
        self.ai_redact_content.then_some(&self.ai_content_fields)
    }
}

/// Everything a worker needs about its destination, built by the service layer.
#[derive(Clone)]
pub struct DestinationSpec {
    pub id: DestinationId,
    pub name: String,
    pub route: RouteSpec,
    pub target: Target,
    /// The stream id: the destination's global id.
    pub stream_id: std::sync::Arc<str>,
    /// Strict arrival order: no event is sent while an earlier one is being retried (GitLab
    /// promises no order; off, a failed request is retried while the rest keep flowing).
    pub strict_order: bool,
    /// Changes whenever anything about the destination changes (config, secret, filters…).
    pub fingerprint: u64,
}
