//! The envelope rules, on events in the exact shapes of the Duo Workflow Service.

use super::*;
use proptest::prelude::*;
use serde_json::json;

/// An event as the workflow service builds it, for workflow 42.
fn event(id: &str, event_type: &str, data: Value) -> Value {
    let mut data = data;
    data["workflow_id"] = json!("42");
    json!({"specversion": "1.0", "id": id, "type": event_type, "source": "/duo_workflow_service",
        "subject": "42", "time": "2026-12-01T12:00:00.123456Z", "datacontenttype": "application/json",
        "sequence": 1, "data": data})
}

fn start(id: &str) -> Value {
    event(id, "ai_agent_session_started", json!({"workflow_type": "software_development", "goal": "fix the build"}))
}

fn parse(value: Value) -> Result<Vec<CloudEvent>, AiBatchError> {
    parse_workflow_batch(value.to_string().as_bytes(), 42)
}

fn message(value: Value) -> String {
    match parse(value) {
        Err(AiBatchError::Invalid(m)) => m,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn the_producers_shapes_parse_and_data_is_kept_as_sent() {
    let mut response = event(
        "b",
        "ai_llm_response_received",
        json!({"model_name": "claude-sonnet", "response_content": "hi", "prompt_token_count": null,
            "latency_ms": 812.25, "future": {"nested": [1, "two", null, 3.5e300]}}),
    );
    response["sequence"] = Value::Null;
    let events = parse(json!([start("a"), response])).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].id, "a");
    assert_eq!(events[0].source, "/duo_workflow_service");
    assert_eq!(events[0].sequence, Some(1));
    assert_eq!(events[0].time_text, "2026-12-01T12:00:00.123456Z");
    assert_eq!(events[0].time % 1_000_000, 123_456);
    assert_eq!(events[1].sequence, None);
    let keys: Vec<&String> = events[1].data.keys().collect();
    assert_eq!(
        keys,
        ["model_name", "response_content", "prompt_token_count", "latency_ms", "future", "workflow_id"],
        "key order is kept"
    );
    assert_eq!(events[1].data["latency_ms"], 812.25);
    assert_eq!(events[1].data["future"]["nested"][3], 3.5e300);
}

#[test]
fn any_fraction_digits_and_offsets_are_rfc_3339() {
    for time in [
        "2026-12-01T12:00:00Z",
        "2026-12-01T12:00:00.1Z",
        "2026-12-01T12:00:00.123456789Z",
        "2026-12-01T13:00:00.5+01:00",
    ] {
        let mut e = start("a");
        e["time"] = json!(time);
        assert!(parse(json!([e])).is_ok(), "{time}");
    }
}

#[test]
fn every_bad_event_is_named_with_index_and_id() {
    let mut unknown = start("u");
    unknown["type"] = json!("ai_made_up");
    let mut no_id = start("x");
    no_id.as_object_mut().unwrap().remove("id");
    let mut old = start("o");
    old["specversion"] = json!("0.3");
    let mut float_sequence = start("f");
    float_sequence["sequence"] = json!(2.5);
    let m = message(json!([start("ok"), unknown, no_id, old, float_sequence, 7]));
    assert!(m.contains("5 of 6 events are invalid"), "{m}");
    assert!(m.contains("event 1 (id \"u\"): type \"ai_made_up\" is not one of the AI event types"), "{m}");
    assert!(m.contains("event 2 (no id): id is required"), "{m}");
    assert!(m.contains("event 3 (id \"o\"): specversion must be \"1.0\", not \"0.3\""), "{m}");
    assert!(m.contains("event 4 (id \"f\"): sequence must be an integer or null, not 2.5"), "{m}");
    assert!(m.contains("event 5 (no id): must be a JSON object"), "{m}");
    assert!(!m.contains("event 0"), "{m}");
}

#[test]
fn batch_shape_and_limits() {
    assert!(message(start("a")).contains("must be a JSON array"));
    assert!(message(json!([])).contains("no events"));
    let many: Vec<Value> = (0..=MAX_BATCH_EVENTS).map(|i| start(&i.to_string())).collect();
    assert!(message(Value::Array(many)).contains("501 events; the limit is 500"));
    let big = vec![b' '; MAX_BATCH_BYTES + 1];
    assert!(matches!(parse_cloudevents_batch(&big), Err(AiBatchError::TooLarge(_))));
    assert!(matches!(parse_cloudevents_batch(b"[{"), Err(AiBatchError::Invalid(m)) if m.contains("not valid JSON")));
}

#[test]
fn attributes_are_checked() {
    let mut e = start("a");
    e["time"] = json!("yesterday");
    e["data"] = json!([1]);
    e["source"] = json!("");
    let m = message(json!([e]));
    assert!(m.contains("time \"yesterday\" is not an RFC 3339 timestamp"), "{m}");
    assert!(m.contains("data must be a JSON object, not an array"), "{m}");
    assert!(m.contains("source must not be empty"), "{m}");
    let mut e = start("a");
    e["datacontenttype"] = json!("text/plain");
    assert!(message(json!([e])).contains("datacontenttype must be application/json, not \"text/plain\""));
    let mut e = start("a");
    e["id"] = json!("x".repeat(MAX_ID_LEN + 1));
    assert!(message(json!([e])).contains("id is too long (maximum is 255 characters)"));
    for ok in ["application/json; charset=utf-8", "application/cloudevents+json"] {
        let mut e = start("a");
        e["datacontenttype"] = json!(ok);
        assert!(parse(json!([e])).is_ok(), "{ok}");
    }
}

#[test]
fn nul_characters_are_named_by_their_path() {
    let mut e = event("n", "ai_tool_invoked", json!({"tool_name": "grep", "tool_args": {"paths": ["a", "b\u{0}c"]}}));
    e["source"] = json!("/dws\u{0}");
    let m = message(json!([e]));
    assert!(m.contains("data.tool_args.paths[1] contains a NUL character"), "{m}");
    assert!(m.contains("source contains a NUL character"), "{m}");
}

#[test]
fn the_workflow_named_must_be_the_urls() {
    let mut e = start("w");
    e["subject"] = json!("43");
    e["data"]["workflow_id"] = json!(44);
    let m = message(json!([e]));
    assert!(m.contains("subject \"43\" is not the workflow of the URL (42)"), "{m}");
    assert!(m.contains("data.workflow_id 44 is not the workflow of the URL (42)"), "{m}");
    let mut as_integer = start("i");
    as_integer["subject"] = json!(42);
    as_integer["data"]["workflow_id"] = json!(42);
    let mut absent = start("n");
    absent.as_object_mut().unwrap().remove("subject");
    absent["data"].as_object_mut().unwrap().remove("workflow_id");
    assert!(parse(json!([as_integer, absent])).is_ok());
    assert!(parse_cloudevents_batch(json!([e]).to_string().as_bytes()).is_ok(), "no workflow to compare with");
}

#[test]
fn a_repeated_id_in_one_batch_is_refused() {
    let m = message(json!([start("a"), start("a")]));
    assert!(m.contains("event 1 (id \"a\"): repeats the source and id of event 0"), "{m}");
}

/// Any JSON value, nested a few levels, without NUL characters.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "[^\u{0}]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[^\u{0}]{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_json_object_as_data_is_accepted_as_sent(
        fields in proptest::collection::btree_map("[^\u{0}]{0,10}", any_json(), 0..8),
        t in proptest::sample::select(AI_EVENT_TYPES.to_vec()),
    ) {
        let mut data: Map<String, Value> = fields.into_iter().collect();
        data.remove("workflow_id");
        let mut e = start("p");
        e["type"] = json!(t);
        e["data"] = Value::Object(data.clone());
        let events = parse(json!([e])).unwrap();
        prop_assert_eq!(&events[0].data, &data);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_cloudevents_batch(&bytes);
    }

    #[test]
    fn arbitrary_envelopes_never_panic(ids in proptest::collection::vec(".{0,8}", 0..6), t in "ai_[a-z_]{0,20}", seq in any_json()) {
        let batch: Vec<Value> = ids.iter().map(|id| {
            let mut e = event(id, &t, json!({"session_id": id}));
            e["sequence"] = seq.clone();
            e
        }).collect();
        let _ = parse(Value::Array(batch));
    }
}
