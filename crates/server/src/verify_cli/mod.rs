//! `auditrelay verify`: checks that what a receiver kept of a stream is complete and unaltered.
//! Reads the deliveries (a capture file, or an S3 bucket), the signed checkpoints (a file, the
//! capture's in-band ones, S3 checkpoint objects, or the REST API) and the public keys, then
//! hands them to the pure audit in `auditrelay_core::stream_proof::audit` and prints its report.
//!
//! - `capture`: the NDJSON capture file; `s3`: a bucket's objects and their metadata;
//!   `api`: checkpoints and public keys over REST; `render`: the report as text.
//!
//! Exit codes: 0 complete, 1 a problem found, 2 the inputs could not be read, 3 nothing wrong but
//! some positions are parked (see `docs/completeness.md`).

mod api;
mod capture;
mod render;
mod s3;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use auditrelay_core::stream_proof::SignedCheckpoint;
use auditrelay_core::stream_proof::audit::{Delivery, KeyRing, audit};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

/// Exit code when the inputs cannot be read (clap uses it for usage errors too).
pub const EXIT_BAD_INPUT: i32 = 2;

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

/// Everything the audit takes.
#[derive(Default)]
pub(crate) struct Inputs {
    pub deliveries: Vec<Delivery>,
    pub checkpoints: Vec<SignedCheckpoint>,
    pub unsequenced: u64,
}

/// Runs the check and returns the process exit code; errors are printed, never panicked.
pub async fn run(args: VerifyArgs) -> i32 {
    match verify(&args).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("auditrelay verify: {error:#}");
            EXIT_BAD_INPUT
        }
    }
}

async fn verify(args: &VerifyArgs) -> anyhow::Result<i32> {
    // Keys given on the command line are checked before any input is read.
    let mut keys = Vec::new();
    for key in &args.public_keys {
        keys.push(public_key_text(key)?);
    }
    KeyRing::from_base64(keys.iter().map(String::as_str)).context("a --public-key")?;
    let mut inputs = match (&args.capture, &args.s3_bucket) {
        (Some(path), _) => capture::read(path)?,
        (None, Some(bucket)) => s3::read(args, bucket).await?,
        (None, None) => anyhow::bail!("give --capture FILE or --s3-bucket BUCKET"),
    };
    if let Some(path) = &args.checkpoints {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let found = auditrelay_core::stream_proof::capture::parse_checkpoints(&text)
            .with_context(|| format!("{}", path.display()))?;
        inputs.checkpoints.extend(found);
    }
    let client = args.api.as_deref().map(|url| api::Client::new(url, args.token.clone()));
    if let (Some(client), Some(destination)) = (&client, args.destination) {
        inputs.checkpoints.extend(client.checkpoints(destination).await?);
    }
    if keys.is_empty()
        && let Some(client) = &client
    {
        keys = client.public_keys().await?;
    }
    let ring = KeyRing::from_base64(keys.iter().map(String::as_str)).context("a public key from the API")?;
    let report = audit(&inputs.deliveries, &inputs.checkpoints, &ring, args.stream.as_deref(), inputs.unsequenced);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        render::write(&mut out, &report, &ring)?;
    }
    out.flush()?;
    Ok(report.exit_code)
}

/// `--public-key`: the base64 text itself, or `@FILE` holding it.
fn public_key_text(value: &str) -> anyhow::Result<String> {
    match value.strip_prefix('@') {
        Some(path) => Ok(std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the public key file {path}"))?
            .trim()
            .to_owned()),
        None => Ok(value.trim().to_owned()),
    }
}

/// A progress bar on stderr, only when a person watches it.
pub(crate) fn progress(total: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let template = format!("{{bar:40}} {{pos}}/{{len}} {what} {{msg}}");
    bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}
