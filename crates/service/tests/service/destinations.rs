//! Streaming destinations: who manages them (Owners of a top-level group, admins for the
//! instance), GitLab's rules on create and update, headers and filters, and that one tenant
//! never reaches another's destinations.

use auditrelay_core::DestinationId;
use auditrelay_core::Scope;
use auditrelay_core::destination::config::{DestinationConfig, HeaderSpec};
use auditrelay_service::access::need;
use auditrelay_service::destinations::{Api, CreateDestination, Destination, DestinationUpdate, Owner};
use auditrelay_service::{Caller, ServiceError};
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
    let owner = cast.service().access().owner(&cast.owner, Some("alpha")).await.unwrap();
    cast.service().destinations().create_destination(&owner, Api::Consolidated, http(url)).await.unwrap()
}

#[tokio::test]
async fn destinations_are_managed_by_top_level_owners_and_admins() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let owner_of = async |caller: &Caller, group: Option<&str>| {
        access.owner::<need::Read>(caller, group).await.map(|grant| grant.owner().clone())
    };
    assert!(matches!(owner_of(&cast.owner, Some("alpha")).await.unwrap(), Owner::Group(g) if g.id == cast.alpha.id));
    assert!(matches!(owner_of(cast.root(), Some("alpha")).await.unwrap(), Owner::Group(_)));
    assert_eq!(owner_of(cast.root(), None).await.unwrap(), Owner::Instance);
    assert_refused!(owner_of(&cast.owner, None).await, ServiceError::Forbidden);
    for not_owner in [&cast.maintainer, &cast.developer, &cast.reporter, &cast.outsider, &cast.other_owner] {
        assert_refused!(owner_of(not_owner, Some("alpha")).await, ServiceError::NotFound("Group"));
    }
    // Creating takes a writing proof of the owner.
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    assert_refused!(
        access.owner::<need::Write>(&reader, Some("alpha")).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
    let sub = cast.world.group(&cast.owner, "sub", Some(&cast.alpha)).await;
    let sub_owner = access.owner(&cast.owner, Some("alpha/sub")).await.unwrap();
    assert!(matches!(sub_owner.owner(), Owner::Group(g) if g.id == sub.id));
    assert_refused!(
        destinations.create_destination(&sub_owner, Api::Consolidated, http("https://example.com/a")).await,
        ServiceError::Validation(m) if m == ["Group must not be a subgroup. Use a top-level group."]
    );
    assert_refused!(
        destinations.create_destination(&sub_owner, Api::Legacy, http("https://example.com/a")).await,
        ServiceError::Validation(m) if m == ["Group must not be a subgroup"]
    );
}

async fn gitlabs_create_rules_hold(backend: Backend) {
    let cast = Cast::new(backend).await;
    let service = cast.service();
    let (access, destinations) = (service.access(), service.destinations());
    let owner = access.owner(&cast.owner, Some("alpha")).await.unwrap();
    let create = async |input| destinations.create_destination(&owner, Api::Consolidated, input).await;
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
    service.settings().update(&access.admin(cast.root()).unwrap(), allow).await.unwrap();
    let beta = access.owner(&cast.other_owner, Some("beta")).await.unwrap();
    let local = destinations.create_destination(&beta, Api::Legacy, http("http://127.0.0.1:9/"));
    assert!(local.await.is_ok());
    // The secret is sealed at rest.
    let row = service.store().destination(first.id).await.unwrap().unwrap();
    assert_ne!(row.secret, first.secret);
}

async fn one_tenant_never_reaches_anothers_destinations(backend: Backend) {
    let cast = Cast::new(backend).await;
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let theirs = alpha_destination(&cast, "https://example.com/alpha").await;
    let managed = access.manages(&cast.owner, &theirs).await.unwrap();
    let header = destinations.create_header(&managed, "X-Team", "alpha", true).await.unwrap();
    let other = &cast.other_owner;
    let destination = async |caller: &Caller, id: i64, instance: bool| {
        access.destination::<need::Read>(caller, DestinationId(id), instance).await.map(|_| ())
    };
    assert_refused!(destination(other, theirs.id.get(), false).await, ServiceError::NotFound("Group"));
    assert_refused!(access.any_destination::<need::Read>(other, theirs.id).await, ServiceError::NotFound("Group"));
    assert_refused!(destination(&cast.owner, theirs.id.get(), true).await, ServiceError::NotFound("Destination"));
    assert_refused!(destination(&cast.owner, 9999, false).await, ServiceError::NotFound("Destination"));
    assert_refused!(access.header::<need::Read>(other, header.id, false).await, ServiceError::NotFound("Group"));
    assert_refused!(destination(&cast.maintainer, theirs.id.get(), false).await, ServiceError::NotFound("Group"));
    let beta = access.owner(other, Some("beta")).await.unwrap();
    assert!(destinations.destinations_of(&beta).await.unwrap().is_empty());
    let alpha = Owner::Group(cast.alpha.clone());
    assert_refused!(access.owner_of::<need::Read>(other, &alpha).await, ServiceError::NotFound("Group"));
    let alpha_owner = access.owner_of(&cast.owner, &alpha).await.unwrap();
    assert_eq!(destinations.destinations_of(&alpha_owner).await.unwrap().len(), 1);
    // Nor may another tenant's namespace be a filter of one's destination.
    assert_refused!(
        destinations.add_namespace_filter(&managed, "beta").await,
        ServiceError::Validation(m) if m[0].contains("does not belong to the top-level group")
    );
    let by_root = access.destination::<need::Read>(cast.root(), theirs.id, false).await.unwrap();
    assert_eq!(by_root.destination().headers.len(), 1, "admins manage every destination");
}

#[tokio::test]
async fn updates_and_deletes_are_checked_and_audited() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let first = alpha_destination(&cast, "https://example.com/1").await;
    let second = alpha_destination(&cast, "https://example.com/2").await;
    let rename = |name: &str| DestinationUpdate { name: Some(name.into()), ..Default::default() };
    let managed = access.manages(&cast.owner, &second).await.unwrap();
    assert_refused!(
        destinations.update_destination(&managed, Api::Consolidated, rename(&first.name)).await,
        ServiceError::Validation(m) if m == ["Name has already been taken"]
    );
    // Updating and deleting take a writing proof of the destination.
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    assert_refused!(access.manages::<need::Write>(&reader, &second).await, ServiceError::InsufficientScope(_));
    let renamed = destinations.update_destination(&managed, Api::Consolidated, rename("renamed")).await.unwrap();
    assert_eq!(renamed.name, "renamed");
    let off = DestinationUpdate { active: Some(false), ..Default::default() };
    let managed = access.manages(&cast.owner, &renamed).await.unwrap();
    assert!(!destinations.update_destination(&managed, Api::Consolidated, off).await.unwrap().active);
    assert_refused!(
        access.destination::<need::Write>(&reader, first.id, false).await,
        ServiceError::InsufficientScope(_)
    );
    let doomed = access.destination(&cast.owner, first.id, false).await.unwrap();
    destinations.delete_destination(&doomed, Api::Legacy).await.unwrap();
    assert_refused!(
        access.destination::<need::Read>(&cast.owner, first.id, false).await,
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
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let destination = alpha_destination(&cast, "https://example.com/h").await;
    let managed = access.manages(&cast.owner, &destination).await.unwrap();
    let header = destinations.create_header(&managed, "X-One", "1", true).await.unwrap();
    let managed = access.destination(&cast.owner, destination.id, false).await.unwrap();
    assert_refused!(
        destinations.create_header(&managed, "X-One", "2", true).await,
        ServiceError::Validation(m) if m == ["Key has already been taken"]
    );
    assert_refused!(destinations.create_header(&managed, "", "2", true).await, ServiceError::Validation(_));
    let changed = destinations.update_header(&managed, &header, None, Some("v2".into()), Some(false));
    let changed = changed.await.unwrap();
    assert_eq!((changed.value.as_str(), changed.active), ("v2", false));
    let (found, row) = access.header(&cast.owner, header.id, false).await.unwrap();
    assert_eq!((found.destination().id, row.id), (destination.id, header.id));
    assert!(
        matches!(&found.destination().config, DestinationConfig::Http { headers, .. } if headers == &[HeaderSpec { key: "X-One".into(), value: "v2".into(), active: false }])
    );
    destinations.delete_header(&found, &row).await.unwrap();
    assert_refused!(access.header::<need::Read>(&cast.owner, header.id, false).await, ServiceError::NotFound("Header"));
}

#[tokio::test]
async fn filters_name_known_types_and_namespaces_of_the_owner() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let destination = alpha_destination(&cast, "https://example.com/f").await;
    let id = destination.id;
    let managed = access.manages(&cast.owner, &destination).await.unwrap();
    assert_refused!(destinations.add_event_type_filters(&managed, &[]).await, ServiceError::BadParam(_));
    assert_refused!(
        destinations.add_event_type_filters(&managed, &["never_seen_type".into()]).await,
        ServiceError::Validation(m) if m[0].ends_with("is undefined.")
    );
    let types = destinations.add_event_type_filters(&managed, &["user_created".into()]).await.unwrap();
    assert_eq!(types, ["user_created"]);
    let managed = access.destination(&cast.owner, id, false).await.unwrap();
    assert_refused!(
        destinations.add_event_type_filters(&managed, &["user_created".into()]).await,
        ServiceError::Validation(m) if m[0].ends_with("has already been taken")
    );
    destinations.remove_event_type_filters(&managed, &["user_created".into()]).await.unwrap();

    assert_refused!(destinations.add_namespace_filter(&managed, "nowhere").await, ServiceError::BadParam(_));
    let filter = destinations.add_namespace_filter(&managed, "alpha/app").await.unwrap();
    let managed = access.destination(&cast.owner, id, false).await.unwrap();
    assert_refused!(
        destinations.add_namespace_filter(&managed, "alpha/app").await,
        ServiceError::Validation(m) if m == ["Namespace has already been taken"]
    );
    assert_refused!(
        access.namespace_filter::<need::Read>(&cast.other_owner, filter.row.id, false, false).await,
        ServiceError::NotFound("Group")
    );
    assert_refused!(
        access.namespace_filter::<need::Read>(&cast.owner, filter.row.id, false, true).await,
        ServiceError::NotFound("Namespace filter")
    );
    let (managed, filter) = access.namespace_filter(&cast.owner, filter.row.id, false, false).await.unwrap();
    destinations.delete_namespace_filter(&managed, &filter, Api::Consolidated).await.unwrap();
    let managed = access.destination(&cast.owner, id, false).await.unwrap();
    let legacy = destinations.add_legacy_namespace_filter(&managed, Some("alpha"), None).await.unwrap();
    assert!(legacy.row.legacy);
    assert_refused!(destinations.add_legacy_namespace_filter(&managed, None, None).await, ServiceError::BadParam(_));
}

on_both_backends!(gitlabs_create_rules_hold, one_tenant_never_reaches_anothers_destinations);
