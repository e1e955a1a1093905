//! Delivery state: cursors, parked events, leases, health and replay jobs.

use auditrelay_core::time::{Micros, now_micros};
use sqlx::Row;
use sqlx::any::AnyRow;

use auditrelay_core::DestinationId;

use crate::id_columns::id;
use crate::{Result, Store};

#[derive(Debug, Clone, PartialEq)]
pub struct Parked {
    pub destination_id: DestinationId,
    pub seq: i64,
    pub attempts: i64,
    pub last_error: String,
    pub last_status: Option<i64>,
    pub parked_at: Micros,
    pub resend: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Health {
    pub destination_id: DestinationId,
    pub state: String,
    pub consecutive_failures: i64,
    pub last_success_at: Option<Micros>,
    pub last_error: Option<String>,
    pub last_error_status: Option<i64>,
    pub last_error_at: Option<Micros>,
    pub delivered: i64,
    pub updated_at: Micros,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub id: i64,
    pub destination_id: DestinationId,
    pub from_seq: i64,
    pub to_seq: i64,
    pub created_after: Option<Micros>,
    pub created_before: Option<Micros>,
    pub next_seq: i64,
    pub sent: i64,
    /// `pending`, `running`, `done`.
    pub state: String,
    pub created_at: Micros,
    pub finished_at: Option<Micros>,
}

const PARKED_COLUMNS: &str = "destination_id, seq, attempts, last_error, last_status, parked_at, resend";
const HEALTH_COLUMNS: &str = "destination_id, state, consecutive_failures, last_success_at, last_error, last_error_status, last_error_at, delivered, updated_at";
const REPLAY_COLUMNS: &str = "id, destination_id, from_seq, to_seq, created_after, created_before, next_seq, sent, state, created_at, finished_at";

fn parked(row: &AnyRow) -> Result<Parked> {
    Ok(Parked {
        destination_id: id(row, "destination_id")?,
        seq: row.try_get("seq")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        last_status: row.try_get("last_status")?,
        parked_at: row.try_get("parked_at")?,
        resend: row.try_get::<i64, _>("resend")? != 0,
    })
}

fn health(row: &AnyRow) -> Result<Health> {
    Ok(Health {
        destination_id: id(row, "destination_id")?,
        state: row.try_get("state")?,
        consecutive_failures: row.try_get("consecutive_failures")?,
        last_success_at: row.try_get("last_success_at")?,
        last_error: row.try_get("last_error")?,
        last_error_status: row.try_get("last_error_status")?,
        last_error_at: row.try_get("last_error_at")?,
        delivered: row.try_get("delivered")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn replay(row: &AnyRow) -> Result<Replay> {
    Ok(Replay {
        id: row.try_get("id")?,
        destination_id: id(row, "destination_id")?,
        from_seq: row.try_get("from_seq")?,
        to_seq: row.try_get("to_seq")?,
        created_after: row.try_get("created_after")?,
        created_before: row.try_get("created_before")?,
        next_seq: row.try_get("next_seq")?,
        sent: row.try_get("sent")?,
        state: row.try_get("state")?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

impl Store {
    /// The destination's cursor; created at `start` the first time.
    pub async fn cursor_or_init(&self, destination_id: DestinationId, start: i64) -> Result<i64> {
        if let Some(seq) = self.cursor(destination_id).await? {
            return Ok(seq);
        }
        sqlx::query("INSERT INTO delivery_cursors (destination_id, seq, updated_at) VALUES ($1, $2, $3) ON CONFLICT (destination_id) DO NOTHING")
            .bind(destination_id.get())
            .bind(start)
            .bind(now_micros())
            .execute(&self.write)
            .await?;
        Ok(sqlx::query_scalar("SELECT seq FROM delivery_cursors WHERE destination_id = $1")
            .bind(destination_id.get())
            .fetch_one(&self.read)
            .await?)
    }

    pub async fn cursor(&self, destination_id: DestinationId) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT seq FROM delivery_cursors WHERE destination_id = $1")
            .bind(destination_id.get())
            .fetch_optional(&self.read)
            .await?)
    }

    /// Moves the cursor forward (never back).
    pub async fn advance_cursor(&self, destination_id: DestinationId, seq: i64) -> Result<()> {
        sqlx::query("UPDATE delivery_cursors SET seq = $1, updated_at = $2 WHERE destination_id = $3 AND seq < $1")
            .bind(seq)
            .bind(now_micros())
            .bind(destination_id.get())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn park(
        &self,
        destination_id: DestinationId,
        seq: i64,
        attempts: i64,
        error: &str,
        status: Option<i64>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO delivery_parked (destination_id, seq, attempts, last_error, last_status, parked_at, resend) \
             VALUES ($1, $2, $3, $4, $5, $6, 0) ON CONFLICT (destination_id, seq) DO UPDATE SET \
             attempts = delivery_parked.attempts + excluded.attempts, last_error = excluded.last_error, \
             last_status = excluded.last_status, parked_at = excluded.parked_at, resend = 0",
        )
        .bind(destination_id.get())
        .bind(seq)
        .bind(attempts)
        .bind(error)
        .bind(status)
        .bind(now_micros())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn parked_of(&self, destination_id: DestinationId, limit: i64) -> Result<Vec<Parked>> {
        let sql = format!(
            "SELECT {PARKED_COLUMNS} FROM delivery_parked WHERE destination_id = $1 ORDER BY seq LIMIT {limit}"
        );
        sqlx::query(&sql).bind(destination_id.get()).fetch_all(&self.read).await?.iter().map(parked).collect()
    }

    /// Parked events flagged for another attempt, oldest first.
    pub async fn parked_for_resend(&self, destination_id: DestinationId, limit: i64) -> Result<Vec<i64>> {
        let sql = format!(
            "SELECT seq FROM delivery_parked WHERE destination_id = $1 AND resend = 1 ORDER BY seq LIMIT {limit}"
        );
        Ok(sqlx::query_scalar(&sql).bind(destination_id.get()).fetch_all(&self.read).await?)
    }

    pub async fn count_parked(&self, destination_id: DestinationId) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM delivery_parked WHERE destination_id = $1")
            .bind(destination_id.get())
            .fetch_one(&self.read)
            .await?)
    }

    /// Flags every parked event of a destination for another attempt. Returns how many.
    pub async fn request_resend(&self, destination_id: DestinationId) -> Result<u64> {
        let done = sqlx::query("UPDATE delivery_parked SET resend = 1 WHERE destination_id = $1 AND resend = 0")
            .bind(destination_id.get())
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn unpark(&self, destination_id: DestinationId, seq: i64) -> Result<()> {
        sqlx::query("DELETE FROM delivery_parked WHERE destination_id = $1 AND seq = $2")
            .bind(destination_id.get())
            .bind(seq)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Takes the lease of a destination for `holder` until `expires_at`: succeeds when it is
    /// free, expired, or already this holder's.
    pub async fn acquire_lease(&self, destination_id: DestinationId, holder: &str, expires_at: Micros) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO delivery_leases (destination_id, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (destination_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE delivery_leases.holder = excluded.holder OR delivery_leases.expires_at < $4",
        )
        .bind(destination_id.get())
        .bind(holder)
        .bind(expires_at)
        .bind(now_micros())
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn release_lease(&self, destination_id: DestinationId, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM delivery_leases WHERE destination_id = $1 AND holder = $2")
            .bind(destination_id.get())
            .bind(holder)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn lease_holder(&self, destination_id: DestinationId) -> Result<Option<(String, Micros)>> {
        let row = sqlx::query("SELECT holder, expires_at FROM delivery_leases WHERE destination_id = $1")
            .bind(destination_id.get())
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    pub async fn save_health(&self, h: &Health) -> Result<()> {
        sqlx::query(
            "INSERT INTO delivery_health (destination_id, state, consecutive_failures, last_success_at, last_error, last_error_status, last_error_at, delivered, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (destination_id) DO UPDATE SET state = excluded.state, \
             consecutive_failures = excluded.consecutive_failures, last_success_at = excluded.last_success_at, last_error = excluded.last_error, \
             last_error_status = excluded.last_error_status, last_error_at = excluded.last_error_at, delivered = excluded.delivered, updated_at = excluded.updated_at",
        )
        .bind(h.destination_id.get())
        .bind(h.state.as_str())
        .bind(h.consecutive_failures)
        .bind(h.last_success_at)
        .bind(h.last_error.as_deref())
        .bind(h.last_error_status)
        .bind(h.last_error_at)
        .bind(h.delivered)
        .bind(h.updated_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn health(&self, destination_id: DestinationId) -> Result<Option<Health>> {
        let sql = format!("SELECT {HEALTH_COLUMNS} FROM delivery_health WHERE destination_id = $1");
        sqlx::query(&sql).bind(destination_id.get()).fetch_optional(&self.read).await?.as_ref().map(health).transpose()
    }

    /// The oldest event after `seq` (its age is the destination's lag).
    pub async fn first_created_after_seq(&self, seq: i64) -> Result<Option<Micros>> {
        Ok(sqlx::query_scalar("SELECT created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT 1")
            .bind(seq)
            .fetch_optional(&self.read)
            .await?)
    }

    pub async fn create_replay(
        &self,
        destination_id: DestinationId,
        from_seq: i64,
        to_seq: i64,
        created_after: Option<Micros>,
        created_before: Option<Micros>,
    ) -> Result<Replay> {
        let sql = format!(
            "INSERT INTO delivery_replays (destination_id, from_seq, to_seq, created_after, created_before, next_seq, sent, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $2, 0, 'pending', $6) RETURNING {REPLAY_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(destination_id.get())
            .bind(from_seq)
            .bind(to_seq)
            .bind(created_after)
            .bind(created_before)
            .bind(now_micros())
            .fetch_one(&self.write)
            .await?;
        replay(&row)
    }

    pub async fn replay(&self, id: i64) -> Result<Option<Replay>> {
        let sql = format!("SELECT {REPLAY_COLUMNS} FROM delivery_replays WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.read).await?.as_ref().map(replay).transpose()
    }

    /// The oldest unfinished replay of a destination.
    pub async fn open_replay(&self, destination_id: DestinationId) -> Result<Option<Replay>> {
        let sql = format!(
            "SELECT {REPLAY_COLUMNS} FROM delivery_replays WHERE destination_id = $1 AND state <> 'done' ORDER BY id LIMIT 1"
        );
        sqlx::query(&sql).bind(destination_id.get()).fetch_optional(&self.read).await?.as_ref().map(replay).transpose()
    }

    pub async fn advance_replay(&self, id: i64, next_seq: i64, sent: i64, done: bool) -> Result<()> {
        sqlx::query(
            "UPDATE delivery_replays SET next_seq = $1, sent = sent + $2, state = $3, finished_at = $4 WHERE id = $5",
        )
        .bind(next_seq)
        .bind(sent)
        .bind(if done { "done" } else { "running" })
        .bind(done.then(now_micros))
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The `seq` range holding events created in [after, before] (for replays by time).
    pub async fn seq_range_for_time(&self, after: Option<Micros>, before: Option<Micros>) -> Result<(i64, i64)> {
        let row = sqlx::query("SELECT COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) FROM events WHERE created_at >= $1 AND created_at <= $2")
            .bind(after.unwrap_or(i64::MIN))
            .bind(before.unwrap_or(i64::MAX))
            .fetch_one(&self.read)
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Events with these `seq`s, in order (for re-sending parked events).
    pub async fn events_by_seq(&self, seqs: &[i64]) -> Result<Vec<crate::StoredEvent>> {
        let mut out = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            out.extend(self.events_after(seq - 1, 1).await?.into_iter().filter(|e| e.seq == seq));
        }
        Ok(out)
    }
}
