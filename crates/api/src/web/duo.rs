//! `/admin/gitlab_duo`: the AI audit event settings. Every boolean setting named `ai_…` is
//! shown, so settings added later appear without a change here.

use auditrelay_service::access::need;
use auditrelay_service::settings::Setting;
use auditrelay_service::{Caller, ServiceResult};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::authorize::admin_page_visible;
use super::html::{escape, not_found, page};
use super::session::{SignedIn, csrf_refused, form_value, parse_form};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DuoQuery {
    saved: Option<String>,
}

/// Labels for the settings this page knows; others get their name, made readable.
fn label(name: &str) -> String {
    match Setting::from_name(name) {
        Some(Setting::AiStreamingEnabled) => "Stream audit events of AI agents to streaming destinations".into(),
        Some(Setting::AiRedactContent) => "Redact prompt and response content in AI audit events".into(),
        Some(Setting::AiStoreContentHashed) => {
            "Store content fields of AI audit events only as SHA-256 and length (the content is not kept)".into()
        }
        Some(Setting::AiContentFields) => "Content fields of AI audit events (comma-separated)".into(),
        _ => {
            let words = name.replace('_', " ");
            let mut chars = words.chars();
            chars.next().map_or(String::new(), |c| c.to_uppercase().collect::<String>() + chars.as_str())
        }
    }
}

fn ai_settings(settings: &Map<String, Value>) -> impl Iterator<Item = (&String, bool)> {
    settings.iter().filter(|(name, _)| name.starts_with("ai_")).filter_map(|(n, v)| v.as_bool().map(|b| (n, b)))
}

/// The `ai_…` settings that are lists of names, shown comma-separated.
fn ai_lists(settings: &Map<String, Value>) -> impl Iterator<Item = (&String, String)> {
    settings.iter().filter(|(name, _)| name.starts_with("ai_")).filter_map(|(n, v)| {
        v.as_array().map(|items| (n, items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")))
    })
}

/// The settings, as an administrator reads them.
async fn current(state: &AppState, caller: &Caller) -> ServiceResult<Map<String, Value>> {
    let admin = state.service.access().admin::<need::Read>(caller)?;
    state.service.settings().show(&admin).await
}

pub async fn show(State(state): State<AppState>, session: SignedIn, Query(q): Query<DuoQuery>) -> Response {
    if !admin_page_visible(session.caller.is_admin()) {
        return not_found(Some(&session));
    }
    let settings = match current(&state, &session.caller).await {
        Ok(s) => s,
        Err(e) => return ApiError(e).into_response(),
    };
    let mut fields = String::new();
    for (name, on) in ai_settings(&settings) {
        let checked = if on { " checked" } else { "" };
        fields.push_str(&format!(
            r#"<div class="check"><input type="checkbox" id="{n}" name="{n}" value="true"{checked}><label for="{n}">{l}</label></div>"#,
            n = escape(name),
            l = escape(&label(name)),
        ));
    }
    for (name, names) in ai_lists(&settings) {
        fields.push_str(&format!(
            r#"<div class="field"><label for="{n}">{l}</label><input type="text" id="{n}" name="{n}" value="{v}"></div>"#,
            n = escape(name),
            l = escape(&label(name)),
            v = escape(&names),
        ));
    }
    let saved = if q.saved.is_some() { r#"<p class="notice" role="status">Settings saved.</p>"# } else { "" };
    let body = format!(
        r#"{saved}<form method="post" action="/admin/gitlab_duo" class="settings">
<input type="hidden" name="authenticity_token" value="{csrf}">
<fieldset><legend>AI audit events</legend>{fields}</fieldset>
<button type="submit" class="primary">Save changes</button>
</form>"#,
        csrf = escape(&session.csrf),
    );
    page(StatusCode::OK, "GitLab Duo", Some(&session), &body)
}

pub async fn save(State(state): State<AppState>, session: SignedIn, body: Bytes) -> Response {
    if !admin_page_visible(session.caller.is_admin()) {
        return not_found(Some(&session));
    }
    let form = parse_form(&body);
    if !session.csrf_ok(&form) {
        return csrf_refused();
    }
    let current = match current(&state, &session.caller).await {
        Ok(s) => s,
        Err(e) => return ApiError(e).into_response(),
    };
    // An unchecked box is absent from the form: every AI setting not sent is turned off.
    let mut changes: Map<String, Value> = ai_settings(&current)
        .map(|(name, _)| (name.clone(), Value::Bool(form_value(&form, name) == Some("true"))))
        .collect();
    for (name, _) in ai_lists(&current) {
        if let Some(value) = form_value(&form, name) {
            changes.insert(name.clone(), Value::from(value));
        }
    }
    let updated = match state.service.access().admin::<need::Write>(&session.caller) {
        Ok(admin) => state.service.settings().update(&admin, changes).await,
        Err(refused) => Err(refused),
    };
    match updated {
        Ok(_) => Redirect::to("/admin/gitlab_duo?saved=1").into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_settings_get_a_readable_label() {
        assert_eq!(label("ai_new_thing"), "Ai new thing");
        assert!(label("ai_audit_event_streaming_enabled").contains("AI agents"));
    }

    #[test]
    fn list_settings_are_shown_comma_separated() {
        let settings =
            serde_json::json!({"ai_audit_event_content_fields": ["goal", "tool_args"], "ai_x": true, "other": ["a"]});
        let lists: Vec<(&String, String)> = ai_lists(settings.as_object().unwrap()).collect();
        assert_eq!(lists.len(), 1);
        assert_eq!(lists[0].1, "goal, tool_args");
    }
}
