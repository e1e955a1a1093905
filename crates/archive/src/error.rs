//! Errors of the archive layer.

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("invalid ClickHouse URL '{url}': {reason}")]
    BadUrl { url: String, reason: String },
    #[error("ClickHouse is unreachable: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("ClickHouse answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("unexpected row from ClickHouse: {0}")]
    BadRow(String),
    #[error(transparent)]
    Store(#[from] auditrelay_store::StoreError),
}
