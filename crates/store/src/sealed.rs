//! Values the store keeps encrypted at rest: custom header values (often tokens). The service
//! installs its cipher (AES-256-GCM, the `SecretBox` of every other secret); rows are sealed
//! when written and opened when read, and rows written in plain text before are read as they
//! are and sealed at start-up ([`Store::seal_plain_header_values`]).

use std::sync::Arc;

pub use crate::value_cipher::ValueCipher;
use crate::{Result, Store};

impl Store {
    /// Seals values from now on with `cipher` (the first one installed stays).
    pub fn set_value_cipher(&self, cipher: Arc<dyn ValueCipher>) {
        self.sealer.install(cipher);
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
