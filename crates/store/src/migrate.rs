//! Schema migrations, one SQL file per version shared by both dialects.
//!
//! The few dialect differences are placeholders in the SQL (`@ID@`). sqlx's own migrator would
//! need one directory per dialect and its compile-time macros; this keeps one file per version.

use sqlx::Acquire;

use sqlx::AnyPool;

use crate::dialect::Dialect;
use crate::{Result, StoreError};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_destinations.sql")),
    (3, include_str!("../migrations/0003_delivery.sql")), // keep one per line
    (4, include_str!("../migrations/0004_ai_workflows.sql")),
    (5, include_str!("../migrations/0005_archive.sql")),
    (6, include_str!("../migrations/0006_web_sessions.sql")),
    (7, include_str!("../migrations/0007_ai_sequence.sql")),
    (8, include_str!("../migrations/0008_producer_id_scope.sql")),
    (10, include_str!("../migrations/0010_route_versions.sql")),
    (11, include_str!("../migrations/0011_streams.sql")),
    (12, include_str!("../migrations/0012_webhook_secrets.sql")),
    (13, include_str!("../migrations/0013_strict_order.sql")),
    (14, include_str!("../migrations/0014_seq_rowid.sql")),
    (15, include_str!("../migrations/0015_event_indexes.sql")),
];

/// Versions that change only SQLite's physical layout: PostgreSQL records them and runs nothing.
const SQLITE_ONLY: &[i64] = &[14];

/// Serialises migrations of several processes sharing one PostgreSQL database.
const PG_MIGRATION_LOCK: i64 = 0x6175_6469_746d_6967;

fn dialect_sql(sql: &str, dialect: Dialect) -> String {
    let id = match dialect {
        Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    sql.replace("@ID@", id)
}

pub(crate) async fn run(write: &AnyPool, dialect: Dialect) -> Result<()> {
    let mut conn = write.acquire().await?;
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)").bind(PG_MIGRATION_LOCK).execute(&mut *conn).await?;
    }
    let result = apply_pending(&mut conn, dialect, i64::MAX).await;
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(PG_MIGRATION_LOCK).execute(&mut *conn).await?;
    }
    result
}

/// Applies every migration not yet applied, up to version `through`.
pub(crate) async fn apply_pending(conn: &mut sqlx::AnyConnection, dialect: Dialect, through: i64) -> Result<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations").fetch_all(&mut *conn).await?;
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| !applied.contains(v) && *v <= through) {
        let mut tx = conn.begin().await?;
        let failed = |source| StoreError::Migration { version, source };
        if dialect == Dialect::Sqlite || !SQLITE_ONLY.contains(&version) {
            sqlx::raw_sql(&dialect_sql(sql, dialect)).execute(&mut *tx).await.map_err(failed)?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(version)
            .bind(auditrelay_core::time::now_micros())
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        tx.commit().await?;
        tracing::info!(version, "applied schema migration");
    }
    Ok(())
}

#[cfg(test)]
#[path = "migrate_tests.rs"]
mod tests;
