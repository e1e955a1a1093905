//! The archive table and its rows: every column the read API and streaming need, plus the
//! payload's parts as plain columns for analysts' own queries.
//!
//! Written for ClickHouse 18.16: no `DateTime64` (times are microseconds in `Int64`), no `JSON`
//! or `Map` type (`details` is JSON text), no nullable sorting key (hence `ifNull`). No `PARTITION
//! BY`: a batch is one block in one partition, so one `INSERT` is all or nothing, which the
//! archiver's resume rule relies on.

use auditrelay_core::EventId;
use auditrelay_store::{StoredEvent, ai_event_keys};
use serde_json::{Value, json};

use crate::{ArchiveError, Result};

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

/// The columns a [`StoredEvent`] is read back from.
pub const EVENT_COLUMNS: &str = "seq, producer_id, created_at, event_type, entity_type, entity_id, author_id, group_id, project_id, root_group_id, payload";

/// One line of `JSONEachRow` for an event.
pub fn row(event: &StoredEvent) -> String {
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
    json!({
        "seq": event.seq,
        "id": public_id(&event.id),
        "producer_id": producer_id,
        "created_at": event.created_at,
        "event_type": event.event_type,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "entity_path": text("entity_path"),
        "author_id": event.author_id,
        "author_name": text("author_name"),
        "target_type": text("target_type"),
        "target_id": text("target_id"),
        "group_id": event.group_id,
        "project_id": event.project_id,
        "root_group_id": event.root_group_id,
        "details": details,
        "workflow_id": workflow_id,
        "session_id": session_id,
        "payload": event.payload,
    })
    .to_string()
}

fn public_id(id: &EventId) -> String {
    match id {
        EventId::Int(n) => n.to_string(),
        EventId::Str(s) => s.clone(),
    }
}

/// An event read back (columns [`EVENT_COLUMNS`]), exactly as the operational store returns it.
pub fn stored_event(row: &Value) -> Result<StoredEvent> {
    let bad = |column: &str| ArchiveError::BadRow(format!("column {column} missing or mistyped in {row}"));
    let int = |column: &str| row[column].as_i64().ok_or_else(|| bad(column));
    let opt_int = |column: &str| match &row[column] {
        Value::Null => Ok(None),
        v => v.as_i64().map(Some).ok_or_else(|| bad(column)),
    };
    let text = |column: &str| row[column].as_str().map(str::to_owned).ok_or_else(|| bad(column));
    let seq = int("seq")?;
    let producer_id = row["producer_id"].as_str();
    Ok(StoredEvent {
        seq,
        id: producer_id.and_then(EventId::from_json).unwrap_or(EventId::Int(seq)),
        created_at: int("created_at")?,
        event_type: text("event_type")?,
        entity_type: text("entity_type")?,
        entity_id: int("entity_id")?,
        author_id: opt_int("author_id")?,
        group_id: opt_int("group_id")?,
        project_id: opt_int("project_id")?,
        root_group_id: opt_int("root_group_id")?,
        payload: text("payload")?,
    })
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

    #[test]
    fn a_row_reads_back_as_the_same_event() {
        let payload = r#"{"author_id":5,"author_name":"Jane","entity_path":"a/b","target_type":"Ai::DuoWorkflows::Workflow","target_id":42,"details":{"workflow_id":42,"session_id":"s-1","nested":{"x":[1,2]}}}"#;
        for id in [EventId::Str("ce-1".into()), EventId::Int(99), EventId::Int(7)] {
            let original = event(id, "ai_tool_invoked", payload);
            let line: Value = serde_json::from_str(&row(&original)).unwrap();
            assert_eq!(line["workflow_id"], 42);
            assert_eq!(line["session_id"], "s-1");
            assert_eq!(line["target_id"], "42");
            assert_eq!(line["entity_path"], "a/b");
            assert!(line["details"].as_str().unwrap().contains(r#""nested":{"x":[1,2]}"#));
            let back = stored_event(&line).unwrap();
            assert_eq!((back.seq, &back.id, &back.payload), (original.seq, &original.id, &original.payload));
            assert_eq!((back.author_id, back.group_id, back.root_group_id), (Some(5), Some(2), Some(1)));
        }
    }

    #[test]
    fn non_ai_events_have_no_ai_keys() {
        let line: Value =
            serde_json::from_str(&row(&event(EventId::Int(7), "user_created", r#"{"details":{"workflow_id":1}}"#)))
                .unwrap();
        assert_eq!((line["workflow_id"].clone(), line["producer_id"].clone()), (Value::Null, Value::Null));
    }
}
