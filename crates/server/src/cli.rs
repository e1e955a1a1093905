//! The command line: `auditrelay serve`, `bench`, `replay`, `ai-session`, `verify`.

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
    Serve(Box<ServeArgs>),
    /// Measure the service on this machine (see docs/benchmarks.md).
    Bench(auditrelay_bench::BenchArgs),
    /// Re-send a destination's events (a range of the log, or its parked events) through a
    /// running service, with progress.
    Replay(crate::replay_cli::ReplayArgs),
    /// Play a sample AI agent session: its CloudEvents posted to a workflow's audit events.
    AiSession(crate::ai_session_cli::AiSessionArgs),
    /// Check that a receiver's copy of a stream is complete and unaltered (a capture file or an
    /// S3 bucket, against the signed checkpoints); exit 0 only when it is (docs/completeness.md).
    Verify(crate::verify_cli::VerifyArgs),
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
    /// ClickHouse HTTP URL for the event archive (`http://[user:password@]host:8123[/database]`):
    /// every event is archived there, and reads are answered from it when it is caught up.
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
    /// Seconds a client gets to send a request's headers, and again its body (slow clients are
    /// disconnected).
    #[arg(long, env = "AUDITRELAY_REQUEST_READ_TIMEOUT_SECONDS", default_value_t = 30)]
    pub request_read_timeout_seconds: u64,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

/// Delivery tunables (each also an environment variable). The defaults suit production.
#[derive(Args, Debug, Clone)]
pub struct DeliveryArgs {
    /// This process's name in delivery leases (default: the host name and data dir, so a
    /// restarted process takes its own leases back at once).
    #[arg(long, env = "AUDITRELAY_NODE_ID")]
    pub node_id: Option<String>,
    /// Requests in flight per destination.
    #[arg(long, env = "AUDITRELAY_DELIVERY_IN_FLIGHT", default_value_t = 8)]
    pub delivery_in_flight: usize,
    /// Seconds a destination's lease lasts without renewal (several nodes on PostgreSQL): a
    /// dead node's destinations resume on another node about this long after it died.
    #[arg(long, env = "AUDITRELAY_DELIVERY_LEASE_SECONDS", default_value_t = 10)]
    pub delivery_lease_seconds: u64,
    /// Requests in a destination's last 30 s before their failure rate counts: the circuit
    /// breaker opens when at least half of at least this many failed.
    #[arg(long, env = "AUDITRELAY_BREAKER_FAILURES", default_value_t = 20)]
    pub breaker_failures: u32,
    /// The longest an open breaker waits between probes, in seconds (the wait starts at 0.25 s
    /// and grows with the outage, a 32nd of its length so far).
    #[arg(long, env = "AUDITRELAY_BREAKER_OPEN_SECONDS", default_value_t = 25)]
    pub breaker_open_seconds: u64,
    /// First retry delay in milliseconds (doubles per attempt, with jitter).
    #[arg(long, env = "AUDITRELAY_RETRY_BASE_MS", default_value_t = 250)]
    pub retry_base_ms: u64,
    /// Longest retry delay in seconds.
    #[arg(long, env = "AUDITRELAY_RETRY_MAX_SECONDS", default_value_t = 300)]
    pub retry_max_seconds: u64,
    /// Attempts before an event that fails permanently (4xx) is parked.
    #[arg(long, env = "AUDITRELAY_PERMANENT_ATTEMPTS", default_value_t = 3)]
    pub permanent_attempts: u32,
    /// Google OAuth token endpoint.
    #[arg(long, env = "AUDITRELAY_GCP_TOKEN_URL", default_value = "https://oauth2.googleapis.com/token")]
    pub gcp_token_url: String,
    /// Google Cloud Logging `entries:write` endpoint.
    #[arg(long, env = "AUDITRELAY_GCP_LOGGING_URL", default_value = "https://logging.googleapis.com/v2/entries:write")]
    pub gcp_logging_url: String,
    /// An S3-compatible endpoint instead of AWS.
    #[arg(long, env = "AUDITRELAY_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// Seconds an HTTP destination may take to answer before the attempt counts as failed.
    #[arg(long, env = "AUDITRELAY_HTTP_TIMEOUT_SECONDS", default_value_t = 30)]
    pub http_timeout_seconds: u64,
    /// A stream checkpoint is made at least every this many positions…
    #[arg(long, env = "AUDITRELAY_CHECKPOINT_POSITIONS", default_value_t = 1000)]
    pub checkpoint_positions: u64,
    /// …and at least this often (milliseconds) while a stream is active.
    #[arg(long, env = "AUDITRELAY_CHECKPOINT_MS", default_value_t = 60_000)]
    pub checkpoint_ms: u64,
}

impl DeliveryArgs {
    pub fn engine_config(&self, data_dir: &std::path::Path) -> auditrelay_delivery::EngineConfig {
        use auditrelay_delivery::EngineConfig;
        use std::time::Duration;
        let defaults = EngineConfig::default();
        EngineConfig {
            node_id: self.node_id.clone().unwrap_or_else(|| default_node_id(data_dir)),
            lease_ttl: Duration::from_secs(self.delivery_lease_seconds.max(1)),
            in_flight: self.delivery_in_flight.max(1),
            retry: auditrelay_delivery::retry::RetryPolicy {
                base: Duration::from_millis(self.retry_base_ms.max(1)),
                max: Duration::from_secs(self.retry_max_seconds.max(1)),
                permanent_attempts: self.permanent_attempts.max(1),
            },
            breaker: auditrelay_delivery::breaker::BreakerConfig {
                min_requests: self.breaker_failures.max(1),
                max_probe_every: Duration::from_secs(self.breaker_open_seconds),
                ..defaults.breaker
            },
            endpoints: auditrelay_delivery::sinks::CloudEndpoints {
                gcp: auditrelay_delivery::sinks::gcp::GcpEndpoints {
                    token_url: self.gcp_token_url.clone(),
                    logging_url: self.gcp_logging_url.clone(),
                },
                s3: self.s3_endpoint.clone(),
                http_timeout: Some(Duration::from_secs(self.http_timeout_seconds.max(1))),
            },
            // The signer is the service's; `app` installs it.
            checkpoints: auditrelay_delivery::stream::CheckpointPolicy {
                positions: self.checkpoint_positions.clamp(1, 1000),
                every: Duration::from_millis(self.checkpoint_ms.clamp(10, 60_000)),
                signer: None,
            },
            ..defaults
        }
    }
}

impl Default for DeliveryArgs {
    /// The defaults (and any environment variables), as `serve` without flags would use.
    fn default() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            delivery: DeliveryArgs,
        }
        Only::parse_from(["auditrelay"]).delivery
    }
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
            request_read_timeout_seconds: 30,
            delivery: DeliveryArgs::default(),
        }
    }
}

/// `<host>:<data dir>`: stable across restarts, distinct for processes with their own data dirs.
fn default_node_id(data_dir: &std::path::Path) -> String {
    let host =
        std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "localhost".into());
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    format!("{host}:{}", dir.display())
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
        let args = *args;
        assert_eq!(args.listen, "0.0.0.0:9");
        assert_eq!(args.data_dir, PathBuf::from("/d"));
        assert_eq!(args.database_url.as_deref(), Some("postgres://x"));
    }
}
