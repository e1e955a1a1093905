//! Users, personal access tokens, groups, projects and memberships, each change audited.

use auditrelay_core::event_types as types;
use auditrelay_core::names::{validate_email, validate_name, validate_password, validate_path_segment};
use auditrelay_core::time::now_micros;
use auditrelay_core::{AccessLevel, EntityType, Scope};
use auditrelay_core::{GroupId, TokenId, UserId};
use auditrelay_store::identity::{Member, NewToken, NewUser, Token, User};
use auditrelay_store::namespaces::{Group, Project};

use super::Service;
use super::access::{Admin, GroupGrant, ProjectGrant, Scoped, SelfOrAdmin, need, rules};
use super::audit::{AdminEvent, Author};
use super::secrets::{generate_token, hash_password, token_digest};
use crate::error::{ServiceError, ServiceResult};

pub struct CreateUser {
    pub username: String,
    pub name: String,
    pub email: String,
    pub password: String,
    pub admin: bool,
}

pub struct CreateToken {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<i64>,
}

impl CreateUser {
    /// The row to store, with the password already hashed.
    fn row<'a>(&'a self, password_hash: &'a str) -> NewUser<'a> {
        NewUser { username: &self.username, name: &self.name, email: &self.email, password_hash, is_admin: self.admin }
    }
}

impl CreateToken {
    /// The row to store for `user_id`, with the token already digested.
    fn row<'a>(&'a self, user_id: UserId, digest: &'a str) -> NewToken<'a> {
        NewToken { user_id, name: &self.name, digest, scopes: &self.scopes, expires_at: self.expires_at }
    }
}

pub struct CreateGroup {
    pub name: String,
    pub path: String,
    pub parent_id: Option<GroupId>,
}

pub struct CreateProject {
    pub name: String,
    pub path: String,
    pub namespace_id: GroupId,
}

/// Users, tokens, groups, projects and memberships: `service.identity()`.
#[derive(Clone, Copy)]
pub struct Identity<'s> {
    ctx: &'s Service,
}

impl Service {
    pub fn identity(&self) -> Identity<'_> {
        Identity { ctx: self }
    }
}

fn check(attribute: &str, result: Result<(), String>) -> ServiceResult<()> {
    result.map_err(|message| ServiceError::invalid(attribute, message))
}

impl Identity<'_> {
    #[tracing::instrument(skip_all, fields(caller = admin.caller().user.id.get()))]
    pub async fn create_user(&self, admin: &Admin<'_, need::Write>, input: CreateUser) -> ServiceResult<User> {
        let caller = admin.caller();
        check("username", validate_path_segment(&input.username))?;
        check("name", validate_name(&input.name))?;
        check("email", validate_email(&input.email))?;
        check("password", validate_password(&input.password))?;
        let (username_taken, email_taken) = self.ctx.store.user_taken(&input.username, &input.email).await?;
        if email_taken {
            return Err(ServiceError::Conflict("Email has already been taken".into()));
        }
        if username_taken {
            return Err(ServiceError::Conflict("Username has already been taken".into()));
        }
        let password_hash = hash_password(&input.password)?;
        let author = Author::of(caller);
        Ok(self
            .ctx
            .change(move |tx| {
                Box::pin(async move {
                    let user = tx.create_user(&input.row(&password_hash)).await?;
                    let event =
                        author.event(user_event(types::USER_CREATED, &user, format!("Created user {}", user.username)));
                    Ok((user, vec![event]))
                })
            })
            .await?)
    }

    /// The first administrator and its token, made only while no user exists at all: the one
    /// use case without a caller, whose permission is the empty store. `None` when there is a
    /// user already (another node sharing the database bootstrapped first). `token.scopes` must
    /// be valid; `plain` is the token's text (given by the operator, or generated).
    pub async fn bootstrap_root(
        &self,
        input: &CreateUser,
        token: &CreateToken,
        plain: &str,
    ) -> ServiceResult<Option<(User, Token)>> {
        if self.ctx.store.count_users().await? > 0 {
            return Ok(None);
        }
        let password_hash = hash_password(&input.password)?;
        let user = match self.ctx.store.create_user(&input.row(&password_hash)).await {
            Ok(user) => user,
            Err(auditrelay_store::StoreError::Conflict(_)) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        let digest = token_digest(plain);
        let token = self.ctx.store.create_token(&token.row(user.id, &digest)).await?;
        Ok(Some((user, token)))
    }

    /// The caller's own account, as stored now (the caller carries no password hash, the row
    /// does; views choose what to show of it).
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get()))]
    pub async fn current_user(&self, scoped: &Scoped<'_, need::Read>) -> ServiceResult<User> {
        let caller = scoped.caller();
        self.ctx.store.user_by_id(caller.user.id).await?.ok_or(ServiceError::Unauthorized)
    }

    /// A user: oneself, or anyone for an admin (to others, not found).
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get(), id = id.get()))]
    pub async fn user(&self, scoped: &Scoped<'_, need::Read>, id: UserId) -> ServiceResult<User> {
        let caller = scoped.caller();
        let user = self.ctx.store.user_by_id(id).await?.ok_or(ServiceError::NotFound("User"))?;
        if caller.is_admin() || caller.user.id == id { Ok(user) } else { Err(ServiceError::NotFound("User")) }
    }

    /// Creates a token for a user (admin only). Returns the token and its plain text, shown once.
    #[tracing::instrument(skip_all, fields(caller = admin.caller().user.id.get(), user_id = user_id.get()))]
    pub async fn create_token(
        &self,
        admin: &Admin<'_, need::Write>,
        user_id: UserId,
        input: CreateToken,
    ) -> ServiceResult<(Token, String)> {
        let caller = admin.caller();
        let user = self.ctx.store.user_by_id(user_id).await?.ok_or(ServiceError::NotFound("User"))?;
        check("name", validate_name(&input.name))?;
        if input.scopes.is_empty() {
            return Err(ServiceError::missing("scopes"));
        }
        for scope in &input.scopes {
            scope
                .parse::<Scope>()
                .map_err(|e| ServiceError::BadParam(format!("scopes does not have a valid value: {e}")))?;
        }
        if input.expires_at.is_some_and(|at| at <= now_micros()) {
            return Err(ServiceError::invalid("expires_at", "must be in the future"));
        }
        let plain = generate_token();
        let digest = token_digest(&plain);
        let author = Author::of(caller);
        let token = self
            .ctx
            .change(move |tx| {
                Box::pin(async move {
                    let token = tx.create_token(&input.row(user.id, &digest)).await?;
                    let message =
                        format!("Created personal access token {} with scopes {}", token.name, token.scopes.join(", "));
                    let mut event = user_event(types::PERSONAL_ACCESS_TOKEN_CREATED, &user, message);
                    event.target_type = "PersonalAccessToken";
                    event.target_id = token.id.get();
                    event.target_details = &token.name;
                    let event = author.event(event);
                    Ok((token, vec![event]))
                })
            })
            .await?;
        Ok((token, plain))
    }

    /// Tokens of a user: their own, or any user's for an admin.
    #[tracing::instrument(skip_all, fields(caller = whose.caller().user.id.get(), user_id = whose.user_id().get()))]
    pub async fn tokens(&self, whose: &SelfOrAdmin<'_, need::Read>) -> ServiceResult<Vec<Token>> {
        Ok(self.ctx.store.tokens_of_user(whose.user_id()).await?)
    }

    /// Revokes a token: one's own, or any for an admin (to others, not found).
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get(), token_id = token_id.get()))]
    pub async fn revoke_token(&self, scoped: &Scoped<'_, need::Write>, token_id: TokenId) -> ServiceResult<()> {
        let caller = scoped.caller();
        let token = self.ctx.store.token_by_id(token_id).await?.ok_or(ServiceError::NotFound("Token"))?;
        if token.user_id != caller.user.id && !caller.is_admin() {
            return Err(ServiceError::NotFound("Token"));
        }
        let user = self.ctx.store.user_by_id(token.user_id).await?.ok_or(ServiceError::NotFound("User"))?;
        let author = Author::of(caller);
        let revoking = self
            .ctx
            .change(move |tx| {
                Box::pin(async move {
                    if !tx.revoke_token(token.id).await? {
                        return Ok((false, Vec::new()));
                    }
                    let mut event = user_event(
                        types::PERSONAL_ACCESS_TOKEN_REVOKED,
                        &user,
                        format!("Revoked personal access token {}", token.name),
                    );
                    event.target_type = "PersonalAccessToken";
                    event.target_id = token.id.get();
                    event.target_details = &token.name;
                    Ok((true, vec![author.event(event)]))
                })
            })
            .await;
        // Whatever the outcome (a failure may come after the commit), no request is answered
        // from a remembered authentication of the token from now on.
        self.ctx.tokens.clear();
        let revoked = revoking?;
        if !revoked {
            return Err(ServiceError::BadParam("Token already revoked".into()));
        }
        Ok(())
    }

    /// Creates a group; the creator becomes its Owner. Subgroups need Maintainer on the parent.
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get()))]
    pub async fn create_group(&self, scoped: &Scoped<'_, need::Write>, input: CreateGroup) -> ServiceResult<Group> {
        let caller = scoped.caller();
        check("name", validate_name(&input.name))?;
        check("path", validate_path_segment(&input.path))?;
        let parent = match input.parent_id {
            None => None,
            Some(id) => {
                let grant = self.ctx.access().group::<rules::CreateSubgroup>(caller, &id.to_string()).await?;
                let parent = grant.group().clone();
                if parent.full_path.split('/').count() >= auditrelay_core::names::MAX_NAMESPACE_DEPTH {
                    return Err(ServiceError::invalid("parent_id", "has too deep a level of nesting"));
                }
                Some(parent)
            }
        };
        let author = Author::of(caller);
        self.ctx
            .change(move |tx| {
                Box::pin(async move {
                    let group = tx.create_group(&input.name, &input.path, parent.as_ref()).await?;
                    tx.add_member(group.id, UserId(author.id), AccessLevel::Owner.value()).await?;
                    let event = author.event(group_event(
                        types::GROUP_CREATED,
                        &group,
                        "Group",
                        group.id.get(),
                        &group.full_path,
                        format!("Created group {}", group.full_path),
                    ));
                    Ok((group, vec![event]))
                })
            })
            .await
            .map_err(path_taken)
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), target = grant.group().id.get()))]
    pub async fn group(&self, grant: &GroupGrant<'_, rules::SeeGroup>) -> ServiceResult<Group> {
        Ok(grant.group().clone())
    }

    /// Groups the caller can see: all for an admin, else those under their memberships.
    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get()))]
    pub async fn groups(&self, scoped: &Scoped<'_, need::Read>, offset: i64, limit: i64) -> ServiceResult<Vec<Group>> {
        let all = self.ctx.directory().list_groups(scoped, &super::directory::GroupFilter::default(), None).await?;
        Ok(all.into_iter().skip(offset as usize).take(limit as usize).map(|g| g.group).collect())
    }

    #[tracing::instrument(skip_all, fields(caller = scoped.caller().user.id.get()))]
    pub async fn create_project(
        &self,
        scoped: &Scoped<'_, need::Write>,
        input: CreateProject,
    ) -> ServiceResult<(Project, Group)> {
        let caller = scoped.caller();
        check("name", validate_name(&input.name))?;
        check("path", validate_path_segment(&input.path))?;
        let grant = self.ctx.access().group::<rules::CreateProject>(caller, &input.namespace_id.to_string()).await?;
        let namespace = grant.group().clone();
        let author = Author::of(caller);
        self.ctx
            .change(move |tx| {
                Box::pin(async move {
                    let project = tx.create_project(&input.name, &input.path, &namespace).await?;
                    let mut event = group_event(
                        types::PROJECT_CREATED,
                        &namespace,
                        "Project",
                        project.id.get(),
                        &project.full_path,
                        format!("Created project {}", project.full_path),
                    );
                    event.entity_type = EntityType::Project;
                    event.entity_id = project.id.get();
                    event.entity_path = &project.full_path;
                    event.project_id = Some(project.id.get());
                    let event = author.event(event);
                    Ok(((project, namespace), vec![event]))
                })
            })
            .await
            .map_err(path_taken)
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), target = grant.project().id.get()))]
    pub async fn project(&self, grant: &ProjectGrant<'_, rules::SeeProject>) -> ServiceResult<(Project, Group)> {
        let project = grant.project();
        let namespace =
            self.ctx.store.group_by_id(project.namespace_id).await?.ok_or(ServiceError::NotFound("Project"))?;
        Ok((project.clone(), namespace))
    }

    /// Adds a member to a group. Needs Owner on the group (or admin).
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), group = grant.group().id.get(), user_id = user_id.get()))]
    pub async fn add_member(
        &self,
        grant: &GroupGrant<'_, rules::AddMembers>,
        user_id: UserId,
        access_level: i64,
    ) -> ServiceResult<Member> {
        let (caller, group) = (grant.caller(), grant.group());
        let level = AccessLevel::from_value(access_level)
            .ok_or_else(|| ServiceError::BadParam("access_level does not have a valid value".into()))?;
        let user = self.ctx.store.user_by_id(user_id).await?.ok_or(ServiceError::NotFound("User"))?;
        let author = Author::of(caller);
        let event_group = group.clone();
        self.ctx
            .change(move |tx| {
                Box::pin(async move {
                    tx.add_member(event_group.id, user.id, level.value()).await?;
                    let message = format!("Added {} as {:?}", user.username, level);
                    let event = group_event(
                        types::MEMBER_CREATED,
                        &event_group,
                        "User",
                        user.id.get(),
                        &user.username,
                        message,
                    );
                    Ok(((), vec![author.event(event)]))
                })
            })
            .await
            .map_err(|e| match e {
                auditrelay_store::StoreError::Conflict(_) => ServiceError::Conflict("Member already exists".into()),
                other => other.into(),
            })?;
        let seen = self.ctx.access().group::<rules::SeeGroup>(caller, &group.id.to_string()).await?;
        self.member(&seen, user.id).await
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), group = grant.group().id.get()))]
    pub async fn members(&self, grant: &GroupGrant<'_, rules::SeeGroup>) -> ServiceResult<Vec<Member>> {
        Ok(self.ctx.store.members_of_group(grant.group().id).await?)
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), group = grant.group().id.get(), user_id = user_id.get()))]
    pub async fn member(&self, grant: &GroupGrant<'_, rules::SeeGroup>, user_id: UserId) -> ServiceResult<Member> {
        self.members(grant).await?.into_iter().find(|m| m.user.id == user_id).ok_or(ServiceError::NotFound("Member"))
    }
}

fn user_event<'a>(event_type: &'a str, user: &'a User, message: String) -> AdminEvent<'a> {
    AdminEvent::for_user(event_type, user, ("User", user.id.get(), &user.username), message)
}

fn group_event<'a>(
    event_type: &'a str,
    group: &'a Group,
    target_type: &'a str,
    target_id: i64,
    target_details: &'a str,
    message: String,
) -> AdminEvent<'a> {
    AdminEvent::for_group(event_type, group, (target_type, target_id, target_details), message)
}

/// A path conflict, in GitLab's words.
fn path_taken(error: auditrelay_store::StoreError) -> ServiceError {
    match error {
        auditrelay_store::StoreError::Conflict(_) => ServiceError::invalid("path", "has already been taken"),
        other => other.into(),
    }
}
