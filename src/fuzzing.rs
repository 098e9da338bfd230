//! Entry points for the fuzz targets in `fuzz/`, built only with the
//! `fuzzing` feature. Not part of the public API.
//!
//! Each function takes raw input from the fuzzer, feeds it to one boundary
//! of the plugin, and panics when a rule of the protocol is broken, so that
//! the fuzzer reports the input as a crash. The same functions replay the
//! committed corpus in the crate's tests.

use std::{path::Path, sync::Arc};

use serde_json::{json, Value};
use tauri::Runtime;

use crate::{
    commands::{
        self, ActArgs, NoArgs, PatchArgs, SetArgs, SnapshotArgs, SnapshotsArgs, SubscribeArgs,
        UnsubscribeArgs,
    },
    depth::{self, MAX_DEPTH},
    persistence::file,
    topic::Schema,
    Error, Persistence, Revision, StateSync,
};

/// Command argument parsing: every command's arguments, from JSON bytes.
pub fn command_arguments(bytes: &[u8]) {
    let Ok(args) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    let too_deep = depth::exceeds(&args, MAX_DEPTH + 1);
    let given = args.get("expectedRevision");
    let check = |result: Result<(), Error>| {
        if let Err(err) = result {
            if too_deep {
                assert!(matches!(err, Error::TooDeep { .. }), "over-deep arguments gave {err}");
            }
            assert_error_form(&err);
        } else {
            assert!(!too_deep, "over-deep arguments were accepted");
        }
    };
    check(commands::parse_json::<NoArgs>(&args).map(|NoArgs {}| ()));
    check(commands::parse_json::<SnapshotArgs>(&args).map(|a| drop(a.topic)));
    check(commands::parse_json::<SnapshotsArgs>(&args).map(|a| drop(a.topics)));
    check(commands::parse_json::<SubscribeArgs>(&args).map(|a| drop((a.topic, a.channel))));
    check(commands::parse_json::<UnsubscribeArgs>(&args).map(|UnsubscribeArgs { id: _ }| ()));
    check(commands::parse_json::<ActArgs>(&args).map(|a| drop((a.topic, a.action, a.args))));
    let expect_given = |expected: Option<Value>| {
        let parsed = commands::expected(expected);
        match (given, &parsed) {
            (Some(value), Ok(revision)) => {
                let revision = revision.expect("a given expectedRevision was read as absent");
                assert_eq!(value, &json!(revision.to_string()));
            }
            (None, Ok(revision)) => assert!(revision.is_none()),
            (_, Err(err)) => assert_eq!(err.code(), "INVALID_REVISION"),
        }
        parsed.map(drop)
    };
    check(commands::parse_json::<SetArgs>(&args).and_then(|a| expect_given(a.expected_revision)));
    check(commands::parse_json::<PatchArgs>(&args).and_then(|a| expect_given(a.expected_revision)));
}

/// Revision parsing, from text and from JSON: only the canonical form is
/// accepted, and a refusal carries the JSON of what was refused.
pub fn revision(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        match text.parse::<Revision>() {
            Ok(revision) => assert_eq!(revision.to_string(), text),
            Err(err) => assert_rejected(&err, &json!(text)),
        }
    }
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        let from_json = Revision::from_json(&value);
        match &from_json {
            Ok(revision) => assert_eq!(value, json!(revision.to_string())),
            Err(err) => assert_rejected(err, &value),
        }
        let deserialized = serde_json::from_slice::<Revision>(bytes);
        assert_eq!(deserialized.ok(), from_json.ok(), "serde and from_json disagree");
    }
}

/// Merge patches and replacements through the Rust API on `topic` of `sync`.
///
/// `bytes` is a JSON array: the initial data, then writes, each a patch
/// when it is an object and a replacement otherwise. Every write either
/// changes nothing, or makes exactly one new revision holding exactly the
/// merged data, which can be saved and parsed back.
pub fn merge_patches<R: Runtime>(sync: &StateSync<R>, topic: &str, bytes: &[u8]) {
    let Ok(Value::Array(mut writes)) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    if writes.is_empty() {
        return;
    }
    let initial = writes.remove(0);
    let initial_too_deep = depth::exceeds(&initial, MAX_DEPTH);
    match sync.register(topic, &initial) {
        Ok(_) => assert!(!initial_too_deep, "over-deep initial data was accepted"),
        Err(err) => {
            assert!(initial_too_deep, "registering failed: {err}");
            assert!(matches!(err, Error::TooDeep { .. }), "{err}");
            return;
        }
    }
    for write in writes {
        let before = sync.get(topic).expect("the topic exists");
        let too_deep = depth::exceeds(&write, MAX_DEPTH);
        let expected = if write.is_object() {
            let mut merged = Value::clone(&before.data);
            json_patch::merge(&mut merged, &write);
            merged
        } else {
            write.clone()
        };
        let result = if write.is_object() {
            sync.patch(topic, write)
        } else {
            sync.set(topic, write)
        };
        let after = sync.get(topic).expect("the topic exists");
        match result {
            Ok(outcome) => {
                assert!(!too_deep, "an over-deep write was accepted");
                assert_eq!(outcome.previous_revision, before.revision);
                assert_eq!(outcome.revision, after.revision);
                assert!(outcome.exact);
                assert_eq!(*after.data, expected);
                if *after.data == *before.data {
                    assert_eq!(after.revision, before.revision, "a no-op bumped the revision");
                } else {
                    assert_eq!(after.revision.get(), before.revision.get() + 1);
                }
                assert_readable(&after.data);
            }
            Err(err) => {
                assert!(too_deep, "a write failed: {err}");
                assert!(matches!(err, Error::TooDeep { .. }), "{err}");
                assert_eq!(after, before, "a refused write changed the topic");
            }
        }
    }
    sync.remove(topic).expect("remove the topic");
}

/// Persisted-file loading, with migrations, untyped and typed, from the
/// bytes of a file written into `dir`.
///
/// What loads must be within the depth limit, and must save and load back
/// to the same data.
pub fn persisted_file(dir: &Path, bytes: &[u8]) {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Typed {
        #[serde(default)]
        name: String,
        #[serde(default)]
        items: Vec<Value>,
        #[serde(default)]
        nested: Option<Box<Typed>>,
    }
    let options = Persistence::new()
        .version(3)
        // Version 1 kept a bare value; version 2 wraps it, one level deeper.
        .migration(1, |data| Ok(json!({ "value": data })))
        // Version 2 to 3 fails for data that asks to.
        .migration(2, |data| match data.get("fail") {
            Some(reason) => Err(reason.to_string().into()),
            None => Ok(data),
        });
    std::fs::create_dir_all(dir).expect("create the fuzz directory");
    let path = dir.join("t.json");
    let again = dir.join("again.json");
    std::fs::write(&path, bytes).expect("write the file");
    for schema in [None, Schema::of::<Typed>()] {
        let Ok(Some(loaded)) = file::load(&path, &options, schema.as_ref(), "t") else {
            continue;
        };
        assert!(!depth::exceeds(&loaded.data, MAX_DEPTH), "over-deep data was loaded");
        file::save(&again, &loaded.data, loaded.revision, loaded.revision, &options)
            .expect("save what was loaded");
        let reloaded = file::load(&again, &options, schema.as_ref(), "t")
            .unwrap_or_else(|problem| panic!("what was saved does not load: {problem:?}"))
            .expect("the saved file exists");
        assert_eq!(reloaded.data, loaded.data);
        assert_eq!(reloaded.revision, loaded.revision);
    }
}

/// A refused revision is `INVALID_REVISION` whose `value` is the JSON of `rejected`.
fn assert_rejected(err: &Error, rejected: &Value) {
    let Error::InvalidRevision { value, .. } = err else {
        panic!("expected INVALID_REVISION, got {err}");
    };
    let reported: Value = serde_json::from_str(value).expect("`value` is JSON");
    assert_eq!(&reported, rejected);
    assert_error_form(err);
}

/// An error reaches windows as an object with its code and a message.
fn assert_error_form(err: &Error) {
    let form = serde_json::to_value(err).expect("errors serialize");
    assert_eq!(form["code"], err.code());
    assert!(form["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// `data`, wrapped as in a file or a command's arguments, parses back as it is.
fn assert_readable(data: &Arc<Value>) {
    let text = serde_json::to_string(&json!({ "data": data })).expect("data serializes");
    let back: Value = serde_json::from_str(&text).expect("accepted data parses back");
    assert_eq!(back["data"], **data);
}
