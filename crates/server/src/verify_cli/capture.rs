//! Reads a capture file line by line (it may be large), with a progress bar by bytes read.

use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::Context;
use auditrelay_core::stream_proof::capture::{CaptureItem, parse_capture_line};

use super::inputs::{Inputs, progress};

pub(super) fn read(path: &Path) -> anyhow::Result<Inputs> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open the capture {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress(size, "bytes of the capture");
    let mut reader = BufReader::new(file);
    let mut inputs = Inputs::default();
    let mut line = String::new();
    let mut number = 0usize;
    let mut read = 0u64;
    loop {
        line.clear();
        number += 1;
        let bytes = reader
            .read_line(&mut line)
            .with_context(|| format!("{}: line {number} cannot be read (a capture is UTF-8 text)", path.display()))?;
        if bytes == 0 {
            break;
        }
        read += bytes as u64;
        if number.is_multiple_of(1024) {
            bar.set_position(read);
        }
        let item = parse_capture_line(&line, number, inputs.deliveries.len() as u64)
            .with_context(|| format!("{}", path.display()))?;
        match item {
            CaptureItem::Delivery(delivery) => inputs.deliveries.push(delivery),
            CaptureItem::Checkpoint(checkpoint) => inputs.checkpoints.push(*checkpoint),
            CaptureItem::Unsequenced => inputs.unsequenced += 1,
            CaptureItem::Blank => {}
        }
    }
    bar.finish_and_clear();
    Ok(inputs)
}
