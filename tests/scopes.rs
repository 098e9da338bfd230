//! Per-topic read and write scopes, through Tauri's IPC with real
//! capabilities over the plugin's own permission files, and delivery of
//! changes only to the webviews allowed to read them.

mod common;

use serde_json::{json, Value};
use tauri::{test::MockRuntime, WebviewWindow};
use tauri_plugin_state_sync::{Broadcast, Builder, Revision, StateSyncExt};

use common::{scoped, Harness};

const TOPICS: [&str; 5] = ["settings", "todos/list", "todos/private", "todos/a/b", "counter"];

/// Every topic holds `{"n": 0}` and has the action `bump`, which adds one to `n`.
fn app_with(builder: Builder) -> Harness {
    let builder = TOPICS.iter().fold(builder, |builder, topic| {
        builder.topic(*topic, json!({"n": 0})).action(*topic, "bump", |data, _| {
            Ok(json!({"n": data["n"].as_u64().unwrap_or(0) + 1}))
        })
    });
    Harness::new(builder)
}

/// Three windows: `all` (the default permission, every topic), `settings`
/// (reads `settings` only, writes nothing), `todos` (reads and writes
/// `todos/*` minus `todos/private`).
struct Three {
    harness: Harness,
    all: WebviewWindow<MockRuntime>,
    settings: WebviewWindow<MockRuntime>,
    todos: WebviewWindow<MockRuntime>,
}

fn three_with(builder: Builder) -> Three {
    let harness = app_with(builder);
    harness.grant(scoped("settings-only", "settings", &["state-sync:read"], &["settings"], &[]));
    harness.grant(scoped(
        "todos-only",
        "todos",
        &["state-sync:read", "state-sync:write"],
        &["todos/*"],
        &["todos/private"],
    ));
    Three {
        all: harness.window("all", &["state-sync:default"]),
        settings: harness.open("settings"),
        todos: harness.open("todos"),
        harness,
    }
}

fn three() -> Three {
    three_with(Builder::new())
}

fn args(command: &str, topic: &str) -> Value {
    match command {
        "snapshot" => json!({"topic": topic}),
        "snapshots" => json!({"topics": [topic]}),
        "set" => json!({"topic": topic, "data": {"n": 1}}),
        "patch" => json!({"topic": topic, "patch": {"m": 2}}),
        "act" => json!({"topic": topic, "action": "bump"}),
        other => panic!("no arguments for {other}"),
    }
}

/// Asserts that `result` is the plugin's refusal of `access` to `topic`.
fn assert_forbidden(result: Result<Value, Value>, topic: &str, access: &str, context: &str) {
    let err = result.expect_err(context);
    assert_eq!(err["code"], "TOPIC_FORBIDDEN", "{context}: {err}");
    assert_eq!(err["topic"], topic, "{context}");
    assert_eq!(err["access"], access, "{context}");
}

fn revision(harness: &Harness, topic: &str) -> Revision {
    harness.app.state_sync().get(topic).unwrap().revision
}

#[test]
fn every_command_on_every_topic_answers_as_the_scopes_say() {
    let Three { harness, all, settings, todos } = three();
    let may_read = |label: &str, topic: &str| match label {
        "all" => true,
        "settings" => topic == "settings",
        _ => topic == "todos/list",
    };
    let may_write = |label: &str, topic: &str| match label {
        "all" => true,
        "settings" => false,
        _ => topic == "todos/list",
    };
    for (label, window) in [("all", &all), ("settings", &settings), ("todos", &todos)] {
        for topic in TOPICS {
            for command in ["snapshot", "snapshots", "set", "patch", "act"] {
                let write = matches!(command, "set" | "patch" | "act");
                let context = format!("{label} {command} {topic}");
                let before = revision(&harness, topic);
                let result = harness.invoke(window, command, args(command, topic));
                match (write, write && may_write(label, topic) || !write && may_read(label, topic)) {
                    (_, true) => {
                        result.unwrap_or_else(|e| panic!("{context}: {e}"));
                    }
                    // `settings` has no write permission at all: Tauri refuses.
                    (true, false) if label == "settings" => {
                        let err = result.expect_err(&context);
                        assert!(err.as_str().unwrap_or_default().contains("not allowed"), "{context}: {err}");
                    }
                    (true, false) => assert_forbidden(result, topic, "write", &context),
                    (false, false) => assert_forbidden(result, topic, "read", &context),
                }
                if !(write && may_write(label, topic)) {
                    assert_eq!(revision(&harness, topic), before, "{context} changed nothing");
                }
            }
            let subscribed = harness.subscribe(window, topic);
            if may_read(label, topic) {
                assert!(subscribed.unwrap().is_u64(), "{label} subscribe {topic}");
            } else {
                assert_forbidden(subscribed, topic, "read", &format!("{label} subscribe {topic}"));
            }
        }
    }
}

#[test]
fn a_refusal_is_the_same_whether_or_not_the_topic_exists() {
    let Three { harness, settings, todos, .. } = three();
    // The refusal of a missing topic, with its name swapped for the existing one.
    let renamed = |mut err: Value, from: &str, to: &str| {
        err["message"] = json!(err["message"].as_str().unwrap().replace(from, to));
        err["topic"] = json!(to);
        err
    };
    for command in ["snapshot", "snapshots"] {
        let existing = harness.invoke(&settings, command, args(command, "todos/private")).unwrap_err();
        let missing = harness.invoke(&settings, command, args(command, "todos/nope")).unwrap_err();
        assert_eq!(existing["code"], "TOPIC_FORBIDDEN");
        assert_eq!(renamed(missing, "todos/nope", "todos/private"), existing, "{command}");
    }
    for command in ["set", "patch", "act"] {
        let existing = harness.invoke(&todos, command, args(command, "settings")).unwrap_err();
        let missing = harness.invoke(&todos, command, args(command, "nothere")).unwrap_err();
        assert_eq!(existing["code"], "TOPIC_FORBIDDEN");
        assert_eq!(renamed(missing, "nothere", "settings"), existing, "{command}");
        // A permitted name that does not exist is still unknown.
        let unknown = harness.invoke(&todos, command, args(command, "todos/nope")).unwrap_err();
        assert_eq!(unknown["code"], "UNKNOWN_TOPIC");
    }
}

#[test]
fn snapshots_with_one_forbidden_topic_fails_whole_without_data() {
    let Three { harness, settings, .. } = three();
    let err = harness
        .invoke(&settings, "snapshots", json!({"topics": ["settings", "todos/list"]}))
        .unwrap_err();
    assert_eq!(err["code"], "TOPIC_FORBIDDEN");
    assert_eq!(err["topic"], "todos/list");
    assert!(err.get("data").is_none() && !err.to_string().contains("\"n\""), "{err}");
}

#[test]
fn topics_lists_only_what_the_window_may_read() {
    let Three { harness, all, settings, todos } = three();
    let listed = |window| -> Vec<String> {
        let topics = harness.invoke(window, "topics", json!({})).unwrap();
        topics.as_array().unwrap().iter().map(|t| t["topic"].as_str().unwrap().to_owned()).collect()
    };
    let mut every: Vec<String> = TOPICS.iter().map(|t| t.to_string()).collect();
    every.sort();
    assert_eq!(listed(&all), every);
    assert_eq!(listed(&settings), ["settings"]);
    // `*` does not cross `/`, so `todos/a/b` is not listed; the deny removes `todos/private`.
    assert_eq!(listed(&todos), ["todos/list"]);
}

#[test]
fn a_double_star_crosses_segments_and_a_deny_in_another_capability_still_wins() {
    let harness = app_with(Builder::new());
    harness.grant(scoped("tree", "tree", &["state-sync:read"], &["todos/**"], &[]));
    harness.grant(scoped("tree-allow-private", "tree", &["state-sync:read"], &["todos/private"], &[]));
    harness.grant(scoped("tree-deny-private", "tree", &["state-sync:read"], &[], &["todos/private"]));
    let tree = harness.open("tree");
    for topic in ["todos/list", "todos/a/b"] {
        harness.invoke(&tree, "snapshot", json!({"topic": topic})).unwrap_or_else(|e| panic!("{topic}: {e}"));
    }
    assert_forbidden(harness.invoke(&tree, "snapshot", json!({"topic": "todos/private"})), "todos/private", "read", "deny");
    assert_forbidden(harness.invoke(&tree, "snapshot", json!({"topic": "settings"})), "settings", "read", "outside");
}

#[test]
fn the_allows_of_several_capabilities_on_one_window_add_up() {
    let harness = app_with(Builder::new());
    harness.grant(scoped("one", "w", &["state-sync:read"], &["settings"], &[]));
    harness.grant(scoped("two", "w", &["state-sync:read"], &["counter"], &[]));
    // A grant without a scope adds no topic once another capability restricts.
    harness.grant(tauri::ipc::CapabilityBuilder::new("three").window("w").permission("state-sync:read"));
    let w = harness.open("w");
    let topics = harness.invoke(&w, "topics", json!({})).unwrap();
    assert_eq!(topics, json!([{"topic": "counter", "revision": "0"}, {"topic": "settings", "revision": "0"}]));
    assert_forbidden(harness.invoke(&w, "snapshot", json!({"topic": "todos/list"})), "todos/list", "read", "w");
}

#[test]
fn a_window_without_any_state_sync_permission_is_refused_everything() {
    let Three { harness, .. } = three();
    let stranger = harness.open("stranger");
    for (command, args) in [
        ("snapshot", json!({"topic": "settings"})),
        ("snapshots", json!({"topics": ["settings"]})),
        ("topics", json!({})),
        ("persistence_errors", json!({})),
        ("set", json!({"topic": "settings", "data": 1})),
        ("patch", json!({"topic": "settings", "patch": {}})),
        ("unsubscribe", json!({"id": 1})),
        ("flush", json!({})),
    ] {
        let err = harness.invoke(&stranger, command, args).expect_err(command);
        assert!(err.as_str().unwrap_or_default().contains("not allowed"), "{command}: {err}");
    }
    let err = harness.subscribe(&stranger, "settings").unwrap_err();
    assert!(err.as_str().unwrap_or_default().contains("not allowed"), "{err}");
    harness.app.state_sync().set("settings", json!({"n": 5})).unwrap();
    assert!(harness.received("stranger").is_empty());
}

#[test]
fn a_capability_added_at_run_time_takes_effect() {
    let harness = app_with(Builder::new());
    let late = harness.open("late");
    assert!(harness.invoke(&late, "snapshot", json!({"topic": "settings"})).is_err());

    harness.grant(scoped("late-settings", "late", &["state-sync:read"], &["settings", "todos/*"], &[]));
    harness.invoke(&late, "snapshot", json!({"topic": "settings"})).unwrap();
    harness.subscribe(&late, "todos/private").unwrap();
    harness.app.state_sync().patch("todos/private", json!({"n": 1})).unwrap();
    assert_eq!(harness.received("late").len(), 1);

    // A deny added at run time: commands see it at once, and delivery once
    // the plugin refreshes its cache.
    harness.grant(scoped("late-no-private", "late", &["state-sync:read"], &[], &["todos/private"]));
    assert_forbidden(
        harness.invoke(&late, "snapshot", json!({"topic": "todos/private"})),
        "todos/private",
        "read",
        "after the deny",
    );
    harness.app.state_sync().patch("todos/private", json!({"n": 2})).unwrap();
    assert!(harness.received("late").is_empty(), "the refused read refreshed the cache");
    assert!(harness.app.state_sync().readers_of("todos/private").is_empty());
}

#[test]
fn refresh_scopes_applies_a_run_time_deny_to_delivery_before_any_command() {
    let harness = app_with(Builder::new());
    let side = harness.window("side", &["state-sync:read"]);
    harness.subscribe(&side, "settings").unwrap();
    harness.grant(scoped("side-no-settings", "side", &["state-sync:read"], &[], &["settings"]));
    harness.app.state_sync().refresh_scopes();
    harness.app.state_sync().patch("settings", json!({"n": 1})).unwrap();
    assert!(harness.received("side").is_empty());
    assert!(harness.take_events().is_empty(), "the deny is a scope, so broadcasting stopped");
}

#[test]
fn each_webview_receives_every_change_it_may_read_and_nothing_else() {
    let Three { harness, all, settings, todos } = three();
    for (window, label) in [(&all, "all"), (&settings, "settings"), (&todos, "todos")] {
        for topic in TOPICS {
            // Refused subscriptions are pinned by the command test above.
            let _ = harness.subscribe(window, topic);
        }
        assert!(harness.received(label).is_empty());
    }
    let sync = harness.app.state_sync();
    for round in 1..=3 {
        for topic in TOPICS {
            sync.patch(topic, json!({"n": round})).unwrap();
        }
    }
    harness.invoke(&todos, "patch", json!({"topic": "todos/list", "patch": {"by": "todos"}})).unwrap();

    let heard = |label: &str| -> Vec<(String, String, String)> {
        harness
            .received(label)
            .into_iter()
            .map(|m| {
                assert_eq!(m["type"], "invalidate", "{m}");
                let field = |k: &str| m[k].as_str().unwrap().to_owned();
                (field("topic"), field("revision"), field("sourceId"))
            })
            .collect()
    };
    let expected = |topics: &[&str]| -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for round in 1..=3 {
            for topic in TOPICS.iter().filter(|t| topics.contains(t)) {
                out.push((topic.to_string(), round.to_string(), "@rust".to_owned()));
            }
        }
        if topics.contains(&"todos/list") {
            out.push(("todos/list".into(), "4".into(), "todos".into()));
        }
        out
    };
    assert_eq!(heard("all"), expected(&TOPICS));
    assert_eq!(heard("settings"), expected(&["settings"]));
    assert_eq!(heard("todos"), expected(&["todos/list"]));
    assert_eq!(sync.readers_of("todos/list"), ["all", "todos"]);
    assert_eq!(sync.readers_of("todos/private"), ["all"]);
}

#[test]
fn with_scopes_in_use_a_listener_for_the_broadcast_event_hears_nothing() {
    let Three { harness, all, .. } = three();
    harness.subscribe(&all, "settings").unwrap();
    harness.app.state_sync().patch("settings", json!({"n": 1})).unwrap();
    harness.invoke(&all, "patch", json!({"topic": "todos/private", "patch": {"n": 1}})).unwrap();
    assert!(harness.take_events().is_empty());
    assert_eq!(harness.received("all").len(), 1, "the subscriber still hears its topic");
}

#[test]
fn the_broadcast_stays_on_when_the_app_turns_it_on() {
    let Three { harness, all, .. } = three_with(Builder::new().broadcast(Broadcast::Always));
    harness.subscribe(&all, "settings").unwrap();
    harness.app.state_sync().patch("todos/private", json!({"n": 1})).unwrap();
    let events = harness.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].topic, "todos/private");
    assert!(harness.received("all").is_empty(), "not subscribed to todos/private");
}

#[test]
fn without_scopes_the_broadcast_goes_on_and_never_broadcasts_only_subscribers() {
    let harness = app_with(Builder::new());
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "settings").unwrap();
    harness.app.state_sync().patch("settings", json!({"n": 1})).unwrap();
    assert_eq!(harness.take_events().len(), 1);
    assert_eq!(harness.received("main").len(), 1);

    let quiet = app_with(Builder::new().broadcast(Broadcast::Never));
    let main = quiet.window("main", &["state-sync:default"]);
    quiet.subscribe(&main, "settings").unwrap();
    quiet.app.state_sync().patch("settings", json!({"n": 1})).unwrap();
    assert!(quiet.take_events().is_empty());
    assert_eq!(quiet.received("main").len(), 1);
}

#[test]
fn unsubscribe_stops_delivery_and_only_for_the_caller() {
    let harness = app_with(Builder::new());
    let a = harness.window("a", &["state-sync:read"]);
    let b = harness.window("b", &["state-sync:read"]);
    let id = harness.subscribe(&a, "settings").unwrap();
    harness.subscribe(&b, "settings").unwrap();
    // `b` cannot remove `a`'s subscription.
    harness.invoke(&b, "unsubscribe", json!({"id": id})).unwrap();
    harness.app.state_sync().patch("settings", json!({"n": 1})).unwrap();
    assert_eq!(harness.received("a").len(), 1);
    harness.invoke(&a, "unsubscribe", json!({"id": id})).unwrap();
    harness.app.state_sync().patch("settings", json!({"n": 2})).unwrap();
    assert!(harness.received("a").is_empty());
    assert_eq!(harness.received("b").len(), 2);
}

#[test]
fn a_malformed_scope_entry_is_a_typed_error_and_not_access() {
    let harness = app_with(Builder::new());
    harness.grant(scoped("bad", "bad", &["state-sync:read"], &["todos**"], &[]));
    let bad = harness.open("bad");
    for (command, args) in [
        ("snapshot", json!({"topic": "todos/list"})),
        ("topics", json!({})),
    ] {
        let err = harness.invoke(&bad, command, args).unwrap_err();
        assert_eq!(err["code"], "INVALID_SCOPE", "{command}: {err}");
        assert_eq!(err["pattern"], "todos**");
    }
    assert_eq!(harness.subscribe(&bad, "todos/list").unwrap_err()["code"], "INVALID_SCOPE");
}

#[test]
fn subscribe_refuses_malformed_arguments_with_typed_errors() {
    let harness = app_with(Builder::new());
    let main = harness.window("main", &["state-sync:default"]);
    for (args, code) in [
        (json!({"topic": "settings"}), "INVALID_ARGUMENT"),
        (json!({"topic": "settings", "channel": "nope"}), "INVALID_ARGUMENT"),
        (json!({"topic": "a b", "channel": "__CHANNEL__:9"}), "INVALID_TOPIC"),
        (json!({"topic": "settings", "channel": "__CHANNEL__:9", "extra": 1}), "INVALID_ARGUMENT"),
    ] {
        let err = harness.invoke(&main, "subscribe", args.clone()).unwrap_err();
        assert_eq!(err["code"], code, "{args}: {err}");
    }
    assert_eq!(harness.invoke(&main, "unsubscribe", json!({"id": "1"})).unwrap_err()["code"], "INVALID_ARGUMENT");
    assert!(harness.app.state_sync().readers_of("settings").is_empty());
}

#[test]
fn persistence_problems_follow_the_read_scope_of_the_topic_they_name() {
    use std::sync::{Arc, Mutex};
    use tauri::Listener;
    use tauri_plugin_state_sync::{Persistence, PERSISTENCE_ERROR_EVENT};

    let dir = std::env::temp_dir().join(format!("state-sync-scoped-problems-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("settings.json"), b"not json").unwrap();
    let Three { harness, all, settings: _, todos } =
        three_with(Builder::new().persist("settings", Persistence::new()).persist_dir(&dir));
    let broadcast = Arc::new(Mutex::new(0));
    let heard = broadcast.clone();
    harness.app.listen_any(PERSISTENCE_ERROR_EVENT, move |_| *heard.lock().unwrap() += 1);

    // The load problem of `settings` is listed only to windows that may read it.
    let listed = harness.invoke(&all, "persistence_errors", json!({})).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["topic"], "settings");
    assert_eq!(harness.invoke(&todos, "persistence_errors", json!({})).unwrap(), json!([]));

    // A save problem reaches the subscribers allowed to read `settings` only.
    harness.subscribe(&all, "settings").unwrap();
    harness.subscribe(&todos, "todos/list").unwrap();
    harness.app.state_sync().patch("settings", json!({"n": 1})).unwrap();
    harness.received("all");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"a file where the directory was").unwrap();
    assert!(harness.app.state_sync().flush().is_err());
    let messages = harness.received("all");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["type"], "persistenceError");
    assert_eq!(messages[0]["topic"], "settings");
    assert_eq!(messages[0]["kind"], "save");
    assert!(harness.received("todos").is_empty());
    assert_eq!(*broadcast.lock().unwrap(), 0, "scopes are in use: no broadcast");
    let _ = std::fs::remove_file(&dir);
}

/// A window allowed to write a topic but not to read it must not learn its
/// data from a write's answer: neither from a conflict's `currentData` nor
/// from an action outcome's `data`.
#[test]
fn a_write_answer_carries_data_only_to_a_window_allowed_to_read_the_topic() {
    let harness = app_with(Builder::new());
    harness.grant(scoped("blind-read", "blind", &["state-sync:read"], &["settings"], &[]));
    harness.grant(scoped("blind-write", "blind", &["state-sync:write"], &["counter"], &[]));
    let blind = harness.open("blind");
    let all = harness.window("all", &["state-sync:default"]);
    harness.app.state_sync().set("counter", json!({"n": 41})).unwrap();

    let stale = json!({"topic": "counter", "patch": {"m": 1}, "expectedRevision": "0"});
    let conflict = harness.invoke(&blind, "patch", stale.clone()).unwrap_err();
    assert_eq!(conflict["code"], "REVISION_CONFLICT", "{conflict}");
    assert_eq!(conflict["currentRevision"], "1");
    assert!(conflict.get("currentData").is_none(), "no data for a window that may not read: {conflict}");
    let seen = harness.invoke(&all, "patch", stale).unwrap_err();
    assert_eq!(seen["currentData"], json!({"n": 41}), "a window that may read gets it: {seen}");

    let acted = harness.invoke(&blind, "act", json!({"topic": "counter", "action": "bump"})).unwrap();
    assert_eq!(acted["revision"], "2");
    assert!(acted.get("data").is_none() || acted["data"].is_null(), "{acted}");
    let acted = harness.invoke(&all, "act", json!({"topic": "counter", "action": "bump"})).unwrap();
    assert_eq!(acted["data"], json!({"n": 43}), "{acted}");
    assert_eq!(*harness.app.state_sync().get("counter").unwrap().data, json!({"n": 43}));
}
