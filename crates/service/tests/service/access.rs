//! The proofs of permission, made only by `service.access()`: for each constructor, what it
//! refuses and with which error (the token's scope first, then "not found" for what the caller
//! cannot see, then the rule's own refusal), and whom it lets through.

use auditrelay_core::DestinationId;
use auditrelay_core::{AccessLevel, Scope};
use auditrelay_service::access::{Access, Rule, need, rules};
use auditrelay_service::destinations::{Api, Owner};
use auditrelay_service::{Caller, ServiceError, ServiceResult};

use crate::destinations::{alpha_destination, http};
use crate::{Backend, Cast, assert_refused, on_both_backends};

/// The caller's access to `alpha` (by path) as rule `R` grants it.
async fn on_alpha<R: Rule>(cast: &Cast, caller: &Caller) -> ServiceResult<Access> {
    cast.service().access().group::<R>(caller, "alpha").await.map(|grant| grant.access())
}

/// The caller's access to `alpha/app` as rule `R` grants it.
async fn on_app<R: Rule>(cast: &Cast, caller: &Caller) -> ServiceResult<Access> {
    cast.service().access().project::<R>(caller, "alpha/app").await.map(|grant| grant.access())
}

#[tokio::test]
async fn scoped_asks_only_for_the_tokens_scope() {
    let cast = Cast::new(Backend::Sqlite).await;
    let access = cast.service().access();
    let world = &cast.world;
    let reader = world.caller_of(cast.owner.user.id, &["read_api"]).await;
    let producer = world.caller_of(cast.owner.user.id, &["ingest_audit_events"]).await;
    assert!(access.scoped::<need::Read>(&reader).is_ok());
    assert_refused!(access.scoped::<need::Write>(&reader), ServiceError::InsufficientScope(Scope::Api));
    assert_refused!(access.scoped::<need::Read>(&producer), ServiceError::InsufficientScope(Scope::Api));
    assert_refused!(access.scoped::<need::Write>(&producer), ServiceError::InsufficientScope(Scope::Api));
    assert!(access.scoped::<need::Ingest>(&producer).is_ok());
    // An `api` token ingests only for an administrator.
    assert_refused!(
        access.scoped::<need::Ingest>(&cast.owner),
        ServiceError::InsufficientScope(Scope::IngestAuditEvents)
    );
    assert!(access.scoped::<need::Ingest>(cast.root()).is_ok());
    assert_refused!(access.scoped::<need::Ingest>(&reader), ServiceError::InsufficientScope(Scope::IngestAuditEvents));
    // `Any` asks for no scope at all.
    assert!(access.scoped::<need::Any>(&producer).is_ok());
    let scoped = access.scoped::<need::Write>(&cast.outsider).unwrap();
    assert_eq!(scoped.caller().user.id, cast.outsider.user.id, "the proof names who acts");
}

#[tokio::test]
async fn admin_asks_for_the_scope_then_an_administrator() {
    let cast = Cast::new(Backend::Sqlite).await;
    let access = cast.service().access();
    let root_id = cast.root().user.id;
    assert!(access.admin::<need::Write>(cast.root()).is_ok());
    for member in [&cast.owner, &cast.maintainer, &cast.outsider] {
        assert_refused!(access.admin::<need::Read>(member), ServiceError::Forbidden);
        assert_refused!(access.admin::<need::Write>(member), ServiceError::Forbidden);
    }
    // The scope is checked before the administrator: a non-admin's reading token hears of the scope.
    let owner_reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    assert_refused!(access.admin::<need::Write>(&owner_reader), ServiceError::InsufficientScope(Scope::Api));
    let root_reader = cast.world.caller_of(root_id, &["read_api"]).await;
    assert_eq!(access.admin::<need::Read>(&root_reader).unwrap().caller().user.id, root_id);
    assert_refused!(access.admin::<need::Write>(&root_reader), ServiceError::InsufficientScope(Scope::Api));
    let root_producer = cast.world.caller_of(root_id, &["ingest_audit_events"]).await;
    assert_refused!(access.admin::<need::Read>(&root_producer), ServiceError::InsufficientScope(Scope::Api));
    // Key rotation's `Any`: an administrator with any token; nobody else.
    assert!(access.admin::<need::Any>(&root_producer).is_ok());
    assert_refused!(access.admin::<need::Any>(&cast.owner), ServiceError::Forbidden);
}

#[tokio::test]
async fn self_or_admin_refuses_another_users_things_to_non_admins() {
    let cast = Cast::new(Backend::Sqlite).await;
    let access = cast.service().access();
    let (owner_id, outsider_id) = (cast.owner.user.id, cast.outsider.user.id);
    assert_eq!(access.self_or_admin::<need::Read>(&cast.owner, None).unwrap().user_id(), owner_id);
    assert_eq!(access.self_or_admin::<need::Read>(&cast.owner, Some(owner_id)).unwrap().user_id(), owner_id);
    assert_refused!(access.self_or_admin::<need::Read>(&cast.owner, Some(outsider_id)), ServiceError::Forbidden);
    assert_refused!(access.self_or_admin::<need::Write>(&cast.other_owner, Some(owner_id)), ServiceError::Forbidden);
    let by_root = access.self_or_admin::<need::Write>(cast.root(), Some(outsider_id)).unwrap();
    assert_eq!((by_root.user_id(), by_root.caller().user.id), (outsider_id, cast.root().user.id));
    // The scope first, even for one's own tokens.
    let producer = cast.world.caller_of(owner_id, &["ingest_audit_events"]).await;
    assert_refused!(access.self_or_admin::<need::Read>(&producer, None), ServiceError::InsufficientScope(Scope::Api));
    let reader = cast.world.caller_of(owner_id, &["read_api"]).await;
    assert_refused!(
        access.self_or_admin::<need::Write>(&reader, Some(outsider_id)),
        ServiceError::InsufficientScope(Scope::Api)
    );
}

async fn group_grants_follow_scope_visibility_then_role(backend: Backend) {
    let cast = Cast::new(backend).await;
    let access = cast.service().access();
    // Visible to every member and to admins, with the access each holds.
    assert_eq!(
        on_alpha::<rules::SeeGroup>(&cast, &cast.reporter).await.unwrap(),
        Access::Member(AccessLevel::Reporter)
    );
    assert_eq!(on_alpha::<rules::SeeGroup>(&cast, &cast.owner).await.unwrap(), Access::Member(AccessLevel::Owner));
    assert_eq!(on_alpha::<rules::SeeGroup>(&cast, cast.root()).await.unwrap(), Access::Admin);
    // Not there for those who cannot see it, nor when it does not exist, by path or by id.
    for stranger in [&cast.outsider, &cast.other_owner] {
        assert_refused!(on_alpha::<rules::SeeGroup>(&cast, stranger).await, ServiceError::NotFound("Group"));
        assert_refused!(on_alpha::<rules::AddMembers>(&cast, stranger).await, ServiceError::NotFound("Group"));
    }
    assert_refused!(access.group::<rules::SeeGroup>(&cast.owner, "nowhere").await, ServiceError::NotFound("Group"));
    assert_refused!(access.group::<rules::SeeGroup>(cast.root(), "9999").await, ServiceError::NotFound("Group"));
    let by_id = access.group::<rules::SeeGroup>(&cast.developer, &cast.alpha.id.to_string()).await.unwrap();
    assert_eq!(by_id.group().id, cast.alpha.id);
    // The token's scope comes first, even before "not found".
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    assert_refused!(on_alpha::<rules::AddMembers>(&cast, &reader).await, ServiceError::InsufficientScope(Scope::Api));
    let producer = cast.world.caller_of(cast.outsider.user.id, &["ingest_audit_events"]).await;
    assert_refused!(on_alpha::<rules::SeeGroup>(&cast, &producer).await, ServiceError::InsufficientScope(Scope::Api));
    // Visible, but below the rule's role: each rule's own refusal.
    assert_refused!(
        on_alpha::<rules::AddMembers>(&cast, &cast.maintainer).await,
        ServiceError::Denied(m) if m == "you need the Owner role to add members"
    );
    assert!(on_alpha::<rules::AddMembers>(&cast, &cast.owner).await.is_ok());
    assert_refused!(on_alpha::<rules::ReadGroupEvents>(&cast, &cast.reporter).await, ServiceError::Forbidden);
    assert!(on_alpha::<rules::ReadGroupEvents>(&cast, &cast.developer).await.is_ok());
    assert_refused!(on_alpha::<rules::ReadGroupAiSessions>(&cast, &cast.maintainer).await, ServiceError::Forbidden);
    assert!(on_alpha::<rules::ReadGroupAiSessions>(&cast, &cast.owner).await.is_ok());
    // To anyone but its Owners, a group's destinations are not there at all.
    let manage = async |caller| on_alpha::<rules::ManageGroupDestinations>(&cast, caller).await;
    assert_refused!(manage(&cast.maintainer).await, ServiceError::NotFound("Group"));
    assert!(manage(&cast.owner).await.is_ok());
    assert_refused!(
        on_alpha::<rules::CreateSubgroup>(&cast, &cast.developer).await,
        ServiceError::Denied(m) if m == "you need at least the Maintainer role on the parent group"
    );
    assert_refused!(
        on_alpha::<rules::CreateSubgroup>(&cast, &cast.outsider).await,
        ServiceError::NotFound("Parent Group")
    );
    assert!(on_alpha::<rules::CreateSubgroup>(&cast, &cast.maintainer).await.is_ok());
    assert_refused!(
        on_alpha::<rules::CreateProject>(&cast, &cast.reporter).await,
        ServiceError::Denied(m) if m == "you need at least the Maintainer role in the namespace"
    );
    assert_refused!(
        on_alpha::<rules::CreateProject>(&cast, &cast.other_owner).await,
        ServiceError::NotFound("Namespace")
    );
    assert!(on_alpha::<rules::CreateProject>(&cast, &cast.maintainer).await.is_ok());
    // Memberships are inherited down the tree.
    cast.world.group(&cast.owner, "sub", Some(&cast.alpha)).await;
    let inherited = access.group::<rules::ReadGroupEvents>(&cast.developer, "alpha/sub").await.unwrap();
    assert_eq!(inherited.access(), Access::Member(AccessLevel::Developer));
}

#[tokio::test]
async fn project_grants_follow_the_namespaces_access() {
    let cast = Cast::new(Backend::Sqlite).await;
    let access = cast.service().access();
    assert_eq!(
        on_app::<rules::SeeProject>(&cast, &cast.reporter).await.unwrap(),
        Access::Member(AccessLevel::Reporter)
    );
    assert_eq!(on_app::<rules::SeeProject>(&cast, cast.root()).await.unwrap(), Access::Admin);
    assert_refused!(on_app::<rules::SeeProject>(&cast, &cast.outsider).await, ServiceError::NotFound("Project"));
    assert_refused!(on_app::<rules::RunWorkflows>(&cast, &cast.other_owner).await, ServiceError::NotFound("Project"));
    assert_refused!(
        access.project::<rules::SeeProject>(cast.root(), "alpha/none").await,
        ServiceError::NotFound("Project")
    );
    let by_id = access.project::<rules::SeeProject>(&cast.reporter, &cast.app.id.to_string()).await.unwrap();
    assert_eq!(by_id.project().id, cast.app.id);
    assert_refused!(on_app::<rules::ReadProjectEvents>(&cast, &cast.reporter).await, ServiceError::Forbidden);
    assert!(on_app::<rules::ReadProjectEvents>(&cast, &cast.developer).await.is_ok());
    assert_refused!(
        on_app::<rules::RunWorkflows>(&cast, &cast.reporter).await,
        ServiceError::Denied(m) if m == "you need at least the Developer role in the project"
    );
    assert!(on_app::<rules::RunWorkflows>(&cast, &cast.developer).await.is_ok());
    let reader = cast.world.caller_of(cast.developer.user.id, &["read_api"]).await;
    assert_refused!(on_app::<rules::RunWorkflows>(&cast, &reader).await, ServiceError::InsufficientScope(Scope::Api));
}

#[tokio::test]
async fn owner_grants_are_for_top_level_owners_and_admins_for_the_instance() {
    let cast = Cast::new(Backend::Sqlite).await;
    let access = cast.service().access();
    let owner = access.owner::<need::Write>(&cast.owner, Some("alpha")).await.unwrap();
    assert!(matches!(owner.owner(), Owner::Group(g) if g.id == cast.alpha.id));
    assert_eq!(access.owner::<need::Write>(cast.root(), None).await.unwrap().owner(), &Owner::Instance);
    assert_refused!(access.owner::<need::Read>(&cast.owner, None).await, ServiceError::Forbidden);
    for not_owner in [&cast.maintainer, &cast.reporter, &cast.outsider, &cast.other_owner] {
        assert_refused!(access.owner::<need::Read>(not_owner, Some("alpha")).await, ServiceError::NotFound("Group"));
    }
    let alpha = Owner::Group(cast.alpha.clone());
    assert_refused!(access.owner_of::<need::Read>(&cast.other_owner, &alpha).await, ServiceError::NotFound("Group"));
    assert_refused!(access.owner_of::<need::Read>(&cast.owner, &Owner::Instance).await, ServiceError::Forbidden);
    assert!(access.owner_of::<need::Read>(&cast.owner, &alpha).await.is_ok());
    // Reading is asked first, then the owner, then the use case's own scope.
    let producer = cast.world.caller_of(cast.other_owner.user.id, &["ingest_audit_events"]).await;
    assert_refused!(
        access.owner::<need::Read>(&producer, Some("alpha")).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    let read = access.owner::<need::Read>(&reader, Some("alpha")).await.unwrap();
    assert_refused!(
        access.owner::<need::Write>(&reader, Some("alpha")).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
    assert_refused!(read.needing::<need::Write>(), ServiceError::InsufficientScope(Scope::Api));
    assert!(owner.needing::<need::Read>().is_ok());
}

async fn destination_grants_reach_only_the_callers_own_destinations(backend: Backend) {
    let cast = Cast::new(backend).await;
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let theirs = alpha_destination(&cast, "https://example.com/alpha").await;
    let instance_owner = access.owner(cast.root(), None).await.unwrap();
    let instance =
        destinations.create_destination(&instance_owner, Api::Consolidated, http("https://example.com/i")).await;
    let instance = instance.unwrap();
    let grant = access.destination::<need::Write>(&cast.owner, theirs.id, false).await.unwrap();
    assert_eq!(grant.destination().id, theirs.id);
    // Of the other kind, or unknown: not found; another's: its group is not there.
    assert_refused!(
        access.destination::<need::Read>(&cast.owner, theirs.id, true).await,
        ServiceError::NotFound("Destination")
    );
    assert_refused!(
        access.destination::<need::Read>(cast.root(), instance.id, false).await,
        ServiceError::NotFound("Destination")
    );
    assert_refused!(
        access.destination::<need::Read>(&cast.owner, DestinationId(9999), false).await,
        ServiceError::NotFound("Destination")
    );
    assert_refused!(
        access.destination::<need::Read>(&cast.other_owner, theirs.id, false).await,
        ServiceError::NotFound("Group")
    );
    assert_refused!(
        access.destination::<need::Read>(&cast.maintainer, theirs.id, false).await,
        ServiceError::NotFound("Group")
    );
    // The instance's destinations are the administrators'.
    assert_refused!(access.destination::<need::Read>(&cast.owner, instance.id, true).await, ServiceError::Forbidden);
    assert_refused!(access.any_destination::<need::Read>(&cast.owner, instance.id).await, ServiceError::Forbidden);
    assert!(access.any_destination::<need::Read>(cast.root(), instance.id).await.is_ok());
    assert!(access.any_destination::<need::Read>(cast.root(), theirs.id).await.is_ok());
    assert_refused!(
        access.any_destination::<need::Read>(cast.root(), DestinationId(9999)).await,
        ServiceError::NotFound("Destination")
    );
    // A destination in hand is checked again for whoever holds it.
    assert_refused!(access.manages::<need::Read>(&cast.other_owner, &theirs).await, ServiceError::NotFound("Group"));
    assert_refused!(access.manages::<need::Read>(&cast.owner, &instance).await, ServiceError::Forbidden);
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    assert_refused!(access.manages::<need::Write>(&reader, &theirs).await, ServiceError::InsufficientScope(Scope::Api));
    assert_refused!(
        access.destination::<need::Write>(&reader, theirs.id, false).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
    let read = access.destination::<need::Read>(&reader, theirs.id, false).await.unwrap();
    assert_refused!(read.needing::<need::Write>(), ServiceError::InsufficientScope(Scope::Api));
    assert!(grant.needing::<need::Read>().is_ok());
}

#[tokio::test]
async fn header_and_filter_grants_are_their_destinations() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let theirs = alpha_destination(&cast, "https://example.com/alpha").await;
    let managed = access.manages(&cast.owner, &theirs).await.unwrap();
    let header = destinations.create_header(&managed, "X-Team", "alpha", true).await.unwrap();
    let (found, row) = access.header::<need::Read>(&cast.owner, header.id, false).await.unwrap();
    assert_eq!((found.destination().id, row.id), (theirs.id, header.id));
    assert_refused!(
        access.header::<need::Read>(&cast.other_owner, header.id, false).await,
        ServiceError::NotFound("Group")
    );
    assert_refused!(
        access.header::<need::Read>(&cast.owner, header.id, true).await,
        ServiceError::NotFound("Destination")
    );
    assert_refused!(access.header::<need::Read>(&cast.owner, 9999, false).await, ServiceError::NotFound("Header"));
    let filter = destinations.add_namespace_filter(&managed, "alpha/app").await.unwrap();
    let id = filter.row.id;
    let (found, filter) = access.namespace_filter::<need::Write>(&cast.owner, id, false, false).await.unwrap();
    assert_eq!((found.destination().id, filter.row.id), (theirs.id, id));
    // A filter of the other API generation is not there.
    assert_refused!(
        access.namespace_filter::<need::Read>(&cast.owner, id, false, true).await,
        ServiceError::NotFound("Namespace filter")
    );
    assert_refused!(
        access.namespace_filter::<need::Read>(&cast.other_owner, id, false, false).await,
        ServiceError::NotFound("Group")
    );
    assert_refused!(
        access.namespace_filter::<need::Read>(&cast.owner, 9999, false, false).await,
        ServiceError::NotFound("Namespace filter")
    );
}

on_both_backends!(
    group_grants_follow_scope_visibility_then_role,
    destination_grants_reach_only_the_callers_own_destinations
);
