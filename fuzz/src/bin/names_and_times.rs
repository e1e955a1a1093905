//! Namespace paths and timestamps as producers send them: validation never panics, a valid
//! path's prefixes are valid paths, and an accepted timestamp formats and parses back.
#![no_main]

use auditrelay_core::names::{path_prefixes, validate_full_path};
use auditrelay_core::time::{format_micros, parse_timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if validate_full_path(text).is_ok() {
        for prefix in path_prefixes(text) {
            assert!(validate_full_path(prefix).is_ok(), "prefix {prefix:?} of valid {text:?}");
        }
    }
    if let Some(micros) = parse_timestamp(text) {
        let shown = format_micros(micros);
        let again = parse_timestamp(&shown).expect("a formatted timestamp parses");
        assert_eq!(again, micros - micros.rem_euclid(1000), "{text:?} → {shown}");
    }
});
