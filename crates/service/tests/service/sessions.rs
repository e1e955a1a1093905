//! Web sessions: sign-in by password, the session a cookie opens, sign-out, and the lock after
//! too many failures.

use auditrelay_core::Scope;
use auditrelay_service::ServiceError;
use auditrelay_service::sessions::{SIGN_IN_FAILURE_LIMIT, csrf_matches};

use crate::{Backend, PASSWORD, World, assert_refused, on_both_backends};

async fn a_session_opens_with_the_password_and_closes_on_sign_out(backend: Backend) {
    let world = World::new(backend).await;
    let service = world.service.sessions();
    let alice = world.user("alice", &["read_api"]).await;
    assert_refused!(service.sign_in("alice", "wrong-password", None).await, ServiceError::Unauthorized);
    assert_refused!(service.sign_in("nobody", PASSWORD, None).await, ServiceError::Unauthorized);
    assert_refused!(service.sign_in(&"a".repeat(256), PASSWORD, None).await, ServiceError::Unauthorized);
    let (cookie, caller) = service.sign_in(" alice ", PASSWORD, None).await.unwrap();
    assert_eq!(caller.user.id, alice.user.id);
    // A browser session acts with the `api` scope, whatever the user's tokens carry.
    assert_eq!((caller.scopes.as_slice(), caller.token_id), ([Scope::Api].as_slice(), None));
    let session = service.web_session(&cookie, None).await.unwrap();
    assert_eq!(session.caller.user.id, alice.user.id);
    assert!(csrf_matches(&session.csrf_token, &session.csrf_token.clone()));
    let scoped = world.service.access().scoped(&session.caller).unwrap();
    assert_refused!(world.service.directory().own_token(&scoped).await, ServiceError::BadParam(_));
    assert_refused!(service.web_session("not-a-cookie", None).await, ServiceError::Unauthorized);
    assert_refused!(service.web_session("", None).await, ServiceError::Unauthorized);
    service.sign_out(&cookie).await.unwrap();
    assert_refused!(service.web_session(&cookie, None).await, ServiceError::Unauthorized);
}

#[tokio::test]
async fn too_many_failures_lock_the_username_even_for_the_right_password() {
    let world = World::new(Backend::Sqlite).await;
    let service = world.service.sessions();
    world.user("alice", &["api"]).await;
    for _ in 0..SIGN_IN_FAILURE_LIMIT {
        assert_refused!(service.sign_in("alice", "wrong-password", None).await, ServiceError::Unauthorized);
    }
    assert_refused!(service.sign_in("Alice", PASSWORD, None).await, ServiceError::TooManyRequests(_));
    assert!(service.sign_in("root", PASSWORD, None).await.is_ok(), "other usernames are not locked");
}

on_both_backends!(a_session_opens_with_the_password_and_closes_on_sign_out);
