//! A destination's `config` JSON per category, and the URL guard: never a panic, and an accepted
//! config renders back to JSON that parses to the same config.
#![no_main]

use auditrelay_core::destination::Category;
use auditrelay_core::destination::config::parse_config;
use auditrelay_core::destination::url_guard::check_destination_url;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (selector, rest) = auditrelay_fuzz::selector(data);
    if let Ok(text) = std::str::from_utf8(rest) {
        let _ = check_destination_url(text, selector & 0x80 != 0);
    }
    let Ok(config) = serde_json::from_slice::<serde_json::Value>(rest) else { return };
    let category = Category::ALL[usize::from(selector) % Category::ALL.len()];
    if let Ok(parsed) = parse_config(category, &config) {
        let again = parse_config(category, &parsed.to_json());
        assert_eq!(again.as_ref(), Ok(&parsed), "an accepted config does not survive its own JSON form");
    }
});
