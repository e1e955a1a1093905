//! The archive table and its rows: every column the read API and streaming need, plus the
//! payload's parts as plain columns for analysts' own queries.
//!
//! Written for ClickHouse 18.16: no `DateTime64` (times are microseconds in `Int64`), no `JSON`
//! or `Map` type (`details` is JSON text), no nullable sorting key (hence `ifNull`). No `PARTITION
//! BY`: a batch is one block in one partition, so one `INSERT` is all or nothing, which the
//! archiver's resume rule relies on.

use auditrelay_core::EventId;
use auditrelay_store::{StoredEvent, ai_event_keys};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const TABLE: &str = "audit_events";

/// Sorted by root group then `seq`: group reads (the common non-admin read) scan one range in
/// log order, and instance reads still stream `seq` order within each group.
pub const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS audit_events (
    seq Int64,
    id String,
    producer_id Nullable(String),
    created_at Int64,
    event_type String,
    entity_type String,
    entity_id Int64,
    entity_path String,
    author_id Nullable(Int64),
    author_name String,
    target_type String,
    target_id String,
    group_id Nullable(Int64),
    project_id Nullable(Int64),
    root_group_id Nullable(Int64),
    details String,
    workflow_id Nullable(Int64),
    session_id Nullable(String),
    payload String
) ENGINE = MergeTree ORDER BY (ifNull(root_group_id, 0), seq)";

/// One row of the table, as inserted (`RowBinary`: the fields in the table's column order).
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub struct ArchiveRow {
    pub seq: i64,
    pub id: String,
    pub producer_id: Option<String>,
    pub created_at: i64,
    pub event_type: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub entity_path: String,
    pub author_id: Option<i64>,
    pub author_name: String,
    pub target_type: String,
    pub target_id: String,
    pub group_id: Option<i64>,
    pub project_id: Option<i64>,
    pub root_group_id: Option<i64>,
    /// The payload's `details` as JSON text (`{}` when absent).
    pub details: String,
    pub workflow_id: Option<i64>,
    pub session_id: Option<String>,
    pub payload: String,
}

/// The columns a [`StoredEvent`] is read back from (selected as `?fields`).
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Deserialize)]
pub struct EventRow {
    pub seq: i64,
    pub producer_id: Option<String>,
    pub created_at: i64,
    pub event_type: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub author_id: Option<i64>,
    pub group_id: Option<i64>,
    pub project_id: Option<i64>,
    pub root_group_id: Option<i64>,
    pub payload: String,
}

/// The table's row for an event.
pub fn row(event: &StoredEvent) -> ArchiveRow {
    let payload: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
    let text = |key: &str| match &payload[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let details = match &payload["details"] {
        Value::Null => "{}".to_owned(),
        other => other.to_string(),
    };
    let (workflow_id, session_id) = ai_event_keys(&event.event_type, &event.payload);
    let producer_id = match &event.id {
        EventId::Int(n) if *n == event.seq => None,
        id => Some(id.to_json()),
    };
    ArchiveRow {
        seq: event.seq,
        id: public_id(&event.id),
        producer_id,
        created_at: event.created_at,
        event_type: event.event_type.clone(),
        entity_type: event.entity_type.clone(),
        entity_id: event.entity_id,
        entity_path: text("entity_path"),
        author_id: event.author_id,
        author_name: text("author_name"),
        target_type: text("target_type"),
        target_id: text("target_id"),
        group_id: event.group_id,
        project_id: event.project_id,
        root_group_id: event.root_group_id,
        details,
        workflow_id,
        session_id,
        payload: event.payload.clone(),
    }
}

fn public_id(id: &EventId) -> String {
    match id {
        EventId::Int(n) => n.to_string(),
        EventId::Str(s) => s.clone(),
    }
}

impl From<EventRow> for StoredEvent {
    /// An event read back, exactly as the operational store returns it.
    fn from(row: EventRow) -> StoredEvent {
        StoredEvent {
            seq: row.seq,
            id: row.producer_id.as_deref().and_then(EventId::from_json).unwrap_or(EventId::Int(row.seq)),
            created_at: row.created_at,
            event_type: row.event_type,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            author_id: row.author_id,
            group_id: row.group_id,
            project_id: row.project_id,
            root_group_id: row.root_group_id,
            payload: row.payload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: EventId, event_type: &str, payload: &str) -> StoredEvent {
        StoredEvent {
            seq: 7,
            id,
            created_at: 1_700_000_000_123_456,
            event_type: event_type.into(),
            entity_type: "Project".into(),
            entity_id: 3,
            author_id: Some(5),
            group_id: Some(2),
            project_id: Some(3),
            root_group_id: Some(1),
            payload: payload.into(),
        }
    }

    /// What a SELECT of [`EventRow`]'s columns returns for an inserted row.
    fn read_back(row: ArchiveRow) -> StoredEvent {
        StoredEvent::from(EventRow {
            seq: row.seq,
            producer_id: row.producer_id,
            created_at: row.created_at,
            event_type: row.event_type,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            author_id: row.author_id,
            group_id: row.group_id,
            project_id: row.project_id,
            root_group_id: row.root_group_id,
            payload: row.payload,
        })
    }

    #[test]
    fn a_row_reads_back_as_the_same_event() {
        let payload = r#"{"author_id":5,"author_name":"Jane","entity_path":"a/b","target_type":"Ai::DuoWorkflows::Workflow","target_id":42,"details":{"workflow_id":42,"session_id":"s-1","nested":{"x":[1,2]}}}"#;
        for id in [EventId::Str("ce-1".into()), EventId::Int(99), EventId::Int(7)] {
            let original = event(id, "ai_tool_invoked", payload);
            let line = row(&original);
            assert_eq!(line.workflow_id, Some(42));
            assert_eq!(line.session_id.as_deref(), Some("s-1"));
            assert_eq!(line.target_id, "42");
            assert_eq!(line.entity_path, "a/b");
            assert!(line.details.contains(r#""nested":{"x":[1,2]}"#));
            let back = read_back(line);
            assert_eq!((back.seq, &back.id, &back.payload), (original.seq, &original.id, &original.payload));
            assert_eq!((back.author_id, back.group_id, back.root_group_id), (Some(5), Some(2), Some(1)));
            assert_eq!((back.created_at, back.entity_id, back.project_id), (original.created_at, 3, Some(3)));
        }
    }

    #[test]
    fn non_ai_events_have_no_ai_keys() {
        let line = row(&event(EventId::Int(7), "user_created", r#"{"details":{"workflow_id":1}}"#));
        assert_eq!((line.workflow_id, line.producer_id), (None, None));
        assert_eq!(line.details, r#"{"workflow_id":1}"#);
    }

    #[test]
    fn the_row_type_lists_the_table_columns_in_order() {
        let columns: Vec<&str> = CREATE_TABLE
            .lines()
            .skip(1)
            .take_while(|line| !line.starts_with(')'))
            .filter_map(|line| line.trim().split_once(' ').map(|(name, _)| name))
            .collect();
        // Every column is filled (the insert names the row type's fields as its columns).
        let some = row(&event(EventId::Int(7), "user_created", "{}"));
        let fields = serde_json::to_value(&some).unwrap();
        let fields: Vec<&str> = fields.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(columns, fields);
    }
}
