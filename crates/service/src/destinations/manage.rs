//! Creating, updating and deleting destinations, with GitLab's rules and messages.

use auditrelay_core::DestinationId;
use auditrelay_core::destination::config::DestinationConfig;
use auditrelay_core::destination::url_guard::check_destination_url;
use auditrelay_core::destination::{self as rules_root, Category, MAX_ACTIVE_DESTINATIONS, rules};
use auditrelay_store::destinations::{DestinationChanges, NewDestination};
use base64::Engine;

use super::audit_names::{Change, destination_event, target_type};
use super::{Api, Destination, Destinations, Owner, destination_audit, invalid};
use crate::access::{DestinationGrant, OwnerGrant, need};
use crate::audit::Author;
use crate::error::{ServiceError, ServiceResult};

pub struct CreateDestination {
    pub config: DestinationConfig,
    pub name: Option<String>,
    /// HTTP verification token (generated when absent), GCP private key or AWS secret key.
    pub secret: Option<String>,
    /// Strict arrival order (an auditrelay extension; GitLab promises no order).
    pub strict_order: bool,
}

/// Changes to a destination; `None` keeps a value. `config` replaces the whole config.
#[derive(Default)]
pub struct DestinationUpdate {
    pub config: Option<DestinationConfig>,
    pub name: Option<String>,
    pub secret: Option<String>,
    pub active: Option<bool>,
    pub strict_order: Option<bool>,
}

/// GitLab's generated token: `SecureRandom.base64(18)`, 24 characters.
fn generate_token() -> String {
    let bytes: [u8; 18] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A version-4 UUID name, as GitLab's `"Destination_#{SecureRandom.uuid}"`.
fn default_name() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!("Destination_{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

impl Destinations<'_> {
    /// Every destination of an owner the caller manages.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), group = ?grant.owner().group_id().map(|g| g.get())))]
    pub async fn destinations_of(&self, grant: &OwnerGrant<'_, need::Read>) -> ServiceResult<Vec<Destination>> {
        let owner = grant.owner();
        let mut out = Vec::new();
        for row in self.ctx.store.destinations_of(owner.group_id()).await? {
            out.push(self.ctx.load_destination(row, owner.clone()).await?);
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), group = ?grant.owner().group_id().map(|g| g.get())))]
    pub async fn create_destination(
        &self,
        grant: &OwnerGrant<'_, need::Write>,
        api: Api,
        input: CreateDestination,
    ) -> ServiceResult<Destination> {
        let (caller, owner) = (grant.caller(), grant.owner());
        if let Owner::Group(group) = owner
            && group.parent_id.is_some()
        {
            return Err(invalid(match api {
                Api::Legacy => "Group must not be a subgroup",
                Api::Consolidated => "Group must not be a subgroup. Use a top-level group.",
            }));
        }
        let category = input.config.category();
        let name = input.name.unwrap_or_else(default_name);
        let strict_order = input.strict_order;
        rules::name(&name).map_err(invalid)?;
        let secret = self.checked_secret(api, category, input.secret)?;
        self.check_url(api, &input.config).await?;

        let all = self.ctx.store.destinations_of(owner.group_id()).await?;
        self.ctx.check_newer_limits(caller, owner, Some(all.len())).await?;
        let siblings: Vec<_> = all.iter().filter(|d| d.category == category.as_str()).cloned().collect();
        if siblings.iter().any(|d| d.name == name) {
            return Err(invalid("Name has already been taken"));
        }
        self.check_config_unique(api, &input.config, None, &siblings)?;
        if active_count(api, category, &all, None) >= MAX_ACTIVE_DESTINATIONS {
            return Err(invalid(rules_root::limit_exceeded_message(limit_category(api, category))));
        }

        let headers: Vec<(String, String, bool)> = match &input.config {
            DestinationConfig::Http { headers, .. } => {
                headers.iter().map(|h| (h.key.clone(), h.value.clone(), h.active)).collect()
            }
            _ => Vec::new(),
        };
        let config = stored_config(&input.config);
        let sealed = self.ctx.secrets.seal(&secret);
        let author = Author::of(caller);
        let event_owner = owner.clone();
        let row = self
            .ctx
            .change_destinations(move |tx| {
                Box::pin(async move {
                    let owner = &event_owner;
                    let new = NewDestination {
                        group_id: owner.group_id(),
                        category: category.as_str(),
                        name: &name,
                        config: &config,
                        secret: &sealed,
                        active: true,
                        strict_order,
                    };
                    let row = tx.create_destination(&new, &headers).await?;
                    // A new destination streams from the event of its creation on; earlier
                    // events are a replay away.
                    tx.init_cursor(row.id).await?;
                    tx.record_route_version(row.id).await?;
                    let event = destination_event(api, owner, category, Change::Created);
                    let target = (target_type(api, owner, category), row.id.get(), row.name.as_str());
                    let message = format!("Create audit event streaming destination {}", row.name);
                    let audit = destination_audit(&author, owner, event, target, message);
                    Ok((row, vec![audit]))
                })
            })
            .await
            .map_err(name_taken)?;
        self.ctx.load_destination(row, owner.clone()).await
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn update_destination(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        api: Api,
        update: DestinationUpdate,
    ) -> ServiceResult<Destination> {
        let (caller, destination) = (grant.caller(), grant.destination());
        let owner = &destination.owner;
        self.ctx.check_newer_limits(caller, owner, None).await?;
        let config = update.config.unwrap_or_else(|| destination.config.clone());
        let category = config.category();
        let category_changed = category != destination.category;
        if let Some(name) = &update.name {
            rules::name(name).map_err(invalid)?;
        }
        let secret = match (&update.secret, category_changed) {
            (Some(_), _) | (None, true) => Some(self.checked_secret(api, category, update.secret.clone())?),
            (None, false) => None,
        };
        self.check_url(api, &config).await?;

        let all = self.ctx.store.destinations_of(owner.group_id()).await?;
        let siblings: Vec<_> =
            all.iter().filter(|d| d.category == category.as_str() && d.id != destination.id).cloned().collect();
        let name = update.name.clone().unwrap_or_else(|| destination.name.clone());
        if siblings.iter().any(|d| d.name == name) {
            return Err(invalid("Name has already been taken"));
        }
        self.check_config_unique(api, &config, Some(destination.id), &siblings)?;
        let activating = update.active == Some(true) && (!destination.active || category_changed);
        let stays_active = update.active.unwrap_or(destination.active);
        let would_exceed = active_count(api, category, &all, Some(destination.id)) >= MAX_ACTIVE_DESTINATIONS;
        if (activating || (category_changed && stays_active && api == Api::Legacy)) && would_exceed {
            return Err(invalid(rules_root::activation_limit_message(limit_category(api, category))));
        }

        let mut changed: Vec<&'static str> = Vec::new();
        let new_config = stored_config(&config);
        if config != destination.config {
            changed.push("config");
        }
        if name != destination.name {
            changed.push("name");
        }
        if category_changed {
            changed.push("category");
        }
        if secret.as_ref().is_some_and(|s| *s != destination.secret) {
            changed.push("secret_token");
        }
        if update.active.is_some_and(|a| a != destination.active) {
            changed.push("active");
        }
        if update.strict_order.is_some_and(|s| s != destination.strict_order) {
            changed.push("strict_order");
        }
        let changes = DestinationChanges {
            category: category_changed.then(|| category.as_str().to_owned()),
            name: Some(name),
            config: Some(new_config),
            secret: secret.map(|s| self.ctx.secrets.seal(&s)),
            active: update.active,
            strict_order: update.strict_order,
        };
        let headers: Option<Vec<(String, String, bool)>> = match &config {
            DestinationConfig::Http { headers, .. } => {
                Some(headers.iter().map(|h| (h.key.clone(), h.value.clone(), h.active)).collect())
            }
            _ => None,
        };
        let author = Author::of(caller);
        let event_owner = owner.clone();
        let id = destination.id;
        self.ctx
            .change_destinations(move |tx| {
                Box::pin(async move {
                    let owner = &event_owner;
                    tx.update_destination(id, &changes).await?;
                    if let Some(rows) = &headers {
                        tx.replace_headers(id, rows).await?;
                    }
                    tx.record_route_version(id).await?;
                    let event = destination_event(api, owner, category, Change::Updated);
                    let name = changes.name.as_deref().unwrap_or_default();
                    let audits = changed
                        .into_iter()
                        .map(|column| {
                            let target = (target_type(api, owner, category), id.get(), name);
                            let message = format!("Changed {column} of audit event streaming destination {name}");
                            destination_audit(&author, owner, event, target, message)
                        })
                        .collect();
                    Ok(((), audits))
                })
            })
            .await
            .map_err(name_taken)?;
        let row = self.ctx.store.destination(destination.id).await?.ok_or(ServiceError::NotFound("Destination"))?;
        self.ctx.load_destination(row, owner.clone()).await
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn delete_destination(&self, grant: &DestinationGrant<'_, need::Write>, api: Api) -> ServiceResult<()> {
        let (caller, destination) = (grant.caller(), grant.destination());
        let author = Author::of(caller);
        let (owner, id, category, name) =
            (destination.owner.clone(), destination.id, destination.category, destination.name.clone());
        self.ctx
            .change_destinations(move |tx| {
                Box::pin(async move {
                    tx.delete_destination(id).await?;
                    let event = destination_event(api, &owner, category, Change::Deleted);
                    let target = (target_type(api, &owner, category), id.get(), name.as_str());
                    let message = format!("Destroy audit event streaming destination {name}");
                    Ok(((), vec![destination_audit(&author, &owner, event, target, message)]))
                })
            })
            .await?;
        Ok(())
    }

    /// The secret to store: a checked HTTP token (generated when absent), or a required key.
    fn checked_secret(&self, api: Api, category: Category, given: Option<String>) -> ServiceResult<String> {
        match (category, given) {
            (Category::Http, None) => Ok(generate_token()),
            (Category::Http, Some(token)) => {
                match api {
                    Api::Legacy => rules::verification_token(&token),
                    Api::Consolidated => rules::http_secret_token(&token),
                }
                .map_err(invalid)?;
                Ok(token)
            }
            (_, None) if api == Api::Consolidated => Err(invalid("Secret token is required for category")),
            (category, secret) => {
                let attribute = match (api, category) {
                    (Api::Consolidated, _) => "Secret token",
                    (_, Category::Gcp) => "Private key",
                    _ => "Secret access key",
                };
                let secret = secret.unwrap_or_default();
                rules::secret(attribute, &secret).map_err(invalid)?;
                Ok(secret)
            }
        }
    }

    /// The SSRF guard at creation: literal local addresses and localhost names are refused
    /// unless the admin allows local requests.
    async fn check_url(&self, api: Api, config: &DestinationConfig) -> ServiceResult<()> {
        let DestinationConfig::Http { url, .. } = config else { return Ok(()) };
        let allow_local = self.ctx.application_settings().await?.allow_local_requests_from_web_hooks_and_services;
        check_destination_url(url, allow_local).map(|_| ()).map_err(|complaint| {
            invalid(match api {
                Api::Legacy => format!("Destination url {complaint}"),
                Api::Consolidated => format!("Config url {complaint}"),
            })
        })
    }

    fn check_config_unique(
        &self,
        api: Api,
        config: &DestinationConfig,
        except: Option<DestinationId>,
        siblings: &[auditrelay_store::destinations::DestinationRow],
    ) -> ServiceResult<()> {
        let (key, consolidated_message) = config.uniqueness();
        for sibling in siblings.iter().filter(|d| Some(d.id) != except) {
            let Some(existing) = serde_json::from_str(&sibling.config)
                .ok()
                .and_then(|v| auditrelay_core::destination::config::parse_config(config.category(), &v).ok())
            else {
                continue;
            };
            if existing.uniqueness().0 == key {
                return Err(invalid(match (api, config.category()) {
                    (Api::Consolidated, _) => consolidated_message,
                    (Api::Legacy, Category::Http) => "Destination url has already been taken",
                    (Api::Legacy, Category::Gcp) => "Google project id name has already been taken",
                    (Api::Legacy, Category::Aws) => "Bucket name has already been taken",
                }));
            }
        }
        Ok(())
    }
}

/// Active destinations that count against the limit: GitLab's consolidated model counts every
/// category together; the legacy GCP and S3 models have limits of their own.
fn active_count(
    api: Api,
    category: Category,
    all: &[auditrelay_store::destinations::DestinationRow],
    except: Option<DestinationId>,
) -> usize {
    all.iter()
        .filter(|d| d.active && Some(d.id) != except)
        .filter(|d| api == Api::Consolidated || d.category == category.as_str())
        .count()
}

/// Whose wording the limit message uses.
fn limit_category(api: Api, category: Category) -> Category {
    if api == Api::Consolidated { Category::Http } else { category }
}

/// The stored config JSON: the consolidated form without headers (they are rows of their own).
fn stored_config(config: &DestinationConfig) -> String {
    let mut json = config.to_json();
    if let Some(object) = json.as_object_mut() {
        object.remove("headers");
    }
    json.to_string()
}

fn name_taken(error: auditrelay_store::StoreError) -> ServiceError {
    match error {
        auditrelay_store::StoreError::Conflict(_) => invalid("Name has already been taken"),
        other => other.into(),
    }
}
