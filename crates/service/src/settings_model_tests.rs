//! The settings' decoding and encoding: defaults, stored values this version cannot read, the
//! round trip, what clients may send, and the metrics token kept out of every view.

use auditrelay_core::ai_events::{ContentFields, DEFAULT_CONTENT_FIELDS};
use serde_json::{Value, json};
use std::collections::BTreeMap;

use crate::settings_model::{METRICS_TOKEN, MetricsTokenChange, Setting, SettingError, Settings};

fn rows(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn fields(names: &[&str]) -> ContentFields {
    ContentFields::new(names.iter().map(|n| (*n).to_owned())).unwrap()
}

const TOKEN: &str = "a-metrics-token-of-good-length";

#[test]
fn no_stored_rows_decode_to_the_defaults() {
    let settings = Settings::decode(&BTreeMap::new());
    assert_eq!(settings, Settings::default());
    assert!(!settings.allow_local_requests_from_web_hooks_and_services);
    assert!(!settings.ai_audit_event_streaming_enabled);
    assert!(!settings.audit_event_streaming_newer_limits_enabled);
    assert_eq!(settings.ai_audit_event_content_fields.names(), DEFAULT_CONTENT_FIELDS);
    assert!(!settings.is_metrics_token(TOKEN));
}

#[test]
fn the_view_lists_every_setting_by_name_in_order_with_its_default() {
    let view = Settings::default().view();
    let names: Vec<&str> = view.keys().map(String::as_str).collect();
    assert_eq!(names, Setting::ALL.map(Setting::name));
    assert_eq!(view["allow_local_requests_from_web_hooks_and_services"], json!(false));
    assert_eq!(view["ai_audit_event_content_fields"], json!(DEFAULT_CONTENT_FIELDS));
}

#[test]
fn every_name_maps_back_to_its_setting() {
    for setting in Setting::ALL {
        assert_eq!(Setting::from_name(setting.name()), Some(setting));
    }
    assert_eq!(Setting::from_name("no_such_setting"), None);
    assert_eq!(Setting::from_name(METRICS_TOKEN), None, "write-only, not a setting of the views");
}

#[test]
fn stored_values_decode_into_their_fields() {
    let stored = rows(&[
        ("allow_local_requests_from_web_hooks_and_services", "true"),
        ("ai_audit_event_streaming_enabled", "true"),
        ("ai_audit_event_redact_content", "false"),
        ("ai_audit_event_store_content_hashed", "true"),
        ("ai_audit_event_content_fields", r#"["goal","content"]"#),
        ("audit_event_streaming_newer_limits_enabled", "true"),
    ]);
    let settings = Settings::decode(&stored);
    assert!(settings.allow_local_requests_from_web_hooks_and_services);
    assert!(settings.ai_audit_event_streaming_enabled);
    assert!(!settings.ai_audit_event_redact_content);
    assert!(settings.audit_event_streaming_newer_limits_enabled);
    assert_eq!(settings.ai_audit_event_content_fields, fields(&["goal", "content"]));
    assert_eq!(settings.ai_fields_hashed_at_rest(), Some(fields(&["goal", "content"])));
}

#[test]
fn a_stored_value_that_cannot_be_read_keeps_the_default_and_spares_the_others() {
    let stored = rows(&[
        ("allow_local_requests_from_web_hooks_and_services", "not json"),
        ("ai_audit_event_streaming_enabled", r#""true""#),
        ("ai_audit_event_redact_content", "1"),
        ("ai_audit_event_content_fields", r#""goal, content""#),
        ("audit_event_streaming_newer_limits_enabled", "true"),
        ("metrics_token_digest", "42"),
        ("a_setting_of_a_later_version", "true"),
    ]);
    let settings = Settings::decode(&stored);
    let expected = Settings { audit_event_streaming_newer_limits_enabled: true, ..Settings::default() };
    assert_eq!(settings, expected, "only the good row is read; text the store never writes is refused");
}

#[test]
fn a_list_of_bad_names_stored_keeps_the_default_fields() {
    let settings = Settings::decode(&rows(&[("ai_audit_event_content_fields", r#"["goal", ""]"#)]));
    assert_eq!(settings.ai_audit_event_content_fields, ContentFields::default());
    let settings = Settings::decode(&rows(&[("ai_audit_event_content_fields", r#"["goal", 5]"#)]));
    assert_eq!(settings.ai_audit_event_content_fields, ContentFields::default());
}

#[test]
fn encoded_settings_decode_to_the_same_settings() {
    let mut settings = Settings {
        allow_local_requests_from_web_hooks_and_services: true,
        ai_audit_event_store_content_hashed: true,
        ai_audit_event_content_fields: fields(&["goal", "tool_args"]),
        ..Settings::default()
    };
    settings.set_metrics_token(&json!(TOKEN)).unwrap();
    let encoded = settings.encode();
    assert_eq!(Settings::decode(&encoded), settings);
    assert_eq!(Settings::decode(&Settings::default().encode()), Settings::default());
    assert_eq!(encoded["allow_local_requests_from_web_hooks_and_services"], "true");
    assert_eq!(encoded["ai_audit_event_content_fields"], r#"["goal","tool_args"]"#);
}

#[test]
fn a_change_writes_only_the_rows_it_changes() {
    let before = Settings::default();
    let after = Settings { ai_audit_event_redact_content: true, ..before.clone() };
    assert_eq!(after.rows_changed_from(&before), rows(&[("ai_audit_event_redact_content", "true")]));
    assert!(before.rows_changed_from(&before).is_empty());
}

#[test]
fn clients_may_send_booleans_as_text_and_lists_comma_separated() {
    let mut settings = Settings::default();
    settings.set(Setting::AllowLocalRequests, &json!("true")).unwrap();
    settings.set(Setting::AiStreamingEnabled, &json!(true)).unwrap();
    settings.set(Setting::AiContentFields, &json!(" goal, content ,,goal")).unwrap();
    assert!(settings.allow_local_requests_from_web_hooks_and_services);
    assert!(settings.ai_audit_event_streaming_enabled);
    assert_eq!(settings.value(Setting::AiContentFields), json!(["goal", "content"]));
    settings.set(Setting::AllowLocalRequests, &json!("false")).unwrap();
    assert!(!settings.allow_local_requests_from_web_hooks_and_services);
}

#[test]
fn bad_values_are_refused_with_the_settings_name() {
    let mut settings = Settings::default();
    let refused = settings.set(Setting::AiStreamingEnabled, &json!("yes")).unwrap_err();
    assert_eq!(refused, SettingError::NotBool(Setting::AiStreamingEnabled));
    assert_eq!(refused.to_string(), "ai_audit_event_streaming_enabled is invalid: must be true or false");
    let refused = settings.set(Setting::AiContentFields, &json!(5)).unwrap_err();
    assert_eq!(refused.to_string(), "ai_audit_event_content_fields is invalid: must be a list of field names");
    assert_eq!(
        SettingError::Unknown("no_such_setting".into()).to_string(),
        "no_such_setting is not a known application setting"
    );
    assert_eq!(settings, Settings::default(), "a refused value changes nothing");
}

#[test]
fn the_metrics_token_is_checked_kept_as_a_digest_and_never_shown() {
    let mut settings = Settings::default();
    for bad in [json!("short"), json!(5), json!("a token with spaces in it")] {
        let refused = settings.set_metrics_token(&bad).unwrap_err();
        assert!(refused.to_string().starts_with("metrics_token is invalid"), "{refused}");
    }
    assert_eq!(settings.set_metrics_token(&json!(TOKEN)), Ok(MetricsTokenChange::Set));
    assert!(settings.is_metrics_token(TOKEN));
    assert!(!settings.is_metrics_token("a-metrics-token-of-good-lengtX"));
    let shown = Value::Object(settings.view()).to_string();
    assert!(!shown.contains("metrics_token"));
    assert!(settings.encode().values().all(|text| !text.contains(TOKEN)), "only a digest is stored");
    assert_eq!(settings.set_metrics_token(&json!("")), Ok(MetricsTokenChange::Cleared));
    assert!(!settings.is_metrics_token(TOKEN));
    assert!(!settings.is_metrics_token(""));
}
