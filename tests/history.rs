//! Each topic's change history and the `since` pulls it answers: the bounds
//! of the history, `since` inside, at the edge of and beyond it, through the
//! Rust API and through real IPC with scopes, and a property test over
//! random writes that every delta leads from its revision to the current data.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::{
    prelude::*,
    test_runner::{Config, TestRunner},
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tauri_plugin_state_sync::{Builder, CatchUp, Delta, HistoryLimits, Revision, StateSync, StateSyncExt};
use tauri::test::MockRuntime;

use common::{scoped, Harness};

/// A topic's data with enough text beside `n` that a one-key patch is far
/// smaller than the data.
fn padded(n: u64) -> Value {
    json!({"n": n, "pad": "p".repeat(400)})
}

fn app(builder: Builder) -> Harness {
    Harness::new(builder.topic("t", padded(0)))
}

fn rev(n: u64) -> Revision {
    Revision::new(n)
}

/// The data of `t` at every revision from 0 to `changes`, writing `n` = 1, 2, ...
fn bump(sync: &StateSync<MockRuntime>, changes: u64) -> Vec<Value> {
    let mut seen = vec![(*sync.get("t").unwrap().data).clone()];
    for n in 1..=changes {
        sync.patch("t", json!({"n": n})).unwrap();
        seen.push((*sync.get("t").unwrap().data).clone());
    }
    seen
}

/// `patch` applied to `data`.
fn applied(data: &Value, patch: &Value) -> Value {
    let ops: json_patch::Patch = serde_json::from_value(patch.clone()).expect("an RFC 6902 patch");
    let mut data = data.clone();
    json_patch::patch(&mut data, &ops).unwrap_or_else(|err| panic!("{err}: {patch}"));
    data
}

fn expect_delta(answer: CatchUp) -> Delta {
    match answer {
        CatchUp::Delta(delta) => delta,
        other => panic!("expected a delta, got {other:?}"),
    }
}

fn patch_json(delta: &Delta) -> Value {
    serde_json::from_str(delta.patch.as_str()).unwrap()
}

/// Asserts that `answer` is the current snapshot of `t`.
fn assert_snapshot(sync: &StateSync<MockRuntime>, answer: CatchUp, context: &str) {
    match answer {
        CatchUp::Snapshot(snapshot) => assert_eq!(snapshot, sync.get("t").unwrap(), "{context}"),
        other => panic!("{context}: expected the snapshot, got {other:?}"),
    }
}

#[test]
fn since_inside_the_history_is_the_patch_from_there_to_the_current_data() {
    let harness = app(Builder::new());
    let sync = harness.app.state_sync();
    let seen = bump(sync, 5);
    for since in 0..5 {
        let delta = expect_delta(sync.get_since("t", rev(since)).unwrap());
        assert_eq!((delta.from, delta.revision), (rev(since), rev(5)));
        let patch = patch_json(&delta);
        assert_eq!(patch.as_array().unwrap().len(), 5 - since as usize, "one operation per change");
        assert_eq!(applied(&seen[since as usize], &patch), seen[5], "since {since}");
    }
}

#[test]
fn since_the_current_revision_is_an_empty_delta() {
    let harness = app(Builder::new());
    let sync = harness.app.state_sync();
    bump(sync, 2);
    let delta = expect_delta(sync.get_since("t", rev(2)).unwrap());
    assert_eq!((delta.from, delta.revision, delta.patch.as_str()), (rev(2), rev(2), "[]"));
    assert!(delta.patch.is_empty());
    let fresh = app(Builder::new());
    let delta = expect_delta(fresh.app.state_sync().get_since("t", rev(0)).unwrap());
    assert_eq!((delta.from, delta.revision, delta.patch.as_str()), (rev(0), rev(0), "[]"));
}

#[test]
fn the_count_bound_keeps_the_latest_changes_and_older_revisions_get_the_snapshot() {
    let harness = app(Builder::new().history_limits(HistoryLimits::new().max_changes(3)));
    let sync = harness.app.state_sync();
    let seen = bump(sync, 10);
    let edge = expect_delta(sync.get_since("t", rev(7)).unwrap());
    assert_eq!(applied(&seen[7], &patch_json(&edge)), seen[10], "the oldest revision kept");
    assert_snapshot(sync, sync.get_since("t", rev(6)).unwrap(), "one older than the history");
    assert_snapshot(sync, sync.get_since("t", rev(0)).unwrap(), "far older");
}

#[test]
fn the_byte_bound_keeps_the_latest_changes_and_older_revisions_get_the_snapshot() {
    // Each change is `[{"op":"replace","path":"/n","value":N}]`: 41 bytes for N < 10.
    let one = r#"[{"op":"replace","path":"/n","value":1}]"#.len();
    let harness = app(Builder::new().history_limits(HistoryLimits::new().max_bytes(one * 4)));
    let sync = harness.app.state_sync();
    let seen = bump(sync, 9);
    let edge = expect_delta(sync.get_since("t", rev(5)).unwrap());
    assert_eq!(applied(&seen[5], &patch_json(&edge)), seen[9]);
    assert_snapshot(sync, sync.get_since("t", rev(4)).unwrap(), "past the byte bound");
    // One change larger than the whole bound is not kept, and breaks the chain.
    sync.patch("t", json!({"note": "x".repeat(one * 4)})).unwrap();
    for since in [9, 5] {
        assert_snapshot(sync, sync.get_since("t", rev(since)).unwrap(), &format!("since {since}, across the large change"));
    }
    sync.patch("t", json!({"n": 1})).unwrap();
    assert!(matches!(sync.get_since("t", rev(10)).unwrap(), CatchUp::Delta(_)));
}

#[test]
fn a_change_larger_than_its_share_of_the_data_is_not_kept_and_breaks_the_chain() {
    let harness = app(Builder::new());
    let sync = harness.app.state_sync();
    bump(sync, 3);
    // Replacing the padding rewrites more than half of the data.
    sync.patch("t", json!({"pad": "q".repeat(400)})).unwrap();
    for since in 0..4 {
        assert_snapshot(sync, sync.get_since("t", rev(since)).unwrap(), &format!("since {since}"));
    }
    let before = (*sync.get("t").unwrap().data).clone();
    assert!(expect_delta(sync.get_since("t", rev(4)).unwrap()).patch.is_empty());
    sync.patch("t", json!({"n": 99})).unwrap();
    let delta = expect_delta(sync.get_since("t", rev(4)).unwrap());
    assert_eq!(applied(&before, &patch_json(&delta)), *sync.get("t").unwrap().data, "the chain starts again");
}

#[test]
fn the_share_a_patch_may_take_is_configurable() {
    // A one-key patch is about a tenth of `padded` data.
    let harness = Harness::new(
        Builder::new()
            .history_limits(HistoryLimits::new().max_patch_percent(5))
            .topic_history_limits("wide", HistoryLimits::new().max_patch_percent(15))
            .topic("t", padded(0))
            .topic("wide", padded(0)),
    );
    let sync = harness.app.state_sync();
    sync.patch("t", json!({"n": 1})).unwrap();
    sync.patch("wide", json!({"n": 1})).unwrap();
    assert_snapshot(sync, sync.get_since("t", rev(0)).unwrap(), "a patch over 5 % of the data");
    let delta = expect_delta(sync.get_since("wide", rev(0)).unwrap());
    assert_eq!(applied(&padded(0), &patch_json(&delta)), padded(1));
}

#[test]
fn a_chain_of_patches_larger_than_the_data_is_answered_with_the_data() {
    // 86 bytes of data; each patch is 41 bytes, two joined are 81, three 121.
    let harness = Harness::new(Builder::new().topic("t", json!({"n": 0, "pad": "p".repeat(70)})));
    let sync = harness.app.state_sync();
    bump(sync, 4);
    assert!(matches!(sync.get_since("t", rev(2)).unwrap(), CatchUp::Delta(_)));
    assert_snapshot(sync, sync.get_since("t", rev(1)).unwrap(), "a chain longer than the data");
}

#[test]
fn a_future_since_is_the_snapshot() {
    let harness = app(Builder::new());
    let sync = harness.app.state_sync();
    bump(sync, 2);
    for since in [3, 1_000, u64::MAX] {
        assert_snapshot(sync, sync.get_since("t", rev(since)).unwrap(), &format!("since {since}"));
    }
}

#[test]
fn a_topic_registered_again_starts_a_fresh_history() {
    let harness = Harness::new(Builder::new());
    let sync = harness.app.state_sync();
    sync.register("t", padded(0)).unwrap();
    bump(sync, 3);
    sync.remove("t").unwrap();
    let again = sync.register("t", padded(100)).unwrap();
    assert_eq!(again.revision, rev(4), "revisions continue after the removed topic");
    for since in 0..4 {
        assert_snapshot(sync, sync.get_since("t", rev(since)).unwrap(), &format!("old revision {since}"));
    }
    assert!(expect_delta(sync.get_since("t", rev(4)).unwrap()).patch.is_empty());
    sync.patch("t", json!({"n": 101})).unwrap();
    let delta = expect_delta(sync.get_since("t", rev(4)).unwrap());
    assert_eq!(applied(&padded(100), &patch_json(&delta)), padded(101));
}

#[test]
fn limits_set_for_a_topic_override_the_default_and_apply_at_run_time() {
    let harness = Harness::new(
        Builder::new()
            .history_limits(HistoryLimits::off())
            .topic_history_limits("kept", HistoryLimits::new())
            .topic("t", padded(0))
            .topic("kept", padded(0)),
    );
    let sync = harness.app.state_sync();
    sync.patch("t", json!({"n": 1})).unwrap();
    sync.patch("kept", json!({"n": 1})).unwrap();
    assert_snapshot(sync, sync.get_since("t", rev(0)).unwrap(), "history off");
    assert!(matches!(sync.get_since("kept", rev(0)).unwrap(), CatchUp::Delta(_)));

    // A topic registered at run time under the name takes its limits too.
    sync.register("later", padded(0)).unwrap();
    sync.remove("kept").unwrap();
    sync.register("kept", padded(0)).unwrap();
    sync.patch("later", json!({"n": 1})).unwrap();
    sync.patch("kept", json!({"n": 1})).unwrap();
    assert!(matches!(sync.get_since("later", rev(0)).unwrap(), CatchUp::Snapshot(_)));
    assert!(matches!(sync.get_since("kept", rev(2)).unwrap(), CatchUp::Delta(_)));

    sync.set_history_limits("kept", HistoryLimits::off()).unwrap();
    assert!(matches!(sync.get_since("kept", rev(2)).unwrap(), CatchUp::Snapshot(_)), "dropped at once");
    sync.set_history_limits("later", HistoryLimits::new()).unwrap();
    sync.patch("later", json!({"n": 2})).unwrap();
    assert!(matches!(sync.get_since("later", rev(1)).unwrap(), CatchUp::Delta(_)));
    assert_eq!(sync.set_history_limits("nope", HistoryLimits::new()).unwrap_err().code(), "UNKNOWN_TOPIC");
}

#[test]
fn a_malformed_topic_name_for_history_limits_fails_setup() {
    let result = tauri::test::mock_builder()
        .plugin(Builder::new().topic_history_limits("bad name", HistoryLimits::new()).build())
        .build(tauri::test::mock_context(tauri::test::noop_assets()));
    let err = result.expect_err("setup fails").to_string();
    assert!(err.contains("bad name"), "{err}");
}

/// About 1 MB: 10,000 items.
fn large() -> Value {
    let items: Vec<Value> = (0..10_000)
        .map(|i| json!({"id": i, "title": format!("todo item number {i:>6} with some padding text"), "done": false}))
        .collect();
    json!({"items": items, "flag": false})
}

#[test]
fn one_element_changed_in_a_large_array_costs_a_patch_of_that_element() {
    let harness = Harness::new(Builder::new().topic("t", large()));
    let sync = harness.app.state_sync();
    sync.update("t", |data| data["items"][6_789]["done"] = json!(true)).unwrap();
    sync.set("t", {
        let mut next = (*sync.get("t").unwrap().data).clone();
        next["items"][42]["title"] = json!("renamed");
        next
    })
    .unwrap();
    sync.patch("t", json!({"flag": true})).unwrap();
    let delta = expect_delta(sync.get_since("t", rev(0)).unwrap());
    assert_eq!(
        patch_json(&delta),
        json!([
            {"op": "replace", "path": "/items/6789/done", "value": true},
            {"op": "replace", "path": "/items/42/title", "value": "renamed"},
            {"op": "replace", "path": "/flag", "value": true},
        ])
    );
}

#[derive(Serialize, Deserialize)]
struct Prefs {
    theme: String,
    #[serde(default)]
    zoom: u8,
    pad: String,
}

#[test]
fn a_typed_topic_keeps_the_patch_of_what_it_stored_after_normalizing() {
    let harness = Harness::new(Builder::new().typed_topic(
        "t",
        Prefs {
            theme: "light".into(),
            zoom: 3,
            pad: "p".repeat(200),
        },
    ));
    let sync = harness.app.state_sync();
    let before = (*sync.get("t").unwrap().data).clone();
    // Deleting `zoom` stores its default: the merge is not what is stored.
    let outcome = sync.patch("t", json!({"zoom": null, "theme": "dark"})).unwrap();
    assert!(!outcome.exact);
    let delta = expect_delta(sync.get_since("t", rev(0)).unwrap());
    let after = applied(&before, &patch_json(&delta));
    assert_eq!(after, *sync.get("t").unwrap().data);
    assert_eq!(after["zoom"], 0);
}

#[test]
fn a_patch_that_changes_nothing_keeps_the_revision_and_the_history() {
    let harness = app(Builder::new());
    let sync = harness.app.state_sync();
    let seen = bump(sync, 1);
    let outcome = sync.patch("t", json!({"n": 1, "absent": null})).unwrap();
    assert!(!outcome.changed() && outcome.exact);
    let delta = expect_delta(sync.get_since("t", rev(0)).unwrap());
    assert_eq!(applied(&seen[0], &patch_json(&delta)), seen[1]);
}

// ---- Through IPC, with scopes -------------------------------------------

fn ipc_app() -> (Harness, tauri::WebviewWindow<MockRuntime>) {
    let harness = Harness::new(Builder::new().topic("t", padded(0)).topic("other", padded(0)));
    let main = harness.window("main", &["state-sync:default"]);
    (harness, main)
}

#[test]
fn snapshot_with_since_answers_the_delta_through_ipc() {
    let (harness, main) = ipc_app();
    let sync = harness.app.state_sync();
    sync.patch("t", json!({"n": 1})).unwrap();
    sync.patch("t", json!({"n": 2})).unwrap();
    assert_eq!(
        harness.invoke(&main, "snapshot", json!({"topic": "t", "since": "1"})).unwrap(),
        json!({"revision": "2", "from": "1", "patch": [{"op": "replace", "path": "/n", "value": 2}]})
    );
    assert_eq!(
        harness.invoke(&main, "snapshot", json!({"topic": "t", "since": "2"})).unwrap(),
        json!({"revision": "2", "from": "2", "patch": []})
    );
    for since in ["3", "18446744073709551615"] {
        assert_eq!(
            harness.invoke(&main, "snapshot", json!({"topic": "t", "since": since})).unwrap(),
            json!({"revision": "2", "data": padded(2)}),
            "a future since {since}"
        );
    }
    assert_eq!(
        harness.invoke(&main, "snapshot", json!({"topic": "t"})).unwrap(),
        json!({"revision": "2", "data": padded(2)}),
        "without since, as before"
    );
}

#[test]
fn snapshots_with_since_answer_each_topic_from_its_own_revision() {
    let (harness, main) = ipc_app();
    let sync = harness.app.state_sync();
    sync.patch("t", json!({"n": 1})).unwrap();
    sync.patch("other", json!({"n": 5})).unwrap();
    sync.patch("other", json!({"n": 6})).unwrap();
    assert_eq!(
        harness
            .invoke(&main, "snapshots", json!({"topics": ["t", "other"], "since": {"other": "1"}}))
            .unwrap(),
        json!([
            {"topic": "t", "revision": "1", "data": padded(1)},
            {"topic": "other", "revision": "2", "from": "1", "patch": [{"op": "replace", "path": "/n", "value": 6}]},
        ])
    );
    assert_eq!(
        harness.invoke(&main, "snapshots", json!({"topics": ["t"], "since": {}})).unwrap(),
        json!([{"topic": "t", "revision": "1", "data": padded(1)}])
    );
}

#[test]
fn a_malformed_since_is_a_typed_error_and_changes_nothing() {
    let (harness, main) = ipc_app();
    harness.app.state_sync().patch("t", json!({"n": 1})).unwrap();
    for (since, value) in [
        (json!("01"), "\"01\""),
        (json!(""), "\"\""),
        (json!("-1"), "\"-1\""),
        (json!("18446744073709551616"), "\"18446744073709551616\""),
        (json!(1), "1"),
        (json!(null), "null"),
        (json!(["1"]), "[\"1\"]"),
    ] {
        let err = harness
            .invoke(&main, "snapshot", json!({"topic": "t", "since": since}))
            .expect_err("malformed since");
        assert_eq!((err["code"].as_str(), err["value"].as_str()), (Some("INVALID_REVISION"), Some(value)), "{err}");
        let err = harness
            .invoke(&main, "snapshots", json!({"topics": ["t"], "since": {"t": since}}))
            .expect_err("malformed since");
        assert_eq!(err["code"], "INVALID_REVISION", "{err}");
    }
    for (since, argument) in [
        (json!({"nope": "1"}), "since.nope"),
        (json!({"t": "1", "other": "0"}), "since.other"),
        (json!(["1"]), "since"),
        (json!(null), "since"),
        (json!("1"), "since"),
    ] {
        let err = harness
            .invoke(&main, "snapshots", json!({"topics": ["t"], "since": since}))
            .expect_err("since that is not a map of the topics asked");
        assert_eq!((err["code"].as_str(), err["argument"].as_str()), (Some("INVALID_ARGUMENT"), Some(argument)), "{err}");
    }
    assert_eq!(harness.app.state_sync().get("t").unwrap().revision, rev(1));
}

#[test]
fn since_is_refused_by_the_read_scope_before_anything_else_and_reveals_nothing() {
    let harness = Harness::new(
        Builder::new()
            .topic("settings", padded(0))
            .topic("todos/private", padded(0)),
    );
    harness.grant(scoped("settings-only", "reader", &["state-sync:read"], &["settings"], &[]));
    let reader = harness.open("reader");
    harness.app.state_sync().patch("todos/private", json!({"n": 1})).unwrap();
    for since in [json!("0"), json!("01"), json!(null)] {
        let existing = harness
            .invoke(&reader, "snapshot", json!({"topic": "todos/private", "since": since}))
            .unwrap_err();
        assert_eq!((existing["code"].as_str(), existing["access"].as_str()), (Some("TOPIC_FORBIDDEN"), Some("read")));
        let missing = harness
            .invoke(&reader, "snapshot", json!({"topic": "todos/nope", "since": since}))
            .unwrap_err();
        assert_eq!(missing["code"], "TOPIC_FORBIDDEN", "same refusal for a missing topic");
        let many = harness
            .invoke(&reader, "snapshots", json!({"topics": ["settings", "todos/private"], "since": {"todos/private": since}}))
            .unwrap_err();
        assert_eq!((many["code"].as_str(), many["topic"].as_str()), (Some("TOPIC_FORBIDDEN"), Some("todos/private")));
        assert!(!many.to_string().contains("pppp"), "no data: {many}");
    }
    // The topic it may read answers with a delta as usual.
    harness.app.state_sync().patch("settings", json!({"n": 7})).unwrap();
    let delta = harness
        .invoke(&reader, "snapshot", json!({"topic": "settings", "since": "0"}))
        .unwrap();
    assert_eq!(delta["patch"], json!([{"op": "replace", "path": "/n", "value": 7}]));
}

// ---- Property: every delta leads from its revision to the current data ----

/// A JSON value of a few levels, with nulls, arrays and nested objects, over
/// a handful of keys so that writes touch each other's members.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..30).prop_map(Value::from),
        "[a-c~/]{0,3}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(key(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![Just("a"), Just("b"), Just("c"), Just("d/e"), Just("~f"), Just("")].prop_map(str::to_owned)
}

#[derive(Clone, Debug)]
enum Write {
    /// `set` of the whole data, padding kept.
    Set(Value),
    /// `set` of a root that may not be an object at all.
    SetRoot(Value),
    /// `patch` with a merge patch under `doc`.
    Patch(Value),
    /// `update` that edits an array under `doc`: insert, remove or replace at an index.
    ArrayEdit { key: String, at: usize, edit: u8, value: Value },
    /// `apply_patch` of RFC 6902 operations under `doc`, which may fail.
    Edit(Value),
}

/// A path under `/doc`, one or two tokens deep: keys, indices and `-`.
fn doc_path() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        5 => key(),
        2 => (0..4usize).prop_map(|i| i.to_string()),
        1 => Just("-".to_owned()),
    ];
    let depth = prop_oneof![2 => Just(1usize), 1 => Just(2usize)];
    (depth, prop::collection::vec(token, 2)).prop_map(|(depth, tokens)| {
        let tokens = &tokens[..depth];
        let escaped: Vec<String> = tokens.iter().map(|t| t.replace('~', "~0").replace('/', "~1")).collect();
        format!("/doc/{}", escaped.join("/"))
    })
}

/// One RFC 6902 operation of any kind under `/doc`.
fn operation() -> impl Strategy<Value = Value> {
    (0..11u8, doc_path(), doc_path(), json_value()).prop_map(|(kind, path, from, value)| match kind {
        0..=3 => json!({"op": "add", "path": path, "value": value}),
        4 | 5 => json!({"op": "remove", "path": path}),
        6 | 7 => json!({"op": "replace", "path": path, "value": value}),
        8 => json!({"op": "test", "path": path, "value": value}),
        9 => json!({"op": "move", "from": from, "path": path}),
        _ => json!({"op": "copy", "from": from, "path": path}),
    })
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        3 => json_value().prop_map(Write::Set),
        1 => json_value().prop_map(Write::SetRoot),
        4 => json_value().prop_map(Write::Patch),
        3 => (key(), 0..6usize, 0..3u8, json_value()).prop_map(|(key, at, edit, value)| Write::ArrayEdit { key, at, edit, value }),
        4 => (any::<bool>(), prop::collection::vec(operation(), 1..3)).prop_map(|(fresh, mut ops)| {
            // Half start on a fresh `doc` object, so later operations find their paths.
            if fresh {
                ops.insert(0, json!({"op": "add", "path": "/doc", "value": {"a": [1, 2], "b": {"c": 3}}}));
            }
            Write::Edit(Value::from(ops))
        }),
    ]
}

fn pad() -> Value {
    json!("p".repeat(300))
}

fn apply_write(sync: &StateSync<MockRuntime>, write: &Write) {
    match write {
        Write::Set(doc) => drop(sync.set("t", json!({"pad": pad(), "doc": doc})).unwrap()),
        Write::SetRoot(root) => drop(sync.set("t", root).unwrap()),
        Write::Patch(patch) => drop(sync.patch("t", json!({"doc": patch})).unwrap()),
        Write::Edit(ops) => {
            let before = sync.get("t").unwrap();
            match sync.apply_patch("t", ops.clone()) {
                Ok(_) => EDITS[0].fetch_add(1, Ordering::Relaxed),
                Err(err) => {
                    // A patch that does not apply changes nothing at all.
                    assert_eq!(err.code(), "INVALID_PATCH", "{err}");
                    assert_eq!(sync.get("t").unwrap(), before, "{err} left the topic changed");
                    EDITS[1].fetch_add(1, Ordering::Relaxed)
                }
            };
        }
        Write::ArrayEdit { key, at, edit, value } => drop(
            sync.update("t", |data| {
                if !data.is_object() {
                    *data = json!({"pad": pad()});
                }
                let doc = &mut data["doc"];
                if !doc.is_object() {
                    *doc = json!({});
                }
                let list = &mut doc[key.as_str()];
                if !list.is_array() {
                    *list = json!([1, 2, 3]);
                }
                let list = list.as_array_mut().unwrap();
                let at = *at % (list.len() + 1);
                match (edit, at < list.len()) {
                    (0, _) => list.insert(at, value.clone()),
                    (1, true) => drop(list.remove(at)),
                    (_, true) => list[at] = value.clone(),
                    _ => list.push(value.clone()),
                }
            })
            .unwrap(),
        ),
    }
}

#[test]
fn every_delta_from_a_kept_revision_applied_to_its_snapshot_gives_the_current_data() {
    static DELTAS: AtomicUsize = AtomicUsize::new(0);
    static PULLS: AtomicUsize = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    let strategy = prop::collection::vec(write(), 1..24);
    runner
        .run(&strategy, |writes| {
            let harness = Harness::new(
                Builder::new()
                    .history_limits(HistoryLimits::new().max_changes(16).max_patch_percent(255))
                    .topic("t", json!({"pad": pad(), "doc": {}})),
            );
            let sync = harness.app.state_sync();
            let mut seen = vec![sync.get("t").unwrap()];
            for write in &writes {
                apply_write(sync, write);
                let now = sync.get("t").unwrap();
                if now.revision != seen.last().unwrap().revision {
                    seen.push(now.clone());
                }
                // From every revision seen so far, the answer leads to now.
                for past in &seen {
                    PULLS.fetch_add(1, Ordering::Relaxed);
                    match sync.get_since("t", past.revision).unwrap() {
                        CatchUp::Delta(delta) => {
                            DELTAS.fetch_add(1, Ordering::Relaxed);
                            prop_assert_eq!(delta.from, past.revision);
                            prop_assert_eq!(delta.revision, now.revision);
                            let ops: json_patch::Patch = serde_json::from_str(delta.patch.as_str()).unwrap();
                            let mut data = (*past.data).clone();
                            json_patch::patch(&mut data, &ops).map_err(|e| TestCaseError::fail(e.to_string()))?;
                            prop_assert_eq!(&data, &*now.data, "patch {}", delta.patch.as_str());
                        }
                        CatchUp::Snapshot(snapshot) => prop_assert_eq!(&snapshot, &now),
                        other => prop_assert!(false, "unexpected answer {:?}", other),
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    let (deltas, pulls) = (DELTAS.load(Ordering::Relaxed), PULLS.load(Ordering::Relaxed));
    assert!(deltas * 4 > pulls, "most pulls are answered with deltas: {deltas} of {pulls}");
    let (applied, refused) = (EDITS[0].load(Ordering::Relaxed), EDITS[1].load(Ordering::Relaxed));
    assert!(applied > 10 && refused > 10, "JSON Patches applied {applied}, refused {refused}");
}

/// JSON Patches of the property that applied, and that were refused.
static EDITS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
