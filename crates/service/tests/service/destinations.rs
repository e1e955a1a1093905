//! Streaming destinations: who manages them (Owners of a top-level group, admins for the
//! instance), GitLab's rules on create and update, headers and filters, and that one tenant
//! never reaches another's destinations.

use auditrelay_core::Scope;
use auditrelay_core::destination::config::{DestinationConfig, HeaderSpec};
use auditrelay_service::ServiceError;
use auditrelay_service::destinations::{Api, CreateDestination, Destination, DestinationUpdate, Owner};
use serde_json::{Map, json};

use crate::{Backend, Cast, assert_refused, logged_types, on_both_backends};

pub fn http(url: &str) -> CreateDestination {
    CreateDestination {
        config: DestinationConfig::Http { url: url.into(), headers: Vec::new() },
        name: None,
        secret: None,
        strict_order: false,
    }
}

/// An HTTP destination of alpha, made by its owner through the consolidated API.
pub async fn alpha_destination(cast: &Cast, url: &str) -> Destination {
    let owner = cast.service().destination_owner(&cast.owner, Some("alpha")).await.unwrap();
    cast.service().create_destination(&cast.owner, &owner, Api::Consolidated, http(url)).await.unwrap()
}

#[tokio::test]
async fn destinations_are_managed_by_top_level_owners_and_admins() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    assert!(
        matches!(service.destination_owner(&cast.owner, Some("alpha")).await.unwrap(), Owner::Group(g) if g.id == cast.alpha.id)
    );
    assert!(matches!(service.destination_owner(cast.root(), Some("alpha")).await.unwrap(), Owner::Group(_)));
    assert_eq!(service.destination_owner(cast.root(), None).await.unwrap(), Owner::Instance);
    assert_refused!(service.destination_owner(&cast.owner, None).await, ServiceError::Forbidden);
    for not_owner in [&cast.maintainer, &cast.developer, &cast.reporter, &cast.outsider, &cast.other_owner] {
        assert_refused!(service.destination_owner(not_owner, Some("alpha")).await, ServiceError::NotFound("Group"));
    }
    let owner = service.destination_owner(&cast.owner, Some("alpha")).await.unwrap();
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    assert_refused!(
        service.create_destination(&reader, &owner, Api::Consolidated, http("https://example.com/a")).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
    let sub = cast.world.group(&cast.owner, "sub", Some(&cast.alpha)).await;
    let sub_owner = service.destination_owner(&cast.owner, Some("alpha/sub")).await.unwrap();
    assert!(matches!(&sub_owner, Owner::Group(g) if g.id == sub.id));
    assert_refused!(
        service.create_destination(&cast.owner, &sub_owner, Api::Consolidated, http("https://example.com/a")).await,
        ServiceError::Validation(m) if m == ["Group must not be a subgroup. Use a top-level group."]
    );
    assert_refused!(
        service.create_destination(&cast.owner, &sub_owner, Api::Legacy, http("https://example.com/a")).await,
        ServiceError::Validation(m) if m == ["Group must not be a subgroup"]
    );
}

async fn gitlabs_create_rules_hold(backend: Backend) {
    let cast = Cast::new(backend).await;
    let service = cast.service();
    let owner = service.destination_owner(&cast.owner, Some("alpha")).await.unwrap();
    let create = |input| service.create_destination(&cast.owner, &owner, Api::Consolidated, input);
    assert_refused!(create(http("ftp://example.com/")).await, ServiceError::Validation(m) if m[0].starts_with("Config url is blocked"));
    assert_refused!(create(http("not a url")).await, ServiceError::Validation(m) if m[0] == "Config url must be a valid URL");
    assert_refused!(create(http("http://127.0.0.1:9/")).await, ServiceError::Validation(m) if m[0].starts_with("Config url is blocked"));
    let first = create(CreateDestination { name: Some("one".into()), ..http("https://example.com/1") }).await.unwrap();
    assert_eq!(first.secret_token().len(), 24, "GitLab's generated verification token");
    assert_eq!(first.url(), Some("https://example.com/1"));
    assert_refused!(
        create(CreateDestination { name: Some("one".into()), ..http("https://example.com/2") }).await,
        ServiceError::Validation(m) if m == ["Name has already been taken"]
    );
    assert_refused!(create(http("https://example.com/1")).await, ServiceError::Validation(_));
    for n in 2..=5 {
        create(http(&format!("https://example.com/{n}"))).await.unwrap();
    }
    assert_refused!(create(http("https://example.com/6")).await, ServiceError::Validation(m) if m[0].contains("(5) exceeded"));
    // Local addresses are the admin's choice.
    let mut allow = Map::new();
    allow.insert("allow_local_requests_from_web_hooks_and_services".into(), json!(true));
    service.update_settings(cast.root(), allow).await.unwrap();
    let beta = service.destination_owner(&cast.other_owner, Some("beta")).await.unwrap();
    let local = service.create_destination(&cast.other_owner, &beta, Api::Legacy, http("http://127.0.0.1:9/"));
    assert!(local.await.is_ok());
    // The secret is sealed at rest.
    let row = service.store.destination(first.id).await.unwrap().unwrap();
    assert_ne!(row.secret, first.secret);
}

async fn one_tenant_never_reaches_anothers_destinations(backend: Backend) {
    let cast = Cast::new(backend).await;
    let service = cast.service();
    let theirs = alpha_destination(&cast, "https://example.com/alpha").await;
    let header = service.create_header(&cast.owner, &theirs, "X-Team", "alpha", true).await.unwrap();
    let other = &cast.other_owner;
    assert_refused!(service.managed_destination(other, theirs.id, false).await, ServiceError::NotFound("Group"));
    assert_refused!(service.managed_destination_any(other, theirs.id).await, ServiceError::NotFound("Group"));
    assert_refused!(
        service.managed_destination(&cast.owner, theirs.id, true).await,
        ServiceError::NotFound("Destination")
    );
    assert_refused!(service.managed_destination(&cast.owner, 9999, false).await, ServiceError::NotFound("Destination"));
    assert_refused!(service.managed_header(other, header.id, false).await, ServiceError::NotFound("Group"));
    assert_refused!(
        service.managed_destination(&cast.maintainer, theirs.id, false).await,
        ServiceError::NotFound("Group")
    );
    let beta = service.destination_owner(other, Some("beta")).await.unwrap();
    assert!(service.destinations_of(other, &beta).await.unwrap().is_empty());
    let alpha = Owner::Group(cast.alpha.clone());
    assert_refused!(service.destinations_of(other, &alpha).await, ServiceError::NotFound("Group"));
    assert_eq!(service.destinations_of(&cast.owner, &alpha).await.unwrap().len(), 1);
    // Nor may another tenant's namespace be a filter of one's destination.
    assert_refused!(
        service.add_namespace_filter(&cast.owner, &theirs, "beta").await,
        ServiceError::Validation(m) if m[0].contains("does not belong to the top-level group")
    );
    let managed = service.managed_destination(cast.root(), theirs.id, false).await.unwrap();
    assert_eq!(managed.headers.len(), 1, "admins manage every destination");
}

#[tokio::test]
async fn updates_and_deletes_are_checked_and_audited() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let first = alpha_destination(&cast, "https://example.com/1").await;
    let second = alpha_destination(&cast, "https://example.com/2").await;
    let rename = |name: &str| DestinationUpdate { name: Some(name.into()), ..Default::default() };
    assert_refused!(
        service.update_destination(&cast.owner, &second, Api::Consolidated, rename(&first.name)).await,
        ServiceError::Validation(m) if m == ["Name has already been taken"]
    );
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    assert_refused!(
        service.update_destination(&reader, &second, Api::Consolidated, rename("x")).await,
        ServiceError::InsufficientScope(_)
    );
    let renamed = service.update_destination(&cast.owner, &second, Api::Consolidated, rename("renamed")).await.unwrap();
    assert_eq!(renamed.name, "renamed");
    let off = DestinationUpdate { active: Some(false), ..Default::default() };
    assert!(!service.update_destination(&cast.owner, &renamed, Api::Consolidated, off).await.unwrap().active);
    assert_refused!(service.delete_destination(&reader, &first, Api::Legacy).await, ServiceError::InsufficientScope(_));
    service.delete_destination(&cast.owner, &first, Api::Legacy).await.unwrap();
    assert_refused!(
        service.managed_destination(&cast.owner, first.id, false).await,
        ServiceError::NotFound("Destination")
    );
    let logged = logged_types(&cast.world).await;
    for expected in [
        "created_group_audit_event_streaming_destination",
        "updated_group_audit_event_streaming_destination",
        "destroy_event_streaming_destination",
    ] {
        assert!(logged.iter().any(|t| t == expected), "{expected} in {logged:?}");
    }
}

#[tokio::test]
async fn headers_follow_gitlabs_rules() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let destination = alpha_destination(&cast, "https://example.com/h").await;
    let header = service.create_header(&cast.owner, &destination, "X-One", "1", true).await.unwrap();
    let destination = service.managed_destination(&cast.owner, destination.id, false).await.unwrap();
    assert_refused!(
        service.create_header(&cast.owner, &destination, "X-One", "2", true).await,
        ServiceError::Validation(m) if m == ["Key has already been taken"]
    );
    assert_refused!(service.create_header(&cast.owner, &destination, "", "2", true).await, ServiceError::Validation(_));
    let changed = service.update_header(&cast.owner, &destination, &header, None, Some("v2".into()), Some(false));
    let changed = changed.await.unwrap();
    assert_eq!((changed.value.as_str(), changed.active), ("v2", false));
    let (found, row) = service.managed_header(&cast.owner, header.id, false).await.unwrap();
    assert_eq!((found.id, row.id), (destination.id, header.id));
    assert!(
        matches!(&found.config, DestinationConfig::Http { headers, .. } if headers == &[HeaderSpec { key: "X-One".into(), value: "v2".into(), active: false }])
    );
    service.delete_header(&cast.owner, &found, &row).await.unwrap();
    assert_refused!(service.managed_header(&cast.owner, header.id, false).await, ServiceError::NotFound("Header"));
}

#[tokio::test]
async fn filters_name_known_types_and_namespaces_of_the_owner() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let destination = alpha_destination(&cast, "https://example.com/f").await;
    assert_refused!(service.add_event_type_filters(&cast.owner, &destination, &[]).await, ServiceError::BadParam(_));
    assert_refused!(
        service.add_event_type_filters(&cast.owner, &destination, &["never_seen_type".into()]).await,
        ServiceError::Validation(m) if m[0].ends_with("is undefined.")
    );
    let types = service.add_event_type_filters(&cast.owner, &destination, &["user_created".into()]).await.unwrap();
    assert_eq!(types, ["user_created"]);
    let destination = service.managed_destination(&cast.owner, destination.id, false).await.unwrap();
    assert_refused!(
        service.add_event_type_filters(&cast.owner, &destination, &["user_created".into()]).await,
        ServiceError::Validation(m) if m[0].ends_with("has already been taken")
    );
    service.remove_event_type_filters(&cast.owner, &destination, &["user_created".into()]).await.unwrap();

    assert_refused!(
        service.add_namespace_filter(&cast.owner, &destination, "nowhere").await,
        ServiceError::BadParam(_)
    );
    let filter = service.add_namespace_filter(&cast.owner, &destination, "alpha/app").await.unwrap();
    let destination = service.managed_destination(&cast.owner, destination.id, false).await.unwrap();
    assert_refused!(
        service.add_namespace_filter(&cast.owner, &destination, "alpha/app").await,
        ServiceError::Validation(m) if m == ["Namespace has already been taken"]
    );
    assert_refused!(
        service.managed_namespace_filter(&cast.other_owner, filter.row.id, false, false).await,
        ServiceError::NotFound("Group")
    );
    assert_refused!(
        service.managed_namespace_filter(&cast.owner, filter.row.id, false, true).await,
        ServiceError::NotFound("Namespace filter")
    );
    let (destination, filter) =
        service.managed_namespace_filter(&cast.owner, filter.row.id, false, false).await.unwrap();
    service.delete_namespace_filter(&cast.owner, &destination, &filter, Api::Consolidated).await.unwrap();
    let destination = service.managed_destination(&cast.owner, destination.id, false).await.unwrap();
    let legacy = service.add_legacy_namespace_filter(&cast.owner, &destination, Some("alpha"), None).await.unwrap();
    assert!(legacy.row.legacy);
    assert_refused!(
        service.add_legacy_namespace_filter(&cast.owner, &destination, None, None).await,
        ServiceError::BadParam(_)
    );
}

on_both_backends!(gitlabs_create_rules_hold, one_tenant_never_reaches_anothers_destinations);
