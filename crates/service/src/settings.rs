//! Instance-wide application settings: `service.settings()`, read and changed by an
//! administrator, each change audited. The settings themselves, their names, defaults and
//! stored form, are `settings_model`'s.

use auditrelay_core::ai_events::ContentFields;
use auditrelay_core::event::INSTANCE_SCOPE_ID;
use auditrelay_core::event_types::APPLICATION_SETTING_UPDATED;
use serde_json::{Map, Value};

use super::Service;
use super::access::{Admin, need};
use super::audit::{AdminEvent, Author};
use crate::error::{ServiceError, ServiceResult};
pub use crate::settings_model::{METRICS_TOKEN, MetricsTokenChange, Setting, SettingError, Settings};

/// Application settings: `service.settings()`.
#[derive(Clone, Copy)]
pub struct AppSettings<'s> {
    ctx: &'s Service,
}

impl From<SettingError> for ServiceError {
    fn from(error: SettingError) -> Self {
        ServiceError::BadParam(error.to_string())
    }
}

impl Service {
    pub fn settings(&self) -> AppSettings<'_> {
        AppSettings { ctx: self }
    }

    /// The settings in force, typed, defaults filled in (for the use cases that follow them).
    pub(crate) async fn application_settings(&self) -> ServiceResult<Settings> {
        Ok(Settings::decode(&self.store.settings().await?))
    }

    /// The content fields to hash before storing, when the admin asks for it.
    pub(crate) async fn ai_fields_hashed_at_rest(&self) -> ServiceResult<Option<ContentFields>> {
        Ok(self.application_settings().await?.ai_fields_hashed_at_rest())
    }
}

impl AppSettings<'_> {
    /// True when `token` is the metrics token (compared as digests, in constant time). This is
    /// how `/-/metrics` authenticates a scraper that has no caller, so it takes no proof.
    pub async fn is_metrics_token(&self, token: &str) -> ServiceResult<bool> {
        Ok(self.ctx.application_settings().await?.is_metrics_token(token))
    }

    /// All settings with their current values (defaults filled in), as the APIs show them.
    #[tracing::instrument(skip_all, fields(caller = admin.caller().user.id.get()))]
    pub async fn show(&self, admin: &Admin<'_, need::Read>) -> ServiceResult<Map<String, Value>> {
        Ok(self.ctx.application_settings().await?.view())
    }

    /// Applies changes (name → value) after checking every one; nothing changes if one is bad.
    #[tracing::instrument(skip_all, fields(caller = admin.caller().user.id.get()))]
    pub async fn update(
        &self,
        admin: &Admin<'_, need::Write>,
        changes: Map<String, Value>,
    ) -> ServiceResult<Map<String, Value>> {
        let ctx = self.ctx;
        let current = ctx.application_settings().await?;
        let mut next = current.clone();
        let mut changes = changes;
        let metrics_token = changes.remove(METRICS_TOKEN).map(|v| next.set_metrics_token(&v)).transpose()?;
        for (name, value) in &changes {
            let setting = Setting::from_name(name).ok_or_else(|| SettingError::Unknown(name.clone()))?;
            next.set(setting, value)?;
        }
        let mut updates: Vec<Setting> =
            Setting::ALL.into_iter().filter(|s| next.value(*s) != current.value(*s)).collect();
        updates.sort_by_key(|s| s.name());
        if updates.is_empty() && metrics_token.is_none() {
            return Ok(current.view());
        }
        let author = Author::of(admin.caller());
        let mut audits = Vec::new();
        if let Some(change) = metrics_token {
            let message = match change {
                MetricsTokenChange::Set => "Set metrics_token",
                MetricsTokenChange::Cleared => "Cleared metrics_token",
            };
            audits.push(author.event(setting_event(METRICS_TOKEN, message.to_owned())));
        }
        audits.extend(updates.iter().map(|setting| {
            let (name, from, to) = (setting.name(), current.value(*setting), next.value(*setting));
            author.event(setting_event(name, format!("Changed {name} from {from} to {to}")))
        }));
        let values = next.rows_changed_from(&current);
        ctx.change(move |tx| {
            Box::pin(async move {
                tx.put_settings(&values).await?;
                Ok(((), audits))
            })
        })
        .await?;
        if !updates.is_empty() {
            ctx.refresh_delivery().await;
        }
        Ok(ctx.application_settings().await?.view())
    }
}

fn setting_event(name: &str, message: String) -> AdminEvent<'_> {
    AdminEvent::for_instance(APPLICATION_SETTING_UPDATED, ("ApplicationSetting", INSTANCE_SCOPE_ID, name), message)
}
