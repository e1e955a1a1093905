//! The ClickHouse archive: an internal follower of the event log that copies every event into a
//! ClickHouse table, and the reads answered from that table when it is caught up.
//!
//! ClickHouse is optional and never on the ingest path: the archiver follows the log like a
//! destination, so an outage only makes it fall behind (reads then come from the operational
//! store) and it catches up when ClickHouse returns.

mod archiver;
mod client;
mod error;
mod query;
mod table;

pub use archiver::{Archive, ArchiveStatus, ArchiverConfig, FOLLOWER_NAME};
pub use client::ClickHouse;
pub use error::ArchiveError;
pub use query::GroupIds;

pub type Result<T, E = ArchiveError> = std::result::Result<T, E>;
