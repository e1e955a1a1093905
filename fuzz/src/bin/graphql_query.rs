//! The GraphQL document parser the service runs every request through: any text parses or
//! fails with an error, never a panic or a stack overflow (deep nesting included).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = async_graphql_parser::parse_query(text);
});
