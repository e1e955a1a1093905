//! Standard Webhooks signing of HTTP destinations: enable (a new `whsec_` secret, shown once),
//! rotate (a second secret signs beside the old one), remove the old secret, disable. Secrets
//! are sealed at rest by the secret box; every change is one unit of work with its audit event,
//! under the same authorization as updating the destination.

use auditrelay_core::DestinationId;
use auditrelay_core::destination::Category;
use auditrelay_core::stream_proof::WebhookSecret;
use auditrelay_core::time::Micros;

use super::audit_names::{Change, destination_event, target_type};
use super::{Api, Destination, Destinations, destination_audit, invalid};
use crate::access::{DestinationGrant, need};
use crate::audit::Author;
use crate::error::ServiceResult;
use crate::{Caller, Service};

/// Random bytes of a generated secret (the spec allows 24 to 64).
const GENERATED_BYTES: usize = 32;
/// At most two secrets at once: the current one and, during a rotation, the old one.
const MAX_SECRETS: usize = 2;

/// The store statement of a signing change, run inside its unit of work.
type Statement<'c> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), auditrelay_store::StoreError>> + Send + 'c>>;

/// One signing secret in force, opened.
#[derive(Debug, Clone)]
pub struct SigningSecret {
    pub id: i64,
    pub secret: WebhookSecret,
    pub last_four: String,
    pub created_at: Micros,
}

/// What the API shows of a destination's signing: never a secret.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSigning {
    pub enabled: bool,
    /// Oldest first: `(created_at, last four characters)`.
    pub secrets: Vec<(Micros, String)>,
}

/// A secret just made: its text is shown this once and never again.
#[derive(Debug, Clone)]
pub struct NewSigningSecret {
    pub secret: String,
    pub signing: WebhookSigning,
}

/// Which change an audit event tells.
#[derive(Clone, Copy)]
enum SigningChange {
    Enabled,
    Rotated,
    OldRemoved,
    Disabled,
}

impl SigningChange {
    fn message(self, name: &str) -> String {
        let what = match self {
            SigningChange::Enabled => "Enabled Standard Webhooks signing of",
            SigningChange::Rotated => "Added a new Standard Webhooks signing secret to",
            SigningChange::OldRemoved => "Removed the old Standard Webhooks signing secret of",
            SigningChange::Disabled => "Disabled Standard Webhooks signing of",
        };
        format!("{what} audit event streaming destination {name}")
    }
}

impl Destination {
    pub fn webhook_signing(&self) -> WebhookSigning {
        WebhookSigning {
            enabled: !self.signing_secrets.is_empty(),
            secrets: self.signing_secrets.iter().map(|s| (s.created_at, s.last_four.clone())).collect(),
        }
    }

    /// The secrets that sign, newest first (the order of the `webhook-signature` header).
    pub fn signing_keys(&self) -> Vec<WebhookSecret> {
        self.signing_secrets.iter().rev().map(|s| s.secret.clone()).collect()
    }
}

/// A user's secret checked, or a fresh one.
fn secret_from(given: Option<&str>) -> ServiceResult<WebhookSecret> {
    match given {
        Some(text) => WebhookSecret::parse(text.trim()).map_err(|e| invalid(format!("Signing secret: {e}"))),
        None => {
            let bytes: [u8; GENERATED_BYTES] = rand::random();
            WebhookSecret::from_bytes(bytes.to_vec()).map_err(|e| invalid(e.to_string()))
        }
    }
}

impl Destinations<'_> {
    /// Turns signing on with a new secret (generated unless `given`).
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn enable_webhook_signing(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        api: Api,
        given: Option<&str>,
    ) -> ServiceResult<NewSigningSecret> {
        let (caller, destination) = (grant.caller(), grant.destination());
        http_only(destination)?;
        if !destination.signing_secrets.is_empty() {
            return Err(invalid("Webhook signing is already enabled; rotate the secret to replace it"));
        }
        self.add_signing_secret(caller, destination, api, given, SigningChange::Enabled).await
    }

    /// Adds a new secret beside the current one; both sign until the old one is removed.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn rotate_webhook_secret(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        api: Api,
        given: Option<&str>,
    ) -> ServiceResult<NewSigningSecret> {
        let (caller, destination) = (grant.caller(), grant.destination());
        http_only(destination)?;
        match destination.signing_secrets.len() {
            0 => return Err(invalid("Webhook signing is not enabled; enable it first")),
            n if n >= MAX_SECRETS => {
                return Err(invalid("A rotation is already in progress; remove the old signing secret first"));
            }
            _ => {}
        }
        self.add_signing_secret(caller, destination, api, given, SigningChange::Rotated).await
    }

    /// Ends a rotation: the older secret stops signing.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn remove_old_webhook_secret(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        api: Api,
    ) -> ServiceResult<WebhookSigning> {
        let (caller, destination) = (grant.caller(), grant.destination());
        http_only(destination)?;
        if destination.signing_secrets.len() < 2 {
            return Err(invalid("There is no old signing secret to remove: no rotation is in progress"));
        }
        let old = destination.signing_secrets[0].id;
        self.commit_signing(caller, destination, api, SigningChange::OldRemoved, move |tx, id| {
            Box::pin(async move { tx.remove_webhook_secret(id, old).await })
        })
        .await?;
        Ok(self.reloaded(destination).await?.webhook_signing())
    }

    /// Turns signing off: every secret is deleted.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn disable_webhook_signing(
        &self,
        grant: &DestinationGrant<'_, need::Write>,
        api: Api,
    ) -> ServiceResult<WebhookSigning> {
        let (caller, destination) = (grant.caller(), grant.destination());
        http_only(destination)?;
        if destination.signing_secrets.is_empty() {
            return Err(invalid("Webhook signing is not enabled"));
        }
        self.commit_signing(caller, destination, api, SigningChange::Disabled, |tx, id| {
            Box::pin(async move { tx.clear_webhook_secrets(id).await })
        })
        .await?;
        Ok(self.reloaded(destination).await?.webhook_signing())
    }

    async fn add_signing_secret(
        &self,
        caller: &Caller,
        destination: &Destination,
        api: Api,
        given: Option<&str>,
        change: SigningChange,
    ) -> ServiceResult<NewSigningSecret> {
        let secret = secret_from(given)?.to_text();
        let last_four = secret[secret.len() - 4..].to_owned();
        let sealed = self.ctx.secrets.seal(&secret);
        self.commit_signing(caller, destination, api, change, move |tx, id| {
            Box::pin(async move { tx.add_webhook_secret(id, &sealed, &last_four).await })
        })
        .await?;
        let signing = self.reloaded(destination).await?.webhook_signing();
        Ok(NewSigningSecret { secret, signing })
    }

    /// One signing change and its audit event as a unit of work; the engine then restarts the
    /// destination's worker with the new secrets.
    async fn commit_signing<F>(
        &self,
        caller: &Caller,
        destination: &Destination,
        api: Api,
        change: SigningChange,
        statement: F,
    ) -> ServiceResult<()>
    where
        F: for<'c> FnOnce(&'c mut auditrelay_store::Tx, DestinationId) -> Statement<'c> + Send + 'static,
    {
        let author = Author::of(caller);
        let (owner, id, category, name) =
            (destination.owner.clone(), destination.id, destination.category, destination.name.clone());
        self.ctx
            .change_destinations(move |tx| {
                Box::pin(async move {
                    statement(tx, id).await?;
                    let event = destination_event(api, &owner, category, Change::Updated);
                    let target = (target_type(api, &owner, category), id.get(), name.as_str());
                    Ok(((), vec![destination_audit(&author, &owner, event, target, change.message(&name))]))
                })
            })
            .await?;
        Ok(())
    }

    async fn reloaded(&self, destination: &Destination) -> ServiceResult<Destination> {
        let row = self
            .ctx
            .store
            .destination(destination.id)
            .await?
            .ok_or(crate::error::ServiceError::NotFound("Destination"))?;
        self.ctx.load_destination(row, destination.owner.clone()).await
    }
}

impl Service {
    /// The destination's secrets, opened.
    pub(crate) async fn signing_secrets_of(&self, destination_id: DestinationId) -> ServiceResult<Vec<SigningSecret>> {
        let mut out = Vec::new();
        for row in self.store.webhook_secrets_of(destination_id).await? {
            let text = self.secrets.open(&row.sealed)?;
            let secret = WebhookSecret::parse(&text).map_err(|e| {
                crate::error::ServiceError::Internal(format!("destination {destination_id} signing secret: {e}"))
            })?;
            out.push(SigningSecret { id: row.id, secret, last_four: row.last_four, created_at: row.created_at });
        }
        Ok(out)
    }
}

fn http_only(destination: &Destination) -> ServiceResult<()> {
    if destination.category != Category::Http {
        return Err(invalid("Webhook signing is only available for HTTP destinations"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_32_random_bytes_in_whsec_form() {
        let a = secret_from(None).unwrap().to_text();
        let b = secret_from(None).unwrap().to_text();
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_") && a.len() == "whsec_".len() + 44, "{a}");
    }

    #[test]
    fn given_secrets_are_checked_with_a_message_naming_the_problem() {
        assert!(secret_from(Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).is_ok());
        let short = secret_from(Some("whsec_AAAA")).unwrap_err().to_string();
        assert!(short.contains("Signing secret") && short.contains("24 to 64"), "{short}");
        let bad = secret_from(Some("not-a-secret")).unwrap_err().to_string();
        assert!(bad.contains("whsec_"), "{bad}");
    }
}
