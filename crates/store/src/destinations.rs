//! Streaming destinations and their headers, event-type filters and namespace filters.

use auditrelay_core::time::{Micros, now_micros};
use sqlx::Row;
use sqlx::any::AnyRow;

use auditrelay_core::{DestinationId, GroupId, ProjectId};

use crate::error::conflict_as;
use crate::id_columns::{id, opt_id};
use crate::value_cipher::Sealer;
use crate::{Result, Store, Tx};

#[derive(Debug, Clone, PartialEq)]
pub struct DestinationRow {
    pub id: DestinationId,
    /// `None` for an instance destination.
    pub group_id: Option<GroupId>,
    pub category: String,
    pub name: String,
    /// The category's config JSON, without headers.
    pub config: String,
    /// Ciphertext of the verification token, private key or secret access key.
    pub secret: String,
    pub active: bool,
    /// No event is sent while an earlier one is being retried.
    pub strict_order: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeaderRow {
    pub id: i64,
    pub destination_id: DestinationId,
    pub key: String,
    pub value: String,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceFilterRow {
    pub id: i64,
    pub destination_id: DestinationId,
    pub group_id: Option<GroupId>,
    pub project_id: Option<ProjectId>,
    pub legacy: bool,
}

pub struct NewDestination<'a> {
    pub group_id: Option<GroupId>,
    pub category: &'a str,
    pub name: &'a str,
    pub config: &'a str,
    pub secret: &'a str,
    pub active: bool,
    pub strict_order: bool,
}

/// The changeable columns of a destination; `None` leaves a column as it is.
#[derive(Default)]
pub struct DestinationChanges {
    pub category: Option<String>,
    pub name: Option<String>,
    pub config: Option<String>,
    pub secret: Option<String>,
    pub active: Option<bool>,
    pub strict_order: Option<bool>,
}

const DESTINATION_COLUMNS: &str =
    "id, group_id, category, name, config, secret, active, strict_order, created_at, updated_at";
const HEADER_COLUMNS: &str = "id, destination_id, header_key, header_value, active";
const FILTER_COLUMNS: &str = "id, destination_id, group_id, project_id, legacy";

fn destination(row: &AnyRow) -> Result<DestinationRow> {
    Ok(DestinationRow {
        id: id(row, "id")?,
        group_id: opt_id(row, "group_id")?,
        category: row.try_get("category")?,
        name: row.try_get("name")?,
        config: row.try_get("config")?,
        secret: row.try_get("secret")?,
        active: row.try_get::<i64, _>("active")? != 0,
        strict_order: row.try_get::<i64, _>("strict_order")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A header row, its value opened (values are sealed at rest, see `sealed.rs`).
fn header(row: &AnyRow, sealer: &Sealer) -> Result<HeaderRow> {
    Ok(HeaderRow {
        id: row.try_get("id")?,
        destination_id: id(row, "destination_id")?,
        key: row.try_get("header_key")?,
        value: sealer.open(row.try_get("header_value")?)?,
        active: row.try_get::<i64, _>("active")? != 0,
    })
}

fn filter(row: &AnyRow) -> Result<NamespaceFilterRow> {
    Ok(NamespaceFilterRow {
        id: row.try_get("id")?,
        destination_id: id(row, "destination_id")?,
        group_id: opt_id(row, "group_id")?,
        project_id: opt_id(row, "project_id")?,
        legacy: row.try_get::<i64, _>("legacy")? != 0,
    })
}

/// Destination changes inside a unit of work.
impl Tx {
    /// Creates a destination and its headers.
    pub async fn create_destination(
        &mut self,
        new: &NewDestination<'_>,
        headers: &[(String, String, bool)],
    ) -> Result<DestinationRow> {
        let now = now_micros();
        let sql = format!(
            "INSERT INTO destinations (group_id, category, name, config, secret, active, strict_order, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $7) RETURNING {DESTINATION_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.group_id.map(GroupId::get))
            .bind(new.category)
            .bind(new.name)
            .bind(new.config)
            .bind(new.secret)
            .bind(i64::from(new.active))
            .bind(now)
            .bind(i64::from(new.strict_order))
            .fetch_one(self.conn())
            .await
            .map_err(conflict_as("Name"))?;
        let created = destination(&row)?;
        let sealer = self.sealer();
        for (key, value, active) in headers {
            insert_header(self.conn(), &sealer, created.id, key, value, *active).await?;
        }
        Ok(created)
    }

    pub async fn update_destination(&mut self, id: DestinationId, changes: &DestinationChanges) -> Result<()> {
        sqlx::query(
            "UPDATE destinations SET name = COALESCE($1, name), config = COALESCE($2, config), \
             secret = COALESCE($3, secret), active = COALESCE($4, active), updated_at = $5, \
             category = COALESCE($7, category), strict_order = COALESCE($8, strict_order) WHERE id = $6",
        )
        .bind(changes.name.as_deref())
        .bind(changes.config.as_deref())
        .bind(changes.secret.as_deref())
        .bind(changes.active.map(i64::from))
        .bind(now_micros())
        .bind(id.get())
        .bind(changes.category.as_deref())
        .bind(changes.strict_order.map(i64::from))
        .execute(self.conn())
        .await
        .map_err(conflict_as("Name"))?;
        Ok(())
    }

    pub async fn delete_destination(&mut self, id: DestinationId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM destinations WHERE id = $1").bind(id.get()).execute(self.conn()).await?;
        Ok(done.rows_affected() > 0)
    }
}

impl Store {
    pub async fn destination(&self, id: DestinationId) -> Result<Option<DestinationRow>> {
        let sql = format!("SELECT {DESTINATION_COLUMNS} FROM destinations WHERE id = $1");
        sqlx::query(&sql).bind(id.get()).fetch_optional(&self.read).await?.as_ref().map(destination).transpose()
    }

    /// Destinations of a group (`Some`) or of the instance (`None`), oldest first.
    pub async fn destinations_of(&self, group_id: Option<GroupId>) -> Result<Vec<DestinationRow>> {
        let rows = match group_id {
            Some(id) => {
                let sql = format!("SELECT {DESTINATION_COLUMNS} FROM destinations WHERE group_id = $1 ORDER BY id");
                sqlx::query(&sql).bind(id.get()).fetch_all(&self.read).await?
            }
            None => {
                let sql = format!("SELECT {DESTINATION_COLUMNS} FROM destinations WHERE group_id IS NULL ORDER BY id");
                sqlx::query(&sql).fetch_all(&self.read).await?
            }
        };
        rows.iter().map(destination).collect()
    }

    pub async fn all_destinations(&self) -> Result<Vec<DestinationRow>> {
        let sql = format!("SELECT {DESTINATION_COLUMNS} FROM destinations ORDER BY id");
        sqlx::query(&sql).fetch_all(&self.read).await?.iter().map(destination).collect()
    }

    pub async fn headers_of(&self, destination_id: DestinationId) -> Result<Vec<HeaderRow>> {
        let sql = format!("SELECT {HEADER_COLUMNS} FROM destination_headers WHERE destination_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(destination_id.get()).fetch_all(&self.read).await?;
        rows.iter().map(|row| header(row, &self.sealer)).collect()
    }

    pub async fn header(&self, id: i64) -> Result<Option<HeaderRow>> {
        let sql = format!("SELECT {HEADER_COLUMNS} FROM destination_headers WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.read).await?;
        row.as_ref().map(|row| header(row, &self.sealer)).transpose()
    }
}

impl Tx {
    pub async fn create_header(
        &mut self,
        destination_id: DestinationId,
        key: &str,
        value: &str,
        active: bool,
    ) -> Result<HeaderRow> {
        let sealer = self.sealer();
        let created = insert_header(self.conn(), &sealer, destination_id, key, value, active).await?;
        Ok(created)
    }

    pub async fn update_header(&mut self, id: i64, key: &str, value: &str, active: bool) -> Result<()> {
        sqlx::query("UPDATE destination_headers SET header_key = $1, header_value = $2, active = $3 WHERE id = $4")
            .bind(key)
            .bind(self.sealer().seal(value))
            .bind(i64::from(active))
            .bind(id)
            .execute(self.conn())
            .await
            .map_err(conflict_as("Key"))?;
        Ok(())
    }

    pub async fn delete_header(&mut self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM destination_headers WHERE id = $1").bind(id).execute(self.conn()).await?;
        Ok(())
    }

    /// Replaces a destination's headers with `headers`, keeping the ids of keys that stay.
    pub async fn replace_headers(
        &mut self,
        destination_id: DestinationId,
        headers: &[(String, String, bool)],
    ) -> Result<()> {
        let sql = format!("SELECT {HEADER_COLUMNS} FROM destination_headers WHERE destination_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(destination_id.get()).fetch_all(self.conn()).await?;
        let sealer = self.sealer();
        let existing = rows.iter().map(|row| header(row, &sealer)).collect::<Result<Vec<_>>>()?;
        for old in existing.iter().filter(|h| !headers.iter().any(|(k, ..)| *k == h.key)) {
            sqlx::query("DELETE FROM destination_headers WHERE id = $1").bind(old.id).execute(self.conn()).await?;
        }
        for (key, value, active) in headers {
            match existing.iter().find(|h| h.key == *key) {
                Some(old) => {
                    sqlx::query("UPDATE destination_headers SET header_value = $1, active = $2 WHERE id = $3")
                        .bind(sealer.seal(value))
                        .bind(i64::from(*active))
                        .bind(old.id)
                        .execute(self.conn())
                        .await?;
                }
                None => {
                    insert_header(self.conn(), &sealer, destination_id, key, value, *active).await?;
                }
            }
        }
        Ok(())
    }
}

impl Store {
    pub async fn event_types_of(&self, destination_id: DestinationId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT event_type FROM destination_event_types WHERE destination_id = $1 ORDER BY event_type",
        )
        .bind(destination_id.get())
        .fetch_all(&self.read)
        .await?)
    }
}

impl Tx {
    /// Adds event types; types already present are kept once.
    pub async fn add_event_types(&mut self, destination_id: DestinationId, event_types: &[String]) -> Result<()> {
        for event_type in event_types {
            sqlx::query(
                "INSERT INTO destination_event_types (destination_id, event_type) VALUES ($1, $2) \
                 ON CONFLICT (destination_id, event_type) DO NOTHING",
            )
            .bind(destination_id.get())
            .bind(event_type)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    pub async fn remove_event_types(&mut self, destination_id: DestinationId, event_types: &[String]) -> Result<()> {
        for event_type in event_types {
            sqlx::query("DELETE FROM destination_event_types WHERE destination_id = $1 AND event_type = $2")
                .bind(destination_id.get())
                .bind(event_type)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}

impl Store {
    pub async fn namespace_filters_of(&self, destination_id: DestinationId) -> Result<Vec<NamespaceFilterRow>> {
        let sql =
            format!("SELECT {FILTER_COLUMNS} FROM destination_namespace_filters WHERE destination_id = $1 ORDER BY id");
        sqlx::query(&sql).bind(destination_id.get()).fetch_all(&self.read).await?.iter().map(filter).collect()
    }

    pub async fn namespace_filter(&self, id: i64) -> Result<Option<NamespaceFilterRow>> {
        let sql = format!("SELECT {FILTER_COLUMNS} FROM destination_namespace_filters WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.read).await?.as_ref().map(filter).transpose()
    }

    /// Legacy filters naming this group or project, on any destination (GitLab: one per namespace).
    pub async fn legacy_filters_on(&self, group_id: Option<GroupId>, project_id: Option<ProjectId>) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM destination_namespace_filters WHERE legacy = 1 AND \
             (group_id = $1 OR project_id = $2)",
        )
        .bind(group_id.map(GroupId::get))
        .bind(project_id.map(ProjectId::get))
        .fetch_one(&self.read)
        .await?)
    }
}

impl Tx {
    pub async fn create_namespace_filter(
        &mut self,
        destination_id: DestinationId,
        group_id: Option<GroupId>,
        project_id: Option<ProjectId>,
        legacy: bool,
    ) -> Result<NamespaceFilterRow> {
        let sql = format!(
            "INSERT INTO destination_namespace_filters (destination_id, group_id, project_id, legacy) \
             VALUES ($1, $2, $3, $4) RETURNING {FILTER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(destination_id.get())
            .bind(group_id.map(GroupId::get))
            .bind(project_id.map(ProjectId::get))
            .bind(i64::from(legacy))
            .fetch_one(self.conn())
            .await?;
        filter(&row)
    }

    pub async fn delete_namespace_filter(&mut self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM destination_namespace_filters WHERE id = $1").bind(id).execute(self.conn()).await?;
        Ok(())
    }
}

impl Store {
    /// Records event types seen at ingest (idempotent).
    pub async fn note_event_types(&self, names: &[String]) -> Result<()> {
        let now = now_micros();
        for name in names {
            sqlx::query(
                "INSERT INTO observed_event_types (name, first_seen) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(now)
            .execute(&self.write)
            .await?;
        }
        Ok(())
    }

    pub async fn observed_event_types(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT name FROM observed_event_types ORDER BY name").fetch_all(&self.read).await?)
    }
}

async fn insert_header(
    conn: &mut sqlx::AnyConnection,
    sealer: &Sealer,
    destination_id: DestinationId,
    key: &str,
    value: &str,
    active: bool,
) -> Result<HeaderRow> {
    let sql = format!(
        "INSERT INTO destination_headers (destination_id, header_key, header_value, active) VALUES ($1, $2, $3, $4) \
         RETURNING {HEADER_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(destination_id.get())
        .bind(key)
        .bind(sealer.seal(value))
        .bind(i64::from(active))
        .fetch_one(conn)
        .await
        .map_err(conflict_as("Key"))?;
    header(&row, sealer)
}
