//! One destination's worker: holds its lease, follows the log from its cursor, routes, sends in
//! log order with a window of requests in flight, retries with backoff behind the circuit
//! breaker, parks events that fail permanently, and moves the cursor only past events that were
//! acknowledged or parked. Also runs the destination's replays and parked-event re-sends.

mod counters;
mod follow;
mod lease;
mod stream;
mod stream_state;
mod versions;

use auditrelay_core::DestinationId;
use auditrelay_core::time::now_micros;
use auditrelay_store::{Store, StoredEvent};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

use crate::breaker::{Breaker, Permit};
use crate::failure::{DeliveryError, FailureKind};
use crate::health::HealthBoard;
use crate::log_cache::LogCache;
use crate::outgoing::Outgoing;
use crate::routing::{EventPlace, NamespaceMatch, RouteSpec, routes};
use crate::sinks::Sink;
use crate::spec::{DeliverySettings, DestinationSpec, EngineConfig};
use counters::{Failing, Resting};

/// How the supervisor talks to a running worker.
pub struct WorkerControl {
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) wake: Notify,
}

pub(crate) struct Worker {
    spec: DestinationSpec,
    settings: DeliverySettings,
    store: Store,
    head: watch::Receiver<i64>,
    log: Arc<LogCache>,
    config: Arc<EngineConfig>,
    control: Arc<WorkerControl>,
    /// Full paths of groups by id (groups are never moved, so this never goes stale).
    group_paths: Mutex<HashMap<i64, Option<String>>>,
    /// The last `seq` read when the live round found nothing new (`i64::MAX`: it did not).
    caught_up_at: AtomicI64,
    /// The destination's routing by log position (see `versions`).
    versions: Mutex<versions::RouteVersions>,
    /// The destination's provable stream (see `stream`, which moves it).
    stream: Mutex<stream_state::StreamState>,
}

/// The parts of a worker that concurrent sends share.
struct Sender<'a> {
    sink: &'a Sink,
    breaker: &'a Mutex<Breaker>,
    health: &'a HealthBoard,
    config: &'a EngineConfig,
    store: &'a Store,
    destination_id: DestinationId,
    wake: &'a Notify,
    metrics: &'a SendMetrics,
    /// Units between a failed attempt and their outcome.
    failing: &'a AtomicUsize,
    /// Units waiting for their next attempt (their backoff, or the breaker): they hold no
    /// request in flight, so the window does not count them against its requests.
    resting: &'a AtomicUsize,
}

/// Metric handles, made once per worker rather than looked up (and labelled) per request.
struct SendMetrics {
    delivered: metrics::Counter,
    parked: metrics::Counter,
    /// Failures by kind: transient, auth, permanent.
    failures: [metrics::Counter; 3],
    request_seconds: metrics::Histogram,
    lag_seconds: metrics::Histogram,
}

impl SendMetrics {
    fn new(destination_id: DestinationId) -> SendMetrics {
        let destination = destination_id.to_string();
        let failures = [FailureKind::Transient, FailureKind::Auth, FailureKind::Permanent].map(|kind| {
            metrics::counter!("auditrelay_delivery_failures_total", "destination" => destination.clone(), "kind" => kind_name(kind))
        });
        SendMetrics {
            delivered: metrics::counter!("auditrelay_delivery_events_total", "destination" => destination.clone()),
            parked: metrics::counter!("auditrelay_delivery_parked_total", "destination" => destination),
            failures,
            request_seconds: metrics::histogram!("auditrelay_delivery_request_seconds"),
            lag_seconds: metrics::histogram!("auditrelay_delivery_lag_seconds"),
        }
    }

    fn failure(&self, kind: FailureKind) -> &metrics::Counter {
        match kind {
            FailureKind::Transient => &self.failures[0],
            FailureKind::Auth => &self.failures[1],
            FailureKind::Permanent => &self.failures[2],
        }
    }
}

impl Worker {
    pub(crate) fn new(
        spec: DestinationSpec,
        settings: DeliverySettings,
        store: Store,
        head: watch::Receiver<i64>,
        log: Arc<LogCache>,
        config: Arc<EngineConfig>,
        control: Arc<WorkerControl>,
    ) -> Worker {
        Worker {
            spec,
            settings,
            store,
            head,
            log,
            config,
            control,
            group_paths: Mutex::new(HashMap::new()),
            caught_up_at: AtomicI64::new(i64::MAX),
            versions: Mutex::new(versions::RouteVersions::default()),
            stream: Mutex::new(stream_state::StreamState::default()),
        }
    }

    pub(crate) async fn run(self) {
        let mut head = self.head.clone();
        let id = self.spec.id;
        let health = HealthBoard::load(self.store.clone(), id, self.config.history.clone()).await;
        let mut stop = self.control.stop.subscribe();
        let sink = match Sink::build(&self.spec.target, self.settings.allow_local, &self.config.endpoints) {
            Ok(sink) => sink,
            Err(error) => {
                // Cannot even be set up (bad key, bad URL): pause, drop nothing, wait for a change.
                health.failed(&error, "paused", 1);
                health.flush(true).await;
                let _ = stop.wait_for(|s| *s).await;
                return;
            }
        };
        let breaker = Mutex::new(Breaker::new(self.config.breaker));
        let metrics = SendMetrics::new(id);
        let failing = AtomicUsize::new(0);
        let resting = AtomicUsize::new(0);
        loop {
            if *stop.borrow() {
                break;
            }
            if !self.hold_lease().await {
                health.state("standby");
                health.flush(false).await;
                // Poll often enough that a dead holder's destinations resume soon after its
                // lease runs out.
                self.pause(self.config.lease_ttl / 5, &mut stop).await;
                continue;
            }
            let sender = Sender {
                sink: &sink,
                breaker: &breaker,
                health: &health,
                config: &self.config,
                store: &self.store,
                destination_id: id,
                wake: &self.control.wake,
                metrics: &metrics,
                failing: &failing,
                resting: &resting,
            };
            let round = self.round(&sender);
            // Keep the lease alive while a round runs (a destination may be down for long); if
            // another process took it, abandon the round: its events stay after the cursor.
            let worked = tokio::select! {
                result = round => result,
                () = self.keep_lease() => Ok(false),
                () = flush_periodically(&health) => Ok(false),
                _ = stop.wait_for(|s| *s) => Ok(false),
            };
            health.flush(false).await;
            match worked {
                Ok(true) => {}
                Ok(false) => self.wait_for_work(&mut head, &mut stop).await,
                Err(error) => {
                    tracing::warn!(destination = id.get(), %error, "delivery round failed; retrying");
                    self.pause(Duration::from_secs(1), &mut stop).await;
                }
            }
        }
        health.flush(true).await;
        let _ = self.store.release_lease(id, &self.config.node_id).await;
    }

    /// One round: parked re-sends, a slice of a replay, then live events (see `follow`).
    /// `Ok(true)` if there may be more to do right away.
    async fn round(&self, sender: &Sender<'_>) -> Result<bool, auditrelay_store::StoreError> {
        let mut busy = self.resend_parked(sender).await?;
        busy |= self.replay_slice(sender).await?;
        busy |= self.follow(sender).await?;
        Ok(busy)
    }

    async fn resend_parked(&self, sender: &Sender<'_>) -> Result<bool, auditrelay_store::StoreError> {
        let wanted = self.store.parked_for_resend(self.spec.id, self.config.batch_size).await?;
        if wanted.is_empty() {
            return Ok(false);
        }
        // As first routed: the same position, chain and body (events parked before positions
        // were kept are sent as rendered now).
        let events = self.as_first_routed(&self.store.events_by_seq(&wanted).await?, true).await?;
        let delivered = deliver(sender, events).await;
        for seq in delivered {
            self.store.unpark(self.spec.id, seq).await?;
        }
        Ok(true)
    }

    async fn replay_slice(&self, sender: &Sender<'_>) -> Result<bool, auditrelay_store::StoreError> {
        let Some(replay) = self.store.open_replay(self.spec.id).await? else { return Ok(false) };
        let events: Vec<StoredEvent> = self
            .store
            .events_after(replay.next_seq - 1, self.config.batch_size)
            .await?
            .into_iter()
            .filter(|e| e.seq <= replay.to_seq)
            .collect();
        let Some(last) = events.last().map(|e| e.seq) else {
            self.store.advance_replay(replay.id, replay.next_seq, 0, true).await?;
            return Ok(true);
        };
        let in_window: Vec<StoredEvent> = events
            .into_iter()
            .filter(|e| {
                replay.created_after.is_none_or(|t| e.created_at >= t)
                    && replay.created_before.is_none_or(|t| e.created_at <= t)
            })
            .collect();
        let routed = self.as_first_routed(&in_window, true).await?;
        let count = routed.len() as i64;
        deliver(sender, routed).await;
        self.store.advance_replay(replay.id, last + 1, count, last >= replay.to_seq).await?;
        Ok(true)
    }

    /// The events this destination should get, as they will be sent.
    async fn route(&self, events: &[StoredEvent]) -> Result<Vec<Outgoing>, auditrelay_store::StoreError> {
        if let Some(last) = events.iter().map(|e| e.seq).max() {
            self.load_versions(last).await?;
        }
        let mut out = Vec::new();
        for event in events {
            let version = self.versions.lock().ok().and_then(|v| v.at(event.seq));
            let spec = version.as_deref().unwrap_or(&self.spec.route);
            let group_path = match event.group_id {
                Some(gid) => self.group_path(gid).await?,
                None => None,
            };
            let place = EventPlace {
                event_type: &event.event_type,
                root_group_id: event.root_group_id,
                group_path: group_path.as_deref(),
                project_id: event.project_id,
            };
            if routes(spec, &place, self.settings.ai_streaming_enabled) {
                out.push(Outgoing::from_stored(event).redact_ai_content(self.settings.redaction()));
            }
        }
        Ok(out)
    }

    /// Reads the routing versions up to `seq`. The events were read first, and a version
    /// commits with its change's audit event, so every version up to `seq` is visible now.
    async fn load_versions(&self, seq: i64) -> Result<(), auditrelay_store::StoreError> {
        let Some(after) = self.versions.lock().ok().filter(|v| v.needs(seq)).map(|v| v.loaded_upto()) else {
            return Ok(());
        };
        let mut read = Vec::new();
        for version in self.store.route_versions(self.spec.id, after, seq).await? {
            let mut namespace_filters = Vec::new();
            for filter in &version.namespace_filters {
                match *filter {
                    (Some(group_id), _) => {
                        // A filter whose group is gone is dropped, as the service does.
                        if let Some(full_path) = self.group_path(group_id).await? {
                            namespace_filters.push(NamespaceMatch::Group { full_path });
                        }
                    }
                    (None, Some(id)) => namespace_filters.push(NamespaceMatch::Project { id }),
                    (None, None) => {}
                }
            }
            // Only the filters are versioned: an inactive destination's worker is paused (it
            // resumes from its cursor), so a running one is active.
            let spec = RouteSpec {
                group_id: self.spec.route.group_id,
                active: self.spec.route.active,
                event_types: version.event_types,
                namespace_filters,
            };
            read.push((version.from_seq, spec));
        }
        if let Ok(mut versions) = self.versions.lock() {
            versions.add(seq, read);
        }
        Ok(())
    }

    async fn group_path(&self, group_id: i64) -> Result<Option<String>, auditrelay_store::StoreError> {
        if let Some(path) = self.group_paths.lock().ok().and_then(|paths| paths.get(&group_id).cloned()) {
            return Ok(path);
        }
        let path = self.store.group_by_id(auditrelay_core::GroupId(group_id)).await?.map(|g| g.full_path);
        if let Ok(mut paths) = self.group_paths.lock() {
            paths.insert(group_id, path.clone());
        }
        Ok(path)
    }

    async fn hold_lease(&self) -> bool {
        let expires = now_micros() + self.config.lease_ttl.as_micros() as i64;
        self.store.acquire_lease(self.spec.id, &self.config.node_id, expires).await.unwrap_or(false)
    }

    /// Renews the lease on a task of its own (see `lease`), so delivery work on this one never
    /// delays it; returns when it is lost.
    async fn keep_lease(&self) {
        let renewal = lease::Renewal {
            store: self.store.clone(),
            destination_id: self.spec.id,
            holder: self.config.node_id.clone(),
            ttl: self.config.lease_ttl,
        };
        let task = tokio::spawn(renewal.run());
        // Abandoning the round (stop, or its end) ends the renewal too.
        let _abort = lease::AbortOnDrop(task.abort_handle());
        if task.await.is_ok() {
            tracing::warn!(destination = self.spec.id.get(), "lost the delivery lease to another process");
        }
    }

    /// Waits for new events, a wake-up, the poll interval or a stop.
    async fn wait_for_work(&self, head: &mut watch::Receiver<i64>, stop: &mut watch::Receiver<bool>) {
        // Wait from where the last read found nothing: a commit that came in since counts.
        let seen = (*head.borrow_and_update()).min(self.caught_up_at.load(Ordering::Relaxed));
        let control = self.control.clone();
        tokio::select! {
            _ = head.wait_for(|h| *h > seen) => {}
            () = control.wake.notified() => {}
            () = tokio::time::sleep(self.config.poll_every) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }

    async fn pause(&self, wait: Duration, stop: &mut watch::Receiver<bool>) {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
}

/// Writes the health while a round runs: a destination that is failing shows it at once.
async fn flush_periodically(health: &HealthBoard) {
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        health.flush(false).await;
    }
}

/// Sends `events` in log order with a window of requests in flight. Returns the seqs that were
/// delivered (the others were parked). Returns only when every event has an outcome.
async fn deliver(sender: &Sender<'_>, events: Vec<Outgoing>) -> Vec<i64> {
    let units: Vec<Vec<Outgoing>> = events.chunks(sender.sink.unit_size()).map(<[Outgoing]>::to_vec).collect();
    let delivered: Vec<Vec<i64>> =
        futures_util::stream::iter(units.into_iter().map(|unit| async move { send_unit(sender, &unit).await }))
            .buffered(sender.config.in_flight.max(1))
            .collect()
            .await;
    delivered.into_iter().flatten().collect()
}

/// Sends one unit until it is delivered or parked; returns the seqs delivered. Transient and
/// auth failures are retried for as long as it takes (the breaker decides when); permanent ones
/// get a budget. A unit of several events that fails permanently is sent one event at a time,
/// so one bad event does not take its neighbours down with it.
async fn send_unit(sender: &Sender<'_>, unit: &[Outgoing]) -> Vec<i64> {
    let mut attempts: u32 = 0;
    let mut failing = Failing { counter: sender.failing, counted: false };
    let mut failing_since: Option<Instant> = None;
    loop {
        let permit = sender.breaker.lock().map(|mut b| b.permit(Instant::now())).unwrap_or(Permit::Send);
        if let Permit::WaitUntil(at) = permit {
            let state = sender.breaker.lock().map(|b| b.state().name()).unwrap_or("open");
            sender.health.state(state);
            let _resting = Resting::start(sender.resting);
            tokio::select! {
                () = tokio::time::sleep_until(at.into()) => {}
                () = sender.wake.notified() => {
                    if let Ok(mut b) = sender.breaker.lock() {
                        b.resume();
                    }
                }
            }
            continue;
        }
        let started = Instant::now();
        match sender.sink.send_attempt(sender.destination_id, attempts + 1, unit).await {
            Ok(()) => {
                if let Ok(mut b) = sender.breaker.lock() {
                    b.on_success(Instant::now());
                }
                sender.health.delivered(unit);
                record_delivered(sender.metrics, unit, started);
                return unit.iter().map(|e| e.seq).collect();
            }
            Err(error) => {
                attempts += 1;
                failing.mark();
                let since = *failing_since.get_or_insert(started);
                let (state, failures, holding) = match sender.breaker.lock() {
                    Ok(mut b) => {
                        b.on_failure(error.kind, Instant::now());
                        (b.state().name(), b.consecutive_failures(), b.holding())
                    }
                    Err(_) => ("open", attempts, false),
                };
                sender.health.failed(&error, state, failures);
                sender.metrics.failure(error.kind).increment(1);
                if error.kind == FailureKind::Permanent && unit.len() > 1 {
                    let mut delivered = Vec::new();
                    for event in unit {
                        delivered.extend(Box::pin(send_unit(sender, std::slice::from_ref(event))).await);
                    }
                    return delivered;
                }
                if error.kind == FailureKind::Permanent && attempts >= sender.config.retry.permanent_attempts {
                    park(sender, unit, attempts, &error).await;
                    return Vec::new();
                }
                let delay = match error.kind {
                    // Held back by the breaker: its probes (which grow with the outage) decide
                    // when, unless the destination asked for a wait.
                    FailureKind::Transient if holding && error.retry_after.is_none() => continue,
                    FailureKind::Transient => {
                        sender.config.retry.transient_delay(since.elapsed(), error.retry_after, rand::random::<f64>())
                    }
                    FailureKind::Permanent => {
                        sender.config.retry.delay(attempts, error.retry_after, rand::random::<f64>())
                    }
                    FailureKind::Auth => continue,
                };
                let _resting = Resting::start(sender.resting);
                tokio::time::sleep(delay).await;
            }
        }
    }
}

async fn park(sender: &Sender<'_>, unit: &[Outgoing], attempts: u32, error: &DeliveryError) {
    for event in unit {
        // Parking must not fail silently: keep trying, the cursor waits for it.
        while let Err(e) = sender
            .store
            .park(sender.destination_id, event.seq, i64::from(attempts), &error.message, error.status.map(i64::from))
            .await
        {
            tracing::error!(error = %e, "could not park an event; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    sender.metrics.parked.increment(unit.len() as u64);
}

fn record_delivered(metrics: &SendMetrics, unit: &[Outgoing], started: Instant) {
    metrics.delivered.increment(unit.len() as u64);
    metrics.request_seconds.record(started.elapsed().as_secs_f64());
    if let Some(newest) = unit.last() {
        let lag = (now_micros() - newest.created_at).max(0) as f64 / 1e6;
        metrics.lag_seconds.record(lag);
    }
}

fn kind_name(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Transient => "transient",
        FailureKind::Auth => "auth",
        FailureKind::Permanent => "permanent",
    }
}
