//! Keeping a destination's lease. The renewal runs on a task of its own: a worker busy sending
//! (or a store busy with delivery writes) never starves it. It renews every quarter of the
//! lease's life, and a renewal that fails (an error or a slow store, not another holder) is
//! retried at once until the lease would run out, so a live node keeps its leases under load.
//! A dead node's leases run out after their life, and a standby node takes them over then.

use auditrelay_core::DestinationId;
use auditrelay_core::time::now_micros;
use auditrelay_store::Store;
use std::time::{Duration, Instant};

/// How soon a failed renewal is tried again.
const RETRY_AFTER: Duration = Duration::from_millis(250);

pub(super) struct Renewal {
    pub store: Store,
    pub destination_id: DestinationId,
    pub holder: String,
    pub ttl: Duration,
}

impl Renewal {
    /// Renews until the lease is lost: taken by another holder, or not renewed in its life.
    pub(super) async fn run(self) {
        // Just acquired by the caller.
        let mut held_until = Instant::now() + self.ttl;
        let mut wait = self.ttl / 4;
        loop {
            tokio::time::sleep(wait).await;
            let attempt = Instant::now();
            if attempt >= held_until {
                return;
            }
            let expires = now_micros() + self.ttl.as_micros() as i64;
            let renewed = self.store.acquire_lease(self.destination_id, &self.holder, expires);
            match tokio::time::timeout(held_until - attempt, renewed).await {
                Ok(Ok(true)) => {
                    held_until = attempt + self.ttl;
                    wait = self.ttl / 4;
                }
                Ok(Ok(false)) => return,
                Ok(Err(error)) => {
                    tracing::warn!(destination = self.destination_id.get(), %error, "could not renew the delivery lease; retrying");
                    wait = RETRY_AFTER;
                }
                Err(_) => wait = Duration::ZERO,
            }
        }
    }
}

/// Aborts a task when dropped.
pub(super) struct AbortOnDrop(pub tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
