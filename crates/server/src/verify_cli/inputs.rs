//! What the readers (`capture`, `s3`, `api`) gather for the audit, and the progress bar they show
//! while reading.

use std::io::IsTerminal;

use auditrelay_core::stream_proof::SignedCheckpoint;
use auditrelay_core::stream_proof::audit::Delivery;
use indicatif::{ProgressBar, ProgressStyle};

/// Everything the audit takes.
#[derive(Default)]
pub(crate) struct Inputs {
    pub deliveries: Vec<Delivery>,
    pub checkpoints: Vec<SignedCheckpoint>,
    pub unsequenced: u64,
}

/// A progress bar on stderr, only when a person watches it.
pub(crate) fn progress(total: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let template = format!("{{bar:40}} {{pos}}/{{len}} {what} {{msg}}");
    bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}
