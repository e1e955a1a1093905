//! The service's state for health, readiness and metrics (`service.status()`): whether the
//! store answers, the log head, and the ClickHouse archive's position against the head, how far
//! behind it is, and its last error. Unauthenticated: the API decides who may see it.

use auditrelay_core::time::now_micros;
use serde::Serialize;

use super::Service;
use crate::error::ServiceResult;

#[derive(Debug, Clone, Serialize)]
pub struct ArchiveHealth {
    /// `ok` (caught up), `catching_up`, or `unreachable`.
    pub status: &'static str,
    pub archived_seq: Option<i64>,
    pub head_seq: i64,
    /// Events in the log not yet in the archive.
    pub backlog: i64,
    /// Age of the oldest event not yet archived (0 when caught up).
    pub lag_seconds: f64,
    /// This process writes to the archive (holds its lease).
    pub writer: bool,
    /// What the store records as archived (any node's writer).
    pub recorded_seq: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub last_success_at: Option<i64>,
}

/// The service's state: `service.status()`.
#[derive(Clone, Copy)]
pub struct Status<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn status(&self) -> Status<'_> {
        Status { ctx: self }
    }
}

impl Status<'_> {
    /// Whether the store answers (readiness, which shows the store's own error).
    pub async fn ping(&self) -> Result<(), auditrelay_store::StoreError> {
        self.ctx.store.ping().await
    }

    /// The last `seq` of the log.
    pub async fn head_seq(&self) -> ServiceResult<i64> {
        Ok(self.ctx.store.head_seq().await?)
    }

    /// None without `--clickhouse-url`. Also sets the archive's Prometheus gauges.
    pub async fn archive_health(&self) -> ServiceResult<Option<ArchiveHealth>> {
        let Some(archive) = &self.ctx.archive else { return Ok(None) };
        let status = archive.status();
        let head = self.ctx.store.head_seq().await?;
        let recorded = self.ctx.store.follower_seq(auditrelay_archive::FOLLOWER_NAME).await?;
        let archived = status.archived_seq.or(recorded).unwrap_or(0);
        let backlog = (head - archived).max(0);
        let lag_seconds = match self.ctx.store.first_created_after_seq(archived).await? {
            Some(created) if backlog > 0 => ((now_micros() - created).max(0) as f64) / 1e6,
            _ => 0.0,
        };
        metrics::gauge!("auditrelay_archive_backlog").set(backlog as f64);
        metrics::gauge!("auditrelay_archive_lag_seconds").set(lag_seconds);
        let state = match (status.reachable, backlog) {
            (false, _) => "unreachable",
            (true, 0) => "ok",
            (true, _) => "catching_up",
        };
        Ok(Some(ArchiveHealth {
            status: state,
            archived_seq: status.archived_seq,
            head_seq: head,
            backlog,
            lag_seconds,
            writer: status.writer,
            recorded_seq: recorded,
            last_error: status.last_error,
            last_error_at: status.last_error_at,
            last_success_at: status.last_success_at,
        }))
    }
}
