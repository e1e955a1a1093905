//! Errors of the archive layer.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("invalid ClickHouse URL '{url}': {reason}")]
    BadUrl { url: String, reason: String },
    #[error("ClickHouse is unreachable: {0}")]
    Unreachable(#[source] clickhouse::error::Error),
    #[error("ClickHouse did not answer within {0:?}")]
    TimedOut(Duration),
    #[error("ClickHouse answered: {0}")]
    Server(String),
    #[error("unexpected row from ClickHouse: {0}")]
    BadRow(String),
    #[error(transparent)]
    Store(#[from] auditrelay_store::StoreError),
}

impl ArchiveError {
    /// Sorts the `clickhouse` crate's errors: the server's own answer (long, with a stack trace
    /// on old servers) is cut to its first line; rows that do not decode are `BadRow`. (The crate's
    /// own `TimedOut` is told apart by the caller, who knows the limit.)
    pub(crate) fn from_clickhouse(error: clickhouse::error::Error) -> ArchiveError {
        use clickhouse::error::Error as E;
        match error {
            E::BadResponse(text) => ArchiveError::Server(first_line(&text)),
            E::NotEnoughData | E::DataFormat(_) | E::InvalidUtf8Encoding(_) | E::Custom(_) => {
                ArchiveError::BadRow(error.to_string())
            }
            other => ArchiveError::Unreachable(other),
        }
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    line.chars().take(500).collect()
}
