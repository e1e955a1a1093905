//! Errors of the service layer. How each maps to an HTTP or GraphQL answer is decided in one
//! table in the api crate (`auditrelay_api::error`).

use auditrelay_core::{IngestError, Scope};
use auditrelay_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("401 Unauthorized")]
    Unauthorized,
    #[error("insufficient scope: needs {0}")]
    InsufficientScope(Scope),
    #[error("403 Forbidden")]
    Forbidden,
    /// Forbidden, with the reason told to the caller.
    #[error("403 Forbidden - {0}")]
    Denied(String),
    /// What was not found, as GitLab names it: `Group`, `Project`, `User`, `Audit Event` …
    #[error("404 {0} Not Found")]
    NotFound(&'static str),
    /// A missing or malformed parameter, named in the message (GitLab: `{"error": …}`).
    #[error("{0}")]
    BadParam(String),
    /// A model validation failure, per attribute (GitLab: `{"message": {"attr": ["…"]}}`).
    #[error("{attribute} {message}")]
    Invalid { attribute: String, message: String },
    /// A model failed validation: GitLab's full messages (`"Name is too long (…)"`).
    #[error("{}", .0.join(", "))]
    Validation(Vec<String>),
    /// Bad input whose message is the whole story (ingest bodies).
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn invalid(attribute: &str, message: impl Into<String>) -> Self {
        ServiceError::Invalid { attribute: attribute.into(), message: message.into() }
    }

    pub fn missing(param: &str) -> Self {
        ServiceError::BadParam(format!("{param} is missing"))
    }
}

impl From<auditrelay_archive::ArchiveError> for ServiceError {
    fn from(error: auditrelay_archive::ArchiveError) -> Self {
        ServiceError::Unavailable(error.to_string())
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(what) => ServiceError::Conflict(format!("{what} has already been taken")),
            StoreError::WriterGone => ServiceError::Unavailable("the service is shutting down".into()),
            StoreError::Database(e) => {
                tracing::error!(error = %e, "database error");
                ServiceError::Unavailable("the database is not available; retry later".into())
            }
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<IngestError> for ServiceError {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::Invalid(message) => ServiceError::BadInput(message),
            IngestError::TooLarge(message) => ServiceError::TooLarge(message),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
