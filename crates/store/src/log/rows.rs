//! The log's rows: an event to append (`PreparedEvent`), an event read back (`StoredEvent`), the
//! columns and decoding every reader of the log shares, the head, and the insert statement with
//! its binding, shared by both backends' appends.

use auditrelay_core::EventId;
use auditrelay_core::time::Micros;
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use crate::Result;
use crate::connect::Dialect;

/// Events one insert statement takes.
pub(super) const INSERT_CHUNK: usize = 100;
/// The log's head: its highest `seq`, 0 when empty.
pub(super) const HEAD_SQL: &str = "SELECT COALESCE(MAX(seq), 0) FROM events";

/// An event ready to be appended: validated, namespace resolved, payload rendered (without id).
#[derive(Debug, Clone)]
pub struct PreparedEvent {
    pub producer_id: Option<EventId>,
    pub created_at: Micros,
    pub event_type: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub author_id: Option<i64>,
    pub group_id: Option<i64>,
    pub project_id: Option<i64>,
    pub root_group_id: Option<i64>,
    pub payload: String,
    /// For AI events, their workflow and agent session (indexed columns for AI queries).
    pub workflow_id: Option<i64>,
    pub session_id: Option<String>,
    /// For AI events, the producer's `sequence` in its session (migration 0007).
    pub ai_sequence: Option<i64>,
}

/// An event as read back from the log.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: i64,
    /// The public id: the producer's, or `seq`.
    pub id: EventId,
    pub created_at: Micros,
    pub event_type: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub author_id: Option<i64>,
    pub group_id: Option<i64>,
    pub project_id: Option<i64>,
    pub root_group_id: Option<i64>,
    /// GitLab payload without `id`; see `auditrelay_core::event::payload_with_id`.
    pub payload: String,
}

pub(crate) const EVENT_COLUMNS: &str = "seq, producer_id, created_at, event_type, entity_type, entity_id, author_id, group_id, project_id, root_group_id, payload";

pub(crate) fn stored_event(row: &AnyRow) -> Result<StoredEvent> {
    let seq: i64 = row.try_get("seq")?;
    let producer_id: Option<String> = row.try_get("producer_id")?;
    Ok(StoredEvent {
        seq,
        id: producer_id.as_deref().and_then(EventId::from_json).unwrap_or(EventId::Int(seq)),
        created_at: row.try_get("created_at")?,
        event_type: row.try_get("event_type")?,
        entity_type: row.try_get("entity_type")?,
        entity_id: row.try_get("entity_id")?,
        author_id: row.try_get("author_id")?,
        group_id: row.try_get("group_id")?,
        project_id: row.try_get("project_id")?,
        root_group_id: row.try_get("root_group_id")?,
        payload: row.try_get("payload")?,
    })
}

/// The events to insert, `(seq, event, stored producer id)`, bound in the order of
/// `insert_sql`'s columns.
pub(super) type Rows<'a> = [(i64, &'a PreparedEvent, Option<String>)];

pub(super) fn bind_rows<'q>(
    mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    rows: &'q Rows<'_>,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    for (seq, e, key) in rows {
        query = query
            .bind(*seq)
            .bind(key.as_deref())
            .bind(e.created_at)
            .bind(e.event_type.as_str())
            .bind(e.entity_type.as_str())
            .bind(e.entity_id)
            .bind(e.author_id)
            .bind(e.group_id)
            .bind(e.project_id)
            .bind(e.root_group_id)
            .bind(e.payload.as_str())
            .bind(e.workflow_id)
            .bind(e.session_id.as_deref())
            .bind(e.ai_sequence);
    }
    query
}

pub(super) fn insert_sql(dialect: Dialect, rows: usize) -> String {
    const COLUMNS: usize = 14;
    format!(
        "INSERT INTO events ({EVENT_COLUMNS}, workflow_id, session_id, ai_sequence) VALUES {}",
        dialect.values_rows(rows, COLUMNS)
    )
}
