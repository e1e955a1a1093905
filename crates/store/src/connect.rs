//! Opening the store: SQLite file or PostgreSQL URL, connection pools and pragmas.

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::time::Duration;

pub use crate::dialect::Dialect;
use crate::{Result, migrate};

/// The operational store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    /// Pool for reads (and, on PostgreSQL, writes too).
    pub(crate) read: AnyPool,
    /// Pool for writes. On SQLite a single connection, so writers never contend for the lock.
    pub(crate) write: AnyPool,
    pub(crate) dialect: Dialect,
    /// Seals custom header values at rest (installed by the service).
    pub(crate) sealer: crate::value_cipher::Sealer,
}

/// Creates the database file readable by its owner only (SQLite gives its `-wal` and `-shm`
/// files the database file's mode), and tightens the three if they exist with wider modes.
fn private_database_files(db: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(db)?;
        for suffix in ["", "-wal", "-shm"] {
            let path = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    Ok(())
}

impl Store {
    /// Opens the embedded SQLite store in `data_dir/auditrelay.db`, creating it if needed.
    pub async fn open_sqlite(data_dir: &Path) -> Result<Store> {
        install_default_drivers();
        private_database_files(&data_dir.join("auditrelay.db")).map_err(sqlx::Error::Io)?;
        let url = format!("sqlite://{}?mode=rwc", data_dir.join("auditrelay.db").display());
        let options = || {
            AnyPoolOptions::new()
                .acquire_timeout(Duration::from_secs(30))
                // A local file does not drop connections: no ping (a round trip to SQLite's
                // thread) before every query and transaction.
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // FULL: an acknowledged commit survives power loss, not only a crash.
                        // The group-commit writer makes that one fsync per batch. Temporary
                        // storage in memory: the statement journals of a batch's inserts
                        // otherwise go through a temp file (a sixth of the writer's time).
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;")
                            .await?;
                        Ok(())
                    })
                })
        };
        let write = options().max_connections(1).connect(&url).await?;
        let read = options().max_connections(8).connect(&url).await?;
        Self::finish(Store { read, write, dialect: Dialect::Sqlite, sealer: Default::default() }).await
    }

    /// Opens a PostgreSQL store from a `postgres://` URL.
    pub async fn open_postgres(url: &str) -> Result<Store> {
        install_default_drivers();
        let pool =
            AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
        Self::finish(Store { read: pool.clone(), write: pool, dialect: Dialect::Postgres, sealer: Default::default() })
            .await
    }

    async fn finish(store: Store) -> Result<Store> {
        migrate::run(&store.write, store.dialect).await?;
        Ok(store)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Checks that the database answers (readiness).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}
