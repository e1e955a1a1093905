//! Identity: tokens → callers, users, personal access tokens, groups, projects, members.

use auditrelay_core::event_types as types;
use auditrelay_core::states::UserState;
use auditrelay_core::time::now_micros;
use auditrelay_core::{AccessLevel, Scope};
use auditrelay_core::{GroupId, UserId};
use auditrelay_service::access::{need, rules};
use auditrelay_service::identity::{CreateGroup, CreateProject, CreateToken, CreateUser};
use auditrelay_service::{Caller, ServiceError};
use auditrelay_store::identity::NewToken;

use crate::{Backend, Cast, World, assert_refused, logged_types, on_both_backends};

fn new_user(username: &str, email: &str) -> CreateUser {
    CreateUser {
        username: username.into(),
        name: username.into(),
        email: email.into(),
        password: crate::PASSWORD.into(),
        admin: false,
    }
}

fn token(scopes: &[&str]) -> CreateToken {
    CreateToken { name: "t".into(), scopes: scopes.iter().map(|s| (*s).to_owned()).collect(), expires_at: None }
}

/// The one use case without a caller makes the first administrator only while there is no user
/// at all: once root exists it makes nothing, whoever asks.
#[tokio::test]
async fn the_root_bootstrap_makes_nothing_once_a_user_exists() {
    let world = World::new(Backend::Sqlite).await;
    let service = &world.service;
    let intruder = CreateUser { admin: true, ..new_user("intruder", "intruder@example.com") };
    let plain = auditrelay_service::secrets::generate_token();
    let made = service.identity().bootstrap_root(&intruder, &token(&["api"]), &plain).await.unwrap();
    assert!(made.is_none(), "a second bootstrap made {made:?}");
    assert_refused!(service.auth().authenticate(&plain, None).await, ServiceError::Unauthorized);
    assert_eq!(service.store().count_users().await.unwrap(), 1);
}

#[tokio::test]
async fn only_a_known_current_token_authenticates() {
    let world = World::new(Backend::Sqlite).await;
    let auth = world.service.auth();
    assert_refused!(auth.authenticate("", None).await, ServiceError::Unauthorized);
    assert_refused!(auth.authenticate("glpat-not-a-token", None).await, ServiceError::Unauthorized);
    assert_refused!(auth.authenticate(&"x".repeat(300), None).await, ServiceError::Unauthorized);
    // No use case makes an expired token (`create_token` refuses a past expiry): store one.
    let plain = auditrelay_service::secrets::generate_token();
    let digest = auditrelay_service::secrets::token_digest(&plain);
    let scopes = ["api".to_owned()];
    let expired = NewToken {
        user_id: world.root.user.id,
        name: "expired",
        digest: &digest,
        scopes: &scopes,
        expires_at: Some(now_micros() - 1),
    };
    world.service.store().create_token(&expired).await.unwrap();
    assert_refused!(auth.authenticate(&plain, None).await, ServiceError::Unauthorized);
    let reader = world.caller_of(world.root.user.id, &["read_api"]).await;
    assert_eq!(reader.scopes, vec![Scope::ReadApi]);
    assert!(!format!("{reader:?}").contains("$argon2"), "a caller carries no password hash");
    assert!(reader.token_id.is_some());
}

async fn creating_users_is_for_admins_with_valid_unique_input(backend: Backend) {
    let world = World::new(backend).await;
    let (access, identity) = (world.service.access(), world.service.identity());
    let plain = world.user("plain", &["api"]).await;
    // Creating a user takes an administrator's proof with the `api` scope.
    assert_refused!(access.admin::<need::Write>(&plain), ServiceError::Forbidden);
    let admin_reader = world.caller_of(world.root.user.id, &["read_api"]).await;
    assert_refused!(access.admin::<need::Write>(&admin_reader), ServiceError::InsufficientScope(Scope::Api));
    let root = access.admin(&world.root).unwrap();
    assert_refused!(
        identity.create_user(&root, new_user("bad name!", "y@example.com")).await,
        ServiceError::Invalid { attribute, .. } if attribute == "username"
    );
    assert_refused!(
        identity.create_user(&root, new_user("y", "not-an-email")).await,
        ServiceError::Invalid { attribute, .. } if attribute == "email"
    );
    let short = CreateUser { password: "short".into(), ..new_user("z", "z@example.com") };
    assert_refused!(
        identity.create_user(&root, short).await,
        ServiceError::Invalid { attribute, .. } if attribute == "password"
    );
    assert_refused!(
        identity.create_user(&root, new_user("plain", "other@example.com")).await,
        ServiceError::Conflict(m) if m == "Username has already been taken"
    );
    assert_refused!(
        identity.create_user(&root, new_user("fresh", "plain@example.com")).await,
        ServiceError::Conflict(m) if m == "Email has already been taken"
    );
    // Only the one accepted creation is in the log (refusals leave nothing).
    let created = logged_types(&world).await.iter().filter(|t| *t == types::USER_CREATED).count();
    assert_eq!(created, 1);
}

#[tokio::test]
async fn a_user_is_visible_to_themselves_and_admins_only() {
    let world = World::new(Backend::Sqlite).await;
    let (alice, bob) = (world.user("alice", &["api"]).await, world.user("bob", &["api"]).await);
    let (access, identity) = (world.service.access(), world.service.identity());
    let as_alice = access.scoped(&alice).unwrap();
    assert_eq!(identity.user(&as_alice, alice.user.id).await.unwrap().username, "alice");
    assert_refused!(identity.user(&as_alice, bob.user.id).await, ServiceError::NotFound("User"));
    assert_refused!(identity.user(&as_alice, UserId(9999)).await, ServiceError::NotFound("User"));
    let as_root = access.scoped(&world.root).unwrap();
    assert_eq!(identity.user(&as_root, bob.user.id).await.unwrap().username, "bob");
    assert_eq!(identity.current_user(&as_alice).await.unwrap().id, alice.user.id);
    assert_eq!(alice.user.state, UserState::Active);
    let ingest_only = world.caller_of(alice.user.id, &["ingest_audit_events"]).await;
    assert_refused!(access.scoped::<need::Read>(&ingest_only), ServiceError::InsufficientScope(Scope::Api));
}

#[tokio::test]
async fn tokens_are_created_by_admins_with_valid_scopes_and_future_expiry() {
    let world = World::new(Backend::Sqlite).await;
    let alice = world.user("alice", &["api"]).await;
    let (access, identity) = (world.service.access(), world.service.identity());
    let id = alice.user.id;
    assert_refused!(access.admin::<need::Write>(&alice), ServiceError::Forbidden);
    let root = access.admin(&world.root).unwrap();
    assert_refused!(identity.create_token(&root, UserId(9999), token(&["api"])).await, ServiceError::NotFound("User"));
    assert_refused!(identity.create_token(&root, id, token(&[])).await, ServiceError::BadParam(m) if m == "scopes is missing");
    assert_refused!(identity.create_token(&root, id, token(&["sudo"])).await, ServiceError::BadParam(_));
    let past = CreateToken { expires_at: Some(now_micros() - 1_000_000), ..token(&["api"]) };
    assert_refused!(
        identity.create_token(&root, id, past).await,
        ServiceError::Invalid { attribute, .. } if attribute == "expires_at"
    );
    let (made, plain) = identity.create_token(&root, id, token(&["read_api"])).await.unwrap();
    let caller = world.service.auth().authenticate(&plain, None).await.unwrap();
    assert_eq!((caller.user.id, caller.token_id), (id, Some(made.id)));
    assert!(logged_types(&world).await.contains(&types::PERSONAL_ACCESS_TOKEN_CREATED.to_owned()));
}

#[tokio::test]
async fn tokens_are_listed_read_and_revoked_by_their_user_or_an_admin() {
    let world = World::new(Backend::Sqlite).await;
    let (alice, bob) = (world.user("alice", &["api"]).await, world.user("bob", &["api"]).await);
    let service = &world.service;
    let (access, identity, directory) = (service.access(), service.identity(), service.directory());
    assert_eq!(identity.tokens(&access.self_or_admin(&alice, None).unwrap()).await.unwrap().len(), 1);
    assert_refused!(access.self_or_admin::<need::Read>(&alice, Some(bob.user.id)), ServiceError::Forbidden);
    let bobs_by_root = access.self_or_admin(&world.root, Some(bob.user.id)).unwrap();
    assert_eq!(identity.tokens(&bobs_by_root).await.unwrap().len(), 1);
    let bobs = bob.token_id.unwrap();
    assert_refused!(directory.token(&access.scoped(&alice).unwrap(), bobs).await, ServiceError::NotFound("Token"));
    assert_eq!(directory.own_token(&access.scoped(&bob).unwrap()).await.unwrap().id, bobs);
    let alice_writes = access.scoped(&alice).unwrap();
    assert_refused!(identity.revoke_token(&alice_writes, bobs).await, ServiceError::NotFound("Token"));
    let bob_reader = world.caller_of(bob.user.id, &["read_api"]).await;
    assert_refused!(access.scoped::<need::Write>(&bob_reader), ServiceError::InsufficientScope(Scope::Api));
    identity.revoke_token(&access.scoped(&bob).unwrap(), bobs).await.unwrap();
    assert_refused!(
        identity.revoke_token(&access.scoped(&world.root).unwrap(), bobs).await,
        ServiceError::BadParam(m) if m == "Token already revoked"
    );
    assert!(logged_types(&world).await.contains(&types::PERSONAL_ACCESS_TOKEN_REVOKED.to_owned()));
}

async fn groups_are_created_under_maintainers_and_paths_are_unique(backend: Backend) {
    let cast = Cast::new(backend).await;
    let (access, identity) = (cast.service().access(), cast.service().identity());
    let create = async |caller: &Caller, input| identity.create_group(&access.scoped(caller)?, input).await;
    let sub = |parent: i64| CreateGroup { name: "sub".into(), path: "sub".into(), parent_id: Some(GroupId(parent)) };
    assert_refused!(create(&cast.developer, sub(cast.alpha.id.get())).await, ServiceError::Denied(_));
    assert_refused!(create(&cast.other_owner, sub(cast.alpha.id.get())).await, ServiceError::NotFound("Parent Group"));
    assert_refused!(create(&cast.owner, sub(9999)).await, ServiceError::NotFound("Parent Group"));
    let made = create(&cast.maintainer, sub(cast.alpha.id.get())).await.unwrap();
    assert_eq!((made.full_path.as_str(), made.root_id), ("alpha/sub", cast.alpha.id));
    assert_refused!(
        create(&cast.owner, sub(cast.alpha.id.get())).await,
        ServiceError::Invalid { attribute, .. } if attribute == "path"
    );
    let bad = CreateGroup { name: "x".into(), path: "-x-".into(), parent_id: None };
    assert_refused!(create(&cast.outsider, bad).await, ServiceError::Invalid { attribute, .. } if attribute == "path");
    // The creator owns what they create, even a user in no group before.
    let own = CreateGroup { name: "mine".into(), path: "mine".into(), parent_id: None };
    let mine = create(&cast.outsider, own).await.unwrap();
    let grant = access.group(&cast.outsider, "mine").await.unwrap();
    let members = identity.members(&grant).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].access_level, AccessLevel::Owner.value());
    assert_eq!(mine.parent_id, None);
}

#[tokio::test]
async fn a_group_is_not_found_by_those_outside_it() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, identity) = (cast.service().access(), cast.service().identity());
    for reader in [&cast.owner, &cast.reporter, cast.root()] {
        let grant = access.group(reader, "alpha").await.unwrap();
        assert_eq!(identity.group(&grant).await.unwrap().id, cast.alpha.id);
    }
    let by_id = access.group(&cast.developer, &cast.alpha.id.to_string()).await.unwrap();
    assert_eq!(identity.group(&by_id).await.unwrap().id, cast.alpha.id);
    // Seeing a group, its members or a project takes a grant, refused to those outside.
    let see_group = async |caller: &Caller| access.group::<rules::SeeGroup>(caller, "alpha").await.map(|_| ());
    assert_refused!(see_group(&cast.outsider).await, ServiceError::NotFound("Group"));
    assert_refused!(see_group(&cast.other_owner).await, ServiceError::NotFound("Group"));
    assert_refused!(
        access.project::<rules::SeeProject>(&cast.outsider, "alpha/app").await,
        ServiceError::NotFound("Project")
    );
    let grant = access.project(&cast.reporter, "alpha/app").await.unwrap();
    assert_eq!(identity.project(&grant).await.unwrap().1.id, cast.alpha.id);
}

#[tokio::test]
async fn projects_are_created_by_maintainers_of_the_namespace() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, identity) = (cast.service().access(), cast.service().identity());
    let create = async |caller: &Caller, input| identity.create_project(&access.scoped(caller)?, input).await;
    let input = |path: &str| CreateProject { name: path.into(), path: path.into(), namespace_id: cast.alpha.id };
    assert_refused!(create(&cast.developer, input("p1")).await, ServiceError::Denied(_));
    assert_refused!(create(&cast.reporter, input("p1")).await, ServiceError::Denied(_));
    assert_refused!(create(&cast.other_owner, input("p1")).await, ServiceError::NotFound("Namespace"));
    assert_refused!(
        create(&cast.owner, input("app")).await,
        ServiceError::Invalid { attribute, .. } if attribute == "path"
    );
    let (project, group) = create(&cast.owner, input("p1")).await.unwrap();
    assert_eq!((project.full_path.as_str(), group.id), ("alpha/p1", cast.alpha.id));
    assert!(logged_types(&cast.world).await.contains(&types::PROJECT_CREATED.to_owned()));
}

async fn members_are_added_by_owners_once(backend: Backend) {
    let cast = Cast::new(backend).await;
    let (access, identity) = (cast.service().access(), cast.service().identity());
    let newcomer = cast.world.user("newcomer", &["api"]).await;
    let alpha = cast.alpha.id.to_string();
    let (id, dev) = (newcomer.user.id, AccessLevel::Developer.value());
    let add_members = async |caller| access.group::<rules::AddMembers>(caller, &alpha).await;
    assert_refused!(add_members(&cast.maintainer).await, ServiceError::Denied(_));
    assert_refused!(add_members(&cast.other_owner).await, ServiceError::NotFound("Group"));
    let owner = add_members(&cast.owner).await.unwrap();
    assert_refused!(identity.add_member(&owner, id, 35).await, ServiceError::BadParam(_));
    assert_refused!(identity.add_member(&owner, UserId(9999), dev).await, ServiceError::NotFound("User"));
    let added = identity.add_member(&owner, id, dev).await.unwrap();
    assert_eq!((added.user.id, added.access_level), (id, dev));
    assert_refused!(
        identity.add_member(&owner, id, dev).await,
        ServiceError::Conflict(m) if m == "Member already exists"
    );
    let as_newcomer = access.group(&newcomer, &alpha).await.unwrap();
    assert_eq!(identity.member(&as_newcomer, id).await.unwrap().access_level, dev);
    let as_owner = access.group(&cast.owner, &alpha).await.unwrap();
    assert_refused!(identity.member(&as_owner, cast.outsider.user.id).await, ServiceError::NotFound("Member"));
}

on_both_backends!(
    creating_users_is_for_admins_with_valid_unique_input,
    groups_are_created_under_maintainers_and_paths_are_unique,
    members_are_added_by_owners_once,
);
