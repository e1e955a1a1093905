//! Web UI sign-in: password check, server-side sessions (only a digest of the cookie value is
//! stored) and each session's CSRF token.

use auditrelay_core::Scope;
use auditrelay_core::states::UserState;
use auditrelay_core::time::now_micros;
use std::net::IpAddr;
use std::sync::OnceLock;

use super::secrets::{hash_password, random_string, token_digest, verify_password};
use super::{Caller, Service};
use crate::error::{ServiceError, ServiceResult};

pub use crate::limits::{SIGN_IN_ADDRESS_FAILURE_LIMIT, SIGN_IN_FAILURE_LIMIT, SIGN_IN_LOCK_MICROS};

/// How long a session lasts after sign-in.
pub const SESSION_TTL_MICROS: i64 = 12 * 3600 * 1_000_000;

/// A signed-in browser: who it is and the CSRF token its state-changing requests must carry.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub caller: Caller,
    pub csrf_token: String,
}

/// True when `given` is the session's CSRF token; compared in constant time, never empty.
pub fn csrf_matches(expected: &str, given: &str) -> bool {
    !expected.is_empty() && super::secrets::digests_equal(expected, given)
}

/// A hash to verify against when the username is unknown, so both cases take as long.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_string(24)).unwrap_or_default())
}

/// Web sign-in and sessions: `service.sessions()`. Signing in is how a browser gets a caller,
/// so these take no proof.
#[derive(Clone, Copy)]
pub struct Sessions<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { ctx: self }
    }
}

impl Sessions<'_> {
    /// Checks a username and password and opens a session. Returns the cookie value (shown
    /// once, stored only as a digest). Any failure is the same `Unauthorized`; after too many
    /// failures the username is refused for a while, whatever the password.
    #[tracing::instrument(skip_all, fields(username = %username.trim()))]
    pub async fn sign_in(&self, username: &str, password: &str, ip: Option<IpAddr>) -> ServiceResult<(String, Caller)> {
        if username.len() > 255 || password.len() > 1024 {
            return Err(ServiceError::Unauthorized);
        }
        let key = username.trim().to_lowercase();
        if self.ctx.sign_in_failures.lock().is_ok_and(|t| t.is_blocked(&key, ip, now_micros())) {
            return Err(ServiceError::TooManyRequests(
                "Too many failed sign-in attempts. Try again in 10 minutes.".into(),
            ));
        }
        let user = self.ctx.store.user_by_username(username.trim()).await?;
        let hash = user.as_ref().map_or(decoy_hash(), |u| u.password_hash.as_str());
        let valid = verify_password(password, hash);
        let Some(user) = user.filter(|u| valid && u.state == UserState::Active) else {
            if let Ok(mut failures) = self.ctx.sign_in_failures.lock() {
                failures.record_failure(&key, ip, now_micros());
            }
            return Err(ServiceError::Unauthorized);
        };
        if let Ok(mut failures) = self.ctx.sign_in_failures.lock() {
            failures.clear(&key);
        }
        let cookie = random_string(43);
        let csrf = random_string(43);
        let expires_at = now_micros() + SESSION_TTL_MICROS;
        self.ctx.store.create_web_session(&token_digest(&cookie), user.id, &csrf, expires_at).await?;
        Ok((cookie, Caller { user: user.into(), scopes: vec![Scope::Api], ip, token_id: None }))
    }

    /// The session a cookie value opens, if it is current and its user still active.
    pub async fn web_session(&self, cookie: &str, ip: Option<IpAddr>) -> ServiceResult<WebSession> {
        if cookie.is_empty() || cookie.len() > 128 {
            return Err(ServiceError::Unauthorized);
        }
        let session = self.ctx.store.web_session(&token_digest(cookie)).await?.ok_or(ServiceError::Unauthorized)?;
        let user = self.ctx.store.user_by_id(session.user_id).await?.ok_or(ServiceError::Unauthorized)?;
        if user.state != UserState::Active {
            return Err(ServiceError::Unauthorized);
        }
        Ok(WebSession {
            caller: Caller { user: user.into(), scopes: vec![Scope::Api], ip, token_id: None },
            csrf_token: session.csrf_token,
        })
    }

    pub async fn sign_out(&self, cookie: &str) -> ServiceResult<()> {
        Ok(self.ctx.store.delete_web_session(&token_digest(cookie)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_match_only_exactly() {
        assert!(csrf_matches("abc123", "abc123"));
        assert!(!csrf_matches("abc123", "abc124"));
        assert!(!csrf_matches("abc123", "abc12"));
        assert!(!csrf_matches("abc123", ""));
        assert!(!csrf_matches("", ""), "an empty expected token never matches");
    }

    #[test]
    fn session_cookies_are_stored_as_digests() {
        let cookie = random_string(43);
        let digest = token_digest(&cookie);
        assert_eq!(digest.len(), 64);
        assert!(!digest.contains(&cookie));
        assert_eq!(digest, token_digest(&cookie));
        assert_ne!(digest, token_digest(&random_string(43)));
    }
}
