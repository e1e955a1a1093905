//! GitLab's field rules for destinations (names, tokens, headers, GCP and AWS fields, event-type
//! filters): any text gives `Ok` or a message, never a panic.
#![no_main]

use auditrelay_core::destination::rules;
use libfuzzer_sys::fuzz_target;

type Rule = fn(&str) -> Result<(), String>;

const RULES: [Rule; 12] = [
    rules::name,
    rules::verification_token,
    rules::http_secret_token,
    rules::header_key,
    rules::header_value,
    rules::google_project_id_name,
    rules::log_id_name,
    rules::client_email,
    rules::access_key_xid,
    rules::bucket_name,
    rules::aws_region,
    rules::event_type_filter,
];

fuzz_target!(|data: &[u8]| {
    let (selector, rest) = auditrelay_fuzz::selector(data);
    let Ok(text) = std::str::from_utf8(rest) else { return };
    if let Err(message) = RULES[usize::from(selector) % RULES.len()](text) {
        assert!(!message.is_empty());
    }
    let _ = rules::secret("secret", text);
});
