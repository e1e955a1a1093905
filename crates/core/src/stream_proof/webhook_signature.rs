//! Standard Webhooks 1.0 signatures: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the
//! bytes of a `whsec_` secret. Pure; the spec's own test vector is checked below.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a Standard Webhooks secret.
const PREFIX: &str = "whsec_";
/// The spec's bounds on the secret's random bytes.
pub const MIN_SECRET_BYTES: usize = 24;
pub const MAX_SECRET_BYTES: usize = 64;

/// A signing secret: its raw bytes (never logged; `Debug` hides them).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

/// Why a secret is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookSecretError {
    #[error("a signing secret starts with whsec_ followed by standard base64")]
    Format,
    #[error("a signing secret holds 24 to 64 bytes, this one holds {0}")]
    Length(usize),
}

impl WebhookSecret {
    /// From raw random bytes (24–64 of them).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<WebhookSecret, WebhookSecretError> {
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(WebhookSecretError::Length(bytes.len()));
        }
        Ok(WebhookSecret(bytes))
    }

    /// From its `whsec_<base64>` text.
    pub fn parse(text: &str) -> Result<WebhookSecret, WebhookSecretError> {
        use base64::Engine;
        let encoded = text.strip_prefix(PREFIX).ok_or(WebhookSecretError::Format)?;
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| WebhookSecretError::Format)?;
        WebhookSecret::from_bytes(bytes)
    }

    /// Its `whsec_<base64>` text, shown once to the user who made it.
    pub fn to_text(&self) -> String {
        use base64::Engine;
        format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(&self.0))
    }

    /// One signature, `v1,<base64>`, of a message id, its timestamp (unix seconds) and body.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        use base64::Engine;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

/// The `webhook-signature` header's value: one signature per secret in force, space-separated
/// (during a rotation both the new and the old secret sign).
pub fn signature_header(secrets: &[WebhookSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|secret| secret.sign(id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification and its reference libraries.
    #[test]
    fn matches_the_specs_test_vector() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secret_text_round_trips_and_bounds_are_enforced() {
        let secret = WebhookSecret::from_bytes(vec![1u8; 32]).unwrap();
        assert_eq!(WebhookSecret::parse(&secret.to_text()).unwrap(), secret);
        assert_eq!(WebhookSecret::from_bytes(vec![0u8; 23]), Err(WebhookSecretError::Length(23)));
        assert_eq!(WebhookSecret::from_bytes(vec![0u8; 65]), Err(WebhookSecretError::Length(65)));
        assert_eq!(WebhookSecret::parse("secret"), Err(WebhookSecretError::Format));
        assert!(!format!("{secret:?}").contains("AQE"));
    }

    #[test]
    fn rotation_signs_with_every_secret() {
        let old = WebhookSecret::from_bytes(vec![1u8; 24]).unwrap();
        let new = WebhookSecret::from_bytes(vec![2u8; 24]).unwrap();
        let header = signature_header(&[new.clone(), old.clone()], "1", 5, b"{}");
        assert_eq!(header, format!("{} {}", new.sign("1", 5, b"{}"), old.sign("1", 5, b"{}")));
    }
}
