//! Who is calling: token authentication and the caller's identity for audit records.

use auditrelay_core::Scope;
use auditrelay_core::states::UserState;
use auditrelay_core::time::{Micros, now_micros};
use auditrelay_core::{TokenId, UserId};
use auditrelay_store::identity::User;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::Service;
use super::secrets::{digests_equal, token_digest};
use super::token_cache::{Authenticated, TTL};
use crate::error::{ServiceError, ServiceResult};

/// Refresh a token's `last_used_at` at most this often, like GitLab, to spare writes.
const LAST_USED_RESOLUTION_MICROS: i64 = 10 * 60 * 1_000_000;

/// The account of a caller: the user row without its password hash. A caller is handed to
/// every use case, kept with web sessions and may be logged; the hash stays in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: UserId,
    pub username: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub state: UserState,
    pub created_at: Micros,
}

impl From<User> for Account {
    fn from(user: User) -> Account {
        let User { id, username, name, email, password_hash: _, is_admin, state, created_at } = user;
        Account { id, username, name, email, is_admin, state, created_at }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Account,
    pub scopes: Vec<Scope>,
    pub ip: Option<IpAddr>,
    /// The personal access token presented (none for a web session).
    pub token_id: Option<TokenId>,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.user.is_admin
    }
}

/// Token authentication: `service.auth()`, how a request gets its caller (so it takes no proof).
#[derive(Clone, Copy)]
pub struct Auth<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn auth(&self) -> Auth<'_> {
        Auth { ctx: self }
    }
}

impl Auth<'_> {
    /// Resolves a presented token to its caller. Unknown, revoked and expired tokens, and
    /// blocked users, are all answered alike: `401`. A token that authenticated recently is
    /// answered from memory (`token_cache`: revocations here clear it at once, other
    /// processes' within its TTL); its expiry is checked on every use.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, token: &str, ip: Option<IpAddr>) -> ServiceResult<Caller> {
        if token.is_empty() || token.len() > 256 {
            return Err(ServiceError::Unauthorized);
        }
        let digest = token_digest(token);
        let now = now_micros();
        let found = match self.ctx.tokens.get(&digest, Instant::now()) {
            Some(found) => found,
            None => self.authenticate_in_store(digest, now).await?,
        };
        if found.expires_at.is_some_and(|at| at <= now) {
            return Err(ServiceError::Unauthorized);
        }
        Ok(Caller { user: found.user.into(), scopes: found.scopes, ip, token_id: Some(found.token_id) })
    }

    /// The store's answer for a token digest, remembered when it authenticates.
    async fn authenticate_in_store(&self, digest: String, now: Micros) -> ServiceResult<Authenticated> {
        // Taken before reading: a revocation committed meanwhile keeps this answer out.
        let generation = self.ctx.tokens.generation();
        let Some((found, user, stored_digest)) = self.ctx.store.token_by_digest(&digest).await? else {
            return Err(ServiceError::Unauthorized);
        };
        let expired = found.expires_at.is_some_and(|at| at <= now);
        if !digests_equal(&digest, &stored_digest) || found.revoked || expired || user.state != UserState::Active {
            return Err(ServiceError::Unauthorized);
        }
        if found.last_used_at.is_none_or(|at| now - at > LAST_USED_RESOLUTION_MICROS) {
            let store = self.ctx.store.clone();
            tokio::spawn(async move {
                if let Err(error) = store.touch_token(found.id, now).await {
                    tracing::warn!(%error, "could not record token use");
                }
            });
        }
        let remaining = found.expires_at.map_or(TTL, |at| Duration::from_micros((at - now).max(0) as u64));
        let authenticated = Authenticated {
            token_id: found.id,
            expires_at: found.expires_at,
            scopes: found.scopes.iter().filter_map(|s| s.parse().ok()).collect(),
            user,
        };
        self.ctx.tokens.put(generation, digest, authenticated.clone(), Instant::now(), remaining);
        Ok(authenticated)
    }
}
