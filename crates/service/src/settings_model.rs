//! The application settings as one typed value: every setting a variant with its wire name,
//! every value a field with its default, decoded from and encoded to the stored name/JSON rows
//! here alone, so a misspelt setting is a compile error rather than a silent `false`.

use auditrelay_core::ai_events::ContentFields;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::secrets::{digests_equal, token_digest};

/// A setting admins read and change (the write-only metrics token is apart:
/// [`Settings::set_metrics_token`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    AllowLocalRequests,
    AiStreamingEnabled,
    AiRedactContent,
    AiStoreContentHashed,
    AiContentFields,
    /// GitLab 18.10's newer destination limits (50 per group, 10 changes per user per minute).
    NewerDestinationLimits,
}

impl Setting {
    /// Every setting, in the order the views list them.
    pub const ALL: [Setting; 6] = [
        Setting::AllowLocalRequests,
        Setting::AiStreamingEnabled,
        Setting::AiRedactContent,
        Setting::AiStoreContentHashed,
        Setting::AiContentFields,
        Setting::NewerDestinationLimits,
    ];

    /// The name clients send and the store keeps.
    pub fn name(self) -> &'static str {
        match self {
            Setting::AllowLocalRequests => "allow_local_requests_from_web_hooks_and_services",
            Setting::AiStreamingEnabled => "ai_audit_event_streaming_enabled",
            Setting::AiRedactContent => "ai_audit_event_redact_content",
            Setting::AiStoreContentHashed => "ai_audit_event_store_content_hashed",
            Setting::AiContentFields => "ai_audit_event_content_fields",
            Setting::NewerDestinationLimits => "audit_event_streaming_newer_limits_enabled",
        }
    }

    pub fn from_name(name: &str) -> Option<Setting> {
        Setting::ALL.into_iter().find(|setting| setting.name() == name)
    }
}

/// The write-only setting holding the token that may scrape `/-/metrics` besides admins'.
pub const METRICS_TOKEN: &str = "metrics_token";
/// Where the metrics token's SHA-256 digest is stored (the token itself never is).
const METRICS_TOKEN_DIGEST: &str = "metrics_token_digest";
const METRICS_TOKEN_MIN_LEN: usize = 16;
const METRICS_TOKEN_MAX_LEN: usize = 255;

/// Why a change of a setting is refused; the texts are the APIs' messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("{0} is not a known application setting")]
    Unknown(String),
    #[error("{name} is invalid: must be true or false", name = .0.name())]
    NotBool(Setting),
    #[error("{name} is invalid: {1}", name = .0.name())]
    BadNames(Setting, String),
    #[error(
        "{METRICS_TOKEN} is invalid: must be empty or {METRICS_TOKEN_MIN_LEN} to {METRICS_TOKEN_MAX_LEN} printable characters"
    )]
    BadMetricsToken,
}

/// What a change did to the metrics token (each is audited, even when it was so already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsTokenChange {
    Set,
    Cleared,
}

/// The settings in force, defaults filled in. The defaults (derived): every switch off, the
/// workflow service's content fields (`ContentFields::default`), no metrics token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub allow_local_requests_from_web_hooks_and_services: bool,
    pub ai_audit_event_streaming_enabled: bool,
    /// Streamed AI events carry a hash and length instead of their content fields.
    pub ai_audit_event_redact_content: bool,
    /// AI events are stored with a hash and length instead of their content fields.
    pub ai_audit_event_store_content_hashed: bool,
    /// The content fields of AI events (redacted when streaming, and at rest when asked).
    pub ai_audit_event_content_fields: ContentFields,
    pub audit_event_streaming_newer_limits_enabled: bool,
    /// Private so that no view can show it; checked by [`Settings::is_metrics_token`].
    metrics_token_digest: Option<String>,
}

/// Where a value comes from: the store holds only the canonical JSON; clients may also send
/// booleans as `"true"`/`"false"` (query parameters) and lists as comma-separated text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Stored,
    Sent,
}

impl Settings {
    /// The settings from the stored rows (name → JSON text). A row this version cannot read
    /// keeps its setting's default rather than failing every reader; unknown rows are ignored.
    pub fn decode(rows: &BTreeMap<String, String>) -> Settings {
        let mut settings = Settings::default();
        for setting in Setting::ALL {
            let Some(value) = rows.get(setting.name()).and_then(|text| serde_json::from_str::<Value>(text).ok()) else {
                continue;
            };
            // Ignoring the error is the point: the default stays.
            let _ = settings.put(setting, &value, Source::Stored);
        }
        settings.metrics_token_digest = rows
            .get(METRICS_TOKEN_DIGEST)
            .and_then(|text| serde_json::from_str::<String>(text).ok())
            .filter(|digest| !digest.is_empty());
        settings
    }

    /// Every stored row of these settings (name → JSON text); `decode` reads them back.
    pub fn encode(&self) -> BTreeMap<String, String> {
        let mut rows: BTreeMap<String, String> = Setting::ALL
            .into_iter()
            .map(|setting| (setting.name().to_owned(), self.value(setting).to_string()))
            .collect();
        let digest = Value::String(self.metrics_token_digest.clone().unwrap_or_default());
        rows.insert(METRICS_TOKEN_DIGEST.to_owned(), digest.to_string());
        rows
    }

    /// The rows that differ from `before`'s: what a change writes. Other rows are left alone,
    /// so two admins changing different settings at once do not undo each other.
    pub fn rows_changed_from(&self, before: &Settings) -> BTreeMap<String, String> {
        let old = before.encode();
        self.encode().into_iter().filter(|(name, text)| old.get(name) != Some(text)).collect()
    }

    /// What the APIs show: every setting by name, in [`Setting::ALL`]'s order; never the
    /// metrics token.
    pub fn view(&self) -> Map<String, Value> {
        Setting::ALL.into_iter().map(|setting| (setting.name().to_owned(), self.value(setting))).collect()
    }

    /// One setting's value as the APIs show it and the store keeps it.
    pub fn value(&self, setting: Setting) -> Value {
        match setting {
            Setting::AllowLocalRequests => self.allow_local_requests_from_web_hooks_and_services.into(),
            Setting::AiStreamingEnabled => self.ai_audit_event_streaming_enabled.into(),
            Setting::AiRedactContent => self.ai_audit_event_redact_content.into(),
            Setting::AiStoreContentHashed => self.ai_audit_event_store_content_hashed.into(),
            Setting::AiContentFields => Value::from(self.ai_audit_event_content_fields.names().to_vec()),
            Setting::NewerDestinationLimits => self.audit_event_streaming_newer_limits_enabled.into(),
        }
    }

    /// Changes one setting to a value as a client sent it.
    pub fn set(&mut self, setting: Setting, value: &Value) -> Result<(), SettingError> {
        self.put(setting, value, Source::Sent)
    }

    fn put(&mut self, setting: Setting, value: &Value, source: Source) -> Result<(), SettingError> {
        let flag = || as_bool(value, source).ok_or(SettingError::NotBool(setting));
        match setting {
            Setting::AllowLocalRequests => self.allow_local_requests_from_web_hooks_and_services = flag()?,
            Setting::AiStreamingEnabled => self.ai_audit_event_streaming_enabled = flag()?,
            Setting::AiRedactContent => self.ai_audit_event_redact_content = flag()?,
            Setting::AiStoreContentHashed => self.ai_audit_event_store_content_hashed = flag()?,
            Setting::AiContentFields => {
                self.ai_audit_event_content_fields =
                    as_names(value, source).map_err(|why| SettingError::BadNames(setting, why))?;
            }
            Setting::NewerDestinationLimits => self.audit_event_streaming_newer_limits_enabled = flag()?,
        }
        Ok(())
    }

    /// Sets (a string of good length) or clears (`""`) the metrics token; only its digest is
    /// kept.
    pub fn set_metrics_token(&mut self, value: &Value) -> Result<MetricsTokenChange, SettingError> {
        let Value::String(token) = value else { return Err(SettingError::BadMetricsToken) };
        if token.is_empty() {
            self.metrics_token_digest = None;
            return Ok(MetricsTokenChange::Cleared);
        }
        let printable = token.chars().all(|c| c.is_ascii_graphic());
        if !printable || !(METRICS_TOKEN_MIN_LEN..=METRICS_TOKEN_MAX_LEN).contains(&token.len()) {
            return Err(SettingError::BadMetricsToken);
        }
        self.metrics_token_digest = Some(token_digest(token));
        Ok(MetricsTokenChange::Set)
    }

    /// True when `token` is the metrics token (compared as digests, in constant time).
    pub fn is_metrics_token(&self, token: &str) -> bool {
        self.metrics_token_digest.as_deref().is_some_and(|digest| digests_equal(digest, &token_digest(token)))
    }

    /// The content fields to hash before storing, when the admin asks for it.
    pub fn ai_fields_hashed_at_rest(&self) -> Option<ContentFields> {
        self.ai_audit_event_store_content_hashed.then(|| self.ai_audit_event_content_fields.clone())
    }
}

fn as_bool(value: &Value, source: Source) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if source == Source::Sent && s == "true" => Some(true),
        Value::String(s) if source == Source::Sent && s == "false" => Some(false),
        _ => None,
    }
}

/// A list of names: a JSON array of strings, or (sent) one string of names separated by commas.
fn as_names(value: &Value, source: Source) -> Result<ContentFields, String> {
    let names: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or("must be a list of field names"))
            .collect::<Result<_, _>>()?,
        Value::String(s) if source == Source::Sent => {
            s.split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect()
        }
        _ => return Err("must be a list of field names".into()),
    };
    ContentFields::new(names)
}

#[cfg(test)]
#[path = "settings_model_tests.rs"]
mod tests;
