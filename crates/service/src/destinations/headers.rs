//! Custom HTTP headers of a destination, addressed one by one (GitLab's legacy header API).

use auditrelay_core::access::Need;
use auditrelay_core::destination::{Category, MAX_HEADERS, rules};
use auditrelay_store::destinations::HeaderRow;

use super::audit_names::{Change, header_event};
use super::{Destination, invalid};
use crate::error::{ServiceError, ServiceResult};
use crate::{Caller, Service};

impl Service {
    pub async fn create_header(
        &self,
        caller: &Caller,
        destination: &Destination,
        key: &str,
        value: &str,
        active: bool,
    ) -> ServiceResult<HeaderRow> {
        caller.require(Need::Write)?;
        http_only(destination)?;
        rules::header_key(key).map_err(invalid)?;
        rules::header_value(value).map_err(invalid)?;
        if destination.headers.len() >= MAX_HEADERS {
            return Err(invalid(format!("Headers are limited to {MAX_HEADERS} per destination")));
        }
        if destination.headers.iter().any(|h| h.key == key) {
            return Err(invalid("Key has already been taken"));
        }
        let header = self.store.create_header(destination.id, key, value, active).await.map_err(taken)?;
        self.record_header_event(caller, destination, &header, Change::Created).await?;
        Ok(header)
    }

    pub async fn update_header(
        &self,
        caller: &Caller,
        destination: &Destination,
        header: &HeaderRow,
        key: Option<String>,
        value: Option<String>,
        active: Option<bool>,
    ) -> ServiceResult<HeaderRow> {
        caller.require(Need::Write)?;
        let key = key.unwrap_or_else(|| header.key.clone());
        let value = value.unwrap_or_else(|| header.value.clone());
        rules::header_key(&key).map_err(invalid)?;
        rules::header_value(&value).map_err(invalid)?;
        if destination.headers.iter().any(|h| h.key == key && h.id != header.id) {
            return Err(invalid("Key has already been taken"));
        }
        let active = active.unwrap_or(header.active);
        self.store.update_header(header.id, &key, &value, active).await.map_err(taken)?;
        let updated = HeaderRow { key, value, active, ..header.clone() };
        self.record_header_event(caller, destination, &updated, Change::Updated).await?;
        Ok(updated)
    }

    pub async fn delete_header(
        &self,
        caller: &Caller,
        destination: &Destination,
        header: &HeaderRow,
    ) -> ServiceResult<()> {
        caller.require(Need::Write)?;
        self.store.delete_header(header.id).await?;
        self.record_header_event(caller, destination, header, Change::Deleted).await
    }

    /// A header the caller may manage, with its destination (group or instance as `instance`).
    pub async fn managed_header(
        &self,
        caller: &Caller,
        header_id: i64,
        instance: bool,
    ) -> ServiceResult<(Destination, HeaderRow)> {
        let header = self.store.header(header_id).await?.ok_or(ServiceError::NotFound("Header"))?;
        let destination = self.managed_destination(caller, header.destination_id, instance).await?;
        Ok((destination, header))
    }

    async fn record_header_event(
        &self,
        caller: &Caller,
        destination: &Destination,
        header: &HeaderRow,
        change: Change,
    ) -> ServiceResult<()> {
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
        self.record_destination_event(
            caller,
            &destination.owner,
            header_event(&destination.owner, change),
            (target_type, header.id, &header.key),
            message,
        )
        .await
    }
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
