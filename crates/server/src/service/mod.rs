//! The service layer: every operation of the product, with its authorization and rules, called
//! alike by the REST API, GraphQL, the web UI and the CLI.

pub mod access;
pub mod audit;
pub mod auth;
pub mod events;
pub mod identity;
pub mod ingest;
pub mod namespace_cache;
pub mod secrets;
pub mod settings;

use auditrelay_core::IngestLimits;
use auditrelay_store::{LogWriter, Store};

pub use auth::Caller;

/// Shared state of the running service. One per process, behind an `Arc`.
pub struct Service {
    pub store: Store,
    pub log: LogWriter,
    pub namespaces: namespace_cache::NamespaceCache,
    pub ingest_limits: IngestLimits,
}

impl Service {
    pub fn new(store: Store, log: LogWriter) -> Service {
        Service { store, log, namespaces: Default::default(), ingest_limits: IngestLimits::default() }
    }
}
