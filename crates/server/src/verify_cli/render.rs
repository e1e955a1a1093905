//! The report as text for a person: one block per stream, then the verdict.

use std::io::Write;

use auditrelay_core::stream_proof::audit::{KeyRing, MismatchKind, PositionRange, Report, Status, StreamReport};

/// Lists longer than this are cut in the text (all of it is in `--json`).
const SHOWN: usize = 10;

pub(super) fn write(out: &mut impl Write, report: &Report, keys: &KeyRing) -> std::io::Result<()> {
    let ids: Vec<&str> = keys.key_ids().collect();
    if ids.is_empty() {
        writeln!(out, "public keys: none given (checkpoint signatures cannot be checked)")?;
    } else {
        writeln!(out, "public keys: {}", ids.join(", "))?;
    }
    if report.streams.is_empty() {
        writeln!(out, "no stream found: no delivery carried stream headers and no checkpoint was given")?;
    }
    for stream in &report.streams {
        write_stream(out, stream)?;
    }
    if report.unsequenced > 0 {
        writeln!(out, "{} request(s) without stream headers were ignored", report.unsequenced)?;
    }
    let verdict = match report.status {
        Status::Complete => "complete and consistent",
        Status::Parked => "consistent; some positions are parked at the service (not received yet)",
        Status::Problem => "PROBLEM: see above",
    };
    writeln!(out, "verdict: {verdict} (exit {})", report.exit_code)
}

fn write_stream(out: &mut impl Write, s: &StreamReport) -> std::io::Result<()> {
    let status = match s.status {
        Status::Complete => "complete",
        Status::Parked => "parked positions",
        Status::Problem => "PROBLEM",
    };
    writeln!(out, "stream {}: {status}", s.stream)?;
    writeln!(
        out,
        "  events received {}, distinct positions {}, highest position {}",
        s.events_received, s.distinct_positions, s.highest_position
    )?;
    if s.missing_count() == 0 {
        writeln!(out, "  missing: none")?;
    }
    if !s.lost.is_empty() {
        writeln!(out, "  LOST (missing, no checkpoint accounts for them): {}", ranges(&s.lost))?;
    }
    if !s.missing_not_yet_covered.is_empty() {
        let gaps = ranges(&s.missing_not_yet_covered);
        writeln!(out, "  MISSING after the last checkpoint (parked or lost, not known yet): {gaps}")?;
    }
    if !s.parked.is_empty() {
        let listed: Vec<String> =
            s.parked.iter().take(SHOWN).map(|p| format!("{} (body sha256 {})", p.sequence, p.body_sha256)).collect();
        writeln!(out, "  parked (listed by a signed checkpoint): {}{}", listed.join(", "), more(s.parked.len()))?;
    }
    let dup = &s.duplicates;
    if !dup.identical.is_empty() || !dup.conflicting.is_empty() {
        let list = |d: &[auditrelay_core::stream_proof::audit::Duplicate]| {
            let shown: Vec<String> = d.iter().take(SHOWN).map(|d| format!("{} ×{}", d.sequence, d.count)).collect();
            format!("{}{}", shown.join(", "), more(d.len()))
        };
        writeln!(out, "  duplicates, identical (harmless): {}", list(&dup.identical))?;
        if !dup.conflicting.is_empty() {
            writeln!(out, "  DUPLICATES WITH DIFFERENT BODIES: {}", list(&dup.conflicting))?;
        }
    }
    if let Some(first) = &s.out_of_order.first {
        writeln!(
            out,
            "  out of order: {} arrival(s); first: position {} (arrival {}) after position {}",
            s.out_of_order.count, first.sequence, first.arrival, first.after
        )?;
    }
    match &s.first_mismatch {
        None => writeln!(out, "  chain: every received body matches its chain header and the checkpoints")?,
        Some(m) => {
            let what = match m.kind {
                MismatchKind::Chain => "the body or chain header does not match",
                MismatchKind::Checkpoint => "a signed checkpoint's chain differs from the recomputed one",
                MismatchKind::ParkedDigest => "the body differs from the digest its checkpoint listed as parked",
            };
            let origin = m.origin.as_deref().map(|o| format!(" ({o})")).unwrap_or_default();
            writeln!(out, "  FIRST MISMATCH at position {}{origin}: {what}", m.sequence)?;
            writeln!(out, "    recomputed {}\n    found      {}", m.expected, m.found)?;
            if s.mismatches.len() > 1 {
                let all: Vec<String> = s.mismatches.iter().take(SHOWN).map(|m| m.sequence.to_string()).collect();
                writeln!(out, "    mismatches at {}{}", all.join(", "), more(s.mismatches.len()))?;
            }
        }
    }
    if s.chain_unchecked > 0 {
        writeln!(
            out,
            "  {} position(s) follow a missing one: their chain was taken from the header",
            s.chain_unchecked
        )?;
    }
    let c = &s.checkpoints;
    writeln!(
        out,
        "  checkpoints: {} valid, {} invalid, {} with an unknown key",
        c.valid,
        c.invalid.len(),
        c.unknown_key.len()
    )?;
    for bad in c.invalid.iter().chain(&c.unknown_key).take(SHOWN) {
        writeln!(out, "    REJECTED checkpoint at {} (key {}): {}", bad.sequence, bad.key_id, bad.reason)?;
    }
    match s.coverage.checkpointed_through {
        Some(through) => writeln!(
            out,
            "  coverage: checkpointed through position {through}; {} received position(s) after it not yet covered",
            s.coverage.not_yet_covered
        ),
        None => writeln!(out, "  coverage: no valid checkpoint; nothing is vouched for by a signature yet"),
    }
}

fn ranges(list: &[PositionRange]) -> String {
    let shown: Vec<String> = list
        .iter()
        .take(SHOWN)
        .map(|r| if r.from == r.to { r.from.to_string() } else { format!("{}-{}", r.from, r.to) })
        .collect();
    format!("{}{}", shown.join(", "), more(list.len()))
}

fn more(len: usize) -> String {
    if len > SHOWN { format!(" … ({len} in all)") } else { String::new() }
}
