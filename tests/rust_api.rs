//! The Rust API reached through `app.state_sync()`.

mod common;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tauri_plugin_state_sync::{Builder, Error, Revision, StateSyncExt, MAX_DEPTH};

use common::Harness;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Settings {
    theme: String,
    #[serde(default)]
    zoom: u8,
}

fn typed_app() -> Harness {
    Harness::new(Builder::new().typed_topic(
        "settings",
        Settings {
            theme: "light".into(),
            zoom: 1,
        },
    ))
}

#[test]
fn typed_handles_read_and_write_the_rust_type() {
    let harness = typed_app();
    let settings = harness.app.state_sync().typed::<Settings>("settings").unwrap();
    assert_eq!(settings.get().unwrap().data.theme, "light");

    let outcome = settings.update(|s| s.zoom += 1).unwrap();
    assert_eq!(outcome.revision, Revision::new(1));
    settings
        .set(&Settings {
            theme: "dark".into(),
            zoom: 2,
        })
        .unwrap();
    let current = settings.get().unwrap();
    assert_eq!(current.revision, Revision::new(2));
    assert_eq!(current.data, Settings { theme: "dark".into(), zoom: 2 });
}

#[test]
fn a_typed_update_that_changes_nothing_keeps_the_revision() {
    let harness = typed_app();
    let settings = harness.app.state_sync().typed::<Settings>("settings").unwrap();
    let outcome = settings.update(|s| s.zoom = 1).unwrap();
    assert!(!outcome.changed());
    assert!(harness.take_events().is_empty());
}

#[test]
fn a_typed_handle_of_the_wrong_type_is_refused() {
    let harness = typed_app();
    let sync = harness.app.state_sync();
    let err = sync.typed::<Vec<u8>>("settings").expect_err("type mismatch");
    assert_eq!(err.code(), "TYPE_MISMATCH");
    sync.register("loose", json!({})).unwrap();
    assert_eq!(sync.typed::<Settings>("loose").err().unwrap().code(), "TYPE_MISMATCH");
}

#[test]
fn untyped_writes_to_a_typed_topic_are_validated_too() {
    let harness = typed_app();
    let sync = harness.app.state_sync();
    let err = sync.set("settings", json!({"theme": 7})).unwrap_err();
    match err {
        Error::Validation { path, .. } => assert_eq!(path, "theme"),
        other => panic!("expected a validation error, got {other}"),
    }
    let err = sync.patch("settings", json!({"zoom": 999})).unwrap_err();
    assert_eq!(err.code(), "VALIDATION_FAILED");
    assert!(err.to_string().contains("zoom"), "{err}");
    assert_eq!(sync.get("settings").unwrap().revision, Revision::ZERO);
}

#[test]
fn a_window_write_that_does_not_fit_the_type_names_the_field() {
    let harness = typed_app();
    let main = harness.window("main", &["state-sync:default"]);
    let err = harness
        .invoke(&main, "set", json!({"topic": "settings", "data": {"theme": "dark", "zoom": -1}}))
        .unwrap_err();
    assert_eq!(err["code"], "VALIDATION_FAILED");
    assert_eq!(err["path"], "zoom");
    assert_eq!(harness.app.state_sync().get("settings").unwrap().revision, Revision::ZERO);
}

#[test]
fn update_bumps_the_revision_only_when_the_value_changes() {
    let harness = Harness::new(Builder::new().topic("counter", 0));
    let sync = harness.app.state_sync();
    assert!(!sync.update("counter", |_| {}).unwrap().changed());
    let outcome = sync
        .update("counter", |v| *v = json!(v.as_i64().unwrap() + 5))
        .unwrap();
    assert_eq!((outcome.previous_revision, outcome.revision), (Revision::ZERO, Revision::new(1)));
    assert_eq!(*sync.get("counter").unwrap().data, json!(5));
}

#[test]
fn operations_on_unknown_topics_fail_without_creating_them() {
    let harness = Harness::new(Builder::new());
    let sync = harness.app.state_sync();
    assert_eq!(sync.get("ghost").unwrap_err().code(), "UNKNOWN_TOPIC");
    assert_eq!(sync.set("ghost", 1).unwrap_err().code(), "UNKNOWN_TOPIC");
    assert_eq!(sync.patch("ghost", json!({})).unwrap_err().code(), "UNKNOWN_TOPIC");
    assert_eq!(sync.update("ghost", |_| {}).unwrap_err().code(), "UNKNOWN_TOPIC");
    assert_eq!(sync.remove("ghost").unwrap_err().code(), "UNKNOWN_TOPIC");
    assert!(sync.subscribe("ghost").is_err());
    assert!(sync.topics().is_empty());
}

#[test]
fn a_patch_that_is_not_an_object_is_refused() {
    let harness = Harness::new(Builder::new().topic("t", json!({"a": 1})));
    let sync = harness.app.state_sync();
    for patch in [json!(null), json!(1), json!("x"), json!([1])] {
        assert_eq!(sync.patch("t", patch).unwrap_err().code(), "INVALID_PATCH");
    }
    assert_eq!(sync.get("t").unwrap().revision, Revision::ZERO);
}

#[test]
fn registering_a_taken_or_malformed_name_fails() {
    let harness = Harness::new(Builder::new().topic("t", 1));
    let sync = harness.app.state_sync();
    assert_eq!(sync.register("t", 2).unwrap_err().code(), "TOPIC_EXISTS");
    assert_eq!(sync.register("", 2).unwrap_err().code(), "INVALID_TOPIC");
    assert_eq!(*sync.get("t").unwrap().data, json!(1));
}

#[test]
fn a_builder_with_a_duplicate_topic_fails_setup() {
    let context = tauri::test::mock_context(tauri::test::noop_assets());
    let result = tauri::test::mock_builder()
        .plugin(Builder::new().topic("t", 1).topic("t", 2).build())
        .build(context);
    let err = result.expect_err("setup must fail");
    assert!(err.to_string().contains("already registered"), "{err}");
}

#[test]
fn subscribers_see_the_latest_snapshot() {
    let harness = Harness::new(Builder::new().topic("t", 0));
    let sync = harness.app.state_sync();
    let mut rx = sync.subscribe("t").unwrap();
    for n in 1..=3 {
        sync.set("t", n).unwrap();
    }
    let seen = tauri::async_runtime::block_on(async {
        rx.changed().await.unwrap();
        rx.borrow_and_update().clone()
    });
    assert_eq!((seen.revision, &*seen.data), (Revision::new(3), &json!(3)));

    sync.remove("t").unwrap();
    let closed = tauri::async_runtime::block_on(rx.changed());
    assert!(closed.is_err(), "removing a topic closes its channel");
}

/// A Rust type that nests itself `.0` levels deep when serialized.
struct Deep(usize);

impl Serialize for Deep {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(1))?;
        if self.0 > 1 {
            seq.serialize_element(&Deep(self.0 - 1))?;
        }
        seq.end()
    }
}

/// Issue 11, item 8: data nested 10,000 levels through `StateSync::set`
/// aborted the whole process with a stack overflow.
#[test]
fn deeply_nested_data_from_rust_is_too_deep_not_a_stack_overflow() {
    let harness = Harness::new(Builder::new().topic("t", json!({"keep": true})).typed_topic(
        "settings",
        Settings { theme: "light".into(), zoom: 1 },
    ));
    let sync = harness.app.state_sync();
    fn too_deep<T: std::fmt::Debug>(result: tauri_plugin_state_sync::Result<T>) {
        assert!(matches!(result, Err(Error::TooDeep { limit: MAX_DEPTH })), "{result:?}");
    }
    for depth in [MAX_DEPTH + 1, 10_000, 100_000] {
        let deep = common::nested(depth);
        too_deep(sync.set("t", &deep));
        too_deep(sync.set("settings", &deep));
        too_deep(sync.compare_and_set("t", Revision::ZERO, &deep));
        too_deep(sync.set("t", Deep(depth)));
        too_deep(sync.register("other", Deep(depth)));
        // Built by hand: `json!` would copy `deep` recursively.
        let patch = serde_json::Value::Object([("deep".to_owned(), deep)].into_iter().collect());
        too_deep(sync.patch("t", patch));
        let mut deep = Some(common::nested(depth));
        too_deep(sync.update("t", |value| value["deep"] = deep.take().unwrap_or_default()));
    }
    let snapshot = sync.get("t").unwrap();
    assert_eq!((snapshot.revision, &*snapshot.data), (Revision::ZERO, &json!({"keep": true})));
    assert_eq!(sync.get("settings").unwrap().revision, Revision::ZERO);
    assert_eq!(sync.get("other").unwrap_err().code(), "UNKNOWN_TOPIC");
    assert!(harness.take_events().is_empty());

    sync.set("t", common::nested(MAX_DEPTH)).unwrap();
    sync.set("t", Deep(MAX_DEPTH)).unwrap();
}

/// Issue 11, item 5: one depth limit at every way in, including the data a
/// topic is declared with.
#[test]
fn a_builder_topic_nested_deeper_than_the_limit_fails_setup() {
    let result = tauri::test::mock_builder()
        .plugin(Builder::new().topic("t", common::nested(MAX_DEPTH + 1)).build())
        .build(tauri::test::mock_context(tauri::test::noop_assets()));
    let err = result.expect_err("setup must fail");
    assert!(err.to_string().contains("deeper than the limit"), "{err}");
}

/// Bug: `patch({ colour: 'red' })` on a typed topic without `colour` answered
/// success with `exact: false` and silently dropped the key.
#[test]
fn a_window_patch_with_a_key_the_type_lacks_is_refused_naming_the_key() {
    let harness = typed_app();
    let main = harness.window("main", &["state-sync:default"]);
    let err = harness
        .invoke(&main, "patch", json!({"topic": "settings", "patch": {"colour": "red"}}))
        .unwrap_err();
    assert_eq!(err["code"], "VALIDATION_FAILED");
    assert_eq!(err["path"], "colour");
    assert!(err["message"].as_str().unwrap().contains("unknown key `colour`"), "{err}");
    let current = harness.app.state_sync().get("settings").unwrap();
    assert_eq!(current.revision, Revision::ZERO);
    assert_eq!(*current.data, json!({"theme": "light", "zoom": 1}));
    assert!(harness.take_events().is_empty(), "a refused write emits nothing");
}

#[derive(Serialize, Deserialize)]
struct Outer {
    inner: Settings,
}

#[test]
fn an_unknown_key_deep_in_the_data_is_named_by_its_path() {
    let harness = Harness::new(Builder::new().typed_topic(
        "outer",
        Outer { inner: Settings::default() },
    ));
    let sync = harness.app.state_sync();
    let err = sync
        .set("outer", json!({"inner": {"theme": "dark", "zoom": 2, "colour": "red"}}))
        .unwrap_err();
    match &err {
        Error::Validation { path, reason, .. } => {
            assert_eq!(path, "inner.colour");
            assert!(reason.contains("`colour`"), "{reason}");
        }
        other => panic!("expected a validation error, got {other}"),
    }
    assert_eq!(sync.get("outer").unwrap().revision, Revision::ZERO);
}

/// A type opts out of the unknown-key check by keeping extra keys itself.
#[derive(Serialize, Deserialize)]
struct Open {
    theme: String,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

#[test]
fn a_type_with_a_flattened_map_keeps_keys_it_has_no_field_for() {
    let harness = Harness::new(Builder::new().typed_topic(
        "open",
        Open { theme: "light".into(), extra: Default::default() },
    ));
    let main = harness.window("main", &["state-sync:default"]);
    let outcome = harness
        .invoke(&main, "patch", json!({"topic": "open", "patch": {"colour": "red"}}))
        .unwrap();
    assert_eq!(outcome["exact"], true);
    assert_eq!(*harness.app.state_sync().get("open").unwrap().data, json!({"theme": "light", "colour": "red"}));
}

#[test]
fn a_json_value_key_declares_an_untyped_topic() {
    use tauri_plugin_state_sync::TopicKey;
    const LOOSE: TopicKey<serde_json::Value> = TopicKey::new("loose");
    let harness = Harness::new(Builder::new().topic("loose", json!({"a": 1})));
    let sync = harness.app.state_sync();
    let loose = sync.handle(LOOSE).unwrap();
    loose.set(&json!({"anything": ["goes"]})).unwrap();
    assert_eq!(loose.get().unwrap().data, json!({"anything": ["goes"]}));
    assert_eq!(sync.handle(TopicKey::<Settings>::new("loose")).unwrap_err().code(), "TYPE_MISMATCH");
}
