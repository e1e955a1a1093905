//! Values every backend can store. PostgreSQL's `TEXT` cannot hold a NUL character (SQLite's
//! can), so text with one is refused at the door, naming where it is, instead of failing a
//! commit that other requests share.

use serde_json::{Map, Value};
use std::fmt;

/// Where a JSON value holds a NUL character: in a string value, or in an object's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NulAt {
    /// The field's path, e.g. `details.steps[2].name` (empty: the value itself).
    pub path: String,
    /// The NUL is in a key of the object at `path`, not in a value.
    pub in_key: bool,
}

impl fmt::Display for NulAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.in_key, self.path.is_empty()) {
            (true, true) => f.write_str("a field name contains a NUL character (\\u0000), which cannot be stored"),
            (true, false) => {
                write!(f, "a key in {} contains a NUL character (\\u0000), which cannot be stored", self.path)
            }
            (false, true) => f.write_str("the value contains a NUL character (\\u0000), which cannot be stored"),
            (false, false) => write!(f, "{} contains a NUL character (\\u0000), which cannot be stored", self.path),
        }
    }
}

/// The first place, in document order, where `value` holds a NUL character.
/// Depth is bounded by the JSON parser's recursion limit (128), so recursion is safe here.
pub fn find_nul(value: &Value) -> Option<NulAt> {
    let mut path = String::new();
    find_in(value, &mut path)
}

/// [`find_nul`] for the fields of an object (an event before it is parsed).
pub fn find_nul_in_object(fields: &Map<String, Value>) -> Option<NulAt> {
    let mut path = String::new();
    find_in_object(fields, &mut path)
}

fn find_in_object(map: &Map<String, Value>, path: &mut String) -> Option<NulAt> {
    map.iter().find_map(|(key, item)| {
        if key.contains('\0') {
            return Some(NulAt { path: path.clone(), in_key: true });
        }
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        let found = find_in(item, path);
        path.truncate(len);
        found
    })
}

fn find_in(value: &Value, path: &mut String) -> Option<NulAt> {
    match value {
        Value::String(s) if s.contains('\0') => Some(NulAt { path: path.clone(), in_key: false }),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = find_in(item, path);
            path.truncate(len);
            found
        }),
        Value::Object(map) => find_in_object(map, path),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn at(path: &str, in_key: bool) -> Option<NulAt> {
        Some(NulAt { path: path.into(), in_key })
    }

    #[test]
    fn names_the_field_at_any_depth() {
        assert_eq!(find_nul(&json!({"a": "x", "b": 1})), None);
        assert_eq!(find_nul(&json!({"author_name": "a\u{0}b"})), at("author_name", false));
        assert_eq!(
            find_nul(&json!({"details": {"steps": [{}, {"name": "\u{0}"}]}})),
            at("details.steps[1].name", false)
        );
        assert_eq!(find_nul(&json!({"details": {"k\u{0}": 1}})), at("details", true));
        assert_eq!(find_nul(&json!({"x\u{0}": 1})), at("", true));
        assert_eq!(find_nul(&json!("\u{0}")), at("", false));
    }

    #[test]
    fn messages_say_where_and_why() {
        let found = find_nul(&json!({"details": {"a": ["\u{0}"]}})).unwrap();
        assert_eq!(found.to_string(), "details.a[0] contains a NUL character (\\u0000), which cannot be stored");
        let key = find_nul(&json!({"details": {"\u{0}": 1}})).unwrap();
        assert_eq!(key.to_string(), "a key in details contains a NUL character (\\u0000), which cannot be stored");
    }

    fn json_tree() -> impl Strategy<Value = Value> {
        let leaf =
            prop_oneof![Just(Value::Null), any::<i64>().prop_map(Value::from), "[a-z\u{0}]{0,4}".prop_map(Value::from)];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z\u{0}]{0,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Found exactly when the serialized text has an escaped NUL (serde_json writes `\u0000`).
        #[test]
        fn found_iff_the_json_text_has_a_nul(value in json_tree()) {
            let has_nul = value.to_string().contains("\\u0000");
            prop_assert_eq!(find_nul(&value).is_some(), has_nul);
        }
    }
}
