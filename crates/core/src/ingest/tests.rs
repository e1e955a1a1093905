//! The ingest parser: accepted shapes, messages naming event and field, limits, and no panics.

use super::*;

fn parse(body: &str) -> Result<Vec<NewEvent>, IngestError> {
    parse_ingest_body(body.as_bytes(), false, IngestLimits::default())
}

fn error(body: &str) -> String {
    match parse(body).unwrap_err() {
        IngestError::Invalid(m) | IngestError::TooLarge(m) => m,
    }
}

const OK: &str = r#"{"event_type":"user_created","entity_type":"Group","entity_path":"acme/team"}"#;

#[test]
fn accepts_object_array_and_ndjson() {
    assert_eq!(parse(OK).unwrap().len(), 1);
    assert_eq!(parse(&format!("[{OK},{OK}]")).unwrap().len(), 2);
    let nd = format!("{OK}\n\n{OK}\n");
    assert_eq!(parse_ingest_body(nd.as_bytes(), true, IngestLimits::default()).unwrap().len(), 2);
}

#[test]
fn producer_ids_are_text() {
    let events =
        parse(&format!(r#"[{{"id":5,{0}}},{{"id":"5",{0}}},{{"id":"a b",{0}}}]"#, &OK[1..OK.len() - 1])).unwrap();
    assert_eq!(events[0].producer_id, Some(EventId::Str("5".into())));
    assert_eq!(events[1].producer_id, Some(EventId::Str("5".into())));
    assert_eq!(events[2].producer_id, Some(EventId::Str("a b".into())));
}

#[test]
fn nul_characters_are_refused_naming_the_field() {
    let with = |field: &str| error(&format!(r#"{{"event_type":"x","entity_type":"Group","entity_id":1,{field}}}"#));
    assert_eq!(
        with(r#""author_name":"a\u0000""#),
        "event 0: author_name contains a NUL character (\\u0000), which cannot be stored"
    );
    assert!(with(r#""details":{"a":[{"b":"\u0000"}]}"#).starts_with("event 0: details.a[0].b contains a NUL"));
    assert!(with(r#""details":{"k\u0000":1}"#).starts_with("event 0: a key in details contains a NUL"));
    assert!(with(r#""target_details":"\u0000""#).starts_with("event 0: target_details contains a NUL"));
    assert!(with(r#""id":"\u0000""#).starts_with("event 0: id contains a NUL"));
    assert!(error(r#"{"x\u0000":1}"#).starts_with("event 0: a field name contains a NUL"));
    let six_chars = r#"{"event_type":"x","entity_type":"Group","entity_id":1,"details":{"t":"\\u0000"}}"#;
    assert!(parse(six_chars).is_ok(), "an escaped backslash followed by u0000 is plain text");
}

#[test]
fn names_the_event_and_field() {
    assert_eq!(error(r#"[{"entity_type":"Group","entity_id":1}]"#), "event 0: event_type is required");
    let msg = error(&format!(r#"[{OK},{{"event_type":"x","entity_type":"Group","entity_id":"7"}}]"#));
    assert_eq!(msg, "event 1: entity_id must be an integer, not a string");
    assert!(error(r#"{"event_type":"x","entity_type":"Planet","entity_id":1}"#).contains("entity_type 'Planet'"));
    assert!(error(r#"{"event_type":"x","entity_type":"Group"}"#).contains("entity_id or entity_path"));
    assert!(
        error(r#"{"event_type":"x","entity_type":"Group","entity_id":1,"bogus":1}"#).contains("unknown field 'bogus'")
    );
    assert!(error(r#"{"event_type":"a\nb","entity_type":"Group","entity_id":1}"#).contains("event_type"));
    assert!(
        error(r#"{"event_type":"x","entity_type":"Group","entity_id":1,"created_at":"soon"}"#).contains("created_at")
    );
    assert!(
        error(r#"{"event_type":"x","entity_type":"Group","entity_id":1,"ip_address":"999.1.1.1"}"#)
            .contains("ip_address")
    );
    assert!(
        error(r#"{"event_type":"x","entity_type":"Group","entity_id":1,"details":[]}"#)
            .contains("details must be an object")
    );
    assert!(error(r#"{"event_type":"x","entity_type":"Project","entity_path":"solo"}"#).contains("Project"));
    assert!(error("[1]").contains("event 0: must be a JSON object"));
    assert!(error("[]").contains("no events"));
    assert!(error("{").contains("not valid JSON"));
    assert!(error("\"str\"").contains("object or an array"));
}

#[test]
fn instance_scope_gets_gitlab_defaults() {
    let e = &parse(r#"{"event_type":"x","entity_type":"Gitlab::Audit::InstanceScope"}"#).unwrap()[0];
    assert_eq!(e.entity_id, Some(INSTANCE_SCOPE_ID));
    assert_eq!(e.entity_path.as_deref(), Some(INSTANCE_SCOPE_PATH));
}

#[test]
fn limits_give_too_large() {
    let limits = IngestLimits { max_events: 2, max_body_bytes: 10_000 };
    let three = format!("[{OK},{OK},{OK}]");
    assert!(matches!(parse_ingest_body(three.as_bytes(), false, limits), Err(IngestError::TooLarge(_))));
    let limits = IngestLimits { max_events: 10, max_body_bytes: 10 };
    assert!(matches!(parse_ingest_body(OK.as_bytes(), false, limits), Err(IngestError::TooLarge(_))));
}

proptest::proptest! {
    #[test]
    fn never_panics_on_random_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512), nd in proptest::bool::ANY) {
        let _ = parse_ingest_body(&bytes, nd, IngestLimits::default());
    }

    #[test]
    fn never_panics_on_random_json_events(
        keys in proptest::collection::vec(proptest::sample::select(Field::ALL.map(Field::name).to_vec()), 0..8),
        values in proptest::collection::vec(json_value(), 8),
    ) {
        let object: Map<String, Value> = keys.iter().zip(values).map(|(k, v)| (k.to_string(), v)).collect();
        let body = Value::Array(vec![Value::Object(object)]).to_string();
        let _ = parse_ingest_body(body.as_bytes(), false, IngestLimits::default());
    }

    /// The fast reading (fields straight into slots) agrees with reading JSON values first
    /// (which only bodies that may hold a NUL take), for bodies with known and unknown fields, repeated keys, nulls and items that are not
    /// objects, as an array, one object and NDJSON.
    #[test]
    fn reading_into_slots_agrees_with_reading_values(
        items in proptest::collection::vec(item(), 1..4),
        nd in proptest::bool::ANY,
    ) {
        let body = if nd {
            items.iter().map(|item| format!("{item}\n")).collect::<String>()
        } else if items.len() == 1 {
            items[0].clone()
        } else {
            format!("[{}]", items.join(","))
        };
        proptest::prop_assume!(!reading::may_hold_nul(body.as_bytes()));
        let read = |via_values| {
            let items = if nd { reading::read_ndjson(body.as_bytes(), via_values) } else { reading::read_json(body.as_bytes(), via_values) };
            items.map_err(|e| format!("{e:?}"))
        };
        proptest::prop_assert_eq!(read(true), read(false));
    }
}

/// One item's JSON text: usually an object of known and unknown fields (keys may repeat), at
/// times another JSON value.
fn item() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let mut keys: Vec<&str> = Field::ALL.map(Field::name).to_vec();
    keys.extend(["bogus", "Event_Type", "détails"]);
    let field = (proptest::sample::select(keys), json_value());
    let object = proptest::collection::vec(field, 0..10).prop_map(|fields| {
        let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{v}", Value::from(*k))).collect();
        format!("{{{}}}", fields.join(","))
    });
    prop_oneof![8 => object, 1 => json_value().prop_map(|v| v.to_string())]
}

fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("Group")),
        Just(Value::from("a/b")),
        Just(Value::Array(vec![])),
        Just(serde_json::json!([1, {"a": [null]}])),
        Just(serde_json::json!({"k": 1})),
        Just(serde_json::json!({"z": {"y": "é"}, "a": [1.5, "\\u0000"]})),
    ]
}
