//! Test helpers: start the real `auditrelay` binary on port 0 against a fresh SQLite data dir or
//! a fresh PostgreSQL database, talk to it over HTTP, stop it gently or with `kill -9`.

pub mod browser;
pub mod captured_log;
pub mod clickhouse;
mod client;
mod cut_stream;
pub mod fake_gcp;
mod postgres;
pub mod postgres_cluster;
pub mod receiver;
pub mod s3s;
mod server;

pub use browser::Browser;
pub use clickhouse::ClickHouseServer;
pub use client::{Api, Reply};
pub use postgres::{fresh_postgres_database, postgres_admin_url};
pub use postgres_cluster::PostgresCluster;
pub use receiver::{Answer, Receiver};
pub use server::{Backend, ROOT_PASSWORD, ROOT_TOKEN, SECRET_KEY, TestServer, TestServerBuilder};

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", random_suffix()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

pub(crate) fn random_suffix() -> String {
    use rand::Rng;
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(10).map(|c| char::from(c).to_ascii_lowercase()).collect()
}
