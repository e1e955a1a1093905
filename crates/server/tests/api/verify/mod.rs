//! `auditrelay verify` run as the real binary on captures built here with the real chain and
//! signed with a test key: `capture.rs` (what it finds, exit codes, `--json`), `sources.rs`
//! (a testkit receiver's recording, S3 on s3s-fs, checkpoints and keys over a REST API),
//! `python.rs` (the documented Python verifier agrees).

mod capture;
mod python;
mod sources;

use auditrelay_core::stream_proof::checkpoint::public_key_base64;
use auditrelay_core::stream_proof::names::{CHAIN_HEADER, CHECKPOINT_HEADER, SEQUENCE_HEADER, STREAM_HEADER};
use auditrelay_core::stream_proof::{ChainDigest, Checkpoint, ParkedPosition, SignedCheckpoint, body_sha256};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

pub const STREAM: &str = "gid://gitlab/AuditEvents::ExternalAuditEventDestination/3";

pub fn key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

pub fn public_key() -> String {
    public_key_base64(&key().verifying_key())
}

/// The body of event `n`, as GitLab's JSON would be.
pub fn body(n: u64) -> String {
    format!(
        r#"{{"id":"{n}","event_name":"user_created","details":{{"n":{n}}},"created_at":"2026-12-01T10:00:0{}.000Z"}}"#,
        n % 10
    )
}

pub fn chain_at(n: u64) -> ChainDigest {
    (1..=n).fold(ChainDigest::genesis(STREAM), |chain, p| chain.next(body(p).as_bytes()))
}

/// What a receiver keeps of one delivery: headers and body.
pub fn delivery_line(position: u64, body: &str, chain: ChainDigest) -> Value {
    json!({
        "received_at": "2026-12-01T10:00:00.000000Z",
        "headers": {
            "content-type": "application/json",
            STREAM_HEADER.to_ascii_lowercase(): STREAM,
            SEQUENCE_HEADER.to_ascii_lowercase(): position.to_string(),
            CHAIN_HEADER.to_ascii_lowercase(): chain.to_hex(),
        },
        "body": body,
    })
}

/// Positions 1..=n, each with its true chain header, in order.
pub fn stream_lines(n: u64) -> Vec<Value> {
    (1..=n).map(|p| delivery_line(p, &body(p), chain_at(p))).collect()
}

pub fn checkpoint(sequence: u64, parked: &[u64]) -> SignedCheckpoint {
    Checkpoint {
        stream: STREAM.into(),
        sequence,
        chain: chain_at(sequence).to_hex(),
        parked: parked
            .iter()
            .map(|&p| ParkedPosition { sequence: p, body_sha256: body_sha256(body(p).as_bytes()).to_hex() })
            .collect(),
        created_at: "2026-12-01T10:01:00.000Z".into(),
    }
    .sign(&key())
}

/// An in-band checkpoint POST as a capture line.
pub fn checkpoint_line(signed: &SignedCheckpoint) -> Value {
    json!({
        "received_at": "2026-12-01T10:01:00.000000Z",
        "headers": {"content-type": "application/json", CHECKPOINT_HEADER.to_ascii_lowercase(): "1"},
        "body": serde_json::to_string(signed).unwrap(),
    })
}

pub fn write_lines(dir: &Path, name: &str, lines: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

/// What one run of the binary gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

pub fn verify<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    verify_env(args, &[])
}

/// As `verify`, with environment variables set for the run.
pub fn verify_env<I, S>(args: I, env: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_auditrelay"))
        .arg("verify")
        .args(args)
        .env_remove("AUDITRELAY_TOKEN")
        .envs(env.iter().copied())
        .output()
        .expect("run auditrelay verify");
    Run {
        code: output.status.code().expect("verify exits with a code"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs verify on a capture with the test key, `--json`.
pub fn verify_capture(path: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["--capture".to_owned(), path.display().to_string(), "--public-key".into(), public_key()];
    args.push("--json".into());
    args.extend(extra.iter().map(|s| s.to_string()));
    verify(args)
}

pub fn temp() -> PathBuf {
    auditrelay_testkit::temp_dir("auditrelay-verify")
}
