//! The append on SQLite in two round trips to its connection thread instead of five.
//!
//! sqlx runs each statement as one request to the thread that owns the SQLite connection, and
//! each answer wakes the writer from outside the runtime: `BEGIN`, the head, the producer-id
//! lookup, the insert and `COMMIT` were five such trips per group commit, most of a commit's
//! time beside the fsync. sqlx runs a text of several statements in one request, binding the
//! parameters across them in order. So the append sends two texts: the lock with the reads
//! (`BEGIN IMMEDIATE`, the head, the producer-id lookup), and the insert with `COMMIT`. A batch
//! larger than one insert (or one lookup) sends each further statement on its own: every text
//! holds at most three short statements, so the prepared statements sqlx keeps per text stay
//! few and small (texts of many 100-row inserts cost tens of MiB of cache). The ordering rule
//! of the log holds: `BEGIN IMMEDIATE` takes SQLite's write lock before the head is read, and
//! the lock is held until `COMMIT`.

use auditrelay_core::EventId;
use sqlx::pool::PoolConnection;
use sqlx::{Any, Row};
use std::collections::HashMap;

use super::ids;
use super::rows::{HEAD_SQL, INSERT_CHUNK, PreparedEvent, bind_rows, insert_sql};
use crate::Result;
use crate::connect::{Dialect, Store};

/// [`Store::append_events`] on SQLite: one transaction, sent as two requests (more for a batch
/// larger than one insert).
pub(super) async fn append(store: &Store, events: &[PreparedEvent]) -> Result<(Vec<EventId>, i64)> {
    let mut conn = store.write.acquire().await?;
    let result = lock_read_and_write(&mut conn, events).await;
    if result.is_err() {
        crate::sqlite_batch::roll_back(&mut conn).await;
    }
    result
}

async fn lock_read_and_write(conn: &mut PoolConnection<Any>, events: &[PreparedEvent]) -> Result<(Vec<EventId>, i64)> {
    let (head, known) = lock_and_read(conn, events).await?;
    let ids::Plan { ids, to_insert, head } = ids::plan(events, &known, head);
    let mut chunks = to_insert.chunks(INSERT_CHUNK).peekable();
    while let Some(chunk) = chunks.next() {
        let mut sql = insert_sql(Dialect::Sqlite, chunk.len());
        if chunks.peek().is_none() {
            sql.push_str("; COMMIT");
        }
        bind_rows(sqlx::query(&sql), chunk).execute(&mut **conn).await?;
    }
    if to_insert.is_empty() {
        sqlx::query("COMMIT").execute(&mut **conn).await?;
    }
    Ok((ids, head))
}

/// Takes the write lock and reads the head and the producer ids of `events` already stored:
/// one request for a batch whose ids fit one lookup, one more per further lookup.
async fn lock_and_read(
    conn: &mut PoolConnection<Any>,
    events: &[PreparedEvent],
) -> Result<(i64, HashMap<(i64, String), EventId>)> {
    let mut sql = String::from("BEGIN IMMEDIATE; ");
    #[cfg(feature = "fault-injection")]
    if let Some(refused) = crate::fault::refused_statement(events.iter().map(|e| e.event_type.as_str())) {
        // Inside the transaction: the rollback after a failed append runs.
        sql.push_str(refused);
        sql.push_str("; ");
    }
    sql.push_str(HEAD_SQL);
    let mut lookups = ids::lookups(Dialect::Sqlite, events).into_iter();
    let first = lookups.next();
    let mut query_forms: &[String] = &[];
    if let Some((lookup, forms)) = &first {
        sql.push_str("; ");
        sql.push_str(lookup);
        query_forms = forms;
    }
    let mut query = sqlx::query(&sql);
    for form in query_forms {
        query = query.bind(form.as_str());
    }
    // The head's row comes first (one column), then the lookup's (scope, producer id).
    let rows = query.fetch_all(&mut **conn).await?;
    let mut rows = rows.iter();
    let head: i64 = match rows.next() {
        Some(row) => row.try_get(0)?,
        None => return Err(sqlx::Error::RowNotFound.into()),
    };
    let mut known = HashMap::new();
    for row in rows {
        ids::remember(&mut known, row.try_get(0)?, row.try_get(1)?);
    }
    for (lookup, forms) in lookups {
        ids::run_lookup(conn, &lookup, &forms, &mut known).await?;
    }
    Ok((head, known))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(producer_id: &str, event_type: &str) -> PreparedEvent {
        PreparedEvent {
            producer_id: Some(EventId::Str(producer_id.into())),
            created_at: 1,
            event_type: event_type.into(),
            entity_type: "User".into(),
            entity_id: 1,
            author_id: None,
            group_id: None,
            project_id: None,
            root_group_id: None,
            payload: "{}".into(),
            workflow_id: None,
            session_id: None,
            ai_sequence: None,
        }
    }

    fn batch(range: std::ops::Range<usize>) -> Vec<PreparedEvent> {
        range.map(|n| event(&format!("evt-{n}"), "user_created")).collect()
    }

    async fn store(test: &str) -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("auditrelay-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        (Store::open_sqlite(&dir).await.unwrap(), dir)
    }

    /// Batches larger than one insert and one lookup statement: every chunk is bound in order,
    /// and repeats (from the log and within the batch) are found across the lookups.
    #[tokio::test]
    async fn batches_of_many_statements_append_and_deduplicate() {
        let (store, dir) = store("many-statements").await;
        let (ids, head) = append(&store, &batch(0..250)).await.unwrap();
        assert_eq!((ids.len(), head), (250, 250));
        let mut again = batch(0..600);
        again.push(event("evt-599", "user_created"));
        let (ids, head) = append(&store, &again).await.unwrap();
        assert_eq!(head, 600, "350 new events, the repeats stored once");
        assert_eq!(ids[10], EventId::Str("evt-10".into()));
        assert_eq!(ids.len(), 601);
        let stored = store.events_after(248, 5).await.unwrap();
        let seqs: Vec<i64> = stored.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [249, 250, 251, 252, 253]);
        assert_eq!(stored[3].id, EventId::Str("evt-251".into()));
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A batch SQLite refuses in its second request (after the lock and the reads) is rolled
    /// back whole, and the next append takes the lock again and continues the log.
    #[tokio::test]
    async fn a_refused_insert_rolls_back_and_the_log_goes_on() {
        let (store, dir) = store("refused-insert").await;
        sqlx::query(
            "CREATE TRIGGER refuse_test_events BEFORE INSERT ON events WHEN NEW.event_type = 'refused' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        )
        .execute(&store.write)
        .await
        .unwrap();
        append(&store, &batch(0..3)).await.unwrap();
        let refused = vec![event("evt-3", "user_created"), event("evt-4", "refused")];
        let error = append(&store, &refused).await.unwrap_err();
        assert!(error.to_string().contains("refused by the test"), "{error}");
        assert_eq!(store.head_seq().await.unwrap(), 3, "nothing of the refused batch is stored");
        let (ids, head) = append(&store, &batch(3..5)).await.unwrap();
        assert_eq!((ids, head), (vec![EventId::Str("evt-3".into()), EventId::Str("evt-4".into())], 5));
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
