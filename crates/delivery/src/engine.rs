//! The supervisor: one worker per active destination. The service layer hands it the current
//! destinations (after every change, and periodically for changes made on other nodes); it
//! starts new workers, restarts changed ones and stops removed ones. A stopped worker has
//! advanced its cursor only past what was acknowledged, so nothing is lost by a restart.

use auditrelay_core::ai_events::ContentFields;
use auditrelay_store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify, watch};
use tokio::task::JoinHandle;

use crate::breaker::BreakerConfig;
use crate::log_cache::LogCache;
use crate::retry::RetryPolicy;
use crate::routing::RouteSpec;
use crate::sinks::{CloudEndpoints, Target};
use crate::worker::{Worker, WorkerControl};

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
    pub id: i64,
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

struct Running {
    fingerprint: u64,
    settings: DeliverySettings,
    control: Arc<WorkerControl>,
    task: JoinHandle<()>,
}

#[derive(Clone)]
pub struct Engine {
    store: Store,
    head: watch::Receiver<i64>,
    config: Arc<EngineConfig>,
    /// Recent log blocks, read once for all workers.
    log: Arc<LogCache>,
    running: Arc<Mutex<HashMap<i64, Running>>>,
}

impl Engine {
    pub fn new(store: Store, head: watch::Receiver<i64>, config: EngineConfig) -> Engine {
        let log = Arc::new(LogCache::new(store.clone(), head.clone(), config.batch_size));
        Engine { store, head, config: Arc::new(config), log, running: Default::default() }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Brings the workers in line with `active` destinations and `settings`.
    pub async fn apply(&self, active: Vec<DestinationSpec>, settings: DeliverySettings) {
        let mut running = self.running.lock().await;
        let wanted: HashMap<i64, DestinationSpec> = active.into_iter().map(|s| (s.id, s)).collect();
        let stale: Vec<i64> = running
            .iter()
            .filter(|(id, r)| wanted.get(id).is_none_or(|s| s.fingerprint != r.fingerprint || r.settings != settings))
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(worker) = running.remove(&id) {
                stop(worker).await;
            }
        }
        for (id, spec) in wanted {
            if running.contains_key(&id) {
                continue;
            }
            let control = Arc::new(WorkerControl::default());
            let worker = Worker::new(
                spec.clone(),
                settings.clone(),
                self.store.clone(),
                self.head.clone(),
                self.log.clone(),
                self.config.clone(),
                control.clone(),
            );
            let task = tokio::spawn(worker.run());
            running.insert(id, Running { fingerprint: spec.fingerprint, settings: settings.clone(), control, task });
        }
    }

    /// Wakes a destination's worker (parked events to re-send, a replay to run).
    pub async fn wake(&self, destination_id: i64) {
        if let Some(worker) = self.running.lock().await.get(&destination_id) {
            worker.control.wake.notify_one();
        }
    }

    /// Stops every worker. In-flight requests are abandoned; their events stay after the
    /// cursor and are sent again later.
    pub async fn shutdown(&self) {
        let mut running = self.running.lock().await;
        for (_, worker) in running.drain() {
            stop(worker).await;
        }
    }
}

async fn stop(worker: Running) {
    let _ = worker.control.stop.send(true);
    worker.control.wake.notify_one();
    if tokio::time::timeout(Duration::from_secs(5), worker.task).await.is_err() {
        tracing::warn!("a delivery worker did not stop within 5 s");
    }
}

impl Default for WorkerControl {
    fn default() -> Self {
        WorkerControl { stop: watch::channel(false).0, wake: Notify::new() }
    }
}
