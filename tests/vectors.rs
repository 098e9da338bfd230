//! Replays `docs/protocol-vectors.json` against the plugin through real IPC.
//! The TypeScript binding tests against the same file.

mod common;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tauri_plugin_state_sync::{
    Builder, Invalidation, Revision, StateSyncExt, INVALIDATION_EVENT, RUST_SOURCE_ID,
};

use common::Harness;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/protocol-vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read vectors")).expect("parse vectors")
}

/// The typed topic of the fixture: `{ volume: u8, muted: bool = false }`.
#[derive(Serialize, Deserialize)]
struct Prefs {
    volume: u8,
    #[serde(default)]
    muted: bool,
}

fn fixture_app(vectors: &Value) -> Harness {
    let topics = &vectors["fixture"]["topics"];
    let prefs: Prefs = serde_json::from_value(topics["prefs"].clone()).unwrap();
    let builder = Builder::new()
        .topic("settings", topics["settings"].clone())
        .topic("counter", topics["counter"].clone())
        .typed_topic("prefs", prefs);
    Harness::new(builder)
}

/// Every key of `expected` is in `actual` with the same value.
fn assert_subset(actual: &Value, expected: &Value, context: &str) {
    let (Some(actual), Some(expected)) = (actual.as_object(), expected.as_object()) else {
        panic!("{context}: expected an error object, got {actual}");
    };
    for (key, value) in expected {
        assert_eq!(actual.get(key), Some(value), "{context}: field `{key}` in {actual:?}");
    }
    assert!(actual["message"].as_str().is_some_and(|m| !m.is_empty()), "{context}: no message");
}

#[test]
fn constants_match_the_vectors() {
    let vectors = vectors();
    assert_eq!(vectors["eventName"], INVALIDATION_EVENT);
    assert_eq!(vectors["rustSourceId"], RUST_SOURCE_ID);
}

#[test]
fn canonical_revisions_round_trip_and_invalid_ones_are_refused() {
    let vectors = vectors();
    for text in vectors["revisions"]["canonical"].as_array().unwrap() {
        let revision = Revision::deserialize(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(serde_json::to_value(revision).unwrap(), *text);
    }
    for value in vectors["revisions"]["invalid"].as_array().unwrap() {
        assert!(Revision::deserialize(value).is_err(), "{value} was accepted");
    }
    let ordered: Vec<Revision> = vectors["revisions"]["ordered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|text| Revision::deserialize(text).unwrap())
        .collect();
    assert!(ordered.windows(2).all(|pair| pair[0] < pair[1]));
}

#[test]
fn pushed_change_vectors_are_the_messages_a_subscribed_window_receives() {
    for case in vectors()["pushedChanges"].as_array().unwrap() {
        let context = case["name"].as_str().unwrap();
        let harness = Harness::new(Builder::new().topic("t", case["data"].clone()));
        let main = harness.window("main", &["state-sync:default"]);
        harness.subscribe(&main, "t").unwrap();
        let mut args = case["args"].clone();
        args["topic"] = json!("t");
        harness.invoke(&main, case["command"].as_str().unwrap(), args).unwrap();
        assert_eq!(harness.received("main"), [case["message"].clone()], "{context}");
        assert_eq!(*harness.app.state_sync().get("t").unwrap().data, case["result"], "{context}");
    }
}

#[test]
fn merge_patch_vectors_apply_as_rfc_7396_says() {
    let harness = Harness::new(Builder::new().topic("doc", Value::Null));
    let sync = harness.app.state_sync();
    for case in vectors()["mergePatches"].as_array().unwrap() {
        sync.set("doc", case["target"].clone()).unwrap();
        sync.patch("doc", case["patch"].clone()).unwrap();
        assert_eq!(*sync.get("doc").unwrap().data, case["result"], "case {case}");
    }
}

#[test]
fn scenarios_replay_through_ipc_with_their_results_errors_and_events() {
    let vectors = vectors();
    let label = vectors["fixture"]["webviewLabel"].as_str().unwrap();
    for scenario in vectors["scenarios"].as_array().unwrap() {
        let name = scenario["name"].as_str().unwrap();
        let harness = fixture_app(&vectors);
        let window = harness.window(label, &["state-sync:default"]);
        for (index, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            let context = format!("{name}, step {index} ({})", step["command"]);
            let result = harness.invoke(&window, step["command"].as_str().unwrap(), step["args"].clone());
            match (&result, step.get("ok"), step.get("error")) {
                (Ok(actual), Some(expected), None) => assert_eq!(actual, expected, "{context}"),
                (Err(actual), None, Some(expected)) => assert_subset(actual, expected, &context),
                _ => panic!("{context}: got {result:?}, vector says {step}"),
            }
            let expected: Vec<Invalidation> = serde_json::from_value(step["events"].clone()).unwrap();
            assert_eq!(harness.take_events(), expected, "{context}: events");
        }
    }
}

#[test]
fn errors_serialize_as_code_message_and_details() {
    let harness = Harness::new(Builder::new().topic("t", json!(1)));
    let sync = harness.app.state_sync();
    sync.set("t", 2).unwrap();
    let err = sync
        .compare_and_set("t", Revision::ZERO, 3)
        .expect_err("stale compare-and-set");
    assert_eq!(
        serde_json::to_value(&err).unwrap(),
        json!({
            "code": "REVISION_CONFLICT",
            "message": "revision conflict on `t`: expected revision 0, the topic is at 1",
            "topic": "t",
            "expectedRevision": "0",
            "currentRevision": "1",
            "currentData": 2,
        })
    );
}
