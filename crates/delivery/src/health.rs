//! What a worker knows about its destination's health, kept in memory and written to the store
//! (throttled) so the API and UI of any node can show it.

use auditrelay_core::DestinationId;
use auditrelay_core::time::now_micros;
use auditrelay_store::Store;
use auditrelay_store::delivery::Health;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::failure::DeliveryError;
use crate::history::DeliveryHistory;
use crate::outgoing::Outgoing;

const FLUSH_EVERY: Duration = Duration::from_millis(500);

pub struct HealthBoard {
    store: Store,
    destination_id: DestinationId,
    history: Arc<DeliveryHistory>,
    inner: Mutex<(Health, Option<Instant>, bool)>,
}

impl HealthBoard {
    pub async fn load(store: Store, destination_id: DestinationId, history: Arc<DeliveryHistory>) -> HealthBoard {
        let health = store.health(destination_id).await.ok().flatten().unwrap_or(Health {
            destination_id,
            state: "closed".into(),
            ..Health::default()
        });
        HealthBoard { store, destination_id, history, inner: Mutex::new((health, None, true)) }
    }

    /// Moves to `state` (a change is written at the next flush) and applies `change`. Called for
    /// every delivered request: the state string is only replaced when it changes.
    fn update(&self, state: &str, change: impl FnOnce(&mut Health)) {
        if let Ok(mut inner) = self.inner.lock() {
            if inner.0.state != state {
                inner.0.state = state.to_owned();
                inner.2 = true;
            }
            change(&mut inner.0);
            inner.2 |= inner.1.is_none_or(|at| at.elapsed() >= FLUSH_EVERY);
        }
    }

    pub fn delivered(&self, events: &[Outgoing]) {
        let now = now_micros();
        self.update("closed", |h| {
            h.consecutive_failures = 0;
            h.last_success_at = Some(now);
            h.delivered += events.len() as i64;
        });
        let oldest = events.iter().map(|e| e.created_at).min().unwrap_or(now);
        let lag_ms = ((now - oldest).max(0) / 1000) as u64;
        self.history.record(self.destination_id, now.div_euclid(1_000_000), events.len() as u64, lag_ms);
    }

    pub fn failed(&self, error: &DeliveryError, state: &str, consecutive_failures: u32) {
        self.update(state, |h| {
            h.consecutive_failures = consecutive_failures as i64;
            h.last_error = Some(error.message.clone());
            h.last_error_status = error.status.map(i64::from);
            h.last_error_at = Some(now_micros());
        });
    }

    pub fn state(&self, state: &str) {
        self.update(state, |_| {});
    }

    /// Writes the health to the store when it changed state or enough time has passed.
    pub async fn flush(&self, force: bool) {
        let snapshot = match self.inner.lock() {
            Ok(mut inner) if inner.2 || force => {
                inner.2 = false;
                inner.1 = Some(Instant::now());
                inner.0.updated_at = now_micros();
                inner.0.clone()
            }
            _ => return,
        };
        if let Err(error) = self.store.save_health(&snapshot).await {
            tracing::warn!(%error, destination = snapshot.destination_id.get(), "could not save delivery health");
        }
    }
}
