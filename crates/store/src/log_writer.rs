//! The group-commit log writer: one task that batches concurrent append requests into one
//! transaction. Fast (one commit and fsync per batch) and ordered (one writer per process; the
//! log lock orders processes). Callers are answered only after their batch has committed.
//! Requests to learn group paths (`group_learning`) are gathered the same way, and learned in
//! one transaction before the appends gathered with them.

use auditrelay_core::EventId;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, watch};

use crate::group_learning::{LearnRequest, learn_together};
use crate::log::PreparedEvent;
use crate::namespaces::Group;
use crate::unit_of_work::{Tx, UnitFuture, UnitRequest, commit_unit};
use crate::{Result, Store, StoreError};

/// Events one transaction takes at most; more waiting requests go into the next one.
const MAX_BATCH_EVENTS: usize = 10_000;
const QUEUE_DEPTH: usize = 1024;

pub(crate) struct AppendRequest {
    events: Vec<PreparedEvent>,
    reply: oneshot::Sender<Result<Vec<EventId>>>,
}

/// What the writer is asked: plain appends are batched, and so are requests to learn group
/// paths; a unit of work (a change with its audit events, see `unit_of_work`) commits in a
/// transaction of its own, in queue order.
pub(crate) enum Request {
    Append(AppendRequest),
    Learn(LearnRequest),
    Unit(UnitRequest),
}

/// Handle to the writer task. Cloning shares the one writer.
#[derive(Clone)]
pub struct LogWriter {
    requests: mpsc::Sender<Request>,
    head: watch::Receiver<i64>,
}

impl LogWriter {
    /// Starts the writer. It stops once every handle is dropped and the queue is drained, so a
    /// graceful shutdown that drops the handles still commits everything already queued.
    pub async fn start(store: Store) -> Result<(LogWriter, tokio::task::JoinHandle<()>)> {
        let (requests, receiver) = mpsc::channel(QUEUE_DEPTH);
        let (head_tx, head) = watch::channel(store.head_seq().await?);
        let task = tokio::spawn(run(store, receiver, head_tx));
        Ok((LogWriter { requests, head }, task))
    }

    /// Appends events and waits until they are committed. Returns their public ids in order.
    pub async fn append(&self, events: Vec<PreparedEvent>) -> Result<Vec<EventId>> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Append(AppendRequest { events, reply })).await?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Runs `work` in one transaction with the append of the events it returns, and answers
    /// after the commit: the change and its audit events are stored together or not at all.
    /// The unit's events must have no producer ids (they are the service's own). See
    /// `unit_of_work`.
    pub async fn commit_unit<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Tx) -> UnitFuture<'c, T> + Send + 'static,
    {
        let (unit, answer) = UnitRequest::new(work);
        self.send(Request::Unit(unit)).await?;
        answer.committed().await
    }

    /// [`Store::ensure_group_paths`], in one transaction with the paths of other callers
    /// waiting meanwhile (one commit for the concurrent batches of new namespaces).
    pub async fn learn_group_paths(&self, paths: Vec<String>) -> Result<Vec<Group>> {
        let (request, answer) = LearnRequest::new(paths);
        self.send(Request::Learn(request)).await?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    pub(crate) async fn send(&self, request: Request) -> Result<()> {
        self.requests.send(request).await.map_err(|_| StoreError::WriterGone)
    }

    /// The log's head `seq`, updated after every commit: followers wait on it for new events.
    pub fn head(&self) -> watch::Receiver<i64> {
        self.head.clone()
    }
}

async fn run(store: Store, mut receiver: mpsc::Receiver<Request>, head: watch::Sender<i64>) {
    // A unit of work met while gathering a batch waits here until the batch has committed.
    let mut held: Option<Request> = None;
    loop {
        let first = match held.take() {
            Some(request) => request,
            None => match receiver.recv().await {
                Some(request) => request,
                None => break,
            },
        };
        let mut batch = Vec::new();
        let mut learns = Vec::new();
        let mut count = match first {
            Request::Unit(unit) => {
                commit_unit(&store, unit, &head).await;
                continue;
            }
            Request::Append(first) => {
                batch.push(first);
                batch[0].events.len()
            }
            Request::Learn(first) => {
                learns.push(first);
                learns[0].paths.len()
            }
        };
        while count < MAX_BATCH_EVENTS {
            match receiver.try_recv() {
                Ok(Request::Append(request)) => {
                    count += request.events.len();
                    batch.push(request);
                }
                Ok(Request::Learn(request)) => {
                    count += request.paths.len();
                    learns.push(request);
                }
                Ok(unit) => {
                    held = Some(unit);
                    break;
                }
                Err(_) => break,
            }
        }
        // Learning first: a batch is appended only after its paths were learned, so no append
        // gathered here waits for learning gathered with it, and their order is free.
        if !learns.is_empty() {
            learn_together(&store, learns).await;
        }
        if !batch.is_empty() {
            let events = batch.iter().map(|r| r.events.len()).sum();
            commit_batch(&store, batch, events, &head).await;
        }
    }
}

async fn commit_batch(store: &Store, batch: Vec<AppendRequest>, count: usize, head: &watch::Sender<i64>) {
    let started = Instant::now();
    let mut all = Vec::with_capacity(count);
    let mut replies = Vec::with_capacity(batch.len());
    for request in batch {
        replies.push((request.events.len(), request.reply));
        all.extend(request.events);
    }
    match store.append_events(&all).await {
        Ok((ids, new_head)) => {
            publish_head(head, new_head);
            metrics::histogram!("auditrelay_log_commit_seconds").record(started.elapsed().as_secs_f64());
            metrics::histogram!("auditrelay_log_commit_events").record(count as f64);
            let mut ids = ids.into_iter();
            for (n, reply) in replies {
                let _ = reply.send(Ok(ids.by_ref().take(n).collect()));
            }
        }
        Err(error) if replies.len() > 1 && refused_by_database(&error) => {
            tracing::warn!(%error, events = count, requests = replies.len(), "group commit failed; committing each request alone");
            metrics::counter!("auditrelay_log_commit_failures_total").increment(1);
            commit_each_alone(store, all, replies, head).await;
        }
        Err(error) => {
            tracing::error!(%error, events = count, "event log commit failed");
            metrics::counter!("auditrelay_log_commit_failures_total").increment(1);
            let message = error.to_string();
            for (_, reply) in replies {
                let _ = reply.send(Err(StoreError::relayed(&message)));
            }
        }
    }
}

/// Whether the database answered the batch with an error (a value or statement it refused), as
/// opposed to being unreachable: only then can committing the requests one by one help. During an
/// outage every request fails at once, without a retry per request.
fn refused_by_database(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(sqlx::Error::Database(_)))
}

/// After a failed group commit: one transaction per request, so a request the database refuses
/// fails alone and every other request of the batch still commits (in its original order).
async fn commit_each_alone(
    store: &Store,
    mut events: Vec<PreparedEvent>,
    replies: Vec<(usize, oneshot::Sender<Result<Vec<EventId>>>)>,
    head: &watch::Sender<i64>,
) {
    let mut unreachable: Option<String> = None;
    for (n, reply) in replies {
        let own: Vec<PreparedEvent> = events.drain(..n).collect();
        if let Some(message) = &unreachable {
            let _ = reply.send(Err(StoreError::relayed(message)));
            continue;
        }
        let answer = match store.append_events(&own).await {
            Ok((ids, new_head)) => {
                publish_head(head, new_head);
                Ok(ids)
            }
            Err(error) => {
                tracing::error!(%error, events = n, "event log commit of one request failed");
                metrics::counter!("auditrelay_log_commit_failures_total").increment(1);
                // The database went away meanwhile: the rest fail at once, as in an outage.
                if !refused_by_database(&error) {
                    unreachable = Some(error.to_string());
                }
                Err(error)
            }
        };
        let _ = reply.send(answer);
    }
}

fn publish_head(head: &watch::Sender<i64>, new_head: i64) {
    head.send_if_modified(|h| {
        let moved = new_head > *h;
        *h = (*h).max(new_head);
        moved
    });
}
