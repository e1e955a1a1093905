//! What resolvers take from the request's context: the service, the caller, the request's base
//! URL, and how service errors become GitLab's GraphQL errors.

use async_graphql::{Context, Error};
use std::sync::Arc;

use crate::error::{ErrorAnswer, GraphqlError, ServiceError, ServiceResult};
use auditrelay_service::{Caller, Service};

/// The request's `http://host`, for GitLab's absolute `webUrl`s.
#[derive(Clone)]
pub(crate) struct WebBase(pub String);

pub(crate) fn web_base<'a>(ctx: &Context<'a>) -> &'a str {
    ctx.data_opt::<WebBase>().map_or("", |b| b.0.as_str())
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Service {
    ctx.data_unchecked::<Arc<Service>>()
}

/// The authenticated caller; anonymous callers get GitLab's resource access error.
pub(crate) fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Caller> {
    ctx.data_unchecked::<Option<Caller>>().as_ref().ok_or_else(|| Error::new(crate::error::RESOURCE_ACCESS_ERROR))
}

/// Any error, raised as a top-level GraphQL error.
pub(crate) fn top_level(error: ServiceError) -> Error {
    match error.graphql() {
        GraphqlError::TopLevel(message) => Error::new(message),
        GraphqlError::Payload(messages) => Error::new(messages.join(", ")),
    }
}

/// A service result as GitLab reports it: the value, or payload `errors`, or a raised error.
pub(crate) fn outcome<T>(result: ServiceResult<T>) -> async_graphql::Result<(Option<T>, Vec<String>)> {
    match result {
        Ok(value) => Ok((Some(value), Vec::new())),
        Err(error) => match error.graphql() {
            GraphqlError::TopLevel(message) => Err(Error::new(message)),
            GraphqlError::Payload(messages) => Ok((None, messages)),
        },
    }
}
