//! Plugin behaviour through Tauri's IPC, with permissions granted by real
//! capabilities over the plugin's own permission files.

mod common;

use serde_json::{json, Value};
use tauri::ipc::InvokeBody;
use tauri_plugin_state_sync::{Builder, Invalidation, Revision, StateSyncExt, RUST_SOURCE_ID};

use common::Harness;

fn settings_app() -> Harness {
    Harness::new(Builder::new().topic("settings", json!({"theme": "light"})))
}

fn revision(n: u64) -> Revision {
    Revision::new(n)
}

#[test]
fn a_window_without_the_capability_is_denied_every_command() {
    let harness = settings_app();
    let stranger = harness.window("stranger", &[]);
    for (command, args) in [
        ("snapshot", json!({"topic": "settings"})),
        ("snapshots", json!({"topics": ["settings"]})),
        ("topics", json!({})),
        ("set", json!({"topic": "settings", "data": {"theme": "x"}})),
        ("patch", json!({"topic": "settings", "patch": {"theme": "x"}})),
    ] {
        let err = harness.invoke(&stranger, command, args).expect_err(command);
        let message = err.as_str().unwrap_or_default();
        assert!(message.contains("not allowed"), "{command}: {err}");
    }
    let snapshot = harness.app.state_sync().get("settings").unwrap();
    assert_eq!((snapshot.revision, &*snapshot.data), (revision(0), &json!({"theme": "light"})));
    assert!(harness.take_events().is_empty());
}

#[test]
fn a_read_only_window_reads_but_its_writes_are_refused() {
    let harness = settings_app();
    let reader = harness.window("reader", &["state-sync:read"]);
    assert_eq!(
        harness.invoke(&reader, "snapshot", json!({"topic": "settings"})).unwrap(),
        json!({"revision": "0", "data": {"theme": "light"}})
    );
    assert!(harness.invoke(&reader, "topics", json!({})).is_ok());
    for (command, args) in [
        ("set", json!({"topic": "settings", "data": {"theme": "x"}})),
        ("patch", json!({"topic": "settings", "patch": {"theme": "x"}})),
    ] {
        let err = harness.invoke(&reader, command, args).expect_err(command);
        assert!(err.as_str().unwrap_or_default().contains("not allowed"), "{command}: {err}");
    }
    assert_eq!(harness.app.state_sync().get("settings").unwrap().revision, revision(0));
}

#[test]
fn the_default_permission_allows_every_command() {
    let harness = settings_app();
    let main = harness.window("main", &["state-sync:default"]);
    for (command, args) in [
        ("snapshot", json!({"topic": "settings"})),
        ("snapshots", json!({"topics": ["settings"]})),
        ("topics", json!({})),
        ("set", json!({"topic": "settings", "data": {"theme": "x"}})),
        ("patch", json!({"topic": "settings", "patch": {"theme": "y"}})),
    ] {
        harness.invoke(&main, command, args).unwrap_or_else(|e| panic!("{command}: {e}"));
    }
}

#[test]
fn writes_over_the_payload_limit_are_refused_and_change_nothing() {
    let harness = Harness::new(Builder::new().topic("notes", json!({})).max_payload_bytes(64));
    let main = harness.window("main", &["state-sync:default"]);
    let big = "x".repeat(100);
    for (command, args) in [
        ("set", json!({"topic": "notes", "data": {"text": big}})),
        ("patch", json!({"topic": "notes", "patch": {"text": big}})),
    ] {
        let err = harness.invoke(&main, command, args).expect_err(command);
        assert_eq!(err["code"], "PAYLOAD_TOO_LARGE", "{command}");
        assert_eq!(err["limit"], 64);
        assert_eq!(err["size"], 111, "{{\"text\":\"…\"}} with 100 x");
    }
    let snapshot = harness.app.state_sync().get("notes").unwrap();
    assert_eq!((snapshot.revision, &*snapshot.data), (revision(0), &json!({})));
    assert!(harness.take_events().is_empty());
    // A write under the limit still goes through.
    harness
        .invoke(&main, "set", json!({"topic": "notes", "data": {"text": "short"}}))
        .unwrap();
}

#[test]
fn writes_from_rust_are_not_limited_by_the_window_payload_limit() {
    let harness = Harness::new(Builder::new().topic("notes", json!({})).max_payload_bytes(8));
    let sync = harness.app.state_sync();
    sync.set("notes", json!({"text": "well over eight bytes"})).unwrap();
    assert_eq!(sync.get("notes").unwrap().revision, revision(1));
}

#[test]
fn a_raw_body_is_an_invalid_argument() {
    let harness = settings_app();
    let main = harness.window("main", &["state-sync:default"]);
    let request = tauri::webview::InvokeRequest {
        cmd: "plugin:state-sync|set".into(),
        callback: tauri::ipc::CallbackFn(0),
        error: tauri::ipc::CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Raw(b"{\"topic\":\"settings\"}".to_vec()),
        headers: Default::default(),
        invoke_key: tauri::test::INVOKE_KEY.to_string(),
    };
    let err = tauri::test::get_ipc_response(&main, request).expect_err("raw body");
    assert_eq!(err["code"], "INVALID_ARGUMENT");
}

#[test]
fn a_window_cannot_choose_its_source_id() {
    let harness = settings_app();
    let main = harness.window("main", &["state-sync:default"]);
    let err = harness
        .invoke(&main, "set", json!({"topic": "settings", "data": 1, "sourceId": "other"}))
        .expect_err("sourceId argument");
    assert_eq!(err["code"], "INVALID_ARGUMENT");
    assert!(harness.take_events().is_empty());
    harness.invoke(&main, "set", json!({"topic": "settings", "data": 1})).unwrap();
    assert_eq!(harness.take_events()[0].source_id, "main");
}

#[test]
fn listeners_receive_events_in_revision_order_with_the_writer_as_source() {
    let harness = settings_app();
    let main = harness.window("main", &["state-sync:default"]);
    let side = harness.window("side", &["state-sync:default"]);
    let sync = harness.app.state_sync();

    harness.invoke(&main, "patch", json!({"topic": "settings", "patch": {"a": 1}})).unwrap();
    sync.patch("settings", json!({"b": 2})).unwrap();
    harness.invoke(&side, "set", json!({"topic": "settings", "data": {"c": 3}, "expectedRevision": "2"})).unwrap();
    sync.update("settings", |value| value["d"] = json!(4)).unwrap();
    // A no-op from either side emits nothing.
    harness.invoke(&side, "patch", json!({"topic": "settings", "patch": {"d": 4}})).unwrap();
    sync.set("settings", json!({"c": 3, "d": 4})).unwrap();

    let expected: Vec<Invalidation> = [(1, "main"), (2, RUST_SOURCE_ID), (3, "side"), (4, RUST_SOURCE_ID)]
        .into_iter()
        .map(|(n, source)| Invalidation::new("settings", revision(n), source))
        .collect();
    assert_eq!(harness.take_events(), expected);
}

#[test]
fn snapshots_returns_each_topic_in_the_order_asked() {
    let harness = Harness::new(Builder::new().topic("a", 1).topic("b", 2));
    let main = harness.window("main", &["state-sync:read"]);
    harness.app.state_sync().set("b", 20).unwrap();
    assert_eq!(
        harness.invoke(&main, "snapshots", json!({"topics": ["b", "a", "b"]})).unwrap(),
        json!([
            {"topic": "b", "revision": "1", "data": 20},
            {"topic": "a", "revision": "0", "data": 1},
            {"topic": "b", "revision": "1", "data": 20},
        ])
    );
    assert_eq!(harness.invoke(&main, "snapshots", json!({"topics": []})).unwrap(), json!([]));
}

#[test]
fn topics_registered_and_removed_at_run_time_are_seen_by_windows() {
    let harness = Harness::new(Builder::new());
    let main = harness.window("main", &["state-sync:default"]);
    let sync = harness.app.state_sync();

    sync.register("draft", json!({"text": ""})).unwrap();
    assert_eq!(harness.invoke(&main, "topics", json!({})).unwrap(), json!([{"topic": "draft", "revision": "0"}]));
    harness.invoke(&main, "set", json!({"topic": "draft", "data": {"text": "hi"}})).unwrap();

    let last = sync.remove("draft").unwrap();
    assert_eq!(last.revision, revision(1));
    let err = harness.invoke(&main, "snapshot", json!({"topic": "draft"})).unwrap_err();
    assert_eq!(err["code"], "UNKNOWN_TOPIC");
    let err = harness.invoke(&main, "set", json!({"topic": "draft", "data": 1})).unwrap_err();
    assert_eq!(err["code"], "UNKNOWN_TOPIC", "windows cannot create topics");

    sync.register("draft", json!({"text": "fresh"})).unwrap();
    assert_eq!(
        harness.invoke(&main, "snapshot", json!({"topic": "draft"})).unwrap(),
        json!({"revision": "2", "data": {"text": "fresh"}}),
        "a re-registered topic continues after its last revision"
    );
    let revisions: Vec<Revision> = harness.take_events().into_iter().map(|e| e.revision).collect();
    assert_eq!(revisions, [revision(0), revision(1), revision(2)]);
}

#[test]
fn every_refused_write_leaves_data_and_revision_untouched() {
    let harness = Harness::new(Builder::new().topic("t", json!({"keep": true})));
    let main = harness.window("main", &["state-sync:default"]);
    let bad: Vec<Value> = vec![
        json!({"topic": "t", "data": 1, "expectedRevision": "7"}),
        json!({"topic": "t", "data": 1, "expectedRevision": "007"}),
        json!({"topic": "t", "data": 1, "expectedRevision": -1}),
        json!({"topic": "t"}),
        json!({"topic": ["t"], "data": 1}),
        json!({"topic": "T", "data": 1}),
        json!({"topic": "t t", "data": 1}),
        json!(null),
        json!([1, 2]),
    ];
    for args in bad {
        assert!(harness.invoke(&main, "set", args.clone()).unwrap_err()["code"].is_string(), "{args}");
        assert!(harness.invoke(&main, "patch", args.clone()).unwrap_err()["code"].is_string(), "{args}");
    }
    let snapshot = harness.app.state_sync().get("t").unwrap();
    assert_eq!((snapshot.revision, &*snapshot.data), (revision(0), &json!({"keep": true})));
    assert!(harness.take_events().is_empty());
}

/// Issue 11, item 1: `expectedRevision: null` was read as absent, turning a
/// compare-and-set into a blind write.
#[test]
fn expected_revision_null_is_an_invalid_revision_and_changes_nothing() {
    let harness = settings_app();
    let main = harness.window("main", &["state-sync:default"]);
    for (command, args) in [
        ("set", json!({"topic": "settings", "data": {"theme": "x"}, "expectedRevision": null})),
        ("patch", json!({"topic": "settings", "patch": {"theme": "x"}, "expectedRevision": null})),
    ] {
        let err = harness.invoke(&main, command, args).expect_err(command);
        assert_eq!(err["code"], "INVALID_REVISION", "{command}: {err}");
        assert_eq!(err["value"], "null", "{command}");
    }
    let snapshot = harness.app.state_sync().get("settings").unwrap();
    assert_eq!((snapshot.revision, &*snapshot.data), (revision(0), &json!({"theme": "light"})));
    assert!(harness.take_events().is_empty());
}

/// Issue 11, item 14: the commands without arguments accepted any.
#[test]
fn topics_flush_and_persistence_errors_refuse_unknown_arguments() {
    let harness = settings_app();
    let main = harness.window("main", &["state-sync:default"]);
    for command in ["topics", "flush", "persistence_errors"] {
        let err = harness.invoke(&main, command, json!({"topic": "settings"})).expect_err(command);
        assert_eq!(err["code"], "INVALID_ARGUMENT", "{command}: {err}");
        assert_eq!(err["argument"], "topic", "{command}");
        harness.invoke(&main, command, json!({})).unwrap_or_else(|e| panic!("{command}: {e}"));
    }
}

/// Merging issue 11 into issue 9: `subscribe` and `unsubscribe` came with
/// issue 9 and must keep issue 11's argument rules, like every command.
#[test]
fn subscribe_and_unsubscribe_refuse_unknown_array_and_over_deep_arguments() {
    use tauri_plugin_state_sync::MAX_DEPTH;

    let harness = settings_app();
    let main = harness.window("main", &["state-sync:default"]);
    let channel = "__CHANNEL__:1";
    let deep = common::nested(MAX_DEPTH + 1);
    for (command, args, code) in [
        ("subscribe", json!({"topic": "settings", "channel": channel, "since": "0"}), "INVALID_ARGUMENT"),
        ("unsubscribe", json!({"id": 1, "topic": "settings"}), "INVALID_ARGUMENT"),
        ("subscribe", json!(["settings", channel]), "INVALID_ARGUMENT"),
        ("unsubscribe", json!([1]), "INVALID_ARGUMENT"),
        ("subscribe", json!({"topic": deep, "channel": channel}), "TOO_DEEP"),
        ("unsubscribe", json!({"id": deep}), "TOO_DEEP"),
    ] {
        let err = harness.invoke(&main, command, args.clone()).expect_err(command);
        assert_eq!(err["code"], code, "{command} {args}: {err}");
    }
    harness.app.state_sync().patch("settings", json!({"theme": "dark"})).unwrap();
    assert!(harness.received("main").is_empty(), "a refused subscribe delivered");
    harness.subscribe(&main, "settings").unwrap();
    harness.app.state_sync().patch("settings", json!({"theme": "light"})).unwrap();
    assert_eq!(harness.received("main").len(), 1, "the well-formed subscribe delivers");
}

/// Found while writing the command-argument fuzz target: serde reads a
/// struct from an array by position, so `["settings", 1]` was a `set`.
#[test]
fn arguments_given_as_an_array_are_refused() {
    let harness = settings_app();
    let main = harness.window("main", &["state-sync:default"]);
    for (command, args) in [
        ("set", json!(["settings", {"theme": "x"}])),
        ("patch", json!(["settings", {"theme": "x"}, "0"])),
        ("snapshot", json!(["settings"])),
        ("topics", json!([])),
    ] {
        let err = harness.invoke(&main, command, args).expect_err(command);
        assert_eq!(err["code"], "INVALID_ARGUMENT", "{command}: {err}");
        assert!(err["message"].as_str().unwrap().contains("JSON object"), "{err}");
    }
    assert_eq!(harness.app.state_sync().get("settings").unwrap().revision, revision(0));
    assert!(harness.take_events().is_empty());
}

/// Issue 11, items 5 and 8: deep data from a window aborted the process
/// with a stack overflow (about 1,000 levels on the mock runtime), and
/// data 127 levels deep was accepted though it could not be read back.
#[test]
fn data_nested_deeper_than_the_limit_is_too_deep_through_every_write_command() {
    use tauri_plugin_state_sync::MAX_DEPTH;

    let harness = settings_app();
    let main = harness.window("main", &["state-sync:default"]);
    for depth in [MAX_DEPTH + 1, 127, 1_000] {
        for (command, args) in [
            ("set", json!({"topic": "settings", "data": common::nested(depth)})),
            ("patch", json!({"topic": "settings", "patch": common::nested(depth)})),
            ("set", json!({"topic": "settings", "data": 1, "expectedRevision": common::nested(depth)})),
        ] {
            let err = harness.invoke(&main, command, args).expect_err(command);
            assert_eq!(err["code"], "TOO_DEEP", "{command} at depth {depth}: {err}");
            assert_eq!(err["limit"], MAX_DEPTH);
        }
    }
    let snapshot = harness.app.state_sync().get("settings").unwrap();
    assert_eq!((snapshot.revision, &*snapshot.data), (revision(0), &json!({"theme": "light"})));
    assert!(harness.take_events().is_empty());

    // At the limit, a write goes through and comes back whole.
    harness.invoke(&main, "set", json!({"topic": "settings", "data": common::nested(MAX_DEPTH)})).unwrap();
    let back = harness.invoke(&main, "snapshot", json!({"topic": "settings"})).unwrap();
    assert_eq!(back["data"], common::nested(MAX_DEPTH));
}

/// Issue 11, item 12, the Rust side: a command that a capability explicitly
/// denies never reaches the plugin. Tauri refuses it with a plain string
/// that says "explicitly denied" and, unlike other refusals, not "not
/// allowed"; the binding must map both to `FORBIDDEN`.
#[test]
fn a_command_a_capability_explicitly_denies_is_refused_before_the_plugin() {
    let harness = settings_app();
    let main = harness.window("main", &["state-sync:default", "state-sync:deny-set"]);
    let err = harness
        .invoke(&main, "set", json!({"topic": "settings", "data": {"theme": "x"}}))
        .expect_err("set is denied");
    let message = err.as_str().expect("a plain string, not a plugin error");
    assert!(message.starts_with("state-sync.set explicitly denied"), "{message}");
    assert!(!message.contains("not allowed"), "{message}");
    harness.invoke(&main, "patch", json!({"topic": "settings", "patch": {"theme": "y"}})).unwrap();
    assert_eq!(harness.app.state_sync().get("settings").unwrap().data["theme"], "y");
}
