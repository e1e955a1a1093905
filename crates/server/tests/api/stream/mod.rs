//! Provable streams end to end (docs/completeness.md): the real server streams to real
//! receivers; what they received is checked with `auditrelay_core::stream_proof` alone, as a
//! third party would: every position present once in content (duplicates byte-identical),
//! gapless, the chain recomputed from the bodies, checkpoints signed by the listed key.

mod cloud;
mod http;
mod resilience;

use auditrelay_core::stream_proof::{ChainDigest, SignedCheckpoint};
use auditrelay_testkit::Api;
use auditrelay_testkit::receiver::Received;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(30);

/// What a receiver got of one stream: each position's body and chain header.
#[derive(Debug, Default)]
pub struct Stream {
    pub id: String,
    pub positions: BTreeMap<u64, (String, String)>,
    /// Requests per position (re-sends and replays make more than one).
    pub copies: BTreeMap<u64, usize>,
    /// In-band checkpoint POSTs.
    pub checkpoints: Vec<Received>,
}

/// Reads the stream out of the requests; panics if a position came with two different bodies
/// or chains, or a request has no stream headers.
pub fn stream_of(received: &[Received]) -> Stream {
    let mut stream = Stream::default();
    for request in received {
        if request.header("x-auditrelay-checkpoint") == Some("1") {
            stream.checkpoints.push(request.clone());
            continue;
        }
        let id = request.header("x-auditrelay-stream").unwrap_or_else(|| panic!("no stream header: {request:?}"));
        if stream.id.is_empty() {
            stream.id = id.to_owned();
        }
        assert_eq!(stream.id, id, "one receiver, one stream");
        let position: u64 = request.header("x-auditrelay-sequence").and_then(|s| s.parse().ok()).expect("a sequence");
        let chain = request.header("x-auditrelay-chain").expect("a chain").to_owned();
        let entry = (request.body.clone(), chain);
        if let Some(first) = stream.positions.get(&position) {
            assert_eq!(first, &entry, "position {position} was sent twice with different bytes");
        }
        stream.positions.insert(position, entry);
        *stream.copies.entry(position).or_default() += 1;
    }
    stream
}

impl Stream {
    /// Positions 1..=last all present (but the parked ones, given with their body digest from a
    /// checkpoint), and every chain header equal to the chain recomputed from the bodies.
    /// Returns the recomputed chain at each position.
    pub fn assert_complete(&self, parked: &BTreeMap<u64, String>) -> BTreeMap<u64, ChainDigest> {
        let last = *self.positions.keys().last().expect("something was streamed");
        let mut chain = ChainDigest::genesis(&self.id);
        let mut chains = BTreeMap::new();
        for position in 1..=last {
            match self.positions.get(&position) {
                Some((body, header)) => {
                    chain = chain.next(body.as_bytes());
                    assert_eq!(&chain.to_hex(), header, "chain at position {position}");
                }
                None => {
                    let digest = parked.get(&position).and_then(|d| ChainDigest::from_hex(d));
                    let digest = digest.unwrap_or_else(|| panic!("position {position} of {last} never arrived"));
                    chain = chain.next_with_body_digest(&digest);
                }
            }
            chains.insert(position, chain);
        }
        chains
    }
}

/// The instance's public keys: key id → base64.
pub async fn public_keys(api: &Api) -> BTreeMap<String, String> {
    let reply = api.get("/api/v4/streaming/public_key").await.expect(200);
    let keys = reply.body["keys"].as_array().expect("keys").clone();
    assert!(!keys.is_empty());
    assert_eq!(keys.last().unwrap()["valid_until"], Value::Null, "the current key is last");
    keys.iter()
        .map(|k| {
            assert_eq!(k["algorithm"], "ed25519");
            (k["key_id"].as_str().unwrap().to_owned(), k["public_key"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// Every checkpoint of a destination, through the paged REST listing.
pub async fn checkpoints(api: &Api, id: i64) -> Vec<SignedCheckpoint> {
    let mut out: Vec<SignedCheckpoint> = Vec::new();
    loop {
        let after = out.last().map_or(0, |c| c.checkpoint.sequence);
        let reply = api
            .get(&format!("/api/v4/streaming_destinations/{id}/checkpoints?after_sequence={after}&per_page=5"))
            .await
            .expect(200);
        let page: Vec<SignedCheckpoint> = serde_json::from_value(reply.body.clone()).expect("SignedCheckpoint JSON");
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// Waits until the destination's last checkpoint covers `position`.
pub async fn wait_for_checkpoint(api: &Api, id: i64, position: u64) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let stream = api.get(&format!("/api/v4/streaming_destinations/{id}")).await.expect(200).body["stream"].clone();
        if stream["last_checkpoint"]["sequence"].as_u64().is_some_and(|s| s >= position) {
            return stream;
        }
        assert!(Instant::now() < deadline, "no checkpoint reached position {position}: {stream}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each checkpoint verifies with its listed key and agrees with the chain the receiver rebuilt.
pub fn assert_checkpoints(
    list: &[SignedCheckpoint],
    keys: &BTreeMap<String, String>,
    stream: &str,
    chains: &BTreeMap<u64, ChainDigest>,
) {
    assert!(!list.is_empty(), "no checkpoints");
    for signed in list {
        let key = keys.get(&signed.key_id).unwrap_or_else(|| panic!("key {} not listed", signed.key_id));
        signed.verify(key).unwrap_or_else(|e| panic!("checkpoint {}: {e}", signed.checkpoint.sequence));
        assert_eq!(signed.checkpoint.stream, stream);
        if let Some(chain) = chains.get(&signed.checkpoint.sequence) {
            assert_eq!(signed.checkpoint.chain, chain.to_hex(), "checkpoint at {}", signed.checkpoint.sequence);
        }
    }
    assert!(list.windows(2).all(|w| w[0].checkpoint.sequence < w[1].checkpoint.sequence), "ascending");
}

/// Writes what `receiver` kept as a capture file and runs `auditrelay verify` on it with the
/// checkpoints and public keys from the server's API; returns the `--json` report after
/// asserting it is complete (exit 0) with nothing lost or mismatched.
pub fn assert_verified(receiver: &auditrelay_testkit::Receiver, base: &str, id: i64) -> Value {
    let path = auditrelay_testkit::temp_dir("auditrelay-stream").join("capture.ndjson");
    receiver.write_capture(&path).expect("write the capture");
    let id = id.to_string();
    let run = crate::verify::verify_env(
        ["--capture", path.to_str().unwrap(), "--api", base, "--destination", &id, "--json"],
        &[("AUDITRELAY_TOKEN", auditrelay_testkit::ROOT_TOKEN)],
    );
    assert_eq!(run.code, 0, "auditrelay verify: {}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["status"], "complete", "{report}");
    report
}
