//! The command line: `auditrelay serve` and `auditrelay bench`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "auditrelay", version, about = "Self-hosted, GitLab-compatible audit event streaming")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the service.
    Serve(ServeArgs),
    /// Measure the service on this machine (see docs/benchmarks.md).
    Bench(crate::bench::BenchArgs),
    /// Print the GraphQL schema (SDL), as checked in at `schema.graphql`.
    GraphqlSchema,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "AUDITRELAY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Directory for the embedded store, the secret key file and the initial root credentials.
    #[arg(long, env = "AUDITRELAY_DATA_DIR", default_value = "./auditrelay-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (`postgres://…`); without it the embedded SQLite store in the data dir is used.
    #[arg(long, env = "AUDITRELAY_DATABASE_URL")]
    pub database_url: Option<String>,
    /// ClickHouse HTTP URL for the event archive.
    #[arg(long, env = "AUDITRELAY_CLICKHOUSE_URL")]
    pub clickhouse_url: Option<String>,
    /// Password of `root` on first start (environment only; generated when absent).
    #[arg(long = "root-password", env = "AUDITRELAY_ROOT_PASSWORD", hide = true, hide_env_values = true)]
    pub root_password: Option<String>,
    /// Token of `root` on first start (environment only; generated when absent).
    #[arg(long = "root-token", env = "AUDITRELAY_ROOT_TOKEN", hide = true, hide_env_values = true)]
    pub root_token: Option<String>,
    /// Key for secrets at rest: 32 bytes as base64 or hex (environment only; a key file in the
    /// data dir is generated when absent). Nodes sharing a database must share it.
    #[arg(long = "secret-key", env = "AUDITRELAY_SECRET_KEY", hide = true, hide_env_values = true)]
    pub secret_key: Option<String>,
}

impl ServeArgs {
    /// Defaults for an embedded server, as `serve` without flags or environment would use.
    pub fn embedded(data_dir: PathBuf) -> ServeArgs {
        ServeArgs {
            listen: "127.0.0.1:0".into(),
            data_dir,
            database_url: None,
            clickhouse_url: None,
            root_password: None,
            root_token: None,
            secret_key: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_flags_parse() {
        let cli = Cli::try_parse_from([
            "auditrelay",
            "serve",
            "--listen",
            "0.0.0.0:9",
            "--data-dir",
            "/d",
            "--database-url",
            "postgres://x",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve expected") };
        assert_eq!(args.listen, "0.0.0.0:9");
        assert_eq!(args.data_dir, PathBuf::from("/d"));
        assert_eq!(args.database_url.as_deref(), Some("postgres://x"));
    }
}
