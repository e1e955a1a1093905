//! Transactions on SQLite's write connection written as texts of several statements, so that
//! each is a few requests to the thread that owns the connection (sqlx runs a text as one
//! request): the caller opens with `BEGIN IMMEDIATE` and ends its last text with `COMMIT`.
//!
//! A transaction whose durability the next commit provides (learning groups, see
//! `namespaces::learn_on_sqlite`) opens with [`WITHOUT_FSYNC`] and ends with
//! [`COMMIT_AND_FSYNC_AGAIN`], or on failure [`roll_back_without_fsync`].

use sqlx::Any;
use sqlx::pool::PoolConnection;

/// Before `BEGIN`: this transaction's commit writes the WAL without an fsync.
pub(crate) const WITHOUT_FSYNC: &str = "PRAGMA synchronous = NORMAL";
/// The commit of such a transaction, and the connection's own setting (`connect`) again.
pub(crate) const COMMIT_AND_FSYNC_AGAIN: &str = "COMMIT; PRAGMA synchronous = FULL";

/// Ends a failed transaction. A connection that cannot roll back (also after a `BEGIN` that
/// failed, so that nothing was open) is not used again: the pool opens a fresh one, so no later
/// write can run inside a transaction left open.
pub(crate) async fn roll_back(conn: &mut PoolConnection<Any>) {
    end_failed(conn, "ROLLBACK").await
}

/// [`roll_back`] of a transaction opened with [`WITHOUT_FSYNC`]: the connection is back at
/// `FULL`, or replaced by a fresh one (which is).
pub(crate) async fn roll_back_without_fsync(conn: &mut PoolConnection<Any>) {
    end_failed(conn, "ROLLBACK; PRAGMA synchronous = FULL").await
}

async fn end_failed(conn: &mut PoolConnection<Any>, sql: &str) {
    if let Err(error) = sqlx::query(sql).execute(&mut **conn).await {
        tracing::warn!(%error, "no rollback after a failed write; the write connection is replaced");
        conn.close_on_drop();
    }
}
