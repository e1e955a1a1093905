//! `auditrelay verify`'s command line.

use std::path::PathBuf;

use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// The receiver's capture: NDJSON, one received request per line (docs/completeness.md).
    #[arg(long, required_unless_present = "s3_bucket", conflicts_with = "s3_bucket")]
    pub capture: Option<PathBuf>,
    /// Read the deliveries from this S3 bucket's objects instead (credentials from
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
    #[arg(long)]
    pub s3_bucket: Option<String>,
    /// Only the objects under this key prefix.
    #[arg(long, requires = "s3_bucket")]
    pub s3_prefix: Option<String>,
    /// An S3-compatible endpoint instead of AWS (path-style requests).
    #[arg(long, requires = "s3_bucket")]
    pub s3_endpoint: Option<String>,
    #[arg(long, requires = "s3_bucket", default_value = "us-east-1")]
    pub s3_region: String,
    /// Signed checkpoints: a JSON array, or one per line.
    #[arg(long)]
    pub checkpoints: Option<PathBuf>,
    /// The service's base URL, to fetch checkpoints (with --destination) and the public keys.
    #[arg(long)]
    pub api: Option<String>,
    /// A personal access token that may read the destination.
    #[arg(long, env = "AUDITRELAY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The destination's numeric id, whose checkpoints to fetch from --api.
    #[arg(long, requires = "api")]
    pub destination: Option<i64>,
    /// A public key (base64 of its 32 bytes, or @FILE holding it); repeat for rotated keys.
    /// When given, the API's keys are not fetched.
    #[arg(long = "public-key")]
    pub public_keys: Vec<String>,
    /// Verify only this stream (the destination's global id); default: every stream present.
    #[arg(long)]
    pub stream: Option<String>,
    /// Print the report as JSON (fields in docs/completeness.md).
    #[arg(long)]
    pub json: bool,
}
