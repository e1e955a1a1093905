//! The worked example of `docs/completeness.md`, recomputed with this code: every digest, the
//! key id, the canonical JSON and the signature the document shows must come out of it.

use ed25519_dalek::SigningKey;

use super::checkpoint::public_key_base64;
use super::{ChainDigest, Checkpoint, body_sha256, key_id};

const DOC: &str = include_str!("../../../../docs/completeness.md");
const STREAM: &str = "gid://gitlab/AuditEvents::ExternalAuditEventDestination/3";
const BODIES: [&str; 3] = [
    r#"{"id":"101","event_name":"user_created"}"#,
    r#"{"id":"102","event_name":"user_blocked"}"#,
    r#"{"id":"103","event_name":"user_deleted"}"#,
];

fn shown(label: &str, value: &str) {
    assert!(DOC.contains(value), "docs/completeness.md should show {label} = {value}");
}

#[test]
fn the_documented_numbers_are_the_codes() {
    let mut chain = ChainDigest::genesis(STREAM);
    shown("chain(0)", &format!("chain(0)   = {chain}"));
    for (index, body) in BODIES.iter().enumerate() {
        let n = index + 1;
        shown("a body", &format!("{n}  {body}"));
        shown("H(body(n))", &format!("H(body({n})) = {}", body_sha256(body.as_bytes())));
        chain = chain.next(body.as_bytes());
        shown("chain(n)", &format!("chain({n})   = {chain}"));
    }
    let seed: [u8; 32] = std::array::from_fn(|i| i as u8 + 1);
    let key = SigningKey::from_bytes(&seed);
    shown("the public key", &public_key_base64(&key.verifying_key()));
    shown("the key id", &format!("key id `{}`", key_id(&key.verifying_key())));
    let checkpoint = Checkpoint {
        stream: STREAM.into(),
        sequence: 3,
        chain: chain.to_hex(),
        parked: vec![],
        created_at: "2026-12-01T10:00:00.000Z".into(),
    };
    shown("the canonical JSON", &format!("\n{}\n", checkpoint.canonical_json()));
    let signed = checkpoint.sign(&key);
    shown("the signature", &format!("\n{}\n", signed.signature));
    assert_eq!(signed.verify(&public_key_base64(&key.verifying_key())), Ok(()));
}
