//! One-hop push: the channel message that announces a small change carries
//! its patch, in revision order, only to windows allowed to read the topic;
//! larger changes and the broadcast event carry none.

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{scoped, Harness};
use serde_json::{json, Value};
use tauri_plugin_state_sync::{Builder, HistoryLimits, Invalidation, StateSyncExt, RUST_SOURCE_ID};

/// Applies each pushed patch of `messages` to `data`, checking that each
/// starts where the previous ended, and returns the result.
fn replay(mut data: Value, mut at: u64, messages: &[Value]) -> (Value, u64) {
    for message in messages {
        assert_eq!(message["type"], "invalidate", "{message}");
        let from: u64 = message["from"].as_str().expect("a pushed patch").parse().unwrap();
        let revision: u64 = message["revision"].as_str().unwrap().parse().unwrap();
        assert!(from == at && revision > at, "{message} after revision {at}");
        let patch: json_patch::Patch = serde_json::from_value(message["patch"].clone()).unwrap();
        json_patch::patch(&mut data, &patch).unwrap();
        at = revision;
    }
    (data, at)
}

/// Settings with enough text beside the keys that the history keeps a
/// one-key patch (at most half the data's size).
fn settings() -> Value {
    json!({"theme": "light", "zoom": 1, "fonts": "serif ".repeat(20)})
}

/// A builder whose changes each leave in a message of their own.
fn unbatched() -> Builder {
    Builder::new().push_interval(Duration::ZERO)
}

/// Waits until the last message `label` received announces `revision`: the
/// end of a burst may leave after the push interval.
fn wait_for(harness: &Harness, label: &str, revision: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let last = harness.peek(label).last().map(|m| m["revision"].clone());
        if last == Some(json!(revision.to_string())) {
            return;
        }
        assert!(Instant::now() < deadline, "{label} never heard revision {revision}: last {last:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn changes_within_the_push_interval_leave_together_as_one_message_with_their_joined_patch() {
    let harness = Harness::new(
        Builder::new()
            .topic("settings", settings())
            .push_interval(Duration::from_millis(200)),
    );
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "settings").unwrap();
    let sync = harness.app.state_sync();
    sync.patch("settings", json!({"theme": "dark"})).unwrap();
    sync.patch("settings", json!({"zoom": 2})).unwrap();
    harness.invoke(&main, "patch", json!({"topic": "settings", "patch": {"theme": "sepia"}})).unwrap();
    // The first left at once; the other two wait for the interval.
    assert_eq!(harness.peek("main").len(), 1);
    wait_for(&harness, "main", 3);
    assert_eq!(
        harness.received("main"),
        [
            json!({"type": "invalidate", "topic": "settings", "revision": "1", "sourceId": RUST_SOURCE_ID,
                   "from": "0", "patch": [{"op": "replace", "path": "/theme", "value": "dark"}]}),
            json!({"type": "invalidate", "topic": "settings", "revision": "3", "sourceId": "main",
                   "from": "1", "patch": [{"op": "replace", "path": "/zoom", "value": 2},
                                          {"op": "replace", "path": "/theme", "value": "sepia"}]}),
        ]
    );
    // The broadcast event names the last revision of each message.
    let broadcast: Vec<u64> = harness.take_events().iter().map(|e| e.revision.get()).collect();
    assert_eq!(broadcast, [1, 3]);
}

#[test]
fn a_batch_that_ends_with_whole_values_pushes_only_the_last() {
    let harness = Harness::new(Builder::new().topic("counter", json!({"n": 0})).push_interval(Duration::from_millis(200)));
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "counter").unwrap();
    let sync = harness.app.state_sync();
    for n in 1..=4 {
        sync.patch("counter", json!({ "n": n })).unwrap();
    }
    wait_for(&harness, "main", 4);
    let received = harness.received("main");
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[1],
        json!({"type": "invalidate", "topic": "counter", "revision": "4", "sourceId": RUST_SOURCE_ID,
               "from": "1", "patch": [{"op": "replace", "path": "", "value": {"n": 4}}]})
    );
}

#[test]
fn a_small_change_reaches_a_subscribed_window_with_its_patch() {
    let harness = Harness::new(unbatched().topic("settings", settings()));
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "settings").unwrap();
    let sync = harness.app.state_sync();
    sync.patch("settings", json!({"theme": "dark"})).unwrap();
    harness.invoke(&main, "patch", json!({"topic": "settings", "patch": {"zoom": null}})).unwrap();

    assert_eq!(
        harness.received("main"),
        [
            json!({"type": "invalidate", "topic": "settings", "revision": "1", "sourceId": RUST_SOURCE_ID,
                   "from": "0", "patch": [{"op": "replace", "path": "/theme", "value": "dark"}]}),
            json!({"type": "invalidate", "topic": "settings", "revision": "2", "sourceId": "main",
                   "from": "1", "patch": [{"op": "remove", "path": "/zoom"}]}),
        ]
    );
}

#[test]
fn a_change_of_data_too_small_for_a_kept_patch_is_pushed_as_the_whole_new_data() {
    let harness = Harness::new(unbatched().topic("counter", json!({"n": 0})));
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "counter").unwrap();
    let sync = harness.app.state_sync();
    sync.patch("counter", json!({"n": 1})).unwrap();
    sync.set("counter", json!({"n": 2, "by": "set"})).unwrap();
    assert_eq!(
        harness.received("main"),
        [
            json!({"type": "invalidate", "topic": "counter", "revision": "1", "sourceId": RUST_SOURCE_ID,
                   "from": "0", "patch": [{"op": "replace", "path": "", "value": {"n": 1}}]}),
            json!({"type": "invalidate", "topic": "counter", "revision": "2", "sourceId": RUST_SOURCE_ID,
                   "from": "1", "patch": [{"op": "replace", "path": "", "value": {"n": 2, "by": "set"}}]}),
        ]
    );
    // The history keeps neither: a pull since 0 is the snapshot.
    assert!(matches!(
        sync.get_since("counter", "0".parse().unwrap()).unwrap(),
        tauri_plugin_state_sync::CatchUp::Snapshot(_)
    ));
}

#[test]
fn the_broadcast_event_never_carries_a_patch() {
    let harness = Harness::new(unbatched().topic("settings", settings()));
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "settings").unwrap();
    harness.app.state_sync().patch("settings", json!({"theme": "dark"})).unwrap();
    assert_eq!(harness.take_events(), [Invalidation::new("settings", "1".parse().unwrap(), RUST_SOURCE_ID)]);
    assert!(harness.received("main")[0]["patch"].is_array(), "while the channel's message does");
}

/// A window subscribed to a 2 KB topic `doc` whose changes are pushed with
/// their patch only up to 64 bytes.
fn doc_pushed_up_to_64_bytes() -> (Harness, tauri::WebviewWindow<tauri::test::MockRuntime>) {
    let harness = Harness::new(
        unbatched()
            .topic("doc", json!({"text": "", "n": 0, "rest": "r".repeat(2_000)}))
            .push_limit(64),
    );
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "doc").unwrap();
    (harness, main)
}

#[test]
fn a_patch_over_the_push_limit_is_announced_without_it() {
    let (harness, _main) = doc_pushed_up_to_64_bytes();
    let sync = harness.app.state_sync();
    // Larger than the push limit, small next to the data, so the history keeps them.
    sync.patch("doc", json!({"text": "x".repeat(100)})).unwrap();
    sync.patch("doc", json!({"text": "y".repeat(100)})).unwrap();
    sync.patch("doc", json!({"n": 1})).unwrap();

    let received = harness.received("main");
    assert_eq!(received.len(), 3);
    for message in &received[..2] {
        assert!(message.get("patch").is_none() && message.get("from").is_none(), "{message}");
    }
    assert_eq!(received[2]["patch"], json!([{"op": "replace", "path": "/n", "value": 1}]));
    // The history still reaches back past the large change: the window pulls it.
    match sync.get_since("doc", "1".parse().unwrap()).unwrap() {
        tauri_plugin_state_sync::CatchUp::Delta(delta) => assert_eq!(delta.from.get(), 1),
        other => panic!("expected a delta, got {other:?}"),
    }
}

#[test]
fn a_push_limit_of_zero_pushes_no_patch() {
    let harness = Harness::new(unbatched().topic("t", json!({"n": 0, "pad": "p".repeat(200)})).push_limit(0));
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "t").unwrap();
    harness.app.state_sync().patch("t", json!({"n": 1})).unwrap();
    let received = harness.received("main");
    assert_eq!(received.len(), 1);
    assert!(received[0].get("patch").is_none(), "{}", received[0]);
}

#[test]
fn a_topic_without_history_still_pushes_its_merge_patches_and_small_data_whole() {
    let harness = Harness::new(
        unbatched()
            .topic("cursor", json!({"x": 0}))
            .topic("log", json!({"lines": "l".repeat(10_000), "n": 0}))
            .history_limits(HistoryLimits::off()),
    );
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "cursor").unwrap();
    harness.subscribe(&main, "log").unwrap();
    let sync = harness.app.state_sync();
    sync.patch("cursor", json!({"x": 1})).unwrap();
    sync.patch("log", json!({"n": 1})).unwrap();
    // A set is not diffed without a history, and 10 KB is past the push limit whole.
    sync.set("log", json!({"lines": "m".repeat(10_000), "n": 1})).unwrap();
    let received = harness.received("main");
    assert_eq!(received.len(), 3);
    assert_eq!(received[0]["patch"], json!([{"op": "replace", "path": "", "value": {"x": 1}}]));
    assert_eq!(received[1]["patch"], json!([{"op": "replace", "path": "/n", "value": 1}]));
    assert!(received[2].get("patch").is_none(), "{}", received[2]);
    assert!(matches!(
        sync.get_since("log", "1".parse().unwrap()).unwrap(),
        tauri_plugin_state_sync::CatchUp::Snapshot(_)
    ));
}

#[test]
fn a_pushed_patch_reaches_only_the_windows_allowed_to_read_the_topic() {
    let harness = Harness::new(
        unbatched()
            .topic("todos/public", json!({"n": 0}))
            .topic("todos/private", json!({"secret": "a", "pad": "p".repeat(200)})),
    );
    harness.grant(scoped("reader", "reader", &["state-sync:default"], &["todos/*"], &[]));
    harness.grant(scoped("outsider", "outsider", &["state-sync:default"], &["todos/public"], &[]));
    let reader = harness.open("reader");
    let outsider = harness.open("outsider");
    harness.subscribe(&reader, "todos/private").unwrap();
    assert!(harness.subscribe(&outsider, "todos/private").is_err());
    harness.subscribe(&outsider, "todos/public").unwrap();

    harness.app.state_sync().patch("todos/private", json!({"secret": "b"})).unwrap();

    assert_eq!(harness.received("reader")[0]["patch"][0]["value"], "b");
    assert_eq!(harness.received("outsider"), Vec::<Value>::new());
}

#[test]
fn changes_applied_from_each_pushed_patch_in_turn_equal_the_topic() {
    let initial = json!({"items": [1, 2, 3], "meta": {"a": 1, "b": {"c": null}}});
    let harness = Harness::new(unbatched().topic("t", initial.clone()));
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "t").unwrap();
    let sync = harness.app.state_sync();
    sync.patch("t", json!({"meta": {"b": {"d": [1]}}})).unwrap();
    sync.set("t", json!({"items": [1, 5], "meta": {"a": 1, "b": {"c": null, "d": [1]}}, "new": true}))
        .unwrap();
    sync.update("t", |v| v["items"].as_array_mut().unwrap().push(json!(9))).unwrap();
    sync.patch("t", json!({"meta": null, "new": {"x": null, "y": 2}})).unwrap();

    let (data, at) = replay(initial, 0, &harness.received("main"));
    let current = sync.get("t").unwrap();
    assert_eq!((data, at), ((*current.data).clone(), current.revision.get()));
}

/// Writers on several threads race; every window must still hear the
/// changes in revision order, each patch starting where the last ended.
#[test]
fn concurrent_writers_race_to_publish_and_the_window_hears_every_change_in_revision_order() {
    let harness = Harness::new(Builder::new().topic("t", json!({})));
    let main = harness.window("main", &["state-sync:default"]);
    harness.subscribe(&main, "t").unwrap();
    let sync = Arc::new(harness.app.state_sync().clone());
    let threads: Vec<_> = (0..4)
        .map(|writer| {
            let sync = sync.clone();
            std::thread::spawn(move || {
                for n in 0..250 {
                    sync.patch("t", json!({ format!("w{writer}"): n })).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    wait_for(&harness, "main", 1_000);
    let received = harness.received("main");
    let (data, at) = replay(json!({}), 0, &received);
    assert_eq!(at, 1_000);
    assert_eq!(data, json!({"w0": 249, "w1": 249, "w2": 249, "w3": 249}));
}

#[test]
fn a_window_s_patch_is_answered_with_the_patch_its_change_is_pushed_with() {
    let (harness, main) = doc_pushed_up_to_64_bytes();

    let small = harness.invoke(&main, "patch", json!({"topic": "doc", "patch": {"n": 1}})).unwrap();
    assert_eq!(
        small,
        json!({"revision": "1", "previousRevision": "0", "exact": true,
               "patch": [{"op": "replace", "path": "/n", "value": 1}]})
    );
    assert_eq!(small["patch"], harness.received("main")[0]["patch"], "what the channel carries");

    // Past the push limit, the message carries no patch, and neither does the answer.
    let large = harness.invoke(&main, "patch", json!({"topic": "doc", "patch": {"text": "x".repeat(100)}})).unwrap();
    assert_eq!(large, json!({"revision": "2", "previousRevision": "1", "exact": true}));
    // Nor does a patch that changes nothing, or a set.
    let none = harness.invoke(&main, "patch", json!({"topic": "doc", "patch": {"n": 1}})).unwrap();
    assert_eq!(none, json!({"revision": "2", "previousRevision": "2", "exact": true}));
    let set = harness.invoke(&main, "set", json!({"topic": "doc", "data": {"n": 2}})).unwrap();
    assert_eq!(set, json!({"revision": "3", "previousRevision": "2", "exact": true}));
}
