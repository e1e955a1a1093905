//! Instance-wide application settings (admin only), each change audited.

use auditrelay_core::access::Need;
use auditrelay_core::ai_events::{ContentFields, DEFAULT_CONTENT_FIELDS};
use auditrelay_core::event::INSTANCE_SCOPE_ID;
use auditrelay_core::event_types::APPLICATION_SETTING_UPDATED;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::audit::{AdminEvent, Author};
use super::{Caller, Service};
use crate::error::{ServiceError, ServiceResult};

/// The kind of a setting, with its default.
#[derive(Debug, Clone, Copy)]
pub enum SettingKind {
    Bool(bool),
    /// A list of names, sent as a JSON array or a comma-separated string.
    Names(&'static [&'static str]),
}

/// The setting naming the content fields of AI events (redacted when streaming, and at rest
/// when asked).
pub const AI_CONTENT_FIELDS: &str = "ai_audit_event_content_fields";
/// Streamed AI events carry a hash and length instead of their content fields.
pub const AI_REDACT_CONTENT: &str = "ai_audit_event_redact_content";
/// AI events are stored with a hash and length instead of their content fields.
pub const AI_STORE_CONTENT_HASHED: &str = "ai_audit_event_store_content_hashed";

/// Every setting with its default.
pub const SETTINGS: &[(&str, SettingKind)] = &[
    ("allow_local_requests_from_web_hooks_and_services", SettingKind::Bool(false)),
    ("ai_audit_event_streaming_enabled", SettingKind::Bool(false)),
    (AI_REDACT_CONTENT, SettingKind::Bool(false)),
    (AI_STORE_CONTENT_HASHED, SettingKind::Bool(false)),
    (AI_CONTENT_FIELDS, SettingKind::Names(&DEFAULT_CONTENT_FIELDS)),
    // GitLab 18.10's newer destination limits (50 per group, 10 changes per user per minute).
    (super::destinations::newer_limits::SETTING, SettingKind::Bool(false)),
];

/// The setting holding the token that may scrape `/-/metrics` (besides admins' tokens). Only
/// its SHA-256 digest is stored, under [`METRICS_TOKEN_DIGEST`]; it is never shown back.
pub const METRICS_TOKEN: &str = "metrics_token";
const METRICS_TOKEN_DIGEST: &str = "metrics_token_digest";
const METRICS_TOKEN_MIN_LEN: usize = 16;
const METRICS_TOKEN_MAX_LEN: usize = 255;

/// The digest to store for a new metrics token (`None`: `""` clears it), or why it is refused.
fn metrics_token_digest(value: &Value) -> ServiceResult<Option<String>> {
    let refused = || {
        ServiceError::BadParam(format!(
            "{METRICS_TOKEN} is invalid: must be empty or {METRICS_TOKEN_MIN_LEN} to {METRICS_TOKEN_MAX_LEN} printable characters"
        ))
    };
    let Value::String(token) = value else { return Err(refused()) };
    if token.is_empty() {
        return Ok(None);
    }
    let printable = token.chars().all(|c| c.is_ascii_graphic());
    if !printable || !(METRICS_TOKEN_MIN_LEN..=METRICS_TOKEN_MAX_LEN).contains(&token.len()) {
        return Err(refused());
    }
    Ok(Some(super::secrets::token_digest(token)))
}

impl Service {
    /// True when `token` is the metrics token (compared as digests, in constant time).
    pub async fn is_metrics_token(&self, token: &str) -> ServiceResult<bool> {
        let stored = self.store.settings().await?;
        let Some(digest) = stored.get(METRICS_TOKEN_DIGEST).and_then(|v| serde_json::from_str::<String>(v).ok()) else {
            return Ok(false);
        };
        Ok(!digest.is_empty() && super::secrets::digests_equal(&digest, &super::secrets::token_digest(token)))
    }

    /// All settings with their current values (defaults filled in).
    pub async fn current_settings(&self) -> ServiceResult<Map<String, Value>> {
        let stored = self.store.settings().await?;
        Ok(SETTINGS
            .iter()
            .map(|(name, default)| {
                let value = stored.get(*name).and_then(|v| serde_json::from_str(v).ok()).unwrap_or(match default {
                    SettingKind::Bool(b) => Value::Bool(*b),
                    SettingKind::Names(names) => Value::from(names.to_vec()),
                });
                ((*name).to_owned(), value)
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(caller = caller.user.id))]
    pub async fn settings(&self, caller: &Caller) -> ServiceResult<Map<String, Value>> {
        caller.require(Need::Read)?;
        caller.require_admin()?;
        self.current_settings().await
    }

    /// Applies changes (name → value) after checking every one; nothing changes if one is bad.
    #[tracing::instrument(skip_all, fields(caller = caller.user.id))]
    pub async fn update_settings(
        &self,
        caller: &Caller,
        changes: Map<String, Value>,
    ) -> ServiceResult<Map<String, Value>> {
        caller.require(Need::Write)?;
        caller.require_admin()?;
        let current = self.current_settings().await?;
        let mut changes = changes;
        let metrics_token = changes.remove(METRICS_TOKEN).map(|v| metrics_token_digest(&v)).transpose()?;
        let mut updates = BTreeMap::new();
        for (name, value) in &changes {
            let Some((_, default)) = SETTINGS.iter().find(|(n, _)| n == name) else {
                return Err(ServiceError::BadParam(format!("{name} is not a known application setting")));
            };
            let value = match default {
                SettingKind::Bool(_) => Value::Bool(
                    as_bool(value)
                        .ok_or_else(|| ServiceError::BadParam(format!("{name} is invalid: must be true or false")))?,
                ),
                SettingKind::Names(_) => Value::from(
                    as_names(value)
                        .map_err(|why| ServiceError::BadParam(format!("{name} is invalid: {why}")))?
                        .names()
                        .to_vec(),
                ),
            };
            if current.get(name) != Some(&value) {
                updates.insert(name.clone(), value);
            }
        }
        if updates.is_empty() && metrics_token.is_none() {
            return self.current_settings().await;
        }
        let author = Author::of(caller);
        let mut audits = Vec::new();
        if let Some(digest) = &metrics_token {
            let message = if digest.is_some() { "Set metrics_token" } else { "Cleared metrics_token" };
            audits.push(author.event(setting_event(METRICS_TOKEN, message.to_owned())));
        }
        audits.extend(updates.iter().map(|(name, value)| {
            let from = current.get(name).cloned().unwrap_or(Value::Null);
            author.event(setting_event(name, format!("Changed {name} from {from} to {value}")))
        }));
        let mut values: BTreeMap<String, String> = updates.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
        if let Some(digest) = &metrics_token {
            values
                .insert(METRICS_TOKEN_DIGEST.to_owned(), Value::String(digest.clone().unwrap_or_default()).to_string());
        }
        self.change(move |tx| {
            Box::pin(async move {
                tx.put_settings(&values).await?;
                Ok(((), audits))
            })
        })
        .await?;
        if !updates.is_empty() {
            self.refresh_delivery().await;
        }
        self.current_settings().await
    }

    pub async fn setting_enabled(&self, name: &str) -> ServiceResult<bool> {
        Ok(self.current_settings().await?.get(name).and_then(Value::as_bool).unwrap_or(false))
    }

    /// The content fields of AI events (the admin's list, or the workflow service's fields).
    pub async fn ai_content_fields(&self) -> ServiceResult<ContentFields> {
        let settings = self.current_settings().await?;
        Ok(settings.get(AI_CONTENT_FIELDS).and_then(|v| as_names(v).ok()).unwrap_or_default())
    }

    /// The content fields to hash before storing, when the admin asks for it.
    pub async fn ai_fields_hashed_at_rest(&self) -> ServiceResult<Option<ContentFields>> {
        if self.setting_enabled(AI_STORE_CONTENT_HASHED).await? {
            Ok(Some(self.ai_content_fields().await?))
        } else {
            Ok(None)
        }
    }
}

/// A list of names: a JSON array of strings, or one string of names separated by commas.
fn as_names(value: &Value) -> Result<ContentFields, String> {
    let names: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or("must be a list of field names"))
            .collect::<Result<_, _>>()?,
        Value::String(s) => s.split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect(),
        _ => return Err("must be a list of field names".into()),
    };
    ContentFields::new(names)
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
