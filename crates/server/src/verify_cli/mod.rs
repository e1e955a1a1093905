//! `auditrelay verify`: checks that what a receiver kept of a stream is complete and unaltered.
//! Reads the deliveries (a capture file, or an S3 bucket), the signed checkpoints (a file, the
//! capture's in-band ones, S3 checkpoint objects, or the REST API) and the public keys, then
//! hands them to the pure audit in `auditrelay_core::stream_proof::audit` and prints its report.
//!
//! - `args`: the command line; `inputs`: what the readers gather for the audit.
//! - `capture`: the NDJSON capture file; `s3`: a bucket's objects and their metadata;
//!   `api`: checkpoints and public keys over REST; `render`: the report as text.
//!
//! Exit codes: 0 complete, 1 a problem found, 2 the inputs could not be read, 3 nothing wrong but
//! some positions are parked (see `docs/completeness.md`).

mod api;
mod args;
mod capture;
mod inputs;
mod render;
mod s3;

use std::io::Write;

use anyhow::Context;
use auditrelay_core::stream_proof::audit::{KeyRing, audit};

pub use args::VerifyArgs;

/// Exit code when the inputs cannot be read (clap uses it for usage errors too).
pub const EXIT_BAD_INPUT: i32 = 2;

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
