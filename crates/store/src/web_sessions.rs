//! Web UI sessions: a digest of the cookie value, its user, its CSRF token and its expiry.

use auditrelay_core::time::{Micros, now_micros};
use sqlx::Row;

use auditrelay_core::UserId;

use crate::id_columns::id;
use crate::{Result, Store};

#[derive(Debug, Clone, PartialEq)]
pub struct WebSession {
    pub id: i64,
    pub user_id: UserId,
    pub csrf_token: String,
    pub expires_at: Micros,
}

impl Store {
    pub async fn create_web_session(
        &self,
        token_digest: &str,
        user_id: UserId,
        csrf_token: &str,
        expires_at: Micros,
    ) -> Result<()> {
        let now = now_micros();
        // Expired sessions are dropped as new ones are made, so the table stays small.
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1").bind(now).execute(&self.write).await?;
        sqlx::query(
            "INSERT INTO web_sessions (token_digest, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_digest)
        .bind(user_id.get())
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The unexpired session with this cookie digest.
    pub async fn web_session(&self, token_digest: &str) -> Result<Option<WebSession>> {
        let row = sqlx::query(
            "SELECT id, user_id, csrf_token, expires_at FROM web_sessions WHERE token_digest = $1 AND expires_at > $2",
        )
        .bind(token_digest)
        .bind(now_micros())
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(WebSession {
            id: row.try_get("id")?,
            user_id: id(&row, "user_id")?,
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    pub async fn delete_web_session(&self, token_digest: &str) -> Result<()> {
        sqlx::query("DELETE FROM web_sessions WHERE token_digest = $1").bind(token_digest).execute(&self.write).await?;
        Ok(())
    }
}
