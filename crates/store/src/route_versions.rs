//! Versions of a destination's filters, each in force from a log position (`0010_route_versions.sql`).
//! A unit of work that changes a destination records the new version at its first event's
//! `seq`, in the same transaction; a delivery worker routes each event with the version in
//! force at its `seq`.

use sqlx::Row;
use sqlx::any::AnyRow;

use auditrelay_core::DestinationId;

use crate::id_columns::id;
use crate::{Result, Store, StoreError, Tx};

/// A destination's filters from `from_seq` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteVersion {
    pub destination_id: DestinationId,
    pub from_seq: i64,
    /// The event-type allow-list; empty: every type.
    pub event_types: Vec<String>,
    /// Namespace filters as `(group_id, project_id)`; empty: every namespace.
    pub namespace_filters: Vec<(Option<i64>, Option<i64>)>,
}

fn version(row: &AnyRow) -> Result<RouteVersion> {
    let decode = |e: serde_json::Error| StoreError::Database(sqlx::Error::Decode(Box::new(e)));
    let event_types: String = row.try_get("event_types")?;
    let filters: String = row.try_get("namespace_filters")?;
    Ok(RouteVersion {
        destination_id: id(row, "destination_id")?,
        from_seq: row.try_get("from_seq")?,
        event_types: serde_json::from_str(&event_types).map_err(decode)?,
        namespace_filters: serde_json::from_str(&filters).map_err(decode)?,
    })
}

impl Store {
    /// A destination's versions with `after < from_seq <= upto`, oldest first.
    pub async fn route_versions(
        &self,
        destination_id: DestinationId,
        after: i64,
        upto: i64,
    ) -> Result<Vec<RouteVersion>> {
        let rows = sqlx::query(
            "SELECT destination_id, from_seq, event_types, namespace_filters FROM destination_route_versions \
             WHERE destination_id = $1 AND from_seq > $2 AND from_seq <= $3 ORDER BY from_seq",
        )
        .bind(destination_id.get())
        .bind(after)
        .bind(upto)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(version).collect()
    }
}

impl Tx {
    /// Records the destination's filters as this unit leaves them, in force from the unit's first
    /// event on. Nothing for a destination that no longer exists.
    pub async fn record_route_version(&mut self, destination_id: DestinationId) -> Result<()> {
        let from_seq = self.first_seq();
        self.snapshot(destination_id, from_seq).await
    }

    /// Gives every destination without a version one at `from_seq` 0 (its configuration
    /// before versions were kept). Run at start as a unit of work, so no change interleaves.
    pub async fn seed_route_versions(&mut self) -> Result<usize> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM destinations d WHERE NOT EXISTS \
             (SELECT 1 FROM destination_route_versions v WHERE v.destination_id = d.id)",
        )
        .fetch_all(self.conn())
        .await?;
        for id in &ids {
            self.snapshot(DestinationId(*id), 0).await?;
        }
        Ok(ids.len())
    }

    async fn snapshot(&mut self, destination_id: DestinationId, from_seq: i64) -> Result<()> {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM destinations WHERE id = $1")
            .bind(destination_id.get())
            .fetch_optional(self.conn())
            .await?;
        if exists.is_none() {
            return Ok(());
        }
        let event_types: Vec<String> = sqlx::query_scalar(
            "SELECT event_type FROM destination_event_types WHERE destination_id = $1 ORDER BY event_type",
        )
        .bind(destination_id.get())
        .fetch_all(self.conn())
        .await?;
        let filters: Vec<(Option<i64>, Option<i64>)> = sqlx::query(
            "SELECT group_id, project_id FROM destination_namespace_filters WHERE destination_id = $1 ORDER BY id",
        )
        .bind(destination_id.get())
        .fetch_all(self.conn())
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_>>()?;
        sqlx::query(
            "INSERT INTO destination_route_versions (destination_id, from_seq, event_types, namespace_filters) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (destination_id, from_seq) DO UPDATE SET \
             event_types = excluded.event_types, namespace_filters = excluded.namespace_filters",
        )
        .bind(destination_id.get())
        .bind(from_seq)
        .bind(serde_json::Value::from(event_types).to_string())
        .bind(serde_json::json!(filters).to_string())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Starts a new destination's cursor just before this unit's first event: it streams from
    /// the change that created it on.
    pub async fn init_cursor(&mut self, destination_id: DestinationId) -> Result<()> {
        sqlx::query(
            "INSERT INTO delivery_cursors (destination_id, seq, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (destination_id) DO NOTHING",
        )
        .bind(destination_id.get())
        .bind(self.first_seq() - 1)
        .bind(auditrelay_core::time::now_micros())
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
