//! The AI CloudEvents batch parser: any bytes give a batch or an error naming the problem, never
//! a panic; an accepted batch holds at most the limit of events, each of a known AI type.
#![no_main]

use auditrelay_core::ai_events::{MAX_BATCH_EVENTS, parse_cloudevents_batch};
use auditrelay_core::event_catalogue::AI_EVENT_TYPES;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = parse_cloudevents_batch(data) {
        assert!(batch.len() <= MAX_BATCH_EVENTS, "a batch of {} events was accepted", batch.len());
        for event in &batch {
            assert!(AI_EVENT_TYPES.contains(&event.event_type.as_str()), "unknown type {} accepted", event.event_type);
        }
    }
});
