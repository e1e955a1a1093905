//! Write transactions begun so that a caller dropped during `BEGIN` cannot leave a pooled
//! connection inside a transaction.
//!
//! sqlx 0.8 counts a PostgreSQL transaction only once `BEGIN`'s answer has arrived. A future
//! dropped while it waits for that answer (a delivery round dropped when its worker stops, a
//! request whose client hung up) returns the connection to the pool inside a transaction that
//! nothing rolls back (sqlx issues 2054 and 4393). The next borrower's statements then run in
//! it and hold their locks until the connection is closed: workers' health writes waited on
//! such locks in CI, and PostgreSQL logged "there is already a transaction in progress".
//! So `BEGIN` runs in a task of its own. If the caller is gone when it finishes, the task drops
//! the transaction, which sqlx now counts, and so rolls back.
//!
//! The same holds for a transaction written as statement texts on SQLite (`sqlite_batch`),
//! which sqlx does not count at all: such a transaction runs to its end in a task of its own
//! ([`detached`]).

use sqlx::{Any, AnyPool, Transaction};
use std::future::Future;

use crate::{Result, StoreError};

/// `pool.begin()`, safe to drop at any point.
pub(crate) async fn begin(pool: &AnyPool) -> Result<Transaction<'static, Any>> {
    let pool = pool.clone();
    detached(async move { Ok(pool.begin().await?) }).await
}

/// Runs `work` to its end in a task of its own, whether or not its caller waits for it.
pub(crate) async fn detached<T: Send + 'static>(work: impl Future<Output = Result<T>> + Send + 'static) -> Result<T> {
    match tokio::spawn(work).await {
        Ok(done) => done,
        Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
        // The runtime is shutting down.
        Err(_) => Err(StoreError::Database(sqlx::Error::PoolClosed)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sqlx::any::{AnyPoolOptions, install_default_drivers};
    use std::future::Future;
    use std::time::Duration;

    /// Polls `future` `times` times, yielding between polls, and drops it unfinished. Some
    /// count of polls leaves after `BEGIN` was sent and before its answer was read.
    pub(crate) async fn poll_and_drop(future: impl Future, times: usize) {
        let mut future = std::pin::pin!(future);
        for _ in 0..times {
            if std::future::poll_fn(|cx| std::task::Poll::Ready(future.as_mut().poll(cx).is_ready())).await {
                return;
            }
            tokio::task::yield_now().await;
        }
    }

    /// Whether the pool's connection is inside a transaction that began before this statement:
    /// `now()` is the transaction's start, and stays there.
    async fn inside_an_old_transaction(pool: &AnyPool) -> bool {
        tokio::time::sleep(Duration::from_millis(50)).await;
        sqlx::query_scalar("SELECT now() < statement_timestamp() - interval '20 milliseconds'")
            .fetch_one(pool)
            .await
            .expect("ask PostgreSQL")
    }

    /// With sqlx 0.8.6's own `pool.begin()` in place of `begin(&pool)`, this fails on the
    /// first poll.
    #[tokio::test]
    async fn a_begin_dropped_before_its_answer_leaves_no_transaction_open_on_postgres() {
        install_default_drivers();
        let url = auditrelay_testkit::fresh_postgres_database().await;
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect(&url)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query("SELECT 1").execute(&pool).await.expect("a first statement");
        for times in 1..=12 {
            // The connection back in the pool, idle.
            tokio::time::sleep(Duration::from_millis(10)).await;
            poll_and_drop(begin(&pool), times).await;
            assert!(
                !inside_an_old_transaction(&pool).await,
                "a BEGIN dropped after {times} polls left its transaction open"
            );
        }
        let mut tx = begin(&pool).await.expect("a transaction begins");
        sqlx::query("SELECT 1").execute(&mut *tx).await.expect("a statement in it");
        tx.commit().await.expect("and commits");
    }
}
