//! Users, personal access tokens (stored as digests) and group memberships.

use auditrelay_core::states::UserState;
use auditrelay_core::time::{Micros, now_micros};
use sqlx::Row;
use sqlx::any::AnyRow;

use auditrelay_core::{GroupId, TokenId, UserId};

use crate::error::conflict_as;
use crate::id_columns::id;
use crate::{Result, Store, Tx};

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub name: String,
    pub email: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub state: UserState,
    pub created_at: Micros,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<Micros>,
    pub revoked: bool,
    pub created_at: Micros,
    pub last_used_at: Option<Micros>,
}

pub struct NewToken<'a> {
    pub user_id: UserId,
    pub name: &'a str,
    pub digest: &'a str,
    pub scopes: &'a [String],
    pub expires_at: Option<Micros>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub group_id: GroupId,
    pub user: User,
    pub access_level: i64,
    pub created_at: Micros,
}

const USER_COLUMNS: &str = "id, username, name, email, password_hash, is_admin, state, created_at";
const TOKEN_COLUMNS: &str = "id, user_id, name, scopes, expires_at, revoked, created_at, last_used_at";

fn user(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: id(row, "id")?,
        username: row.try_get("username")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        is_admin: row.try_get::<i64, _>("is_admin")? != 0,
        state: {
            let text: String = row.try_get("state")?;
            UserState::parse(&text).ok_or_else(|| {
                sqlx::Error::Decode(format!("user state '{text}' is not one this version knows").into())
            })?
        },
        created_at: row.try_get("created_at")?,
    })
}

fn token(row: &AnyRow) -> Result<Token> {
    let scopes: String = row.try_get("scopes")?;
    Ok(Token {
        id: id(row, "id")?,
        user_id: id(row, "user_id")?,
        name: row.try_get("name")?,
        scopes: scopes.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        expires_at: row.try_get("expires_at")?,
        revoked: row.try_get::<i64, _>("revoked")? != 0,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

impl Store {
    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.read).await?)
    }

    /// Creates a user outside a unit of work (the bootstrap's `root`).
    pub async fn create_user(&self, new: &NewUser<'_>) -> Result<User> {
        insert_user(&mut *self.write.acquire().await?, new).await
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        sqlx::query(&sql).bind(id.get()).fetch_optional(&self.read).await?.as_ref().map(user).transpose()
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        sqlx::query(&sql).bind(username).fetch_optional(&self.read).await?.as_ref().map(user).transpose()
    }

    pub async fn user_taken(&self, username: &str, email: &str) -> Result<(bool, bool)> {
        let username_taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(&self.read)
            .await?;
        let email_taken: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = $1").bind(email).fetch_one(&self.read).await?;
        Ok((username_taken > 0, email_taken > 0))
    }

    pub async fn list_users(&self, offset: i64, limit: i64) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id LIMIT {limit} OFFSET {offset}");
        sqlx::query(&sql).fetch_all(&self.read).await?.iter().map(user).collect()
    }

    /// Stores a token outside a unit of work (the bootstrap's `root` token).
    pub async fn create_token(&self, new: &NewToken<'_>) -> Result<Token> {
        insert_token(&mut *self.write.acquire().await?, new).await
    }

    /// The token with this digest and its user, whatever its state (the caller checks it).
    pub async fn token_by_digest(&self, digest: &str) -> Result<Option<(Token, User, String)>> {
        let sql = format!("SELECT {TOKEN_COLUMNS}, token_digest FROM personal_access_tokens WHERE token_digest = $1");
        let Some(row) = sqlx::query(&sql).bind(digest).fetch_optional(&self.read).await? else {
            return Ok(None);
        };
        let found = token(&row)?;
        let stored_digest: String = row.try_get("token_digest")?;
        let Some(owner) = self.user_by_id(found.user_id).await? else { return Ok(None) };
        Ok(Some((found, owner, stored_digest)))
    }

    pub async fn token_by_id(&self, id: TokenId) -> Result<Option<Token>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM personal_access_tokens WHERE id = $1");
        sqlx::query(&sql).bind(id.get()).fetch_optional(&self.read).await?.as_ref().map(token).transpose()
    }

    pub async fn tokens_of_user(&self, user_id: UserId) -> Result<Vec<Token>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM personal_access_tokens WHERE user_id = $1 ORDER BY id");
        sqlx::query(&sql).bind(user_id.get()).fetch_all(&self.read).await?.iter().map(token).collect()
    }

    pub async fn touch_token(&self, id: TokenId, at: Micros) -> Result<()> {
        sqlx::query("UPDATE personal_access_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id.get())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn members_of_group(&self, group_id: GroupId) -> Result<Vec<Member>> {
        let sql = format!(
            "SELECT m.group_id, m.access_level, m.created_at AS member_since, u.{} FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.group_id = $1 ORDER BY u.id",
            USER_COLUMNS.replace(", ", ", u.")
        );
        let rows = sqlx::query(&sql).bind(group_id.get()).fetch_all(&self.read).await?;
        rows.iter()
            .map(|row| {
                Ok(Member {
                    group_id: id(row, "group_id")?,
                    access_level: row.try_get("access_level")?,
                    created_at: row.try_get("member_since")?,
                    user: user(row)?,
                })
            })
            .collect()
    }

    /// The user's access level in each of `group_ids` where they are a direct member.
    pub async fn memberships_of_user(&self, user_id: UserId) -> Result<Vec<(GroupId, i64)>> {
        let rows = sqlx::query("SELECT group_id, access_level FROM members WHERE user_id = $1")
            .bind(user_id.get())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| Ok((GroupId(r.try_get(0)?), r.try_get(1)?))).collect()
    }
}

/// Identity changes inside a unit of work.
impl Tx {
    pub async fn create_user(&mut self, new: &NewUser<'_>) -> Result<User> {
        insert_user(self.conn(), new).await
    }

    pub async fn create_token(&mut self, new: &NewToken<'_>) -> Result<Token> {
        insert_token(self.conn(), new).await
    }

    pub async fn revoke_token(&mut self, id: TokenId) -> Result<bool> {
        let done = sqlx::query("UPDATE personal_access_tokens SET revoked = 1 WHERE id = $1 AND revoked = 0")
            .bind(id.get())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn add_member(&mut self, group_id: GroupId, user_id: UserId, access_level: i64) -> Result<()> {
        sqlx::query("INSERT INTO members (group_id, user_id, access_level, created_at) VALUES ($1, $2, $3, $4)")
            .bind(group_id.get())
            .bind(user_id.get())
            .bind(access_level)
            .bind(now_micros())
            .execute(self.conn())
            .await
            .map_err(conflict_as("Member"))?;
        Ok(())
    }
}

async fn insert_user(conn: &mut sqlx::AnyConnection, new: &NewUser<'_>) -> Result<User> {
    let sql = format!(
        "INSERT INTO users (username, name, email, password_hash, is_admin, state, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {USER_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(new.username)
        .bind(new.name)
        .bind(new.email)
        .bind(new.password_hash)
        .bind(i64::from(new.is_admin))
        .bind(UserState::Active.as_str())
        .bind(now_micros())
        .fetch_one(&mut *conn)
        .await
        .map_err(conflict_as("Username or email"))?;
    user(&row)
}

async fn insert_token(conn: &mut sqlx::AnyConnection, new: &NewToken<'_>) -> Result<Token> {
    let sql = format!(
        "INSERT INTO personal_access_tokens (user_id, name, token_digest, scopes, expires_at, revoked, created_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING {TOKEN_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(new.user_id.get())
        .bind(new.name)
        .bind(new.digest)
        .bind(new.scopes.join(","))
        .bind(new.expires_at)
        .bind(now_micros())
        .fetch_one(&mut *conn)
        .await
        .map_err(conflict_as("Token"))?;
    token(&row)
}
