//! A unit of work: a use case's statements and the audit events that record it, committed in one
//! transaction by the log writer, or not at all.
//!
//! The log writer runs each unit in a transaction of its own, between its group commits, under
//! the log lock (so `seq` is still assigned only there, in commit order): it reads the head, runs
//! the unit's statements, appends the unit's events and commits. A failing unit fails only
//! itself; plain appends keep their batching.

use auditrelay_core::EventId;
use sqlx::{Any, AnyConnection, Transaction};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{oneshot, watch};

use crate::log::PreparedEvent;
use crate::{Result, Store, StoreError};

/// The future a unit's statements run as: its result for the caller and the events to append.
pub type UnitFuture<'c, T> = Pin<Box<dyn Future<Output = Result<(T, Vec<PreparedEvent>)>> + Send + 'c>>;

type ErasedWork = Box<dyn for<'c> FnOnce(&'c mut Tx) -> UnitFuture<'c, ()> + Send>;

/// A unit as queued for the writer.
pub(crate) struct UnitRequest {
    work: ErasedWork,
    reply: oneshot::Sender<Result<Vec<EventId>>>,
}

/// The open write transaction a unit's statements run in. The log lock is held, so the unit's
/// first event will get `first_seq()`.
pub struct Tx {
    pub(crate) tx: Transaction<'static, Any>,
    store: Store,
    first_seq: i64,
}

impl Tx {
    /// The connection of the transaction, for the store's statements.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// The `seq` the unit's first event gets: where the change takes effect in the log.
    pub fn first_seq(&self) -> i64 {
        self.first_seq
    }

    /// The store's sealer, so that values written in the unit are sealed at rest as every
    /// other write of them is.
    pub(crate) fn sealer(&self) -> crate::value_cipher::Sealer {
        self.store.sealer.clone()
    }

    /// The store, for reads outside the transaction (they do not see its writes yet).
    pub fn store(&self) -> &Store {
        &self.store
    }
}

impl UnitRequest {
    /// `work` as queued for the writer, and where its outcome arrives.
    pub(crate) fn new<T, F>(work: F) -> (UnitRequest, UnitAnswer<T>)
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Tx) -> UnitFuture<'c, T> + Send + 'static,
    {
        let (value_tx, value_rx) = oneshot::channel();
        let work: ErasedWork = Box::new(move |tx| {
            Box::pin(async move {
                let (value, events) = work(tx).await?;
                let _ = value_tx.send(value);
                Ok(((), events))
            })
        });
        let (reply, answer) = oneshot::channel();
        (UnitRequest { work, reply }, UnitAnswer { committed: answer, value: value_rx })
    }
}

/// Where a queued unit's outcome arrives.
pub(crate) struct UnitAnswer<T> {
    committed: oneshot::Receiver<Result<Vec<EventId>>>,
    value: oneshot::Receiver<T>,
}

impl<T> UnitAnswer<T> {
    /// The unit's value once it has committed, or why it did not.
    pub(crate) async fn committed(self) -> Result<T> {
        self.committed.await.map_err(|_| StoreError::WriterGone)??;
        self.value.await.map_err(|_| StoreError::WriterGone)
    }
}

/// Commits one unit (on the writer's task) and answers its caller.
pub(crate) async fn commit_unit(store: &Store, unit: UnitRequest, head: &watch::Sender<i64>) {
    let result = run_unit(store, unit.work).await;
    match &result {
        Ok((_, new_head)) => {
            head.send_if_modified(|h| {
                let moved = *new_head > *h;
                *h = (*h).max(*new_head);
                moved
            });
        }
        Err(error) => {
            tracing::warn!(%error, "a unit of work failed; nothing of it was stored");
            metrics::counter!("auditrelay_unit_of_work_failures_total").increment(1);
        }
    }
    let _ = unit.reply.send(result.map(|(ids, _)| ids));
}

async fn run_unit(store: &Store, work: ErasedWork) -> Result<(Vec<EventId>, i64)> {
    let mut tx = store.begin_locked().await?;
    let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events").fetch_one(&mut *tx).await?;
    let mut unit = Tx { tx, store: store.clone(), first_seq: head + 1 };
    let ((), events) = work(&mut unit).await?;
    if !events.is_empty() {
        crate::fault::between_change_and_audit()?;
    }
    if events.iter().any(|e| e.producer_id.is_some()) {
        return Err(StoreError::Database(sqlx::Error::Protocol("a unit of work's events carry no producer id".into())));
    }
    let Tx { mut tx, .. } = unit;
    let appended = store.append_locked(&mut tx, &events).await?;
    tx.commit().await?;
    Ok(appended)
}
