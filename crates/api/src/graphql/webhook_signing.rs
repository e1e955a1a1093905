//! auditrelay's Standard Webhooks signing as GraphQL objects: what a destination shows of its
//! signing (never a secret), on every HTTP destination type of both API generations.

use async_graphql::SimpleObject;
use auditrelay_core::destination::Category;
use auditrelay_core::time::format_micros;
use auditrelay_service::destinations::{Destination, WebhookSigning};

/// One signing secret in force, told apart by when it was made and its last four characters.
#[derive(SimpleObject, Clone)]
pub struct AuditrelayWebhookSecret {
    pub created_at: String,
    pub last_four: String,
}

/// Whether requests carry `webhook-id`, `webhook-timestamp` and `webhook-signature`, and with
/// which secrets (oldest first; two during a rotation).
#[derive(SimpleObject, Clone)]
pub struct AuditrelayWebhookSigning {
    pub enabled: bool,
    pub secrets: Vec<AuditrelayWebhookSecret>,
}

impl From<WebhookSigning> for AuditrelayWebhookSigning {
    fn from(signing: WebhookSigning) -> Self {
        AuditrelayWebhookSigning {
            enabled: signing.enabled,
            secrets: signing
                .secrets
                .into_iter()
                .map(|(created_at, last_four)| AuditrelayWebhookSecret {
                    created_at: format_micros(created_at),
                    last_four,
                })
                .collect(),
        }
    }
}

/// The field's value: `null` for destinations that are not HTTP (they cannot sign).
pub fn of(d: &Destination) -> Option<AuditrelayWebhookSigning> {
    (d.category == Category::Http).then(|| d.webhook_signing().into())
}
