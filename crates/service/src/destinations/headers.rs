//! Custom HTTP headers of a destination, addressed one by one (GitLab's legacy header API).

use auditrelay_core::destination::{Category, MAX_HEADERS, rules};
use auditrelay_store::destinations::HeaderRow;

use super::audit_names::{Change, header_event};
use super::{Destination, Destinations, destination_audit, invalid};
use crate::access::{DestinationGrant, need};
use crate::audit::Author;
use crate::error::{ServiceError, ServiceResult};

impl Destinations<'_> {
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn create_header(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        key: &str,
        value: &str,
        active: bool,
    ) -> ServiceResult<HeaderRow> {
        let (caller, destination) = (grant.caller(), grant.destination());
        http_only(destination)?;
        rules::header_key(key).map_err(invalid)?;
        rules::header_value(value).map_err(invalid)?;
        if destination.headers.len() >= MAX_HEADERS {
            return Err(invalid(format!("Headers are limited to {MAX_HEADERS} per destination")));
        }
        if destination.headers.iter().any(|h| h.key == key) {
            return Err(invalid("Key has already been taken"));
        }
        let (author, owned) = (Author::of(caller), destination.clone());
        let (key, value) = (key.to_owned(), value.to_owned());
        self.ctx
            .change_destinations(move |tx| {
                Box::pin(async move {
                    let header = tx.create_header(owned.id, &key, &value, active).await?;
                    tx.record_route_version(owned.id).await?;
                    let audit = header_audit(&author, &owned, &header, Change::Created);
                    Ok((header, vec![audit]))
                })
            })
            .await
            .map_err(taken)
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn update_header(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        header: &HeaderRow,
        key: Option<String>,
        value: Option<String>,
        active: Option<bool>,
    ) -> ServiceResult<HeaderRow> {
        let (caller, destination) = (grant.caller(), grant.destination());
        let key = key.unwrap_or_else(|| header.key.clone());
        let value = value.unwrap_or_else(|| header.value.clone());
        rules::header_key(&key).map_err(invalid)?;
        rules::header_value(&value).map_err(invalid)?;
        if destination.headers.iter().any(|h| h.key == key && h.id != header.id) {
            return Err(invalid("Key has already been taken"));
        }
        let active = active.unwrap_or(header.active);
        let updated = HeaderRow { key, value, active, ..header.clone() };
        let audit = header_audit(&Author::of(caller), destination, &updated, Change::Updated);
        let (id, row) = (destination.id, updated.clone());
        self.ctx
            .change_destinations(move |tx| {
                Box::pin(async move {
                    tx.update_header(row.id, &row.key, &row.value, row.active).await?;
                    tx.record_route_version(id).await?;
                    Ok(((), vec![audit]))
                })
            })
            .await
            .map_err(taken)?;
        Ok(updated)
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn delete_header(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        header: &HeaderRow,
    ) -> ServiceResult<()> {
        let (caller, destination) = (grant.caller(), grant.destination());
        let audit = header_audit(&Author::of(caller), destination, header, Change::Deleted);
        let (id, header_id) = (destination.id, header.id);
        self.ctx
            .change_destinations(move |tx| {
                Box::pin(async move {
                    tx.delete_header(header_id).await?;
                    tx.record_route_version(id).await?;
                    Ok(((), vec![audit]))
                })
            })
            .await?;
        Ok(())
    }
}

/// The audit event of a header change.
fn header_audit(
    author: &Author,
    destination: &Destination,
    header: &HeaderRow,
    change: Change,
) -> auditrelay_store::PreparedEvent {
    let verb = match change {
        Change::Created => "Created",
        Change::Updated => "Updated",
        Change::Deleted => "Destroyed",
    };
    let target_type = if destination.owner.is_instance() {
        "AuditEvents::Streaming::InstanceHeader"
    } else {
        "AuditEvents::Streaming::Header"
    };
    let message = format!("{verb} custom HTTP header with key {} of destination {}", header.key, destination.name);
    destination_audit(
        author,
        &destination.owner,
        header_event(&destination.owner, change),
        (target_type, header.id, &header.key),
        message,
    )
}

fn http_only(destination: &Destination) -> ServiceResult<()> {
    if destination.category == Category::Http { Ok(()) } else { Err(ServiceError::NotFound("Destination")) }
}

fn taken(error: auditrelay_store::StoreError) -> ServiceError {
    match error {
        auditrelay_store::StoreError::Conflict(_) => invalid("Key has already been taken"),
        other => other.into(),
    }
}
