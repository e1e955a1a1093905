//! Errors of the service layer, and the one table that maps them to HTTP answers.

use auditrelay_core::{IngestError, Scope};
use auditrelay_store::StoreError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

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

    /// The HTTP status and GitLab-shaped JSON body for this error. The one mapping table.
    pub fn status_and_body(&self) -> (StatusCode, Value) {
        use ServiceError::*;
        match self {
            Unauthorized => (StatusCode::UNAUTHORIZED, json!({"message": "401 Unauthorized"})),
            InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                json!({
                    "error": "insufficient_scope",
                    "error_description": "The request requires higher privileges than provided by the access token.",
                    "scope": scope.as_str(),
                }),
            ),
            Forbidden => (StatusCode::FORBIDDEN, json!({"message": "403 Forbidden"})),
            Denied(why) => (StatusCode::FORBIDDEN, json!({"message": format!("403 Forbidden - {why}")})),
            NotFound(what) => (StatusCode::NOT_FOUND, json!({"message": format!("404 {what} Not Found")})),
            BadParam(message) => (StatusCode::BAD_REQUEST, json!({"error": message})),
            Invalid { attribute, message } => (StatusCode::BAD_REQUEST, json!({"message": {attribute: [message]}})),
            Validation(messages) => (StatusCode::BAD_REQUEST, json!({"message": messages})),
            BadInput(message) => (StatusCode::BAD_REQUEST, json!({"message": message})),
            Conflict(message) => (StatusCode::CONFLICT, json!({"message": message})),
            TooLarge(message) => (StatusCode::PAYLOAD_TOO_LARGE, json!({"message": message})),
            TooManyRequests(message) => (StatusCode::TOO_MANY_REQUESTS, json!({"message": message})),
            Unavailable(message) => (StatusCode::SERVICE_UNAVAILABLE, json!({"message": message})),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, json!({"message": "500 Internal Server Error"})),
        }
    }
}

/// GitLab's answer to a caller who may not see or change a resource.
pub const RESOURCE_ACCESS_ERROR: &str =
    "The resource that you are attempting to access does not exist or you don't have permission to perform this action";

/// How a GraphQL mutation reports an error: raised as a top-level `errors` entry, or returned in
/// the payload's `errors: [String!]!`, as GitLab does for that kind of failure.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphqlError {
    TopLevel(String),
    Payload(Vec<String>),
}

impl ServiceError {
    /// The GraphQL side of the one mapping table.
    pub fn graphql(&self) -> GraphqlError {
        use ServiceError::*;
        match self {
            Unauthorized | InsufficientScope(_) | Forbidden | Denied(_) | NotFound(_) => {
                GraphqlError::TopLevel(RESOURCE_ACCESS_ERROR.into())
            }
            Validation(messages) => GraphqlError::Payload(messages.clone()),
            Conflict(message) => GraphqlError::Payload(vec![message.clone()]),
            BadParam(message)
            | BadInput(message)
            | TooLarge(message)
            | TooManyRequests(message)
            | Unavailable(message) => GraphqlError::TopLevel(message.clone()),
            Invalid { attribute, message } => GraphqlError::Payload(vec![format!("{attribute} {message}")]),
            Internal(_) => GraphqlError::TopLevel("Internal server error".into()),
        }
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

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        if let ServiceError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let (status, body) = self.status_and_body();
        (status, Json(body)).into_response()
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
