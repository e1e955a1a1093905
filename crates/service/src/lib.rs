//! The service layer: every operation of the product, with its authorization and rules, called
//! alike by the REST API, GraphQL, the web UI and the CLI.

pub mod access;
pub mod ai;
pub mod archive;
pub mod audit;
pub mod auth;
pub mod delivery;
pub mod destinations;
pub mod directory;
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
pub mod token_cache;

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
    /// Tokens that authenticated recently (see `token_cache` for when they are forgotten).
    pub tokens: token_cache::TokenCache,
    pub observed_types: std::sync::RwLock<std::collections::HashSet<String>>,
    pub ingest_limits: IngestLimits,
    /// Failed web sign-ins per username (GitLab locks an account for 10 minutes after 10) and
    /// per client address.
    pub sign_in_failures: std::sync::Mutex<auditrelay_core::throttle::SignInThrottle>,
    /// Destination creates and updates per user, for GitLab's newer limits (when enabled).
    pub destination_mutations: std::sync::Mutex<auditrelay_core::throttle::FailureThrottle>,
}

impl Service {
    pub fn new(store: Store, log: LogWriter, secrets: secret_box::SecretBox) -> Service {
        store.set_value_cipher(std::sync::Arc::new(secrets.clone()));
        Service {
            store,
            log,
            secrets,
            engine: None,
            archive: None,
            namespaces: Default::default(),
            tokens: Default::default(),
            observed_types: Default::default(),
            ingest_limits: IngestLimits::default(),
            sign_in_failures: std::sync::Mutex::new(auditrelay_core::throttle::SignInThrottle::new(
                sessions::SIGN_IN_FAILURE_LIMIT,
                sessions::SIGN_IN_ADDRESS_FAILURE_LIMIT,
                sessions::SIGN_IN_LOCK_MICROS,
            )),
            destination_mutations: std::sync::Mutex::new(auditrelay_core::throttle::FailureThrottle::new(
                destinations::newer_limits::MUTATIONS_PER_WINDOW,
                destinations::newer_limits::MUTATION_WINDOW_MICROS,
            )),
        }
    }
}
