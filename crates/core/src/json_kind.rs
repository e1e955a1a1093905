//! How messages name the kind of a JSON value a producer sent ("must be a string, not a number").

use serde_json::Value;

/// The kind of `value`, with its article, as a message says it.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
