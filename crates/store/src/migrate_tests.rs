//! Migrations on a real (in-memory) SQLite: 0014 makes seq the events table's rowid and keeps
//! every row and seq as it was; 0015's partial indexes keep the scoped unique producer id.

use sqlx::{Connection, Row};

use super::apply_pending;
use crate::dialect::Dialect;

async fn memory_db() -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect("sqlite::memory:").await.expect("in-memory SQLite")
}

async fn insert_event(conn: &mut sqlx::AnyConnection, seq: i64, producer_id: &str) {
    sqlx::query(
        "INSERT INTO events (seq, producer_id, created_at, event_type, entity_type, entity_id, group_id, \
         root_group_id, payload) VALUES ($1, $2, 5, 'user_created', 'Group', 7, 7, 7, '{}')",
    )
    .bind(seq)
    .bind(producer_id)
    .execute(&mut *conn)
    .await
    .expect("insert event");
}

#[tokio::test]
async fn seq_becomes_the_rowid_and_every_event_is_kept() {
    let mut conn = memory_db().await;
    apply_pending(&mut conn, Dialect::Sqlite, 13).await.unwrap();
    for (seq, id) in [(10, "a"), (20, "b"), (35, "c")] {
        insert_event(&mut conn, seq, id).await;
    }
    let before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE rowid <> seq").fetch_one(&mut conn).await.unwrap();
    assert_eq!(before, 3, "before 0014 the rowid is a column of its own");

    apply_pending(&mut conn, Dialect::Sqlite, 14).await.unwrap();
    let rows = sqlx::query("SELECT rowid AS r, seq, producer_id FROM events ORDER BY seq").fetch_all(&mut conn).await;
    let rows: Vec<(i64, i64, String)> =
        rows.unwrap().iter().map(|r| (r.get("r"), r.get("seq"), r.get("producer_id"))).collect();
    assert_eq!(rows, vec![(10, 10, "a".into()), (20, 20, "b".into()), (35, 35, "c".into())]);
    let indexes: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert!(!indexes.iter().any(|n| n.starts_with("sqlite_autoindex")), "no separate seq index: {indexes:?}");
    assert_eq!(indexes.len(), 9, "the secondary indexes are rebuilt: {indexes:?}");
}

#[tokio::test]
async fn a_producer_id_stays_unique_in_its_scope_after_the_rebuild() {
    let mut conn = memory_db().await;
    apply_pending(&mut conn, Dialect::Sqlite, i64::MAX).await.unwrap();
    insert_event(&mut conn, 1, "dup").await;
    let again = sqlx::query(
        "INSERT INTO events (seq, producer_id, created_at, event_type, entity_type, entity_id, root_group_id, payload) \
         VALUES (2, 'dup', 5, 'x', 'Group', 7, 7, '{}')",
    )
    .execute(&mut conn)
    .await;
    assert!(again.is_err(), "the scoped unique index on producer_id survives");
}
