//! Learning the group paths of concurrent ingest batches together: the log writer takes the
//! learn requests waiting in its queue and creates all their paths in one transaction, as it
//! commits waiting appends together. Eight clients sending batches of new paths made eight
//! transactions on the one write connection, each mostly hand-offs between the runtime and
//! SQLite's thread rather than work; now they make one.

use std::collections::HashMap;
use tokio::sync::oneshot;

use crate::namespaces::Group;
use crate::{Result, Store, StoreError};

/// One caller's paths and where its groups go, in the order of its paths.
pub(crate) struct LearnRequest {
    pub(crate) paths: Vec<String>,
    pub(crate) reply: oneshot::Sender<Result<Vec<Group>>>,
}

impl LearnRequest {
    pub(crate) fn new(paths: Vec<String>) -> (LearnRequest, oneshot::Receiver<Result<Vec<Group>>>) {
        let (reply, answer) = oneshot::channel();
        (LearnRequest { paths, reply }, answer)
    }
}

/// Learns every request's paths in one transaction and answers each with its own groups.
/// A path that is a project's fails the transaction: then each request is learned alone, so
/// only the batch naming it hears the conflict.
pub(crate) async fn learn_together(store: &Store, requests: Vec<LearnRequest>) {
    if requests.len() == 1 {
        let request = requests.into_iter().next().expect("one request");
        let _ = request.reply.send(learn(store, &request.paths).await);
        return;
    }
    // Paths several requests name are made once: `ensure_group_paths` dedups what it creates.
    let all: Vec<String> = requests.iter().flat_map(|r| r.paths.iter().cloned()).collect();
    match learn(store, &all).await {
        Ok(groups) => {
            let by_path: HashMap<String, Group> = all.into_iter().zip(groups).collect();
            for request in requests {
                let own = request.paths.iter().map(|p| by_path.get(p).cloned());
                let answer = own.collect::<Option<Vec<Group>>>().ok_or(StoreError::Conflict("Path".into()));
                let _ = request.reply.send(answer);
            }
        }
        Err(StoreError::Conflict(_)) => {
            for request in requests {
                let _ = request.reply.send(learn(store, &request.paths).await);
            }
        }
        Err(error) => {
            let message = error.to_string();
            for request in requests {
                let _ = request.reply.send(Err(StoreError::relayed(&message)));
            }
        }
    }
}

async fn learn(store: &Store, paths: &[String]) -> Result<Vec<Group>> {
    store.ensure_group_paths(&paths.iter().map(String::as_str).collect::<Vec<_>>()).await
}
