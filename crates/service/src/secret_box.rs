//! Secrets at rest (verification tokens, private keys, secret access keys): AES-256-GCM with a
//! key from `AUDITRELAY_SECRET_KEY` or a key file generated in the data dir.

use aes_gcm::aead::{Aead, KeyInit, OsRng, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::path::Path;

use crate::error::{ServiceError, ServiceResult};

pub const KEY_FILE: &str = "secret_key";
const VERSION: &str = "v1:";

#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl SecretBox {
    pub fn from_key(key: &[u8; 32]) -> SecretBox {
        SecretBox { cipher: Aes256Gcm::new(key.into()) }
    }

    /// The key from `AUDITRELAY_SECRET_KEY` (32 bytes, base64 or hex) if given; otherwise the key
    /// file in `data_dir`, created on first use. Nodes sharing a database must share the key.
    pub fn load(given: Option<&str>, data_dir: &Path) -> anyhow::Result<SecretBox> {
        if let Some(text) = given {
            return Ok(SecretBox::from_key(&parse_key(text).context("AUDITRELAY_SECRET_KEY")?));
        }
        let path = data_dir.join(KEY_FILE);
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            return Ok(SecretBox::from_key(&parse_key(&text).with_context(|| format!("key file {}", path.display()))?));
        }
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        crate::files::write_private(&path, &(STANDARD.encode(key) + "\n"))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(SecretBox::from_key(&key))
    }

    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("AES-GCM encryption of a short secret cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> ServiceResult<String> {
        let broken = || {
            ServiceError::Internal(
                "a stored secret cannot be decrypted: is AUDITRELAY_SECRET_KEY the key it was stored with?".into(),
            )
        };
        let bytes = sealed.strip_prefix(VERSION).and_then(|b| STANDARD.decode(b).ok()).ok_or_else(broken)?;
        if bytes.len() < 12 {
            return Err(broken());
        }
        let (nonce, data) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), data).map_err(|_| broken())?;
        String::from_utf8(plain).map_err(|_| broken())
    }
}

fn parse_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(text)?
    } else {
        STANDARD.decode(text).context("must be 32 bytes written as base64 or as 64 hex digits")?
    };
    match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(key) => Ok(key),
        Err(_) => bail!("must be 32 bytes (got {})", bytes.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_fresh_nonces() {
        let secret_box = SecretBox::from_key(&[7; 32]);
        let a = secret_box.seal("token-value-123456");
        let b = secret_box.seal("token-value-123456");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("token-value"));
        assert_eq!(secret_box.open(&a).unwrap(), "token-value-123456");
        assert!(SecretBox::from_key(&[8; 32]).open(&a).is_err(), "another key cannot open it");
        assert!(secret_box.open("v1:!!").is_err());
    }

    #[test]
    fn keys_from_text_and_file() {
        assert!(parse_key(&"ab".repeat(32)).is_ok());
        assert!(parse_key(&STANDARD.encode([1u8; 32])).is_ok());
        assert!(parse_key("short").is_err());
        let dir = std::env::temp_dir().join(format!("auditrelay-key-{}", crate::secrets::random_string(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let first = SecretBox::load(None, &dir).unwrap().seal("x-secret-value-1234");
        let again = SecretBox::load(None, &dir).unwrap();
        assert_eq!(again.open(&first).unwrap(), "x-secret-value-1234", "the key file is reused");
    }
}
