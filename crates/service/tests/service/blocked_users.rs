//! Blocked users. No use case blocks a user (GitLab's `POST /users/:id/block` is not offered);
//! a user's state is the store's, so these tests block one there. A blocked user's tokens and
//! sessions no longer authenticate; admins still see and filter them and revoke their tokens.

use auditrelay_core::UserId;
use auditrelay_core::states::UserState;
use auditrelay_service::directory::UserFilter;
use auditrelay_service::identity::CreateToken;
use auditrelay_service::{Caller, ServiceError};
use std::time::Duration;

use crate::{Backend, PASSWORD, World, assert_refused};

/// Sets the user's stored state to `blocked`, as an operator with the database would.
async fn block(world: &World, user_id: i64) {
    let url = format!("sqlite://{}", world.data_dir().join("auditrelay.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("open the store's database");
    sqlx::query("PRAGMA busy_timeout = 30000").execute(&pool).await.unwrap();
    sqlx::query("UPDATE users SET state = 'blocked' WHERE id = ?").bind(user_id).execute(&pool).await.unwrap();
    pool.close().await;
}

/// A fresh token of the user, never presented yet (so no cache holds its answer).
async fn new_token(world: &World, user: &Caller) -> String {
    let input = CreateToken { name: "fresh".into(), scopes: vec!["api".into()], expires_at: None };
    let admin = world.service.access().admin(&world.root).unwrap();
    world.service.identity().create_token(&admin, user.user.id, input).await.unwrap().1
}

#[tokio::test]
async fn a_blocked_users_token_no_longer_authenticates() {
    let world = World::new(Backend::Sqlite).await;
    let alice = world.user("alice", &["api"]).await;
    let token = new_token(&world, &alice).await;
    block(&world, alice.user.id.get()).await;
    assert_refused!(world.service.auth().authenticate(&token, None).await, ServiceError::Unauthorized);
}

#[tokio::test]
async fn a_token_that_authenticated_before_the_block_is_refused_once_its_cache_entry_lapses() {
    let world = World::new(Backend::Sqlite).await;
    let alice = world.user("alice", &["api"]).await;
    let token = new_token(&world, &alice).await;
    world.service.auth().authenticate(&token, None).await.unwrap();
    block(&world, alice.user.id.get()).await;
    // The block was made outside this process: like another node's change, it is seen when
    // the cached answer (2 s) lapses.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_refused!(world.service.auth().authenticate(&token, None).await, ServiceError::Unauthorized);
}

#[tokio::test]
async fn a_blocked_user_cannot_sign_in_and_loses_an_open_session() {
    let world = World::new(Backend::Sqlite).await;
    let alice = world.user("alice", &["api"]).await;
    let (cookie, _) = world.service.sessions().sign_in("alice", PASSWORD, None).await.unwrap();
    block(&world, alice.user.id.get()).await;
    assert_refused!(world.service.sessions().sign_in("alice", PASSWORD, None).await, ServiceError::Unauthorized);
    assert_refused!(world.service.sessions().web_session(&cookie, None).await, ServiceError::Unauthorized);
}

#[tokio::test]
async fn admins_see_blocked_users_and_filter_by_state() {
    let world = World::new(Backend::Sqlite).await;
    let alice = world.user("alice", &["api"]).await;
    let bob = world.user("bob", &["api"]).await;
    block(&world, alice.user.id.get()).await;
    let (identity, directory) = (world.service.identity(), world.service.directory());
    let root = world.service.access().scoped(&world.root).unwrap();
    assert_eq!(identity.user(&root, alice.user.id).await.unwrap().state, UserState::Blocked);
    let blocked = directory.list_users(&root, &UserFilter { blocked: true, ..UserFilter::default() }).await;
    let blocked: Vec<UserId> = blocked.unwrap().iter().map(|u| u.id).collect();
    assert_eq!(blocked, [alice.user.id]);
    let active = directory.list_users(&root, &UserFilter { active: true, ..UserFilter::default() }).await;
    let active: Vec<UserId> = active.unwrap().iter().map(|u| u.id).collect();
    assert!(active.contains(&bob.user.id) && !active.contains(&alice.user.id), "{active:?}");
}

#[tokio::test]
async fn admins_revoke_a_blocked_users_tokens() {
    let world = World::new(Backend::Sqlite).await;
    let alice = world.user("alice", &["api"]).await;
    block(&world, alice.user.id.get()).await;
    let (access, identity) = (world.service.access(), world.service.identity());
    let alices = access.self_or_admin(&world.root, Some(alice.user.id)).unwrap();
    let tokens = identity.tokens(&alices).await.unwrap();
    assert_eq!(tokens.len(), 1);
    identity.revoke_token(&access.scoped(&world.root).unwrap(), tokens[0].id).await.unwrap();
    let tokens = identity.tokens(&alices).await.unwrap();
    assert!(tokens.iter().all(|t| t.revoked), "{tokens:?}");
}
