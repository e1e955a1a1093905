//! Standard Webhooks signing secrets of HTTP destinations (`0012_webhook_secrets.sql`), stored
//! sealed: the service seals before writing and opens after reading.

use auditrelay_core::time::{Micros, now_micros};
use sqlx::Row;
use sqlx::any::AnyRow;

use auditrelay_core::DestinationId;

use crate::id_columns::id;
use crate::{Result, Store, Tx};

/// One stored signing secret.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSecretRow {
    pub id: i64,
    pub destination_id: DestinationId,
    /// The sealed `whsec_` text.
    pub sealed: String,
    /// The last four characters of the `whsec_` text.
    pub last_four: String,
    pub created_at: Micros,
}

const COLUMNS: &str = "id, destination_id, secret, last_four, created_at";

fn secret_row(row: &AnyRow) -> Result<WebhookSecretRow> {
    Ok(WebhookSecretRow {
        id: row.try_get("id")?,
        destination_id: id(row, "destination_id")?,
        sealed: row.try_get("secret")?,
        last_four: row.try_get("last_four")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// A destination's signing secrets, oldest first.
    pub async fn webhook_secrets_of(&self, destination_id: DestinationId) -> Result<Vec<WebhookSecretRow>> {
        let sql = format!("SELECT {COLUMNS} FROM destination_webhook_secrets WHERE destination_id = $1 ORDER BY id");
        sqlx::query(&sql).bind(destination_id.get()).fetch_all(&self.read).await?.iter().map(secret_row).collect()
    }
}

/// Signing secret changes inside a unit of work.
impl Tx {
    pub async fn add_webhook_secret(
        &mut self,
        destination_id: DestinationId,
        sealed: &str,
        last_four: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO destination_webhook_secrets (destination_id, secret, last_four, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(destination_id.get())
        .bind(sealed)
        .bind(last_four)
        .bind(now_micros())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Removes one secret by id (of that destination only).
    pub async fn remove_webhook_secret(&mut self, destination_id: DestinationId, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM destination_webhook_secrets WHERE destination_id = $1 AND id = $2")
            .bind(destination_id.get())
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Removes every secret of a destination: signing is off.
    pub async fn clear_webhook_secrets(&mut self, destination_id: DestinationId) -> Result<()> {
        sqlx::query("DELETE FROM destination_webhook_secrets WHERE destination_id = $1")
            .bind(destination_id.get())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
