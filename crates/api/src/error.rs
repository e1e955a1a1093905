//! The one table that maps service errors to answers: HTTP status and GitLab-shaped JSON bodies
//! for REST and the web UI, and GitLab's two kinds of GraphQL errors.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use auditrelay_service::{ServiceError, ServiceResult};

/// A service error on its way out of an HTTP handler.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

/// What HTTP handlers return.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        ApiError(error)
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

/// The mapping of a [`ServiceError`] to HTTP and GraphQL answers.
pub trait ErrorAnswer {
    /// The HTTP status and GitLab-shaped JSON body.
    fn status_and_body(&self) -> (StatusCode, Value);
    /// The GraphQL answer.
    fn graphql(&self) -> GraphqlError;
}

impl ErrorAnswer for ServiceError {
    fn status_and_body(&self) -> (StatusCode, Value) {
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

    fn graphql(&self) -> GraphqlError {
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ServiceError::Internal(detail) = &self.0 {
            tracing::error!(%detail, "internal error");
        }
        let (status, body) = self.0.status_and_body();
        (status, Json(body)).into_response()
    }
}
