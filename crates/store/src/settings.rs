//! Instance-wide application settings as name/JSON-value pairs.

use std::collections::BTreeMap;

use crate::{Result, Store, Tx};

impl Store {
    pub async fn settings(&self) -> Result<BTreeMap<String, String>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, value FROM settings").fetch_all(&self.read).await?;
        Ok(rows.into_iter().collect())
    }
}

/// Settings changes inside a unit of work.
impl Tx {
    pub async fn put_settings(&mut self, values: &BTreeMap<String, String>) -> Result<()> {
        for (name, value) in values {
            sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                .bind(name)
                .bind(value)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}
