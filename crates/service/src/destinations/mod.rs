//! Streaming destinations: one model behind GitLab's legacy and consolidated APIs. A destination
//! created through one generation is visible and editable through the other; `Api` only picks
//! GitLab's wording and audit event names for the generation a call came through.

mod audit_names;
mod filters;
mod headers;
mod manage;
pub mod newer_limits;
mod signing;

pub use filters::target_path as filter_path;
pub use manage::{CreateDestination, DestinationUpdate};
pub use signing::{NewSigningSecret, SigningSecret, WebhookSigning};

use auditrelay_core::destination::Category;
use auditrelay_core::destination::config::{DestinationConfig, HeaderSpec, parse_config};
use auditrelay_core::{DestinationId, GroupId};
use auditrelay_store::destinations::{DestinationRow, HeaderRow, NamespaceFilterRow};
use auditrelay_store::namespaces::{Group, Project};
use auditrelay_store::{PreparedEvent, StoreError, Tx, UnitFuture};

use super::Service;
use super::audit::{AdminEvent, Author, Target};
use crate::error::{ServiceError, ServiceResult};

/// Which API generation a call came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Legacy,
    Consolidated,
}

/// Who owns a destination: a top-level group, or the instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Owner {
    Group(Group),
    Instance,
}

impl Owner {
    pub fn group_id(&self) -> Option<GroupId> {
        match self {
            Owner::Group(g) => Some(g.id),
            Owner::Instance => None,
        }
    }

    pub fn is_instance(&self) -> bool {
        matches!(self, Owner::Instance)
    }
}

#[derive(Debug, Clone)]
pub enum FilterTarget {
    Group(Group),
    Project(Project),
}

#[derive(Debug, Clone)]
pub struct NamespaceFilter {
    pub row: NamespaceFilterRow,
    pub target: FilterTarget,
}

/// A destination with everything hanging off it, secret decrypted.
#[derive(Debug, Clone)]
pub struct Destination {
    pub id: DestinationId,
    pub owner: Owner,
    pub category: Category,
    pub name: String,
    /// Settings; for HTTP this includes every header (active or not).
    pub config: DestinationConfig,
    pub secret: String,
    pub active: bool,
    /// No event is sent while an earlier one is being retried (an auditrelay extension).
    pub strict_order: bool,
    pub headers: Vec<HeaderRow>,
    pub event_types: Vec<String>,
    pub namespace_filters: Vec<NamespaceFilter>,
    /// Standard Webhooks signing secrets, oldest first (HTTP only; empty: signing is off).
    pub signing_secrets: Vec<SigningSecret>,
}

impl Destination {
    /// The id of its provable stream: its global id (the legacy API's, for every generation).
    pub fn stream_id(&self) -> String {
        format!("gid://gitlab/{}/{}", audit_names::target_type(Api::Legacy, &self.owner, self.category), self.id)
    }

    /// The consolidated API's `secretToken`: the real token for HTTP, `""` otherwise (private
    /// keys and secret access keys are never returned).
    pub fn secret_token(&self) -> &str {
        if self.category == Category::Http { &self.secret } else { "" }
    }

    pub fn url(&self) -> Option<&str> {
        match &self.config {
            DestinationConfig::Http { url, .. } => Some(url),
            _ => None,
        }
    }
}

/// Streaming destinations, their headers, filters and signing: `service.destinations()`. Each
/// use case takes the proof (`access::OwnerGrant`, `access::DestinationGrant`) that the caller
/// manages what it changes.
#[derive(Clone, Copy)]
pub struct Destinations<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn destinations(&self) -> Destinations<'_> {
        Destinations { ctx: self }
    }

    /// A destination row with everything hanging off it (for a caller proven to manage it).
    pub(crate) async fn load_destination(&self, row: DestinationRow, owner: Owner) -> ServiceResult<Destination> {
        let category = Category::parse(&row.category)
            .ok_or_else(|| ServiceError::Internal(format!("unknown category {}", row.category)))?;
        let headers = self.store.headers_of(row.id).await?;
        let stored: serde_json::Value = serde_json::from_str(&row.config)
            .map_err(|e| ServiceError::Internal(format!("destination {} config: {e}", row.id)))?;
        let config = match parse_config(category, &stored) {
            Ok(DestinationConfig::Http { url, .. }) => DestinationConfig::Http {
                url,
                headers: headers
                    .iter()
                    .map(|h| HeaderSpec { key: h.key.clone(), value: h.value.clone(), active: h.active })
                    .collect(),
            },
            Ok(other) => other,
            Err(e) => return Err(ServiceError::Internal(format!("destination {} config: {e}", row.id))),
        };
        let mut namespace_filters = Vec::new();
        for filter in self.store.namespace_filters_of(row.id).await? {
            let target = match (filter.group_id, filter.project_id) {
                (Some(gid), _) => self.store.group_by_id(gid).await?.map(FilterTarget::Group),
                (None, Some(pid)) => self.store.project_by_id(pid).await?.map(FilterTarget::Project),
                (None, None) => None,
            };
            if let Some(target) = target {
                namespace_filters.push(NamespaceFilter { row: filter, target });
            }
        }
        Ok(Destination {
            id: row.id,
            owner,
            category,
            name: row.name,
            config,
            secret: self.secrets.open(&row.secret)?,
            active: row.active,
            strict_order: row.strict_order,
            headers,
            event_types: self.store.event_types_of(row.id).await?,
            namespace_filters,
            signing_secrets: self.signing_secrets_of(row.id).await?,
        })
    }

    /// Commits a destination change with its audit events as one unit of work (the unit also
    /// records the destination's routing version, see `auditrelay_store::route_versions`), then
    /// hands the engine the new configuration.
    async fn change_destinations<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Tx) -> UnitFuture<'c, T> + Send + 'static,
    {
        let committed = self.change(work).await;
        if committed.is_ok() {
            self.refresh_delivery().await;
        }
        committed
    }
}

/// The log row of an administrative event about a destination of `owner`.
fn destination_audit(
    author: &Author,
    owner: &Owner,
    event_type: &str,
    target: Target<'_>,
    message: String,
) -> PreparedEvent {
    author.event(match owner {
        Owner::Group(group) => AdminEvent::for_group(event_type, group, target, message),
        Owner::Instance => AdminEvent::for_instance(event_type, target, message),
    })
}

/// One validation failure with GitLab's full message.
pub(crate) fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::Validation(vec![message.into()])
}
