//! `Service`: the shared context of every use case (store, log writer, secrets, engine,
//! archive, caches, throttles), one per process behind an `Arc`.

use auditrelay_core::IngestLimits;
use auditrelay_store::{LogWriter, Store};

use crate::limits::{
    MUTATION_WINDOW_MICROS, MUTATIONS_PER_WINDOW, SIGN_IN_ADDRESS_FAILURE_LIMIT, SIGN_IN_FAILURE_LIMIT,
    SIGN_IN_LOCK_MICROS,
};
use crate::{namespace_cache, secret_box};

/// Shared state of the running service. One per process, behind an `Arc`.
pub struct Service {
    pub store: Store,
    pub log: LogWriter,
    pub secrets: secret_box::SecretBox,
    /// The delivery engine (absent in tools that only read or write the store).
    pub engine: Option<auditrelay_delivery::Engine>,
    /// The ClickHouse archive (with `--clickhouse-url`), which answers reads when caught up.
    pub archive: Option<auditrelay_archive::Archive>,
    /// The signer of stream checkpoints the engine uses (rotation replaces its key).
    pub stream_signer: Option<std::sync::Arc<crate::stream_signer::InstanceSigner>>,
    pub namespaces: namespace_cache::NamespaceCache,
    /// Tokens that authenticated recently (see `token_cache` for when they are forgotten).
    pub tokens: crate::token_cache::TokenCache,
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
            stream_signer: None,
            namespaces: Default::default(),
            tokens: Default::default(),
            observed_types: Default::default(),
            ingest_limits: IngestLimits::default(),
            sign_in_failures: std::sync::Mutex::new(auditrelay_core::throttle::SignInThrottle::new(
                SIGN_IN_FAILURE_LIMIT,
                SIGN_IN_ADDRESS_FAILURE_LIMIT,
                SIGN_IN_LOCK_MICROS,
            )),
            destination_mutations: std::sync::Mutex::new(auditrelay_core::throttle::FailureThrottle::new(
                MUTATIONS_PER_WINDOW,
                MUTATION_WINDOW_MICROS,
            )),
        }
    }
}
