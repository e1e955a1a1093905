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
///
/// The use cases are reached through the capability handles its modules add (`identity()`,
/// `ingest()`, `destinations()` …), each taking a proof of permission from `access()`; what
/// they share (the unit of work, audit helpers, caches) stays here, private to the crate.
pub struct Service {
    pub(crate) store: Store,
    pub(crate) log: LogWriter,
    pub(crate) secrets: secret_box::SecretBox,
    /// The delivery engine. `serve` always has one; a service built without one (the service
    /// tier's tests) changes destinations without starting workers, and sends test events with
    /// the default endpoints.
    pub(crate) engine: Option<auditrelay_delivery::Engine>,
    /// The ClickHouse archive (with `--clickhouse-url`), which answers reads when caught up.
    pub(crate) archive: Option<auditrelay_archive::Archive>,
    /// The signer of stream checkpoints the engine uses (rotation replaces its key).
    pub(crate) stream_signer: Option<std::sync::Arc<crate::stream_signer::InstanceSigner>>,
    pub(crate) namespaces: namespace_cache::NamespaceCache,
    /// Tokens that authenticated recently (see `token_cache` for when they are forgotten).
    pub(crate) tokens: crate::token_cache::TokenCache,
    pub(crate) observed_types: std::sync::RwLock<std::collections::HashSet<String>>,
    pub(crate) ingest_limits: IngestLimits,
    /// Failed web sign-ins per username (GitLab locks an account for 10 minutes after 10) and
    /// per client address.
    pub(crate) sign_in_failures: std::sync::Mutex<auditrelay_core::throttle::SignInThrottle>,
    /// Destination creates and updates per user, for GitLab's newer limits (when enabled).
    pub(crate) destination_mutations: std::sync::Mutex<auditrelay_core::throttle::FailureThrottle>,
}

impl Service {
    /// A service over the store and its log writer, without a delivery engine, an archive or a
    /// checkpoint signer (`with_…` add them, as `serve` does).
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

    /// Delivery through `engine`: destination changes restart its workers.
    pub fn with_engine(mut self, engine: auditrelay_delivery::Engine) -> Service {
        self.engine = Some(engine);
        self
    }

    /// Reads answered from the ClickHouse archive when it is caught up.
    pub fn with_archive(mut self, archive: Option<auditrelay_archive::Archive>) -> Service {
        self.archive = archive;
        self
    }

    /// The signer the engine's checkpoints use, whose key rotation replaces.
    pub fn with_stream_signer(mut self, signer: std::sync::Arc<crate::stream_signer::InstanceSigner>) -> Service {
        self.stream_signer = Some(signer);
        self
    }

    /// The operational store, for start-up maintenance (`serve` seals old header values) and
    /// tests' direct checks; use cases go through the handles.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The limits of an ingest request (the API caps the body it reads by them).
    pub fn ingest_limits(&self) -> IngestLimits {
        self.ingest_limits
    }
}
