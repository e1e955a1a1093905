//! The service layer: every operation of the product, with its authorization and rules, called
//! alike by the REST API, GraphQL, the web UI and the CLI.

pub mod access;
pub mod ai;
pub mod archive;
pub mod audit;
pub mod auth;
pub mod delivery;
pub mod destinations;
pub mod error;
pub mod events;
pub mod files;
pub mod identity;
pub mod ingest;
pub mod namespace_cache;
pub mod secret_box;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod test_event;

use auditrelay_core::IngestLimits;
use auditrelay_store::{LogWriter, Store};

pub use auth::Caller;
pub use error::{ServiceError, ServiceResult};

/// Shared state of the running service. One per process, behind an `Arc`.
pub struct Service {
    pub store: Store,
    pub log: LogWriter,
    pub secrets: secret_box::SecretBox,
    /// The delivery engine (absent in tools that only read or write the store).
    pub engine: Option<auditrelay_delivery::Engine>,
    /// The ClickHouse archive (with `--clickhouse-url`), which answers reads when caught up.
    pub archive: Option<auditrelay_archive::Archive>,
    pub namespaces: namespace_cache::NamespaceCache,
    pub observed_types: std::sync::RwLock<std::collections::HashSet<String>>,
    pub ingest_limits: IngestLimits,
    /// Failed web sign-ins per username (GitLab locks an account for 10 minutes after 10).
    pub sign_in_failures: std::sync::Mutex<auditrelay_core::throttle::FailureThrottle>,
}

impl Service {
    pub fn new(store: Store, log: LogWriter, secrets: secret_box::SecretBox) -> Service {
        Service {
            store,
            log,
            secrets,
            engine: None,
            archive: None,
            namespaces: Default::default(),
            observed_types: Default::default(),
            ingest_limits: IngestLimits::default(),
            sign_in_failures: std::sync::Mutex::new(auditrelay_core::throttle::FailureThrottle::new(
                sessions::SIGN_IN_FAILURE_LIMIT,
                sessions::SIGN_IN_LOCK_MICROS,
            )),
        }
    }
}
