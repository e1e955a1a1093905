//! The event log: append a batch in one transaction with gapless, commit-ordered `seq`, and read.
//!
//! Ordering rule: a batch takes the log's write lock *before* reading `MAX(seq)` and holds it
//! until commit (SQLite: its single write connection; PostgreSQL: a transaction-level advisory
//! lock). So batches commit in `seq` order, and a reader that has seen `seq = n` has already been
//! able to see every smaller `seq`: following the log by `seq > cursor` never skips an event.

use auditrelay_core::EventId;
use auditrelay_core::time::Micros;
use sqlx::{Any, Row};

use crate::Result;
use crate::connect::{Dialect, Store};

mod ids;
mod rows;
mod sqlite_append;
pub use ids::IdScope;
pub(crate) use rows::{EVENT_COLUMNS, stored_event};
use rows::{HEAD_SQL, INSERT_CHUNK, bind_rows, insert_sql};
pub use rows::{PreparedEvent, StoredEvent};

/// Lock key for the log's writers across processes sharing one PostgreSQL database.
const PG_LOG_LOCK: i64 = 0x6175_6469_746c_6f67;

/// Which part of the log a read covers.
#[derive(Debug, Clone, PartialEq)]
pub enum EventScope {
    All,
    /// A group, its subgroups and their projects.
    GroupTree {
        group_id: i64,
        full_path: String,
        is_root: bool,
    },
    Project(i64),
}

/// Order of a listing, with its keyset position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqOrder {
    NewestFirst { before: Option<i64> },
    OldestFirst { after: Option<i64> },
}

/// Filters of the read API.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFilter {
    pub scope: EventScope,
    pub created_after: Option<Micros>,
    pub created_before: Option<Micros>,
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    pub author_id: Option<i64>,
    /// Any of these event types (empty: any type).
    pub event_types: Vec<String>,
    /// AI events of one workflow / one agent session (see [`ai_event_keys`]).
    pub workflow_id: Option<i64>,
    pub session_id: Option<String>,
}

impl EventFilter {
    pub fn all() -> Self {
        EventFilter {
            scope: EventScope::All,
            created_after: None,
            created_before: None,
            entity_type: None,
            entity_id: None,
            author_id: None,
            event_types: Vec::new(),
            workflow_id: None,
            session_id: None,
        }
    }
}

/// The workflow and session of a stored AI event, read from its payload's `details` (the rule
/// is `auditrelay_core::ai_events::workflow_and_session`); `(None, None)` for other events.
pub fn ai_event_keys(event_type: &str, payload: &str) -> (Option<i64>, Option<String>) {
    if !event_type.starts_with("ai_") {
        return (None, None);
    }
    let Ok(payload) = serde_json::from_str::<serde_json::Value>(payload) else { return (None, None) };
    match payload.get("details").and_then(serde_json::Value::as_object) {
        Some(details) => auditrelay_core::ai_events::workflow_and_session(event_type, details),
        None => (None, None),
    }
}

/// Entity types whose events are indexed by their scope, not by entity (migration 0015).
const NAMESPACE_ENTITY_TYPES: [&str; 2] = ["Group", "Project"];

/// A WHERE clause with its bound values, numbered `$1…` in order.
pub(crate) struct Where {
    pub(crate) sql: String,
    binds: Vec<Bind>,
}

enum Bind {
    Int(i64),
    Text(String),
}

impl Where {
    fn push(&mut self, condition: &str, value: Bind) {
        self.binds.push(value);
        let n = self.binds.len();
        self.sql.push_str(" AND ");
        self.sql.push_str(&condition.replace('?', &format!("${n}")));
    }

    pub(crate) fn from_filter(filter: &EventFilter) -> Where {
        let mut w = Where { sql: "1 = 1".into(), binds: Vec::new() };
        match &filter.scope {
            EventScope::All => {}
            EventScope::Project(id) => w.push("project_id = ?", Bind::Int(*id)),
            EventScope::GroupTree { group_id, is_root: true, .. } => w.push("root_group_id = ?", Bind::Int(*group_id)),
            EventScope::GroupTree { group_id, full_path, is_root: false } => {
                // A subgroup's events lie in its top-level group's tree: the walk is the
                // tenant's index (events_root_group), filtered (there is no index by group).
                w.push("root_group_id = (SELECT root_id FROM namespaces WHERE id = ?)", Bind::Int(*group_id));
                w.push("(group_id = ?", Bind::Int(*group_id));
                let prefix = format!("{full_path}/");
                let len = prefix.len() as i64;
                w.binds.push(Bind::Text(prefix));
                let n = w.binds.len();
                w.sql.push_str(&format!(
                    " OR group_id IN (SELECT id FROM namespaces WHERE SUBSTR(full_path, 1, {len}) = ${n}))"
                ));
            }
        }
        if let Some(t) = filter.created_after {
            w.push("created_at >= ?", Bind::Int(t));
        }
        if let Some(t) = filter.created_before {
            w.push("created_at <= ?", Bind::Int(t));
        }
        if let Some(t) = &filter.entity_type {
            w.push("entity_type = ?", Bind::Text(t.clone()));
            // events_entity holds only entities outside the namespace tree; the planner may use
            // a partial index only when the query states its condition word for word.
            if !NAMESPACE_ENTITY_TYPES.contains(&t.as_str()) {
                w.sql.push_str(" AND entity_type NOT IN ('Group', 'Project')");
            }
        }
        if let Some(id) = filter.entity_id {
            w.push("entity_id = ?", Bind::Int(id));
        }
        if let Some(id) = filter.author_id {
            w.push("author_id = ?", Bind::Int(id));
        }
        if !filter.event_types.is_empty() {
            let mut list = Vec::with_capacity(filter.event_types.len());
            for event_type in &filter.event_types {
                w.binds.push(Bind::Text(event_type.clone()));
                list.push(format!("${}", w.binds.len()));
            }
            w.sql.push_str(&format!(" AND event_type IN ({})", list.join(", ")));
        }
        if let Some(id) = filter.workflow_id {
            w.push("workflow_id = ?", Bind::Int(id));
        }
        if let Some(session) = &filter.session_id {
            w.push("session_id = ?", Bind::Text(session.clone()));
        }
        w
    }

    pub(crate) fn bind<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
        for value in &self.binds {
            query = match value {
                Bind::Int(v) => query.bind(*v),
                Bind::Text(v) => query.bind(v.as_str()),
            };
        }
        query
    }
}

impl Store {
    /// Appends events in one transaction. Events whose producer id their scope already holds
    /// (in the log, or earlier in the same batch; see [`IdScope`]) are not stored again; the
    /// original id is returned.
    /// Returns the public id of every input event, in order, and the log's new head `seq`.
    pub async fn append_events(&self, events: &[PreparedEvent]) -> Result<(Vec<EventId>, i64)> {
        if self.dialect == Dialect::Sqlite {
            return sqlite_append::append(self, events).await;
        }
        let mut tx = self.begin_locked().await?;
        let appended = self.append_locked(&mut tx, events).await?;
        tx.commit().await?;
        Ok(appended)
    }

    /// A write transaction holding the log lock (see the module's ordering rule).
    pub(crate) async fn begin_locked(&self) -> Result<sqlx::Transaction<'static, Any>> {
        let mut tx = crate::begin::begin(&self.write).await?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PG_LOG_LOCK).execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    /// [`Store::append_events`] inside `tx`, which holds the log lock; the caller commits.
    pub(crate) async fn append_locked(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        events: &[PreparedEvent],
    ) -> Result<(Vec<EventId>, i64)> {
        #[cfg(feature = "fault-injection")]
        if let Some(refused) = crate::fault::refused_statement(events.iter().map(|e| e.event_type.as_str())) {
            sqlx::query(refused).execute(&mut **tx).await?;
        }
        let head: i64 = sqlx::query_scalar(HEAD_SQL).fetch_one(&mut **tx).await?;
        let known = ids::existing(tx, self.dialect, events).await?;
        let ids::Plan { ids, to_insert, head } = ids::plan(events, &known, head);
        for chunk in to_insert.chunks(INSERT_CHUNK) {
            let sql = insert_sql(self.dialect, chunk.len());
            bind_rows(sqlx::query(&sql), chunk).execute(&mut **tx).await?;
        }
        Ok((ids, head))
    }

    /// Events after `after_seq` in log order: how a follower (delivery worker, archiver) reads.
    pub async fn events_after(&self, after_seq: i64, limit: i64) -> Result<Vec<StoredEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows = sqlx::query(&sql).bind(after_seq).bind(limit).fetch_all(&self.read).await?;
        rows.iter().map(stored_event).collect()
    }

    /// The highest `seq` in the log (0 when empty).
    pub async fn head_seq(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(HEAD_SQL).fetch_one(&self.read).await?)
    }

    /// `limit` events matching `filter` in `order`, skipping `offset`.
    pub async fn list_events(
        &self,
        filter: &EventFilter,
        order: SeqOrder,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>> {
        let (sql, w) = list_sql(filter, order, offset, limit);
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.read).await?;
        rows.iter().map(stored_event).collect()
    }

    pub async fn count_events(&self, filter: &EventFilter) -> Result<i64> {
        let w = Where::from_filter(filter);
        let sql = format!("SELECT COUNT(*) FROM events WHERE {}", w.sql);
        let row = w.bind(sqlx::query(&sql)).fetch_one(&self.read).await?;
        Ok(row.try_get(0)?)
    }

    /// Ids of a group and all its subgroups (for stores that do not hold the namespace tree).
    pub async fn group_tree_ids(&self, group_id: i64, full_path: &str) -> Result<Vec<i64>> {
        let prefix = format!("{full_path}/");
        let sql = format!("SELECT id FROM namespaces WHERE id = $1 OR SUBSTR(full_path, 1, {}) = $2", prefix.len());
        Ok(sqlx::query_scalar(&sql).bind(group_id).bind(prefix).fetch_all(&self.read).await?)
    }

    /// The position an internal follower of the log (e.g. the ClickHouse archiver) has finished.
    pub async fn follower_seq(&self, name: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT seq FROM log_followers WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.read)
            .await?)
    }

    /// Records a follower's position. It may move back: a follower whose target lost data
    /// (an emptied archive) starts over.
    pub async fn set_follower_seq(&self, name: &str, seq: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO log_followers (name, seq, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(seq)
        .bind(auditrelay_core::time::now_micros())
        .execute(&self.write)
        .await?;
        Ok(())
    }
}

/// The listing's statement and its bound values.
pub(crate) fn list_sql(filter: &EventFilter, order: SeqOrder, offset: i64, limit: i64) -> (String, Where) {
    let mut w = Where::from_filter(filter);
    let direction = match order {
        SeqOrder::NewestFirst { before } => {
            if let Some(seq) = before {
                w.push("seq < ?", Bind::Int(seq));
            }
            "DESC"
        }
        SeqOrder::OldestFirst { after } => {
            if let Some(seq) = after {
                w.push("seq > ?", Bind::Int(seq));
            }
            "ASC"
        }
    };
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE {} ORDER BY seq {direction} LIMIT {limit} OFFSET {offset}",
        w.sql
    );
    (sql, w)
}

#[cfg(test)]
#[path = "log_plan_tests.rs"]
mod plan_tests;

#[cfg(test)]
mod tests {
    use super::ai_event_keys;

    #[test]
    fn ai_keys_come_from_details_of_ai_events_only() {
        let payload = r#"{"details":{"workflow_id":42,"session_id":"s-1"}}"#;
        assert_eq!(ai_event_keys("ai_tool_invoked", payload), (Some(42), Some("s-1".into())));
        assert_eq!(ai_event_keys("user_created", payload), (None, None));
        let producer = r#"{"details":{"workflow_id":"42"}}"#;
        assert_eq!(
            ai_event_keys("ai_tool_invoked", producer),
            (Some(42), Some("42".into())),
            "the workflow is the session"
        );
        assert_eq!(ai_event_keys("ai_tool_invoked", r#"{"details":{"workflow_id":"x"}}"#), (None, None));
        assert_eq!(ai_event_keys("ai_tool_invoked", "not json"), (None, None));
    }
}
