//! The fake's check of an entry's labels: Google's rules and the provable stream's three labels.

use serde_json::Value;

/// Google's rule (a map of string to string, keys at most 512 bytes, values at most 64 KiB) and
/// the stream's: auditrelay's three labels come together, the position in digits, the chain as
/// 64 lowercase hex digits.
pub(super) fn check_labels(labels: Option<&Value>) -> Result<(), String> {
    let Some(labels) = labels else { return Ok(()) };
    let map = labels.as_object().ok_or("expected a map of string to string")?;
    for (key, value) in map {
        let value = value.as_str().ok_or_else(|| format!("label {key:?} is not a string"))?;
        if key.len() > 512 || value.len() > 64 * 1024 {
            return Err(format!("label {key:?} is too long"));
        }
    }
    let stream =
        ["auditrelay_stream", "auditrelay_sequence", "auditrelay_chain"].map(|k| map.get(k).and_then(Value::as_str));
    match stream {
        [None, None, None] => Ok(()),
        [Some(id), Some(sequence), Some(chain)] => {
            let digits = !sequence.is_empty() && sequence.bytes().all(|b| b.is_ascii_digit());
            let hex = chain.len() == 64 && chain.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if id.starts_with("gid://gitlab/") && digits && hex {
                Ok(())
            } else {
                Err(format!("malformed stream labels: {id:?} {sequence:?} {chain:?}"))
            }
        }
        _ => Err("the auditrelay_stream, _sequence and _chain labels come together".into()),
    }
}
