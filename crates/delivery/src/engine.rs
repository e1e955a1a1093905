//! The supervisor: one worker per active destination. The service layer hands it the current
//! destinations (after every change, and periodically for changes made on other nodes); it
//! starts new workers, restarts changed ones and stops removed ones. A stopped worker has
//! advanced its cursor only past what was acknowledged, so nothing is lost by a restart.

use auditrelay_core::DestinationId;
use auditrelay_store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify, watch};
use tokio::task::JoinHandle;

use crate::log_cache::LogCache;
use crate::spec::{DeliverySettings, DestinationSpec, EngineConfig};
use crate::worker::{Worker, WorkerControl};

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
    running: Arc<Mutex<HashMap<DestinationId, Running>>>,
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
        let wanted: HashMap<DestinationId, DestinationSpec> = active.into_iter().map(|s| (s.id, s)).collect();
        let stale: Vec<DestinationId> = running
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
    pub async fn wake(&self, destination_id: DestinationId) {
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

/// Stops a worker and waits for it. One that does not stop within 5 s is aborted: its
/// successor shares its node's lease, so the two must never run side by side (the late one's
/// release of the lease would take it from its successor). Abandoned requests' events stay after
/// the cursor and are sent again.
async fn stop(mut worker: Running) {
    let _ = worker.control.stop.send(true);
    worker.control.wake.notify_one();
    if tokio::time::timeout(Duration::from_secs(5), &mut worker.task).await.is_err() {
        tracing::warn!("a delivery worker did not stop within 5 s; aborting it");
        worker.task.abort();
        let _ = worker.task.await;
    }
}

impl Default for WorkerControl {
    fn default() -> Self {
        WorkerControl { stop: watch::channel(false).0, wake: Notify::new() }
    }
}
