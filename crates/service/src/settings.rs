//! Instance-wide application settings (admin only), each change audited.

use auditrelay_core::access::Need;
use auditrelay_core::event::INSTANCE_SCOPE_ID;
use auditrelay_core::event_types::APPLICATION_SETTING_UPDATED;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::audit::{AdminEvent, Author};
use super::{Caller, Service};
use crate::error::{ServiceError, ServiceResult};

/// Every setting with its default. Only booleans so far.
pub const SETTINGS: &[(&str, bool)] = &[
    ("allow_local_requests_from_web_hooks_and_services", false),
    ("ai_audit_event_streaming_enabled", false),
    // Streamed AI events carry a hash and length instead of prompt, response and tool content.
    ("ai_audit_event_redact_content", false),
    // GitLab 18.10's newer destination limits (50 per group, 10 changes per user per minute).
    (super::destinations::newer_limits::SETTING, false),
];

impl Service {
    /// All settings with their current values (defaults filled in).
    pub async fn current_settings(&self) -> ServiceResult<Map<String, Value>> {
        let stored = self.store.settings().await?;
        Ok(SETTINGS
            .iter()
            .map(|(name, default)| {
                let value =
                    stored.get(*name).and_then(|v| serde_json::from_str(v).ok()).unwrap_or(Value::Bool(*default));
                ((*name).to_owned(), value)
            })
            .collect())
    }

    pub async fn settings(&self, caller: &Caller) -> ServiceResult<Map<String, Value>> {
        caller.require(Need::Read)?;
        caller.require_admin()?;
        self.current_settings().await
    }

    /// Applies changes (name → value) after checking every one; nothing changes if one is bad.
    pub async fn update_settings(
        &self,
        caller: &Caller,
        changes: Map<String, Value>,
    ) -> ServiceResult<Map<String, Value>> {
        caller.require(Need::Write)?;
        caller.require_admin()?;
        let current = self.current_settings().await?;
        let mut updates = BTreeMap::new();
        for (name, value) in &changes {
            if !current.contains_key(name) {
                return Err(ServiceError::BadParam(format!("{name} is not a known application setting")));
            }
            let value = as_bool(value)
                .ok_or_else(|| ServiceError::BadParam(format!("{name} is invalid: must be true or false")))?;
            if current.get(name) != Some(&Value::Bool(value)) {
                updates.insert(name.clone(), value);
            }
        }
        if updates.is_empty() {
            return self.current_settings().await;
        }
        let author = Author::of(caller);
        let audits = updates
            .iter()
            .map(|(name, value)| {
                let from = current.get(name).cloned().unwrap_or(Value::Null);
                author.event(setting_event(name, format!("Changed {name} from {from} to {value}")))
            })
            .collect();
        let values = updates.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
        self.change(move |tx| {
            Box::pin(async move {
                tx.put_settings(&values).await?;
                Ok(((), audits))
            })
        })
        .await?;
        self.refresh_delivery().await;
        self.current_settings().await
    }

    pub async fn setting_enabled(&self, name: &str) -> ServiceResult<bool> {
        Ok(self.current_settings().await?.get(name).and_then(Value::as_bool).unwrap_or(false))
    }
}

fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

fn setting_event(name: &str, message: String) -> AdminEvent<'_> {
    AdminEvent::for_instance(APPLICATION_SETTING_UPDATED, ("ApplicationSetting", INSTANCE_SCOPE_ID, name), message)
}
