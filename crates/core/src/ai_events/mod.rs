//! AI agent audit events: CloudEvents batches from the AI workflow service, the `data` schema of
//! each of the 11 types, and the redaction of prompt, response and tool content for streaming.

pub mod cloudevents;
pub mod redact;
pub mod schemas;

pub use cloudevents::{AiBatchError, CloudEvent, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, parse_cloudevents_batch};
pub use redact::{redact_content, redact_streamed_body};
