//! The receiver-side Python verifier of `docs/completeness.md` (`scripts/verify_stream.py`,
//! standard library plus `cryptography`) agrees with `auditrelay verify` on the same captures, and
//! the document shows exactly that script.

use super::*;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/verify_stream.py")
}

/// The test virtualenv's python (with `cryptography`), made by `scripts/standardwebhooks-venv.sh`.
fn python3() -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/standardwebhooks-venv.sh");
    let out = std::process::Command::new("bash").arg(&script).output().expect("bash runs");
    assert!(out.status.success(), "the test virtualenv could not be made: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn python(capture: &Path, checkpoints: Option<&Path>) -> (i32, Value) {
    let mut command = std::process::Command::new(python3());
    command.arg(script()).arg(capture).arg(public_key());
    if let Some(path) = checkpoints {
        command.arg(path);
    }
    let output = command.output().expect("python3 runs (the tests need it, with `cryptography`)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap(), summary)
}

/// Every missing position auditrelay reports as lost or not yet covered, one by one.
fn missing(stream: &Value) -> Vec<u64> {
    let mut all = Vec::new();
    for list in ["lost", "missing_not_yet_covered"] {
        for range in stream[list].as_array().unwrap() {
            all.extend(range["from"].as_u64().unwrap()..=range["to"].as_u64().unwrap());
        }
    }
    all.sort();
    all
}

#[test]
fn python_and_auditrelay_agree_on_every_kind_of_capture() {
    let dir = temp();
    let complete = {
        let mut lines = stream_lines(5);
        lines.push(checkpoint_line(&checkpoint(5, &[])));
        lines
    };
    let altered = {
        let mut lines = complete.clone();
        lines[3]["body"] = json!(body(4).replace("\"n\":4", "\"n\":40"));
        lines
    };
    let dropped = {
        let mut lines = complete.clone();
        lines.remove(1);
        lines
    };
    let parked = {
        let mut lines = stream_lines(5);
        lines.remove(1);
        lines.push(checkpoint_line(&checkpoint(5, &[2])));
        lines
    };
    let forged = {
        let mut signed = checkpoint(5, &[]);
        signed.checkpoint.sequence = 4;
        let mut lines = stream_lines(5);
        lines.push(checkpoint_line(&signed));
        lines
    };
    let non_utf8 = {
        let chain = ChainDigest::genesis(STREAM).next(&[0xff, 0xfe]);
        let mut line = delivery_line(1, "", chain);
        line.as_object_mut().unwrap().remove("body");
        line["body_base64"] = json!("//4=");
        vec![line]
    };
    let cases = [
        ("complete", complete, 0),
        ("altered", altered, 1),
        ("dropped", dropped, 1),
        ("parked", parked, 3),
        ("forged", forged, 1),
        ("non_utf8", non_utf8, 0),
    ];
    for (name, lines, expected) in cases {
        let path = write_lines(&dir, &format!("{name}.ndjson"), &lines);
        let rust = verify_capture(&path, &[]);
        let (code, summary) = python(&path, None);
        assert_eq!((rust.code, code), (expected, expected), "{name}: {}\n{summary}", rust.stdout);
        let stream = &rust.json()["streams"][0];
        assert_eq!(summary["stream"], STREAM, "{name}");
        assert_eq!(summary["received"], stream["distinct_positions"], "{name}");
        assert_eq!(summary["first_mismatch"], stream["first_mismatch"]["sequence"], "{name}");
        assert_eq!(serde_json::from_value::<Vec<u64>>(summary["lost"].clone()).unwrap(), missing(stream), "{name}");
        let parked: Vec<&Value> = stream["parked"].as_array().unwrap().iter().map(|p| &p["sequence"]).collect();
        assert_eq!(summary["parked"], json!(parked), "{name}");
        assert_eq!(summary["checkpoints_valid"], stream["checkpoints"]["valid"], "{name}");
    }
    assert_eq!(python(&write_lines(&dir, "altered4.ndjson", &cases_altered()), None).1["first_mismatch"], 4);

    // Checkpoints from a separate file (a JSON array), as `GET …/checkpoints` answers.
    let file = dir.join("checkpoints.json");
    std::fs::write(&file, serde_json::to_string(&vec![checkpoint(5, &[])]).unwrap()).unwrap();
    let (code, summary) = python(&write_lines(&dir, "plain.ndjson", &stream_lines(5)), Some(&file));
    assert_eq!((code, summary["checkpoints_valid"].clone()), (0, json!(1)));
}

fn cases_altered() -> Vec<Value> {
    let mut lines = stream_lines(5);
    lines[3]["body"] = json!("{}");
    lines
}

#[test]
fn the_document_shows_the_tested_script() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/completeness.md")).unwrap();
    let script = std::fs::read_to_string(script()).unwrap();
    assert!(
        doc.contains(&format!("```python\n{script}```")),
        "docs/completeness.md must show scripts/verify_stream.py verbatim"
    );
}
