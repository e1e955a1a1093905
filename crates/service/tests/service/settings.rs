//! Application settings: the admin's alone, every change checked before any is applied, and
//! each change audited; the metrics token kept only as a digest.

use auditrelay_core::Scope;
use auditrelay_core::event_types::APPLICATION_SETTING_UPDATED;
use auditrelay_service::access::need;
use auditrelay_service::settings::Settings;
use auditrelay_service::{Caller, Service, ServiceError, ServiceResult};
use serde_json::{Map, Value, json};

use crate::{Backend, Cast, World, assert_refused, logged_types, on_both_backends};

fn changes(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// Applies `changes` as `caller`, with the administrator's proof the update takes.
async fn update(service: &Service, caller: &Caller, changes: Map<String, Value>) -> ServiceResult<Map<String, Value>> {
    let admin = service.access().admin(caller)?;
    service.settings().update(&admin, changes).await
}

/// The settings as root reads them.
async fn current(world: &World) -> Map<String, Value> {
    let admin = world.service.access().admin(&world.root).unwrap();
    world.service.settings().show(&admin).await.unwrap()
}

const LOCAL: &str = "allow_local_requests_from_web_hooks_and_services";

#[tokio::test]
async fn settings_are_read_and_changed_by_admins_only() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, settings) = (cast.service().access(), cast.service().settings());
    // Reading and changing take an administrator's proof, reading and writing.
    assert_refused!(access.admin::<need::Read>(&cast.owner), ServiceError::Forbidden);
    assert_refused!(access.admin::<need::Write>(&cast.owner), ServiceError::Forbidden);
    let reader = cast.world.caller_of(cast.root().user.id, &["read_api"]).await;
    let read = access.admin(&reader).unwrap();
    assert_eq!(settings.show(&read).await.unwrap()[LOCAL], json!(false), "the default");
    assert_refused!(access.admin::<need::Write>(&reader), ServiceError::InsufficientScope(Scope::Api));
}

async fn a_bad_change_applies_nothing_and_good_ones_are_audited(backend: Backend) {
    let world = World::new(backend).await;
    let (service, root) = (&world.service, &world.root);
    let mixed = changes(&[(LOCAL, json!(true)), ("no_such_setting", json!(1))]);
    assert_refused!(
        update(service, root, mixed).await,
        ServiceError::BadParam(m) if m == "no_such_setting is not a known application setting"
    );
    let not_bool = changes(&[(LOCAL, json!("yes"))]);
    assert_refused!(update(service, root, not_bool).await, ServiceError::BadParam(m) if m.ends_with("must be true or false"));
    let not_names = changes(&[("ai_audit_event_content_fields", json!(5))]);
    assert_refused!(update(service, root, not_names).await, ServiceError::BadParam(_));
    assert_eq!(current(&world).await[LOCAL], json!(false), "nothing changed");
    assert!(!logged_types(&world).await.contains(&APPLICATION_SETTING_UPDATED.to_owned()));

    let applied = update(service, root, changes(&[(LOCAL, json!("true"))])).await.unwrap();
    assert_eq!(applied[LOCAL], json!(true));
    let stored = Settings::decode(&service.store().settings().await.unwrap());
    assert!(stored.allow_local_requests_from_web_hooks_and_services, "stored as the typed setting reads it");
    let fields = changes(&[("ai_audit_event_content_fields", json!("goal, content"))]);
    let applied = update(service, root, fields).await.unwrap();
    assert_eq!(applied["ai_audit_event_content_fields"], json!(["goal", "content"]));
    // Setting a value to what it is records nothing.
    update(service, root, changes(&[(LOCAL, json!(true))])).await.unwrap();
    let audited = logged_types(&world).await.into_iter().filter(|t| t == APPLICATION_SETTING_UPDATED).count();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn the_metrics_token_is_checked_kept_as_a_digest_and_cleared() {
    let world = World::new(Backend::Sqlite).await;
    let (service, root) = (&world.service, &world.root);
    let settings = service.settings();
    let token = "a-metrics-token-of-good-length";
    assert_refused!(
        update(service, root, changes(&[("metrics_token", json!("short"))])).await,
        ServiceError::BadParam(m) if m.starts_with("metrics_token is invalid")
    );
    assert!(!settings.is_metrics_token(token).await.unwrap());
    let shown = update(service, root, changes(&[("metrics_token", json!(token))])).await.unwrap();
    assert!(!shown.contains_key("metrics_token"), "never shown back");
    assert!(settings.is_metrics_token(token).await.unwrap());
    assert!(!settings.is_metrics_token("a-metrics-token-of-good-lengtX").await.unwrap());
    let stored = service.store().settings().await.unwrap();
    assert!(stored.values().all(|v| !v.contains(token)), "only a digest is stored");
    update(service, root, changes(&[("metrics_token", json!(""))])).await.unwrap();
    assert!(!settings.is_metrics_token(token).await.unwrap());
}

on_both_backends!(a_bad_change_applies_nothing_and_good_ones_are_audited);
