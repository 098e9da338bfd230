//! `apply_patch`: RFC 6902 JSON Patches written from Rust. They apply in
//! place, all or nothing, and are pushed to windows as written.

mod common;

use std::time::Duration;

use common::{nested, Harness};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tauri_plugin_state_sync::{Builder, CatchUp, Revision, StateSyncExt, MAX_DEPTH};

/// A list long enough that the history keeps a one-element change.
fn list() -> Value {
    let items: Vec<Value> = (0..200).map(|id| json!({"id": id, "done": false})).collect();
    json!({ "items": items })
}

fn app() -> Harness {
    Harness::new(Builder::new().push_interval(Duration::ZERO).topic("list", list()))
}

/// [`app`] with the window `main` subscribed to `list`.
fn subscribed() -> Harness {
    let harness = app();
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "list").unwrap();
    harness
}

#[test]
fn one_element_of_a_list_is_replaced_and_pushed_as_the_operation_itself_without_its_test() {
    let harness = subscribed();
    let sync = harness.app.state_sync();

    let replace = json!({"op": "replace", "path": "/items/120/done", "value": true});
    let test = json!({"op": "test", "path": "/items/120/id", "value": 120});
    let outcome = sync.apply_patch("list", json!([test, replace])).unwrap();
    // The test was checked on the commit; a window at the revision before
    // holds the same data, so it gets only what changes it.
    let ops = json!([replace]);

    assert_eq!(outcome.revision, Revision::new(1));
    let mut expected = list();
    expected["items"][120]["done"] = json!(true);
    assert_eq!(*sync.get("list").unwrap().data, expected);
    let messages = harness.received("main");
    assert_eq!(messages.len(), 1);
    assert_eq!((&messages[0]["from"], &messages[0]["patch"]), (&json!("0"), &ops));
    match sync.get_since("list", Revision::ZERO).unwrap() {
        CatchUp::Delta(delta) => assert_eq!(serde_json::from_str::<Value>(delta.patch.as_str()).unwrap(), ops),
        other => panic!("the history should hold the patch: {other:?}"),
    }
}

#[test]
fn a_failing_operation_leaves_the_topic_as_it_was_and_names_the_operation() {
    let harness = app();
    let sync = harness.app.state_sync();
    let ops = json!([
        {"op": "replace", "path": "/items/0/done", "value": true},
        {"op": "remove", "path": "/items/200"},
    ]);

    let err = sync.apply_patch("list", ops).unwrap_err();

    assert_eq!(err.code(), "INVALID_PATCH");
    let message = err.to_string();
    assert!(message.contains("`list`") && message.contains("operation 1 at `/items/200`"), "{message}");
    let now = sync.get("list").unwrap();
    assert_eq!((now.revision, &*now.data), (Revision::ZERO, &list()));
    assert!(harness.take_events().is_empty());
}

#[test]
fn a_failed_test_refuses_the_whole_patch() {
    let harness = app();
    let sync = harness.app.state_sync();
    let ops = json!([
        {"op": "replace", "path": "/items/3/done", "value": true},
        {"op": "test", "path": "/items/3/id", "value": 4},
    ]);

    let err = sync.apply_patch("list", ops).unwrap_err();

    assert_eq!(err.code(), "INVALID_PATCH");
    assert!(err.to_string().contains("operation 1 at `/items/3/id`: value did not match"), "{err}");
    assert_eq!(*sync.get("list").unwrap().data, list());
}

#[test]
fn a_patch_that_writes_what_is_already_there_keeps_the_revision_and_announces_nothing() {
    let harness = app();
    let sync = harness.app.state_sync();
    let ops = json!([
        {"op": "test", "path": "/items/5", "value": {"id": 5, "done": false}},
        {"op": "replace", "path": "/items/5/done", "value": false},
        {"op": "add", "path": "/items/6/id", "value": 6},
    ]);

    let outcome = sync.apply_patch("list", ops).unwrap();

    assert!(!outcome.changed());
    assert_eq!(sync.get("list").unwrap().revision, Revision::ZERO);
    assert!(harness.take_events().is_empty());
}

#[test]
fn an_add_into_a_list_always_changes_it() {
    let harness = app();
    let sync = harness.app.state_sync();
    let outcome = sync
        .apply_patch("list", json!([{"op": "add", "path": "/items/0", "value": {"id": 0, "done": false}}]))
        .unwrap();
    assert!(outcome.changed());
    assert_eq!(sync.get("list").unwrap().data["items"].as_array().unwrap().len(), 201);
}

#[test]
fn operations_that_undo_each_other_change_nothing() {
    let harness = app();
    let sync = harness.app.state_sync();
    for ops in [
        json!([
            {"op": "replace", "path": "/items/0/done", "value": true},
            {"op": "replace", "path": "/items/0/done", "value": false},
        ]),
        json!([
            {"op": "add", "path": "/items/0", "value": 1},
            {"op": "remove", "path": "/items/0"},
        ]),
        json!([
            {"op": "add", "path": "/extra", "value": 1},
            {"op": "remove", "path": "/extra"},
        ]),
    ] {
        let outcome = sync.apply_patch("list", ops.clone()).unwrap();
        assert!(!outcome.changed(), "{ops}");
    }
    assert_eq!(sync.get("list").unwrap().revision, Revision::ZERO);
    assert!(harness.take_events().is_empty());
}

#[test]
fn operations_on_places_apart_apply_in_one_revision_and_are_pushed_as_written() {
    let harness = subscribed();
    let sync = harness.app.state_sync();
    let ops = json!([
        {"op": "replace", "path": "/items/7/done", "value": true},
        {"op": "replace", "path": "/items/70/done", "value": true},
        {"op": "add", "path": "/filter", "value": "open"},
    ]);

    let outcome = sync.apply_patch("list", ops.clone()).unwrap();

    assert_eq!(outcome.revision, Revision::new(1));
    assert_eq!(harness.received("main")[0]["patch"], ops);
}

#[test]
fn operations_that_meet_reach_windows_as_the_diff_of_what_they_did() {
    let harness = subscribed();
    let sync = harness.app.state_sync();
    let ops = json!([
        {"op": "replace", "path": "/items/9/done", "value": true},
        {"op": "test", "path": "/items/9/done", "value": true},
        {"op": "remove", "path": "/items/199"},
    ]);

    sync.apply_patch("list", ops).unwrap();

    let mut expected = list();
    expected["items"][9]["done"] = json!(true);
    expected["items"].as_array_mut().unwrap().pop();
    assert_eq!(*sync.get("list").unwrap().data, expected);
    let message = harness.received("main").pop().unwrap();
    let patch: json_patch::Patch = serde_json::from_value(message["patch"].clone()).unwrap();
    let mut replayed = list();
    json_patch::patch(&mut replayed, &patch).unwrap();
    assert_eq!(replayed, expected);
}

#[test]
fn move_and_copy_reach_windows_as_operations_they_apply() {
    let harness = Harness::new(Builder::new().push_interval(Duration::ZERO).topic("doc", json!({"a": {"x": 1}, "b": [1, 2]})));
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "doc").unwrap();
    let sync = harness.app.state_sync();

    sync.apply_patch(
        "doc",
        json!([
            {"op": "move", "from": "/a", "path": "/c"},
            {"op": "copy", "from": "/b/1", "path": "/b/0"},
        ]),
    )
    .unwrap();

    let now = sync.get("doc").unwrap();
    assert_eq!(*now.data, json!({"b": [2, 1, 2], "c": {"x": 1}}));
    let message = harness.received("main").pop().unwrap();
    let patch: json_patch::Patch = serde_json::from_value(message["patch"].clone()).unwrap();
    assert!(
        patch.0.iter().all(|op| !matches!(op, json_patch::PatchOperation::Move(_) | json_patch::PatchOperation::Copy(_))),
        "{patch}"
    );
    let mut data = json!({"a": {"x": 1}, "b": [1, 2]});
    json_patch::patch(&mut data, &patch).unwrap();
    assert_eq!(data, *now.data);
}

#[test]
fn a_patch_that_is_not_an_array_of_operations_is_refused_with_a_typed_error() {
    let harness = app();
    let sync = harness.app.state_sync();
    for (patch, says) in [
        (json!({"items": []}), "must be an array of operations"),
        (json!([{"op": "rename", "path": "/items"}]), "not an RFC 6902 JSON Patch"),
        (json!([{"op": "replace", "path": "items", "value": 1}]), "not an RFC 6902 JSON Patch"),
        (json!([{"op": "add", "path": "/items/0"}]), "not an RFC 6902 JSON Patch"),
    ] {
        let err = sync.apply_patch("list", patch.clone()).unwrap_err();
        assert_eq!(err.code(), "INVALID_PATCH", "{patch}");
        assert!(err.to_string().contains(says), "{patch}: {err}");
    }
    assert_eq!(sync.get("list").unwrap().revision, Revision::ZERO);
}

#[test]
fn a_value_that_would_nest_past_the_limit_is_refused() {
    let harness = Harness::new(Builder::new().topic("doc", json!({"a": {"b": {}}})));
    let sync = harness.app.state_sync();
    // Two levels above the path's target, so the limit less one fits.
    let fits = json!([{"op": "add", "path": "/a/b/c", "value": nested(MAX_DEPTH - 3)}]);
    let deep = json!([{"op": "add", "path": "/a/b/c", "value": nested(MAX_DEPTH - 2)}]);

    assert_eq!(sync.apply_patch("doc", deep).unwrap_err().code(), "TOO_DEEP");
    assert_eq!(sync.get("doc").unwrap().revision, Revision::ZERO);
    sync.apply_patch("doc", fits).unwrap();
    assert_eq!(sync.get("doc").unwrap().revision, Revision::new(1));
}

#[test]
fn a_patch_while_a_reader_holds_the_data_leaves_the_readers_copy_as_it_was() {
    let harness = app();
    let sync = harness.app.state_sync();
    let held = sync.get("list").unwrap();

    sync.apply_patch("list", json!([{"op": "remove", "path": "/items/0"}])).unwrap();

    assert_eq!((held.revision, &*held.data), (Revision::ZERO, &list()));
    assert_eq!(sync.get("list").unwrap().data["items"][0]["id"], json!(1));
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Settings {
    theme: String,
    zoom: u8,
}

#[test]
fn a_typed_topic_validates_the_patched_value() {
    let harness = Harness::new(Builder::new().typed_topic(
        "settings",
        Settings {
            theme: "light".into(),
            zoom: 1,
        },
    ));
    let sync = harness.app.state_sync();

    let err = sync
        .apply_patch("settings", json!([{"op": "replace", "path": "/zoom", "value": "big"}]))
        .unwrap_err();
    assert_eq!(err.code(), "VALIDATION_FAILED");
    assert_eq!(sync.get("settings").unwrap().revision, Revision::ZERO);

    sync.apply_patch("settings", json!([{"op": "replace", "path": "/zoom", "value": 3}])).unwrap();
    assert_eq!(sync.get("settings").unwrap().data["zoom"], json!(3));
}

#[test]
fn a_move_onto_an_ancestor_of_its_source_then_a_failing_operation_is_refused_without_a_panic() {
    // json-patch 5 undoes such a patch by moving the value back under a
    // parent that no longer exists, and panics; found by the history property.
    let data = json!({"doc": {"": 1, "a": [1, 2]}});
    let harness = Harness::new(Builder::new().topic("t", data.clone()));
    let sync = harness.app.state_sync();
    let ops = json!([
        {"op": "move", "from": "/doc", "path": "/doc"},
        {"op": "move", "from": "/doc/", "path": "/doc"},
        {"op": "test", "path": "/missing", "value": 1},
    ]);

    let err = sync.apply_patch("t", ops).unwrap_err();

    assert_eq!(err.code(), "INVALID_PATCH");
    assert_eq!(*sync.get("t").unwrap().data, data);
}
