//! Errors of the store layer.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the text names what was taken.
    #[error("{0} has already been taken")]
    Conflict(String),
    /// The log writer has stopped (the service is shutting down).
    #[error("the event log writer is not running")]
    WriterGone,
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A sealed value cannot be opened (another secret key?).
    #[error("{0}")]
    Sealed(String),
    #[error("migration {version} failed: {source}")]
    Migration { version: i64, source: sqlx::Error },
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Database(error)
    }
}

impl StoreError {
    /// One failed transaction's error as told to each of the callers it served (a
    /// `StoreError` cannot be cloned): the database's message, as a database error.
    pub(crate) fn relayed(message: &str) -> StoreError {
        StoreError::Database(sqlx::Error::Protocol(message.to_owned()))
    }
}

/// Maps a unique violation to [`StoreError::Conflict`] naming `what`; other errors pass through.
pub(crate) fn conflict_as(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what.to_owned()),
        _ => StoreError::Database(error),
    }
}
