//! auditrelay's operational store: the event log, identity, namespaces and settings, on SQLite
//! (embedded, the default) or PostgreSQL, behind one [`Store`] with the same SQL for both.

mod begin;
mod connect;
pub mod delivery;
pub mod destinations;
mod dialect;
mod error;
mod fault;
mod group_learning;
mod id_columns;
pub mod identity;
pub mod log;
pub mod log_writer;
mod migrate;
pub mod namespaces;
pub mod route_versions;
pub mod sealed;
pub mod settings;
mod sqlite_batch;
pub mod streams;
pub mod unit_of_work;
mod value_cipher;
pub mod web_sessions;
pub mod webhook_secrets;
pub mod workflows;

pub use connect::{Dialect, Store};
pub use error::StoreError;
pub use log::{EventFilter, EventScope, IdScope, PreparedEvent, SeqOrder, StoredEvent, ai_event_keys};
pub use log_writer::LogWriter;
pub use unit_of_work::{Tx, UnitFuture};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
