//! Provable streams' state (`0011_streams.sql`): each destination's positions as first routed,
//! the stream head, signed checkpoints, the instance's signing keys and the in-band option.

use auditrelay_core::time::{Micros, now_micros};
use sqlx::Row;
use sqlx::any::AnyRow;

use auditrelay_core::DestinationId;

use crate::id_columns::id;
use crate::{Result, Store, StoreError};

/// The last position handed out on a destination's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHead {
    pub position: i64,
    /// `chain(position)`, lowercase hex.
    pub chain: String,
    /// The `seq` of the event at `position` (or `started_seq` before the first).
    pub last_seq: i64,
    /// The cursor when the stream began; events at or before it have no position.
    pub started_seq: i64,
}

/// One position of a stream, as first routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    pub position: i64,
    pub seq: i64,
    pub body_sha256: String,
    pub chain: String,
    /// The body as sent when it is not the event's plain rendering (AI content redacted).
    pub body: Option<String>,
}

/// A stored checkpoint: the SignedCheckpoint JSON and whether it reached the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub destination_id: DestinationId,
    pub sequence: i64,
    pub signed: String,
    pub created_at: Micros,
    pub delivered: bool,
}

/// One of the instance's signing keys; `sealed_secret` is opened by the service only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    pub key_id: String,
    pub public_key: String,
    pub sealed_secret: String,
    pub valid_from: Micros,
    pub valid_until: Option<Micros>,
}

/// Rows per multi-row insert (6 parameters each, well under SQLite's bound-parameter limit).
const ROWS_PER_INSERT: usize = 100;

const ENTRY_COLUMNS: &str = "position, seq, body_sha256, chain, body";

fn entry(row: &AnyRow) -> Result<StreamEntry> {
    Ok(StreamEntry {
        position: row.try_get("position")?,
        seq: row.try_get("seq")?,
        body_sha256: row.try_get("body_sha256")?,
        chain: row.try_get("chain")?,
        body: row.try_get("body")?,
    })
}

fn checkpoint(row: &AnyRow) -> Result<StoredCheckpoint> {
    Ok(StoredCheckpoint {
        destination_id: id(row, "destination_id")?,
        sequence: row.try_get("sequence")?,
        signed: row.try_get("signed")?,
        created_at: row.try_get("created_at")?,
        delivered: row.try_get::<i64, _>("delivered")? != 0,
    })
}

fn key(row: &AnyRow) -> Result<SigningKeyRow> {
    Ok(SigningKeyRow {
        key_id: row.try_get("key_id")?,
        public_key: row.try_get("public_key")?,
        sealed_secret: row.try_get("sealed_secret")?,
        valid_from: row.try_get("valid_from")?,
        valid_until: row.try_get("valid_until")?,
    })
}

impl Store {
    pub async fn stream_head(&self, destination_id: DestinationId) -> Result<Option<StreamHead>> {
        let row =
            sqlx::query("SELECT position, chain, last_seq, started_seq FROM stream_heads WHERE destination_id = $1")
                .bind(destination_id.get())
                .fetch_optional(&self.read)
                .await?;
        row.map(|row| {
            Ok(StreamHead {
                position: row.try_get("position")?,
                chain: row.try_get("chain")?,
                last_seq: row.try_get("last_seq")?,
                started_seq: row.try_get("started_seq")?,
            })
        })
        .transpose()
    }

    /// The head, created at position 0 with `genesis` the first time (`started_seq`: the cursor).
    pub async fn stream_head_or_init(
        &self,
        destination_id: DestinationId,
        started_seq: i64,
        genesis: &str,
    ) -> Result<StreamHead> {
        if let Some(head) = self.stream_head(destination_id).await? {
            return Ok(head);
        }
        sqlx::query(
            "INSERT INTO stream_heads (destination_id, position, chain, last_seq, started_seq) \
             VALUES ($1, 0, $2, $3, $3) ON CONFLICT (destination_id) DO NOTHING",
        )
        .bind(destination_id.get())
        .bind(genesis)
        .bind(started_seq)
        .execute(&self.write)
        .await?;
        self.stream_head(destination_id).await?.ok_or_else(|| StoreError::Conflict("the stream head".into()))
    }

    /// Records newly routed positions and moves the head, in one transaction. The head moves
    /// only from `from` (what this worker last read): if another node moved it meanwhile, the
    /// write is refused with `Conflict` and nothing is recorded.
    pub async fn append_stream(
        &self,
        destination_id: DestinationId,
        from: &StreamHead,
        entries: &[StreamEntry],
    ) -> Result<()> {
        let Some(last) = entries.last() else { return Ok(()) };
        let mut tx = crate::begin::begin(&self.write).await?;
        if self.dialect == crate::Dialect::Postgres {
            // The destination's row first, as its deletion takes it (and then cascades to the
            // head): taking the head first and the destination with the positions' foreign key
            // deadlocked against a concurrent deletion.
            sqlx::query("SELECT 1 FROM destinations WHERE id = $1 FOR KEY SHARE")
                .bind(destination_id.get())
                .fetch_optional(&mut *tx)
                .await?;
        }
        let moved = sqlx::query(
            "UPDATE stream_heads SET position = $1, chain = $2, last_seq = $3 \
             WHERE destination_id = $4 AND position = $5",
        )
        .bind(last.position)
        .bind(&last.chain)
        .bind(last.seq)
        .bind(destination_id.get())
        .bind(from.position)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Err(StoreError::Conflict("the stream head (another node moved it)".into()));
        }
        for chunk in entries.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO stream_positions (destination_id, position, seq, body_sha256, chain, body) VALUES {}",
                self.dialect.values_rows(chunk.len(), 6)
            );
            let mut query = sqlx::query(&sql);
            for e in chunk {
                query = query
                    .bind(destination_id.get())
                    .bind(e.position)
                    .bind(e.seq)
                    .bind(&e.body_sha256)
                    .bind(&e.chain)
                    .bind(e.body.clone());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Positions whose events have `after < seq <= upto`, in order.
    pub async fn stream_entries_between(
        &self,
        destination_id: DestinationId,
        after: i64,
        upto: i64,
    ) -> Result<Vec<StreamEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM stream_positions WHERE destination_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq"
        );
        let rows = sqlx::query(&sql).bind(destination_id.get()).bind(after).bind(upto).fetch_all(&self.read).await?;
        rows.iter().map(entry).collect()
    }

    /// The positions of the given events, those that have one.
    pub async fn stream_entries_for(&self, destination_id: DestinationId, seqs: &[i64]) -> Result<Vec<StreamEntry>> {
        let mut out = Vec::with_capacity(seqs.len());
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM stream_positions WHERE destination_id = $1 AND seq = $2");
        for &seq in seqs {
            if let Some(row) = sqlx::query(&sql).bind(destination_id.get()).bind(seq).fetch_optional(&self.read).await?
            {
                out.push(entry(&row)?);
            }
        }
        Ok(out)
    }

    /// The last position whose event is at or before `seq` (what the cursor has passed).
    pub async fn stream_entry_at_or_before(
        &self,
        destination_id: DestinationId,
        seq: i64,
    ) -> Result<Option<StreamEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM stream_positions WHERE destination_id = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1"
        );
        let row = sqlx::query(&sql).bind(destination_id.get()).bind(seq).fetch_optional(&self.read).await?;
        row.as_ref().map(entry).transpose()
    }

    /// Parked positions up to `position`: (position, body digest), ascending.
    ///
    /// Driven from the parked events (a handful) into the positions by seq: SQLite otherwise
    /// walks every position of the stream up to `position` at each checkpoint. `CROSS JOIN`
    /// is how SQLite is told the loop order; PostgreSQL plans it as any inner join.
    pub async fn parked_positions(&self, destination_id: DestinationId, position: i64) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT p.position, p.body_sha256 FROM delivery_parked d CROSS JOIN stream_positions p \
             WHERE d.destination_id = $1 AND p.destination_id = d.destination_id AND p.seq = d.seq \
             AND p.position <= $2 ORDER BY p.position",
        )
        .bind(destination_id.get())
        .bind(position)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("position")?, r.try_get("body_sha256")?))).collect()
    }

    pub async fn insert_checkpoint(&self, destination_id: DestinationId, sequence: i64, signed: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO stream_checkpoints (destination_id, sequence, signed, created_at, delivered) \
             VALUES ($1, $2, $3, $4, 0) ON CONFLICT (destination_id, sequence) DO NOTHING",
        )
        .bind(destination_id.get())
        .bind(sequence)
        .bind(signed)
        .bind(now_micros())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn mark_checkpoint_delivered(&self, destination_id: DestinationId, sequence: i64) -> Result<()> {
        sqlx::query("UPDATE stream_checkpoints SET delivered = 1 WHERE destination_id = $1 AND sequence = $2")
            .bind(destination_id.get())
            .bind(sequence)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Checkpoints with `sequence > after`, ascending, at most `limit`.
    pub async fn checkpoints_after(
        &self,
        destination_id: DestinationId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredCheckpoint>> {
        let sql = format!(
            "SELECT destination_id, sequence, signed, created_at, delivered FROM stream_checkpoints \
             WHERE destination_id = $1 AND sequence > $2 ORDER BY sequence LIMIT {}",
            limit.max(0)
        );
        let rows = sqlx::query(&sql).bind(destination_id.get()).bind(after).fetch_all(&self.read).await?;
        rows.iter().map(checkpoint).collect()
    }

    pub async fn last_checkpoint(&self, destination_id: DestinationId) -> Result<Option<StoredCheckpoint>> {
        let row = sqlx::query(
            "SELECT destination_id, sequence, signed, created_at, delivered FROM stream_checkpoints \
             WHERE destination_id = $1 ORDER BY sequence DESC LIMIT 1",
        )
        .bind(destination_id.get())
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(checkpoint).transpose()
    }

    /// Every signing key, oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>> {
        let rows = sqlx::query(
            "SELECT key_id, public_key, sealed_secret, valid_from, valid_until FROM stream_signing_keys ORDER BY valid_from, key_id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(key).collect()
    }

    /// Makes `new` the current key; the previous current key stays listed, valid until now.
    pub async fn install_signing_key(&self, new: &SigningKeyRow) -> Result<()> {
        let mut tx = crate::begin::begin(&self.write).await?;
        sqlx::query("UPDATE stream_signing_keys SET valid_until = $1 WHERE valid_until IS NULL")
            .bind(new.valid_from)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO stream_signing_keys (key_id, public_key, sealed_secret, valid_from, valid_until) \
             VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(&new.key_id)
        .bind(&new.public_key)
        .bind(&new.sealed_secret)
        .bind(new.valid_from)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn in_band_checkpoints(&self, destination_id: DestinationId) -> Result<bool> {
        let value: Option<i64> =
            sqlx::query_scalar("SELECT in_band_checkpoints FROM stream_options WHERE destination_id = $1")
                .bind(destination_id.get())
                .fetch_optional(&self.read)
                .await?;
        Ok(value.unwrap_or(0) != 0)
    }

    pub async fn set_in_band_checkpoints(&self, destination_id: DestinationId, on: bool) -> Result<()> {
        sqlx::query(
            "INSERT INTO stream_options (destination_id, in_band_checkpoints) VALUES ($1, $2) \
             ON CONFLICT (destination_id) DO UPDATE SET in_band_checkpoints = excluded.in_band_checkpoints",
        )
        .bind(destination_id.get())
        .bind(i64::from(on))
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
