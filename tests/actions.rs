//! Actions: named changes registered in Rust, called from Rust and from
//! windows through real IPC.

mod common;

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Barrier,
    },
    thread,
};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tauri_plugin_state_sync::{ActionError, Builder, Error, Revision, StateSyncExt};

use common::Harness;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Counter {
    value: i64,
}

/// No `deny_unknown_fields`: the plugin refuses unknown keys itself.
#[derive(Deserialize)]
struct Increment {
    by: i64,
}

fn increment(counter: &mut Counter, Increment { by }: Increment) -> Result<(), ActionError> {
    counter.value = counter
        .value
        .checked_add(by)
        .ok_or("the counter would overflow")?;
    Ok(())
}

/// A typed `counter` with `increment`, and an untyped `todos` with `add`,
/// a failing `refuse` and a panicking `explode`.
fn app() -> Harness {
    Harness::new(
        Builder::new()
            .typed_topic("counter", Counter { value: 0 })
            .typed_action("counter", "increment", increment)
            .topic("todos", json!([]))
            .action("todos", "add", |todos, args| {
                let text = args["text"].as_str().ok_or("`text` must be a string")?;
                let mut next = todos.clone();
                next.as_array_mut()
                    .ok_or("todos must be a list")?
                    .push(json!(text));
                Ok(next)
            })
            .action("todos", "refuse", |_, _| {
                Err(ActionError::new("the list is locked"))
            })
            .action("todos", "explode", |_, _| panic!("the closure blew up")),
    )
}

/// The data and revision of `topic`.
fn state(harness: &Harness, topic: &str) -> (Revision, Value) {
    let snapshot = harness.app.state_sync().get(topic).unwrap();
    (snapshot.revision, Value::clone(&snapshot.data))
}

#[test]
fn an_untyped_action_applies_to_the_current_data_and_returns_it() {
    let harness = app();
    let sync = harness.app.state_sync();
    let outcome = sync.act("todos", "add", json!({"text": "milk"})).unwrap();
    assert_eq!(
        (outcome.outcome.previous_revision, outcome.outcome.revision),
        (Revision::new(0), Revision::new(1))
    );
    assert_eq!(outcome.data.as_deref(), Some(&json!(["milk"])));
    sync.act("todos", "add", json!({"text": "eggs"})).unwrap();
    assert_eq!(
        state(&harness, "todos"),
        (Revision::new(2), json!(["milk", "eggs"]))
    );
    let events = harness.take_events();
    assert_eq!(
        events.iter().map(|e| e.revision.get()).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(events.iter().all(|e| e.source_id == "@rust"));
}

#[test]
fn a_typed_action_works_on_the_type_with_a_typed_argument() {
    let harness = app();
    let counter = harness
        .app
        .state_sync()
        .typed::<Counter>("counter")
        .unwrap();
    let outcome = counter.act("increment", json!({"by": 5})).unwrap();
    assert_eq!(outcome.data.as_deref(), Some(&json!({"value": 5})));
    assert_eq!(counter.get().unwrap().data, Counter { value: 5 });
    assert_eq!(counter.get().unwrap().revision, Revision::new(1));
}

#[test]
fn actions_registered_at_run_time_work_like_declared_ones() {
    let harness = Harness::new(Builder::new().topic("n", 1));
    let sync = harness.app.state_sync();
    sync.register_action("n", "double", |n, _| Ok(json!(n.as_i64().unwrap_or(0) * 2)))
        .unwrap();
    let typed = sync.register_typed("c", Counter { value: 1 }).unwrap();
    typed.register_action("increment", increment).unwrap();
    sync.act("n", "double", Value::Null).unwrap();
    typed.act("increment", json!({"by": 2})).unwrap();
    assert_eq!(state(&harness, "n"), (Revision::new(1), json!(2)));
    assert_eq!(typed.get().unwrap().data, Counter { value: 3 });
}

#[test]
fn a_typed_argument_that_does_not_fit_is_a_validation_error_naming_the_field() {
    let harness = app();
    let sync = harness.app.state_sync();
    for (args, path) in [
        (json!({"by": "two"}), "by"),
        (json!({}), "."),
        (json!({"by": 1, "times": 2}), "times"),
    ] {
        let err = sync.act("counter", "increment", &args).unwrap_err();
        assert_eq!(err.code(), "VALIDATION_FAILED", "{args}");
        match &err {
            Error::Validation { path: found, .. } => assert_eq!(found, path, "{args}"),
            other => panic!("expected a validation error, got {other}"),
        }
    }
    assert_eq!(
        state(&harness, "counter"),
        (Revision::ZERO, json!({"value": 0}))
    );
    assert!(harness.take_events().is_empty());
}

#[test]
fn a_failing_closure_answers_action_failed_and_changes_nothing() {
    let harness = app();
    let sync = harness.app.state_sync();
    let err = sync.act("todos", "refuse", Value::Null).unwrap_err();
    assert_eq!(err.code(), "ACTION_FAILED");
    assert_eq!(
        err.to_string(),
        "action `refuse` on `todos` failed: the list is locked"
    );
    let err = sync
        .act("counter", "increment", json!({"by": i64::MAX}))
        .and_then(|_| sync.act("counter", "increment", json!({"by": 1})));
    assert!(err.unwrap_err().to_string().contains("would overflow"));
    assert_eq!(state(&harness, "todos"), (Revision::ZERO, json!([])));
    assert_eq!(
        state(&harness, "counter"),
        (Revision::new(1), json!({"value": i64::MAX}))
    );
}

#[test]
fn a_panicking_closure_answers_action_panicked_and_the_topic_stays_usable() {
    let harness = app();
    let sync = harness.app.state_sync();
    for _ in 0..3 {
        let err = sync.act("todos", "explode", Value::Null).unwrap_err();
        assert_eq!(err.code(), "ACTION_PANICKED");
        assert!(err.to_string().contains("the closure blew up"), "{err}");
    }
    assert_eq!(state(&harness, "todos"), (Revision::ZERO, json!([])));
    // Nothing is poisoned: the other actions, writes and reads of the topic go on.
    sync.act("todos", "add", json!({"text": "after"})).unwrap();
    sync.update("todos", |todos| {
        todos.as_array_mut().unwrap().push(json!("update"))
    })
    .unwrap();
    assert_eq!(
        state(&harness, "todos"),
        (Revision::new(2), json!(["after", "update"]))
    );
}

#[test]
fn an_unknown_action_or_topic_is_refused_by_name() {
    let harness = app();
    let sync = harness.app.state_sync();
    let err = sync
        .act("counter", "decrement", json!({"by": 1}))
        .unwrap_err();
    assert_eq!(err.code(), "UNKNOWN_ACTION");
    assert_eq!(err.to_string(), "topic `counter` has no action `decrement`");
    assert_eq!(
        sync.act("missing", "increment", Value::Null)
            .unwrap_err()
            .code(),
        "UNKNOWN_TOPIC"
    );
    // An action belongs to its topic, not to every topic.
    assert_eq!(
        sync.act("todos", "increment", json!({"by": 1}))
            .unwrap_err()
            .code(),
        "UNKNOWN_ACTION"
    );
}

#[test]
fn registering_a_taken_action_name_fails_and_keeps_the_first() {
    let harness = app();
    let sync = harness.app.state_sync();
    let err = sync
        .register_action("todos", "add", |_, _| Ok(json!("replaced")))
        .unwrap_err();
    assert_eq!(err.code(), "ACTION_EXISTS");
    sync.act("todos", "add", json!({"text": "first"})).unwrap();
    assert_eq!(state(&harness, "todos").1, json!(["first"]));
}

#[test]
fn an_action_whose_result_does_not_fit_the_typed_topic_is_refused() {
    let harness = app();
    let sync = harness.app.state_sync();
    sync.register_action("counter", "break", |_, _| Ok(json!({"value": "many"})))
        .unwrap();
    let err = sync.act("counter", "break", Value::Null).unwrap_err();
    assert_eq!(err.code(), "VALIDATION_FAILED");
    assert_eq!(
        state(&harness, "counter"),
        (Revision::ZERO, json!({"value": 0}))
    );
}

#[test]
fn an_action_that_changes_nothing_keeps_the_revision_and_emits_nothing() {
    let harness = app();
    let outcome = harness
        .app
        .state_sync()
        .act("counter", "increment", json!({"by": 0}))
        .unwrap();
    assert!(!outcome.outcome.changed());
    assert_eq!(outcome.data.as_deref(), Some(&json!({"value": 0})));
    assert!(harness.take_events().is_empty());
}

#[test]
fn removing_a_topic_removes_its_actions() {
    let harness = app();
    let sync = harness.app.state_sync();
    sync.remove("todos").unwrap();
    sync.register("todos", json!([])).unwrap();
    assert_eq!(
        sync.act("todos", "add", json!({"text": "x"}))
            .unwrap_err()
            .code(),
        "UNKNOWN_ACTION"
    );
}

#[test]
fn a_builder_action_on_an_undeclared_or_differently_typed_topic_fails_setup() {
    for (builder, expected) in [
        (
            Builder::new().action("nowhere", "a", |v, _| Ok(v.clone())),
            "unknown topic `nowhere`",
        ),
        (
            Builder::new()
                .topic("counter", 0)
                .typed_action("counter", "increment", increment),
            "holds `serde_json::Value`",
        ),
    ] {
        let context = tauri::test::mock_context(tauri::test::noop_assets());
        let result = tauri::test::mock_builder()
            .plugin(builder.build())
            .build(context);
        let err = result.expect_err("setup must fail");
        assert!(err.to_string().contains(expected), "{err}");
    }
}

/// Race: actions from many threads at once run on the latest data each
/// time, so none is lost, and every commit moves the revision by exactly one.
#[test]
fn concurrent_actions_from_many_threads_reach_the_exact_total_with_revisions_one_apart() {
    const THREADS: usize = 8;
    const ACTIONS: usize = 250;
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let harness = Harness::new(
        Builder::new()
            .typed_topic("counter", Counter { value: 0 })
            .typed_action(
                "counter",
                "increment",
                move |counter: &mut Counter, args: Increment| {
                    counted.fetch_add(1, Ordering::Relaxed);
                    increment(counter, args)
                },
            ),
    );
    let sync = harness.app.state_sync().clone();
    let barrier = Barrier::new(THREADS);
    let mut revisions: Vec<u64> = thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (sync, barrier) = (sync.clone(), &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    (0..ACTIONS)
                        .map(|_| {
                            let outcome =
                                sync.act("counter", "increment", json!({"by": 1})).unwrap();
                            let (before, after) =
                                (outcome.outcome.previous_revision, outcome.outcome.revision);
                            assert_eq!(after.get(), before.get() + 1, "one commit, one revision");
                            // The data returned is the data at that revision.
                            assert_eq!(
                                outcome.data.as_deref(),
                                Some(&json!({"value": after.get()}))
                            );
                            after.get()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let total = (THREADS * ACTIONS) as u64;
    assert_eq!(
        state(&harness, "counter"),
        (Revision::new(total), json!({"value": total}))
    );
    revisions.sort_unstable();
    assert_eq!(
        revisions,
        (1..=total).collect::<Vec<_>>(),
        "every revision produced exactly once"
    );
    assert!(
        runs.load(Ordering::Relaxed) >= total as usize,
        "a closure runs at least once per action"
    );
}

// Through IPC, with permissions granted by real capabilities.

#[test]
fn a_window_calls_an_action_and_its_outcome_carries_the_data() {
    let harness = app();
    let main = harness.window("main", &["state-sync:default"]);
    let outcome = harness
        .invoke(
            &main,
            "act",
            json!({"topic": "counter", "action": "increment", "args": {"by": 2}}),
        )
        .unwrap();
    assert_eq!(
        outcome,
        json!({"revision": "1", "previousRevision": "0", "exact": true, "data": {"value": 2}})
    );
    let events = harness.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].revision, events[0].source_id.as_str()),
        (Revision::new(1), "main")
    );
    // `args` may be left out: the action receives `null`.
    harness
        .app
        .state_sync()
        .register_action("counter", "reset", |_, args| {
            assert_eq!(*args, Value::Null);
            Ok(json!({"value": 0}))
        })
        .unwrap();
    harness
        .invoke(&main, "act", json!({"topic": "counter", "action": "reset"}))
        .unwrap();
    assert_eq!(
        state(&harness, "counter"),
        (Revision::new(2), json!({"value": 0}))
    );
}

#[test]
fn act_has_its_own_permission_outside_read() {
    let harness = app();
    let reader = harness.window("reader", &["state-sync:read"]);
    let err = harness
        .invoke(
            &reader,
            "act",
            json!({"topic": "counter", "action": "increment", "args": {"by": 1}}),
        )
        .unwrap_err();
    assert!(
        err.as_str().unwrap_or_default().contains("not allowed"),
        "{err}"
    );
    let actor = harness.window("actor", &["state-sync:read", "state-sync:allow-act"]);
    harness
        .invoke(
            &actor,
            "act",
            json!({"topic": "counter", "action": "increment", "args": {"by": 1}}),
        )
        .unwrap();
    let err = harness
        .invoke(
            &actor,
            "set",
            json!({"topic": "counter", "data": {"value": 9}}),
        )
        .unwrap_err();
    assert!(
        err.as_str().unwrap_or_default().contains("not allowed"),
        "acting does not grant set: {err}"
    );
    assert_eq!(
        state(&harness, "counter"),
        (Revision::new(1), json!({"value": 1}))
    );
}

#[test]
fn a_window_that_may_not_read_gets_no_data_in_an_outcome_or_a_conflict() {
    let harness = app();
    let blind = harness.window("blind", &["state-sync:write"]);
    let outcome = harness
        .invoke(
            &blind,
            "act",
            json!({"topic": "counter", "action": "increment", "args": {"by": 1}}),
        )
        .unwrap();
    assert_eq!(
        outcome,
        json!({"revision": "1", "previousRevision": "0", "exact": true})
    );
    let err = harness
        .invoke(
            &blind,
            "set",
            json!({"topic": "counter", "data": {"value": 5}, "expectedRevision": "0"}),
        )
        .unwrap_err();
    assert_eq!(err["code"], "REVISION_CONFLICT");
    assert_eq!(err["currentRevision"], "1");
    assert!(err.get("currentData").is_none(), "{err}");
}

#[test]
fn a_conflict_carries_the_current_data_to_a_window_that_may_read() {
    let harness = app();
    let main = harness.window("main", &["state-sync:default"]);
    harness
        .app
        .state_sync()
        .act("counter", "increment", json!({"by": 7}))
        .unwrap();
    for (command, body) in [("set", "data"), ("patch", "patch")] {
        let err = harness
            .invoke(
                &main,
                command,
                json!({"topic": "counter", body: {"value": 1}, "expectedRevision": "0"}),
            )
            .unwrap_err();
        assert_eq!(
            err,
            json!({
                "code": "REVISION_CONFLICT",
                "message": "revision conflict on `counter`: expected revision 0, the topic is at 1",
                "topic": "counter",
                "expectedRevision": "0",
                "currentRevision": "1",
                "currentData": {"value": 7},
            }),
            "{command}"
        );
    }
}

#[test]
fn act_answers_typed_errors_through_ipc_and_changes_nothing() {
    let harness = Harness::new(
        Builder::new()
            .typed_topic("counter", Counter { value: 0 })
            .typed_action("counter", "increment", increment)
            .action("counter", "refuse", |_, _| Err("not today".into()))
            .action("counter", "explode", |_, _| panic!("kaboom"))
            .max_payload_bytes(64),
    );
    let main = harness.window("main", &["state-sync:default"]);
    let act = |action: &str, args: Value| {
        harness
            .invoke(
                &main,
                "act",
                json!({"topic": "counter", "action": action, "args": args}),
            )
            .unwrap_err()
    };
    let err = act("decrement", json!({"by": 1}));
    assert_eq!(
        (&err["code"], &err["topic"], &err["action"]),
        (
            &json!("UNKNOWN_ACTION"),
            &json!("counter"),
            &json!("decrement")
        )
    );
    let err = act("increment", json!({"by": "one"}));
    assert_eq!(
        (&err["code"], &err["path"]),
        (&json!("VALIDATION_FAILED"), &json!("by"))
    );
    let err = act("refuse", Value::Null);
    assert_eq!(
        (&err["code"], &err["action"]),
        (&json!("ACTION_FAILED"), &json!("refuse"))
    );
    assert!(
        err["message"].as_str().unwrap().ends_with("not today"),
        "{err}"
    );
    let err = act("explode", Value::Null);
    assert_eq!(
        (&err["code"], &err["action"]),
        (&json!("ACTION_PANICKED"), &json!("explode"))
    );
    let err = act("increment", json!({"by": 1, "padding": "x".repeat(100)}));
    assert_eq!(
        (&err["code"], &err["limit"]),
        (&json!("PAYLOAD_TOO_LARGE"), &json!(64))
    );
    let err = harness
        .invoke(
            &main,
            "act",
            json!({"topic": "counter", "name": "increment", "args": {"by": 1}}),
        )
        .unwrap_err();
    assert_eq!(
        (&err["code"], &err["argument"]),
        (&json!("INVALID_ARGUMENT"), &json!("name"))
    );
    assert_eq!(
        state(&harness, "counter"),
        (Revision::ZERO, json!({"value": 0}))
    );
    assert!(harness.take_events().is_empty());
    // The panic poisoned nothing: the next call goes through.
    harness
        .invoke(
            &main,
            "act",
            json!({"topic": "counter", "action": "increment", "args": {"by": 1}}),
        )
        .unwrap();
}

/// Issue 11's depth limit holds for actions too: a result nested deeper than
/// `MAX_DEPTH` would be stored though no file could hold it, and an argument
/// that deep would reach the closure.
#[test]
fn an_action_result_or_argument_deeper_than_the_limit_is_too_deep_and_changes_nothing() {
    use tauri_plugin_state_sync::MAX_DEPTH;

    let harness = Harness::new(
        Builder::new()
            .topic("t", json!({"keep": true}))
            .action("t", "deepen", |_, args| {
                let depth = args["depth"].as_u64().ok_or("`depth` must be a number")?;
                Ok(common::nested(depth as usize))
            })
            .action("t", "echo", |_, args| Ok(args.clone())),
    );
    let sync = harness.app.state_sync();
    let main = harness.window("main", &["state-sync:default"]);
    // The result the closure builds is dropped without recursion, at any depth.
    let err = sync.act("t", "deepen", json!({ "depth": 100_000 })).unwrap_err();
    assert!(matches!(err, Error::TooDeep { limit: MAX_DEPTH }), "{err}");
    // The test drops its own arguments recursively, so these stay shallow enough.
    for depth in [MAX_DEPTH + 1, 127, 1_000] {
        let err = sync.act("t", "deepen", json!({ "depth": depth })).unwrap_err();
        assert!(matches!(err, Error::TooDeep { limit: MAX_DEPTH }), "{err}");
        let err = sync.act("t", "echo", common::nested(depth)).unwrap_err();
        assert!(matches!(err, Error::TooDeep { limit: MAX_DEPTH }), "{err}");
        let err = harness
            .invoke(
                &main,
                "act",
                json!({"topic": "t", "action": "deepen", "args": {"depth": depth}}),
            )
            .unwrap_err();
        assert_eq!(err["code"], "TOO_DEEP", "result at depth {depth}: {err}");
        // Built by hand: `json!` would copy the nested value recursively.
        let args = Value::Object(
            [
                ("topic".to_owned(), json!("t")),
                ("action".to_owned(), json!("echo")),
                ("args".to_owned(), common::nested(depth)),
            ]
            .into_iter()
            .collect(),
        );
        let err = harness.invoke(&main, "act", args).unwrap_err();
        assert_eq!(err["code"], "TOO_DEEP", "argument at depth {depth}: {err}");
    }
    assert_eq!(state(&harness, "t"), (Revision::ZERO, json!({"keep": true})));
    assert!(harness.take_events().is_empty());

    let at_the_limit = sync.act("t", "deepen", json!({ "depth": MAX_DEPTH })).unwrap();
    assert!(at_the_limit.outcome.changed());
}

/// `act` reads its arguments like every other command: unknown names,
/// `null` for the topic or the action, and arguments that are not an object
/// are refused by name, and nothing changes.
#[test]
fn act_refuses_unknown_arguments_null_names_and_non_objects() {
    let harness = app();
    let main = harness.window("main", &["state-sync:default"]);
    let refused = |args: Value| harness.invoke(&main, "act", args).unwrap_err();
    let err = refused(json!({"topic": "counter", "action": "increment", "args": {"by": 1}, "extra": 1}));
    assert_eq!((&err["code"], &err["argument"]), (&json!("INVALID_ARGUMENT"), &json!("extra")));
    let err = refused(json!({"topic": null, "action": "increment", "args": {"by": 1}}));
    assert_eq!((&err["code"], &err["argument"]), (&json!("INVALID_ARGUMENT"), &json!("topic")));
    let err = refused(json!({"topic": "counter", "action": null, "args": {"by": 1}}));
    assert_eq!((&err["code"], &err["argument"]), (&json!("INVALID_ARGUMENT"), &json!("action")));
    let err = refused(json!(["counter", "increment", {"by": 1}]));
    assert_eq!(err["code"], "INVALID_ARGUMENT", "{err}");
    assert!(err.get("argument").is_none() || err["argument"].is_null(), "{err}");
    assert_eq!(state(&harness, "counter"), (Revision::ZERO, json!({"value": 0})));
}

/// The bug: a typed action's argument struct dropped keys it has no field
/// for, as serde does, so `act('increment', { by: 1, bye: 2 })` succeeded and
/// a misspelt argument went unnoticed. Through IPC it is now refused, naming
/// the key, like a typed topic's `set` and `patch`; a `#[serde(flatten)]` map
/// in the argument type keeps extra keys, as it does for a topic's type.
#[test]
fn a_typed_action_argument_with_an_unknown_key_is_refused_not_dropped() {
    #[derive(Deserialize)]
    struct Label {
        text: String,
        #[serde(flatten)]
        extra: serde_json::Map<String, Value>,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Labels {
        items: Vec<String>,
    }
    let harness = Harness::new(
        Builder::new()
            .typed_topic("counter", Counter { value: 0 })
            .typed_action("counter", "increment", increment)
            .typed_topic("labels", Labels { items: Vec::new() })
            .typed_action("labels", "add", |labels: &mut Labels, Label { text, extra }: Label| {
                labels.items.push(format!("{text} {}", Value::Object(extra)));
                Ok(())
            }),
    );
    let main = harness.window("main", &["state-sync:default"]);
    let act = |topic: &str, action: &str, args: Value| {
        harness.invoke(
            &main,
            "act",
            json!({"topic": topic, "action": action, "args": args}),
        )
    };
    for (args, path) in [
        (json!({"by": 1, "bye": 2}), "bye"),
        (json!({"bye": 2, "by": 1}), "bye"),
    ] {
        let err = act("counter", "increment", args.clone()).unwrap_err();
        assert_eq!(
            (&err["code"], &err["topic"], &err["path"]),
            (&json!("VALIDATION_FAILED"), &json!("counter"), &json!(path)),
            "{args}: {err}"
        );
        let message = err["message"].as_str().unwrap();
        assert!(message.contains("unknown key `bye`"), "{message}");
    }
    assert_eq!(
        state(&harness, "counter"),
        (Revision::ZERO, json!({"value": 0}))
    );
    assert!(harness.take_events().is_empty());

    // The flattened map opts out: the extra key reaches the closure.
    act("labels", "add", json!({"text": "a", "colour": "red"})).unwrap();
    assert_eq!(
        state(&harness, "labels"),
        (Revision::new(1), json!({"items": [r#"a {"colour":"red"}"#]}))
    );
    // And the fix refuses nothing that fits.
    act("counter", "increment", json!({"by": 2})).unwrap();
    assert_eq!(
        state(&harness, "counter"),
        (Revision::new(1), json!({"value": 2}))
    );
}
