//! Verify on capture files: complete, altered, dropped (lost and parked), swapped, duplicated,
//! badly signed, malformed; exit codes and the `--json` fields.

use super::*;

#[test]
fn a_complete_capture_with_in_band_checkpoints_exits_0() {
    let dir = temp();
    let mut lines = stream_lines(5);
    lines.insert(3, checkpoint_line(&checkpoint(3, &[])));
    lines.push(checkpoint_line(&checkpoint(5, &[])));
    lines.push(json!({"headers": {"content-type": "application/json"}, "body": "{\"test\":true}"}));
    let path = write_lines(&dir, "capture.ndjson", &lines);
    let run = verify_capture(&path, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["status"], "complete");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["unsequenced"], 1);
    let stream = &report["streams"][0];
    assert_eq!(stream["stream"], STREAM);
    assert_eq!(stream["events_received"], 5);
    assert_eq!(stream["distinct_positions"], 5);
    assert_eq!(stream["highest_position"], 5);
    assert_eq!(stream["checkpoints"]["valid"], 2);
    assert_eq!(stream["coverage"], json!({"checkpointed_through": 5, "not_yet_covered": 0}));
    assert_eq!(stream["first_mismatch"], Value::Null);
    for empty in ["lost", "parked", "missing_not_yet_covered", "mismatches"] {
        assert_eq!(stream[empty], json!([]), "{empty}");
    }

    let text = verify(["--capture", path.to_str().unwrap(), "--public-key", &public_key()]);
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("events received 5, distinct positions 5"), "{}", text.stdout);
    assert!(text.stdout.contains("verdict: complete and consistent (exit 0)"), "{}", text.stdout);
}

#[test]
fn an_altered_body_fails_naming_its_position_and_line() {
    let dir = temp();
    let mut lines = stream_lines(4);
    lines[2]["body"] = json!(body(3).replace("user_created", "user_deleted"));
    lines.push(checkpoint_line(&checkpoint(4, &[])));
    let path = write_lines(&dir, "altered.ndjson", &lines);
    let run = verify_capture(&path, &[]);
    assert_eq!(run.code, 1);
    let first = &run.json()["streams"][0]["first_mismatch"];
    assert_eq!(first["sequence"], 3);
    assert_eq!(first["kind"], "chain");
    assert_eq!(first["origin"], "line 3");
    assert_eq!(first["found"], chain_at(3).to_hex());

    let text = verify(["--capture", path.to_str().unwrap(), "--public-key", &public_key()]);
    assert_eq!(text.code, 1);
    assert!(text.stdout.contains("FIRST MISMATCH at position 3 (line 3)"), "{}", text.stdout);
}

#[test]
fn a_dropped_event_is_lost_unless_a_checkpoint_lists_it_parked() {
    let dir = temp();
    let mut lines = stream_lines(5);
    lines.remove(1); // position 2
    let capture = write_lines(&dir, "dropped.ndjson", &lines);

    let lost = write_lines(&dir, "lost.ndjson", &[serde_json::to_value(checkpoint(5, &[])).unwrap()]);
    let run = verify_capture(&capture, &["--checkpoints", lost.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["streams"][0]["lost"], json!([{"from": 2, "to": 2}]));

    // A JSON array file this time.
    let parked = dir.join("parked.json");
    std::fs::write(&parked, serde_json::to_string(&vec![checkpoint(5, &[2])]).unwrap()).unwrap();
    let run = verify_capture(&capture, &["--checkpoints", parked.to_str().unwrap()]);
    assert_eq!(run.code, 3, "parked, nothing wrong: {}", run.stdout);
    let stream = &run.json()["streams"][0];
    assert_eq!(stream["status"], "parked");
    assert_eq!(stream["lost"], json!([]));
    assert_eq!(stream["parked"], json!([{"sequence": 2, "body_sha256": body_sha256(body(2).as_bytes()).to_hex()}]));

    // Without any checkpoint the gap is still a gap.
    let run = verify_capture(&capture, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["streams"][0]["missing_not_yet_covered"], json!([{"from": 2, "to": 2}]));
}

#[test]
fn swapped_arrivals_are_fine_but_swapped_bodies_are_not() {
    let dir = temp();
    let mut lines = stream_lines(4);
    lines.swap(1, 2);
    lines.push(checkpoint_line(&checkpoint(4, &[])));
    let run = verify_capture(&write_lines(&dir, "swapped.ndjson", &lines), &[]);
    assert_eq!(run.code, 0);
    let order = &run.json()["streams"][0]["out_of_order"];
    assert_eq!(order["count"], 1);
    assert_eq!(order["first"], json!({"sequence": 2, "arrival": 2, "after": 3}));

    let mut lines = stream_lines(4);
    let (two, three) = (lines[1]["body"].clone(), lines[2]["body"].clone());
    lines[1]["body"] = three;
    lines[2]["body"] = two;
    let run = verify_capture(&write_lines(&dir, "bodies.ndjson", &lines), &[]);
    assert_eq!(run.code, 1);
    let stream = &run.json()["streams"][0];
    assert_eq!(stream["first_mismatch"]["sequence"], 2);
    assert_eq!(stream["mismatches"].as_array().unwrap().len(), 2);
}

#[test]
fn duplicates_identical_are_harmless_and_conflicting_are_a_problem() {
    let dir = temp();
    let mut lines = stream_lines(3);
    lines.push(lines[0].clone());
    let run = verify_capture(&write_lines(&dir, "dup.ndjson", &lines), &[]);
    assert_eq!(run.code, 0);
    assert_eq!(run.json()["streams"][0]["duplicates"]["identical"], json!([{"sequence": 1, "count": 2}]));

    lines.push(delivery_line(2, "{\"id\":\"other\"}", chain_at(2)));
    let run = verify_capture(&write_lines(&dir, "conflict.ndjson", &lines), &[]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["streams"][0]["duplicates"]["conflicting"], json!([{"sequence": 2, "count": 2}]));
}

#[test]
fn bad_signatures_and_foreign_keys_are_problems() {
    let dir = temp();
    let mut forged = checkpoint(3, &[]);
    forged.checkpoint.created_at = "2026-12-01T11:00:00.000Z".into();
    let mut lines = stream_lines(3);
    lines.push(checkpoint_line(&forged));
    let capture = write_lines(&dir, "forged.ndjson", &lines);
    let run = verify_capture(&capture, &[]);
    assert_eq!(run.code, 1);
    let checkpoints = &run.json()["streams"][0]["checkpoints"];
    assert_eq!(checkpoints["valid"], 0);
    assert_eq!(checkpoints["invalid"][0]["sequence"], 3);

    // The right checkpoint, checked against another key (given as @FILE).
    let mut lines = stream_lines(3);
    lines.push(checkpoint_line(&checkpoint(3, &[])));
    let capture = write_lines(&dir, "signed.ndjson", &lines);
    let other = dir.join("other.pub");
    std::fs::write(&other, public_key_base64(&SigningKey::from_bytes(&[1u8; 32]).verifying_key())).unwrap();
    let run =
        verify(["--capture", capture.to_str().unwrap(), "--public-key", &format!("@{}", other.display()), "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["streams"][0]["checkpoints"]["unknown_key"][0]["key_id"], checkpoint(3, &[]).key_id);
}

#[test]
fn malformed_input_exits_2_naming_the_line() {
    let dir = temp();
    let mut lines: Vec<String> = stream_lines(3).iter().map(Value::to_string).collect();
    lines.insert(2, "{\"headers\": {\"x-auditrelay-stream\": \"s\"}, \"body\": \"x\"}".into());
    let path = dir.join("bad.ndjson");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let run = verify_capture(&path, &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("line 3: has X-Auditrelay-Stream but no X-Auditrelay-Sequence"), "{}", run.stderr);
    assert!(run.stdout.is_empty());

    std::fs::write(&path, b"\xff\xfe\n").unwrap();
    let run = verify_capture(&path, &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("line 1"), "{}", run.stderr);

    let run = verify_capture(&dir.join("absent.ndjson"), &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot open the capture"), "{}", run.stderr);
    let run = verify(["--capture", path.to_str().unwrap(), "--public-key", "not-a-key"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("public key"), "{}", run.stderr);
}

#[test]
fn several_streams_and_the_stream_flag() {
    let dir = temp();
    let mut lines = stream_lines(2);
    let mut other = delivery_line(1, "{}", ChainDigest::genesis("other").next(b"{}"));
    other["headers"]["x-auditrelay-stream"] = json!("other");
    lines.push(other);
    let path = write_lines(&dir, "two.ndjson", &lines);
    let run = verify_capture(&path, &[]);
    assert_eq!(run.code, 0);
    assert_eq!(run.json()["streams"].as_array().unwrap().len(), 2);
    let run = verify_capture(&path, &["--stream", STREAM]);
    assert_eq!(run.json()["streams"].as_array().unwrap().len(), 1);
    let run = verify_capture(&path, &["--stream", "absent"]);
    assert_eq!(run.code, 1, "a stream with nothing received proves nothing");
}
