//! Values the store keeps encrypted at rest: custom header values (often tokens). The service
//! installs its cipher (AES-256-GCM, the `SecretBox` of every other secret); rows are sealed
//! when written and opened when read, and rows written in plain text before are read as they
//! are and sealed at start-up ([`Store::seal_plain_header_values`]).

use std::sync::{Arc, OnceLock};

use crate::{Result, Store, StoreError};

/// Seals and opens stored values.
pub trait ValueCipher: Send + Sync {
    fn seal(&self, plain: &str) -> String;
    /// `None` when `stored` is not a sealed value.
    fn open(&self, stored: &str) -> Option<std::result::Result<String, String>>;
}

/// The installed cipher, shared by the clones of a store; without one values pass as they are.
#[derive(Clone, Default)]
pub(crate) struct Sealer(Arc<OnceLock<Arc<dyn ValueCipher>>>);

impl Sealer {
    pub(crate) fn seal(&self, plain: &str) -> String {
        self.0.get().map_or_else(|| plain.to_owned(), |cipher| cipher.seal(plain))
    }

    pub(crate) fn open(&self, stored: String) -> Result<String> {
        match self.0.get().and_then(|cipher| cipher.open(&stored)) {
            None => Ok(stored),
            Some(opened) => opened.map_err(StoreError::Sealed),
        }
    }

    fn is_plain(&self, stored: &str) -> bool {
        self.0.get().is_some_and(|cipher| cipher.open(stored).is_none())
    }
}

impl Store {
    /// Seals values from now on with `cipher` (the first one installed stays).
    pub fn set_value_cipher(&self, cipher: Arc<dyn ValueCipher>) {
        let _ = self.sealer.0.set(cipher);
    }

    /// Seals the header values still stored in plain text; returns how many.
    pub async fn seal_plain_header_values(&self) -> Result<usize> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, header_value FROM destination_headers").fetch_all(&self.read).await?;
        let mut sealed = 0;
        for (id, value) in rows.into_iter().filter(|(_, value)| self.sealer.is_plain(value)) {
            // Only if unchanged since read: a concurrent update has sealed it already.
            sqlx::query("UPDATE destination_headers SET header_value = $1 WHERE id = $2 AND header_value = $3")
                .bind(self.sealer.seal(&value))
                .bind(id)
                .bind(&value)
                .execute(&self.write)
                .await?;
            sealed += 1;
        }
        Ok(sealed)
    }
}
