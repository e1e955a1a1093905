//! The archiver: follows the log after the archive's position and inserts batches into
//! ClickHouse; and the [`Archive`] handle that reads from it and reports its state.
//!
//! Resume rule (no duplicates without ClickHouse-side deduplication): a batch is the contiguous
//! `seq` range after the archive's position and goes in as one all-or-nothing `INSERT`, so the
//! archive always holds exactly the events `1..=max(seq)`. After any error, before inserting
//! again, the archiver asks ClickHouse for `max(seq)` and continues after it: an insert that
//! failed is retried, one that succeeded although its answer was lost is not repeated. The
//! position it records in the store (`log_followers`) is for metrics and health, and moves back
//! if the archive was emptied, so a fresh ClickHouse is filled from the start of the log.
//!
//! On several nodes sharing PostgreSQL, one holds the archive's lease and writes; the others
//! only watch the archive's position (for their reads).

use auditrelay_core::time::{Micros, now_micros};
use auditrelay_store::{EventFilter, SeqOrder, Store, StoredEvent};
use rand::Rng;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

use crate::client::ClickHouse;
use crate::{ArchiveError, Result, query, table};

/// The archiver's name in `log_followers`.
pub const FOLLOWER_NAME: &str = "clickhouse_archive";
/// Its row in `delivery_leases`, keyed by destination id (destination ids are positive, so this
/// one is free).
const LEASE_ID: auditrelay_core::DestinationId = auditrelay_core::DestinationId(-1);
/// How often an idle archiver looks for events written by other nodes, and observers poll.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// A read waits for this process's archiver only when it is at most this many events behind.
const CLOSE_ENOUGH: i64 = 10_000;

#[derive(Debug, Clone)]
pub struct ArchiverConfig {
    /// This process's name in the archive lease (the delivery engine's node id).
    pub node_id: String,
    pub lease_ttl: Duration,
    /// Events per `INSERT`.
    pub batch_size: i64,
    pub retry_base: Duration,
    pub retry_max: Duration,
}

impl Default for ArchiverConfig {
    fn default() -> Self {
        ArchiverConfig {
            node_id: "auditrelay".into(),
            lease_ttl: Duration::from_secs(60),
            batch_size: 2000,
            retry_base: Duration::from_millis(250),
            retry_max: Duration::from_secs(10),
        }
    }
}

/// What this process knows about the archive, for reads, metrics and health.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ArchiveStatus {
    /// Every event with `seq` up to this is in ClickHouse (None before the first contact).
    pub archived_seq: Option<i64>,
    /// The last contact with ClickHouse succeeded.
    pub reachable: bool,
    /// This process holds the archive's lease and writes to it.
    pub writer: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<Micros>,
    pub last_success_at: Option<Micros>,
    /// Events this process has inserted.
    pub inserted: u64,
}

/// The archive of one process. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Archive {
    client: ClickHouse,
    /// How long a read waits for ClickHouse before it falls back to the operational store.
    read_timeout: Duration,
    status: Arc<watch::Sender<ArchiveStatus>>,
}

enum Step {
    Worked,
    Idle,
}

/// The archiver loop's own bookkeeping.
#[derive(Default)]
struct Progress {
    /// The position was read from ClickHouse since the last error.
    synced: bool,
    lease_renewed: Option<Instant>,
    /// When the position was last written to the store: at most once a second, as it is only
    /// shown (on SQLite every write shares the one write connection with ingest).
    recorded: Option<Instant>,
    recorded_seq: Option<i64>,
}

impl Progress {
    async fn record(&mut self, store: &Store, seq: i64) -> Result<()> {
        store.set_follower_seq(FOLLOWER_NAME, seq).await?;
        self.recorded = Some(Instant::now());
        self.recorded_seq = Some(seq);
        Ok(())
    }
}

/// How often the archive's position is written to the store while archiving.
const RECORD_EVERY: Duration = Duration::from_secs(1);

impl Archive {
    /// `timeout` bounds the archiver's requests; `read_timeout` the reads, which then fall back
    /// to the operational store (a hung ClickHouse costs one read that long, not every read).
    pub fn new(url: &str, timeout: Duration, read_timeout: Duration) -> Result<Archive> {
        let (status, _) = watch::channel(ArchiveStatus::default());
        Ok(Archive { client: ClickHouse::new(url, timeout)?, read_timeout, status: Arc::new(status) })
    }

    pub fn status(&self) -> ArchiveStatus {
        self.status.borrow().clone()
    }

    /// The `seq` up to which the archive can answer a read that must see every event up to
    /// `head`; None when it is behind or ClickHouse did not answer last time. Under steady
    /// ingest the archive trails the head by one insert, so when this process is the writer and
    /// close behind, the read waits up to `patience` for it (instead of always falling back).
    pub async fn answers_up_to(&self, head: i64, patience: Duration) -> Option<i64> {
        let ready = |s: &ArchiveStatus| s.reachable && s.archived_seq.is_some_and(|a| a >= head);
        let mut updates = self.status.subscribe();
        {
            let now = updates.borrow_and_update();
            if ready(&now) {
                return now.archived_seq;
            }
            let close = now.writer && now.reachable && now.archived_seq.is_some_and(|a| head - a <= CLOSE_ENOUGH);
            if !close || patience.is_zero() {
                return None;
            }
        }
        let waited = tokio::time::timeout(patience, updates.wait_for(|s| ready(s) || !s.reachable)).await;
        match waited {
            Ok(Ok(status)) if ready(&status) => status.archived_seq,
            _ => None,
        }
    }

    /// Starts the archiver task; it runs until aborted (an abort mid-insert is safe: see the
    /// resume rule).
    pub fn spawn(
        &self,
        store: Store,
        head: watch::Receiver<i64>,
        config: ArchiverConfig,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.clone().run(store, head, config))
    }

    /// Gives the archive's lease up (graceful shutdown), so another node takes over at once.
    pub async fn release_lease(&self, store: &Store, node_id: &str) -> Result<()> {
        if self.status().writer {
            store.release_lease(LEASE_ID, node_id).await?;
        }
        Ok(())
    }

    pub async fn list_events(
        &self,
        filter: &EventFilter,
        group_ids: &[i64],
        upto: i64,
        order: SeqOrder,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>> {
        let select = query::list_sql(filter, group_ids, upto, order, offset, limit);
        let query = select.bind_to(self.client.query(&select.sql));
        let rows = self.observe(self.client.fetch_all::<table::EventRow>(query, Some(self.read_timeout)).await)?;
        Ok(rows.into_iter().map(StoredEvent::from).collect())
    }

    pub async fn count_events(&self, filter: &EventFilter, group_ids: &[i64], upto: i64) -> Result<i64> {
        let select = query::count_sql(filter, group_ids, upto);
        let query = select.bind_to(self.client.query(&select.sql));
        let rows = self.observe(self.client.fetch_all::<u64>(query, Some(self.read_timeout)).await)?;
        let count = rows.first().ok_or_else(|| ArchiveError::BadRow("count() without a row".into()))?;
        i64::try_from(*count).map_err(|_| ArchiveError::BadRow(format!("count() of {count}")))
    }

    /// Notes a failed read, so the next reads go to the operational store at once until the
    /// archiver has reached ClickHouse again.
    fn observe<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(error) = &result {
            self.failed(error);
        }
        result
    }

    async fn run(self, store: Store, mut head: watch::Receiver<i64>, config: ArchiverConfig) {
        let mut progress = Progress::default();
        let mut failures: u32 = 0;
        // Wake often enough to renew the lease before it expires.
        let idle = IDLE_POLL.min(config.lease_ttl / 3);
        loop {
            match self.step(&store, &config, &mut progress).await {
                Ok(Step::Worked) => failures = 0,
                Ok(Step::Idle) => {
                    failures = 0;
                    tokio::select! {
                        changed = head.changed() => if changed.is_err() { tokio::time::sleep(idle).await },
                        () = tokio::time::sleep(idle) => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "ClickHouse archive: will retry");
                    self.failed(&error);
                    progress.synced = false;
                    failures = failures.saturating_add(1);
                    tokio::time::sleep(backoff(&config, failures)).await;
                }
            }
        }
    }

    async fn step(&self, store: &Store, config: &ArchiverConfig, progress: &mut Progress) -> Result<Step> {
        let writer = self.hold_lease(store, config, &mut progress.lease_renewed).await?;
        if !progress.synced || !self.status().reachable {
            let was_reachable = self.status().reachable;
            let archived = self.sync(writer).await?;
            if !was_reachable {
                tracing::info!(archived, writer, "ClickHouse archive reached");
            }
            progress.synced = writer;
            if writer {
                progress.record(store, archived).await?;
            }
        }
        if !writer {
            // Observers re-read the archive's position on every tick.
            progress.synced = false;
            return Ok(Step::Idle);
        }
        let archived = self.status().archived_seq.unwrap_or(0);
        let events = store.events_after(archived, config.batch_size).await?;
        let Some(last) = events.last().map(|e| e.seq) else {
            if progress.recorded_seq != Some(archived) {
                progress.record(store, archived).await?;
            }
            return Ok(Step::Idle);
        };
        let rows: Vec<table::ArchiveRow> = events.iter().map(table::row).collect();
        self.client.insert(table::TABLE, &rows).await?;
        self.update(|s| {
            s.archived_seq = Some(last);
            s.reachable = true;
            s.last_success_at = Some(now_micros());
            s.inserted += events.len() as u64;
        });
        metrics::counter!("auditrelay_archive_events_total").increment(events.len() as u64);
        metrics::gauge!("auditrelay_archive_seq").set(last as f64);
        if progress.recorded.is_none_or(|at| at.elapsed() >= RECORD_EVERY) {
            progress.record(store, last).await?;
        }
        Ok(Step::Worked)
    }

    /// Creates the table if missing and reads the archive's position from ClickHouse itself.
    async fn sync(&self, writer: bool) -> Result<i64> {
        if writer {
            self.client.create_database().await?;
            self.client.execute(table::CREATE_TABLE).await?;
        }
        // On an empty table `max` is 0 in ClickHouse (not NULL).
        let query = self.client.query(&format!("SELECT max(seq) FROM {}", table::TABLE));
        let archived = self.client.fetch_all::<i64>(query, None).await?.first().copied().unwrap_or(0);
        self.update(|s| {
            s.archived_seq = Some(archived);
            s.reachable = true;
            s.last_success_at = Some(now_micros());
        });
        metrics::gauge!("auditrelay_archive_up").set(1.0);
        metrics::gauge!("auditrelay_archive_seq").set(archived as f64);
        Ok(archived)
    }

    /// Takes or renews the archive lease (renewed every third of its lifetime).
    async fn hold_lease(&self, store: &Store, config: &ArchiverConfig, renewed: &mut Option<Instant>) -> Result<bool> {
        if renewed.is_some_and(|at| at.elapsed() < config.lease_ttl / 3) {
            return Ok(true);
        }
        let expires = now_micros() + config.lease_ttl.as_micros() as i64;
        let held = store.acquire_lease(LEASE_ID, &config.node_id, expires).await?;
        *renewed = held.then(Instant::now);
        self.update(|s| s.writer = held);
        Ok(held)
    }

    fn failed(&self, error: &ArchiveError) {
        let unreachable = !matches!(error, ArchiveError::Store(_));
        self.update(|s| {
            s.last_error = Some(error.to_string());
            s.last_error_at = Some(now_micros());
            if unreachable {
                s.reachable = false;
            }
        });
        metrics::counter!("auditrelay_archive_errors_total").increment(1);
        if unreachable {
            metrics::gauge!("auditrelay_archive_up").set(0.0);
        }
    }

    fn update(&self, change: impl FnOnce(&mut ArchiveStatus)) {
        self.status.send_modify(change);
    }
}

/// Exponential backoff with ±20 % jitter, capped.
fn backoff(config: &ArchiverConfig, failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    let delay = config.retry_base.saturating_mul(1 << exponent).min(config.retry_max);
    delay.mul_f64(rand::rng().random_range(0.8..1.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let config = ArchiverConfig::default();
        let first = backoff(&config, 1);
        assert!(first >= Duration::from_millis(200) && first <= Duration::from_millis(300), "{first:?}");
        assert!(backoff(&config, 3) >= Duration::from_millis(800));
        assert!(backoff(&config, 40) <= Duration::from_secs(12));
    }

    #[tokio::test]
    async fn answers_only_when_reachable_and_caught_up() {
        let archive = Archive::new("http://127.0.0.1:1", Duration::from_secs(1), Duration::from_secs(1)).unwrap();
        let patience = Duration::from_millis(50);
        assert_eq!(archive.answers_up_to(0, patience).await, None);
        archive.update(|s| {
            s.archived_seq = Some(10);
            s.reachable = true;
        });
        assert_eq!(archive.answers_up_to(10, patience).await, Some(10));
        // Behind, and not the writer: no waiting.
        let started = Instant::now();
        assert_eq!(archive.answers_up_to(11, patience).await, None);
        assert!(started.elapsed() < patience);
        archive.failed(&ArchiveError::BadRow("x".into()));
        assert_eq!(archive.answers_up_to(5, patience).await, None);
    }

    #[tokio::test]
    async fn a_read_waits_briefly_for_the_writer_to_catch_up() {
        let archive = Archive::new("http://127.0.0.1:1", Duration::from_secs(1), Duration::from_secs(1)).unwrap();
        archive.update(|s| {
            s.archived_seq = Some(10);
            s.reachable = true;
            s.writer = true;
        });
        let writer = archive.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            writer.update(|s| s.archived_seq = Some(15));
        });
        assert_eq!(archive.answers_up_to(14, Duration::from_secs(5)).await, Some(15));
        // Never reaching the head: the read gives up after its patience.
        let started = Instant::now();
        assert_eq!(archive.answers_up_to(16, Duration::from_millis(50)).await, None);
        assert!(started.elapsed() >= Duration::from_millis(50));
        // Far behind: no waiting at all.
        assert_eq!(archive.answers_up_to(15 + CLOSE_ENOUGH + 1, Duration::from_secs(5)).await, None);
    }
}
