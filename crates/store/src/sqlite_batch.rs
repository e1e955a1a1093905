//! Transactions on SQLite's write connection written as texts of several statements, so that
//! each is a few requests to the thread that owns the connection (sqlx runs a text as one
//! request): the caller opens with `BEGIN IMMEDIATE` and ends its last text with `COMMIT`.

use sqlx::Any;
use sqlx::pool::PoolConnection;

/// Ends a failed transaction. A connection that cannot roll back (also after a `BEGIN` that
/// failed, so that nothing was open) is not used again: the pool opens a fresh one, so no later
/// write can run inside a transaction left open.
pub(crate) async fn roll_back(conn: &mut PoolConnection<Any>) {
    if let Err(error) = sqlx::query("ROLLBACK").execute(&mut **conn).await {
        tracing::warn!(%error, "no rollback after a failed write; the write connection is replaced");
        conn.close_on_drop();
    }
}
