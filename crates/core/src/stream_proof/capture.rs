//! The capture format: what a receiver kept, one JSON object per received request (NDJSON):
//! `{"received_at", "headers": {lowercase name: value}, "body"}` (or `"body_base64"` for a body
//! that is not UTF-8). Requests with `x-auditrelay-checkpoint: 1` are in-band checkpoints.
//! Parsing never panics; every error names the line. Pure.

use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;

use super::audit::Delivery;
use super::{ChainDigest, SignedCheckpoint, StreamPosition, body_sha256};

/// One line of a capture, as written.
#[derive(Debug, Deserialize)]
struct CaptureLine {
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    body_base64: Option<String>,
}

/// What one capture line holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureItem {
    Delivery(Delivery),
    Checkpoint(Box<SignedCheckpoint>),
    /// A request without stream headers (a test event, something else posted to the receiver).
    Unsequenced,
    /// A blank line.
    Blank,
}

/// A capture line that cannot be read, with its 1-based line number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {problem}")]
pub struct CaptureError {
    pub line: usize,
    pub problem: String,
}

/// Reads line `line` (1-based) of a capture; `arrival` is its order among deliveries.
pub fn parse_capture_line(text: &str, line: usize, arrival: u64) -> Result<CaptureItem, CaptureError> {
    let fail = |problem: String| CaptureError { line, problem };
    if text.trim().is_empty() {
        return Ok(CaptureItem::Blank);
    }
    let parsed: CaptureLine = serde_json::from_str(text)
        .map_err(|e| fail(format!("not a capture object ({{\"headers\": {{…}}, \"body\": …}}): {e}")))?;
    let headers: BTreeMap<String, String> =
        parsed.headers.into_iter().map(|(name, value)| (name.to_ascii_lowercase(), value)).collect();
    let body = match (parsed.body, parsed.body_base64) {
        (Some(body), None) => body.into_bytes(),
        (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| fail(format!("body_base64 is not standard base64: {e}")))?,
        (Some(_), Some(_)) => return Err(fail("has both body and body_base64; give one".into())),
        (None, None) => return Err(fail("has neither body nor body_base64".into())),
    };
    let header = |name: &str| headers.get(&name.to_ascii_lowercase()).map(|v| v.trim());
    use super::names::{CHAIN_HEADER, CHECKPOINT_HEADER, SEQUENCE_HEADER, STREAM_HEADER};
    if let Some(flag) = header(CHECKPOINT_HEADER) {
        if flag != "1" {
            return Err(fail(format!("{CHECKPOINT_HEADER} is {flag:?}; only 1 is defined")));
        }
        let checkpoint: SignedCheckpoint = serde_json::from_slice(&body)
            .map_err(|e| fail(format!("an in-band checkpoint whose body is not a signed checkpoint: {e}")))?;
        return Ok(CaptureItem::Checkpoint(Box::new(checkpoint)));
    }
    let Some(stream) = header(STREAM_HEADER) else { return Ok(CaptureItem::Unsequenced) };
    let sequence =
        header(SEQUENCE_HEADER).ok_or_else(|| fail(format!("has {STREAM_HEADER} but no {SEQUENCE_HEADER}")))?;
    let chain = header(CHAIN_HEADER).ok_or_else(|| fail(format!("has {STREAM_HEADER} but no {CHAIN_HEADER}")))?;
    let (position, chain) =
        parse_stream_fields(sequence, chain).map_err(|e| fail(e.describe(SEQUENCE_HEADER, CHAIN_HEADER)))?;
    Ok(CaptureItem::Delivery(Delivery {
        stream: stream.to_owned(),
        position,
        chain,
        body_sha256: body_sha256(&body),
        arrival,
        origin: format!("line {line}"),
    }))
}

/// Why a sequence or chain value (a header, label or metadata value) is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    Sequence(String),
    Chain(String),
}

impl FieldError {
    /// The message, with the field names of the carrier (HTTP header or S3 metadata key).
    pub fn describe(&self, sequence_name: &str, chain_name: &str) -> String {
        match self {
            FieldError::Sequence(value) => format!("{sequence_name} is {value:?}, not a position (1, 2, 3, …)"),
            FieldError::Chain(value) => format!("{chain_name} is {value:?}, not 64 hex digits"),
        }
    }
}

/// A delivery's position and chain from their text (headers, labels, S3 metadata).
pub fn parse_stream_fields(sequence: &str, chain: &str) -> Result<(StreamPosition, ChainDigest), FieldError> {
    let position =
        sequence.trim().parse().ok().filter(|p| *p >= 1).ok_or_else(|| FieldError::Sequence(sequence.to_owned()))?;
    let digest = ChainDigest::from_hex(chain).ok_or_else(|| FieldError::Chain(chain.to_owned()))?;
    Ok((position, digest))
}

/// Checkpoints from a file: a JSON array of signed checkpoints, or one per line (NDJSON).
pub fn parse_checkpoints(text: &str) -> Result<Vec<SignedCheckpoint>, CaptureError> {
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(text).map_err(|e| CaptureError {
            line: e.line(),
            problem: format!("not a JSON array of signed checkpoints: {e}"),
        });
    }
    let mut checkpoints = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let checkpoint = serde_json::from_str(line)
            .map_err(|e| CaptureError { line: index + 1, problem: format!("not a signed checkpoint: {e}") })?;
        checkpoints.push(checkpoint);
    }
    Ok(checkpoints)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAIN: &str = "aa00000000000000000000000000000000000000000000000000000000000000";

    fn line(headers: &str, body: &str) -> String {
        format!(r#"{{"received_at":"2026-12-01T10:00:00Z","headers":{{{headers}}},{body}}}"#)
    }

    #[test]
    fn a_delivery_line_gives_its_position_chain_and_body_digest() {
        let text = line(
            &format!(r#""X-Auditrelay-Stream":"s","x-auditrelay-sequence":"7","x-auditrelay-chain":"{CHAIN}""#),
            r#""body":"{\"id\":1}","extra":true"#,
        );
        let CaptureItem::Delivery(delivery) = parse_capture_line(&text, 3, 9).unwrap() else { panic!("delivery") };
        assert_eq!((delivery.stream.as_str(), delivery.position, delivery.arrival), ("s", 7, 9));
        assert_eq!(delivery.chain.to_hex(), CHAIN);
        assert_eq!(delivery.body_sha256, body_sha256(br#"{"id":1}"#));
        assert_eq!(delivery.origin, "line 3");
    }

    #[test]
    fn base64_bodies_and_unsequenced_requests() {
        let text = line(
            &format!(r#""x-auditrelay-stream":"s","x-auditrelay-sequence":"1","x-auditrelay-chain":"{CHAIN}""#),
            r#""body_base64":"/wA=""#,
        );
        let CaptureItem::Delivery(delivery) = parse_capture_line(&text, 1, 0).unwrap() else { panic!("delivery") };
        assert_eq!(delivery.body_sha256, body_sha256(&[0xff, 0]));
        assert_eq!(parse_capture_line(&line("", r#""body":"x""#), 1, 0), Ok(CaptureItem::Unsequenced));
        assert_eq!(parse_capture_line("  ", 1, 0), Ok(CaptureItem::Blank));
    }

    #[test]
    fn bad_lines_are_named_by_number() {
        let cases = [
            ("{not json", "not a capture object"),
            (&line(r#""x-auditrelay-stream":"s""#, r#""body":"x""#) as &str, "no X-Auditrelay-Sequence"),
            (
                &line(
                    r#""x-auditrelay-stream":"s","x-auditrelay-sequence":"0","x-auditrelay-chain":"ab""#,
                    r#""body":"x""#,
                ),
                "\"0\", not a position",
            ),
            (
                &line(
                    r#""x-auditrelay-stream":"s","x-auditrelay-sequence":"1","x-auditrelay-chain":"ab""#,
                    r#""body":"x""#,
                ),
                "not 64 hex digits",
            ),
            (&line("", r#""body_base64":"***""#), "not standard base64"),
            (&line(r#""x-auditrelay-checkpoint":"1""#, r#""body":"{}""#), "not a signed checkpoint"),
            (r#"{"headers":{}}"#, "neither body nor body_base64"),
        ];
        for (text, expected) in cases {
            let error = parse_capture_line(text, 42, 0).unwrap_err();
            assert_eq!(error.line, 42);
            assert!(error.to_string().starts_with("line 42: "), "{error}");
            assert!(error.problem.contains(expected), "{error} should say {expected}");
        }
    }

    #[test]
    fn checkpoint_files_are_arrays_or_ndjson() {
        let one =
            r#"{"stream":"s","sequence":2,"chain":"ab","parked":[],"created_at":"t","key_id":"k","signature":"x"}"#;
        assert_eq!(parse_checkpoints(&format!("[{one},{one}]")).unwrap().len(), 2);
        assert_eq!(parse_checkpoints(&format!("{one}\n\n{one}\n")).unwrap().len(), 2);
        assert_eq!(parse_checkpoints(&format!("{one}\n{{}}\n")).unwrap_err().line, 2);
    }
}
