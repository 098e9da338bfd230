//! Durable topics: restore across restarts, debounced saves, flush at exit,
//! migrations, and recovery from unusable files.

mod common;

use std::{
    fs,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tauri::{Manager, WebviewUrl, WebviewWindowBuilder};

use tauri_plugin_state_sync::{
    Builder, Persistence, PersistenceError, ProblemKind, Revision, StateSyncExt, MAX_DEPTH,
};

use common::Harness;

/// A fresh, empty directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("state-sync-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn file_of(dir: &Path, topic: &str) -> PathBuf {
    dir.join(format!("{topic}.json"))
}

/// A fresh directory holding `bytes` as the file of `topic`; returns both paths.
fn dir_with_file(name: &str, topic: &str, bytes: &[u8]) -> (PathBuf, PathBuf) {
    let dir = temp_dir(name);
    fs::create_dir_all(&dir).unwrap();
    let path = file_of(&dir, topic);
    fs::write(&path, bytes).unwrap();
    (dir, path)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).expect("read the topic file")).expect("valid JSON")
}

fn settings_builder(dir: &Path, options: Persistence) -> Builder {
    Builder::new()
        .topic("settings", json!({"theme": "light", "token": "default-token"}))
        .topic("scratch", json!({}))
        .persist("settings", options)
        .persist_dir(dir)
}

/// Runs the event loop and closes every window once it is running, so the
/// loop ends the way a real app does and delivers `RunEvent::Exit` to the
/// plugin.
fn exit_cleanly(harness: Harness) {
    WebviewWindowBuilder::new(&harness.app, "closing", WebviewUrl::default())
        .build()
        .unwrap();
    harness.app.run_return(|app, event| {
        if let tauri::RunEvent::Ready = event {
            for window in app.webview_windows().into_values() {
                window.destroy().unwrap();
            }
        }
    });
}

/// Polls `condition` every 10 ms for up to `limit`, naming what it waited for.
fn wait_for(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn data_and_revision_survive_a_clean_restart() {
    let dir = temp_dir("clean-restart");
    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    let sync = harness.app.state_sync();
    sync.patch("settings", json!({"theme": "dark"})).unwrap();
    sync.patch("settings", json!({"lang": "fr"})).unwrap();
    sync.set("scratch", json!({"not": "saved"})).unwrap();
    exit_cleanly(harness);

    let saved = read_json(&file_of(&dir, "settings"));
    assert_eq!(saved["revision"], "2");
    assert_eq!(saved["lease"], "2", "a clean exit gives up the lease");
    assert!(!file_of(&dir, "scratch").exists(), "topics that do not opt in are not saved");

    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    let restored = harness.app.state_sync().get("settings").unwrap();
    assert_eq!(restored.revision, Revision::new(2));
    assert_eq!(*restored.data, json!({"theme": "dark", "lang": "fr", "token": "default-token"}));
    assert_eq!(*harness.app.state_sync().get("scratch").unwrap().data, json!({}));
}

#[test]
fn a_window_first_snapshot_is_already_the_restored_state() {
    let dir = temp_dir("first-snapshot");
    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    harness.app.state_sync().patch("settings", json!({"theme": "dark"})).unwrap();
    exit_cleanly(harness);

    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    let window = harness.window("main", &["state-sync:default"]);
    let first = harness.invoke(&window, "snapshot", json!({"topic": "settings"})).unwrap();
    assert_eq!(first["revision"], "1");
    assert_eq!(first["data"]["theme"], "dark");
}

/// Race: the app crashes after handing out revisions it never saved; the
/// next run must not hand out those numbers again for other contents.
#[test]
fn after_a_crash_revisions_resume_above_anything_the_crashed_run_could_use() {
    let dir = temp_dir("crash");
    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    let sync = harness.app.state_sync();
    sync.patch("settings", json!({"theme": "dark"})).unwrap();
    sync.flush().unwrap();
    sync.patch("settings", json!({"theme": "unsaved"})).unwrap();
    let crashed_at = sync.get("settings").unwrap().revision;
    drop(harness); // no exit event: a crash

    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    let restored = harness.app.state_sync().get("settings").unwrap();
    assert_eq!(restored.data["theme"], "dark", "the last saved state comes back");
    assert!(restored.revision > crashed_at, "{} must exceed {crashed_at}", restored.revision);
    assert!(restored.revision.get() > 1 << 20, "it resumes above the saved lease");
}

#[test]
fn omitted_keys_never_reach_the_disk_and_come_back_from_the_default() {
    let dir = temp_dir("omit");
    let options = || Persistence::new().omit_keys(["token"]);
    let harness = Harness::new(settings_builder(&dir, options()));
    harness.app.state_sync().patch("settings", json!({"token": "s3cret", "theme": "dark"})).unwrap();
    harness.app.state_sync().flush().unwrap();
    let text = fs::read_to_string(file_of(&dir, "settings")).unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    drop(harness);

    let harness = Harness::new(settings_builder(&dir, options()));
    let restored = harness.app.state_sync().get("settings").unwrap();
    assert_eq!(restored.data["theme"], "dark");
    assert_eq!(restored.data["token"], "default-token");
}

#[test]
fn saves_are_debounced_and_bounded_by_the_maximum_wait() {
    let dir = temp_dir("debounce");
    let builder = settings_builder(&dir, Persistence::new())
        .save_debounce(Duration::from_millis(100))
        .save_max_wait(Duration::from_millis(400));
    let harness = Harness::new(builder);
    let sync = harness.app.state_sync();
    let path = file_of(&dir, "settings");
    let saved_revision = || read_json(&path)["revision"].as_str().unwrap().to_owned();
    assert_eq!(saved_revision(), "0", "setup writes the file once to take its lease");

    // Writes every 20 ms keep the debounce from firing; the maximum wait
    // forces a save while they continue.
    let start = Instant::now();
    let mut saved_while_writing = false;
    let mut n = 0;
    while start.elapsed() < Duration::from_millis(1500) {
        n += 1;
        sync.patch("settings", json!({"n": n})).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        saved_while_writing |= saved_revision() != "0";
    }
    assert!(saved_while_writing, "max wait must force a save during a stream of writes");

    // Once writes stop, the debounced save catches up with the last one.
    let last = sync.get("settings").unwrap().revision.to_string();
    wait_for("the debounced save of the last write", Duration::from_secs(5), || saved_revision() == last);
}

#[test]
fn no_write_is_lost_between_the_last_save_and_exit() {
    let dir = temp_dir("exit-flush");
    let builder = settings_builder(&dir, Persistence::new()).save_debounce(Duration::from_secs(60)).save_max_wait(Duration::from_secs(60));
    let harness = Harness::new(builder);
    let sync = harness.app.state_sync().clone();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let sync = sync.clone();
            std::thread::spawn(move || {
                for i in 0..250 {
                    sync.patch("settings", json!({ format!("w{w}"): i })).unwrap();
                    if i % 50 == 0 {
                        sync.flush().unwrap();
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let last = sync.get("settings").unwrap();
    drop(sync);
    exit_cleanly(harness);

    let saved = read_json(&file_of(&dir, "settings"));
    assert_eq!(saved["revision"], last.revision.to_string());
    assert_eq!(saved["data"], *last.data);
    for w in 0..4 {
        assert_eq!(saved["data"][format!("w{w}")], 249);
    }
}

#[test]
fn the_flush_command_saves_from_a_window() {
    let dir = temp_dir("flush-command");
    let builder = settings_builder(&dir, Persistence::new()).save_debounce(Duration::from_secs(60)).save_max_wait(Duration::from_secs(60));
    let harness = Harness::new(builder);
    let window = harness.window("main", &["state-sync:default"]);
    harness.invoke(&window, "patch", json!({"topic": "settings", "patch": {"theme": "dark"}})).unwrap();
    assert_eq!(read_json(&file_of(&dir, "settings"))["revision"], "0");
    assert_eq!(harness.invoke(&window, "flush", json!({})).unwrap(), Value::Null);
    assert_eq!(read_json(&file_of(&dir, "settings"))["revision"], "1");
}

#[test]
fn chained_migrations_bring_an_old_file_up_to_date() {
    let (dir, path) = dir_with_file("migrate", "settings", br#"{"data": {"dark": true}, "revision": "7", "schemaVersion": 1}"#);
    let options = Persistence::new()
        .version(3)
        .migration(1, |data| Ok(json!({"theme": if data["dark"] == true { "dark" } else { "light" }})))
        .migration(2, |mut data| {
            data["fontSize"] = json!(14);
            Ok(data)
        });
    let harness = Harness::new(settings_builder(&dir, options));
    let restored = harness.app.state_sync().get("settings").unwrap();
    assert_eq!(*restored.data, json!({"theme": "dark", "fontSize": 14}));
    assert_eq!(restored.revision, Revision::new(7));
    assert_eq!(read_json(&path)["schemaVersion"], 3, "the file is rewritten at the new version");
    assert!(harness.app.state_sync().persistence_errors().is_empty());
}

type Seen = Arc<Mutex<Vec<PersistenceError>>>;

fn with_hook(builder: Builder) -> (Builder, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    (builder.on_persistence_error(move |problem| sink.lock().unwrap().push(problem.clone())), seen)
}

#[test]
fn a_failing_migration_reports_keeps_the_file_untouched_and_starts_from_default() {
    let original = br#"{"data": {"dark": "maybe"}, "revision": "3", "schemaVersion": 1}"#;
    let (dir, path) = dir_with_file("migrate-fail", "settings", original);
    let options = Persistence::new()
        .version(2)
        .migration(1, |data| match data["dark"].as_bool() {
            Some(dark) => Ok(json!({"theme": if dark { "dark" } else { "light" }})),
            None => Err(format!("`dark` is not a boolean: {}", data["dark"]).into()),
        });
    let (builder, seen) = with_hook(settings_builder(&dir, options));
    let harness = Harness::new(builder);
    let sync = harness.app.state_sync();

    assert_eq!(sync.get("settings").unwrap().data["theme"], "light", "the default");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].kind, ProblemKind::Migration);
    assert!(seen[0].message.contains("not a boolean"), "{}", seen[0].message);
    assert_eq!(seen[0].moved_to, None);

    let window = harness.window("main", &["state-sync:read"]);
    let listed = harness.invoke(&window, "persistence_errors", json!({})).unwrap();
    assert_eq!(listed[0]["kind"], "migration");
    assert_eq!(listed[0]["topic"], "settings");

    sync.patch("settings", json!({"theme": "dark"})).unwrap();
    sync.flush().unwrap();
    assert_eq!(fs::read(&path).unwrap(), original, "the original file is untouched");
}

#[test]
fn a_file_from_a_newer_schema_is_left_alone() {
    let original = br#"{"data": {"theme": "dark"}, "revision": "9", "schemaVersion": 4}"#;
    let (dir, path) = dir_with_file("newer", "settings", original);
    let (builder, seen) = with_hook(settings_builder(&dir, Persistence::new().version(2)));
    let harness = Harness::new(builder);
    assert_eq!(harness.app.state_sync().get("settings").unwrap().data["theme"], "light");
    assert!(harness.app.state_sync().get("settings").unwrap().revision > Revision::new(9));
    assert_eq!(seen.lock().unwrap()[0].kind, ProblemKind::NewerSchema);
    exit_cleanly(harness);
    assert_eq!(fs::read(&path).unwrap(), original);
}

fn assert_recovers_from(name: &str, bytes: &[u8], kind: ProblemKind) {
    let (dir, path) = dir_with_file(name, "settings", bytes);
    let (builder, seen) = with_hook(settings_builder(&dir, Persistence::new()));
    let harness = Harness::new(builder);

    let snapshot = harness.app.state_sync().get("settings").unwrap();
    assert_eq!(snapshot.data["theme"], "light", "{name}: starts from the default");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{name}: {seen:?}");
    assert_eq!(seen[0].kind, kind, "{name}");
    let moved_to = seen[0].moved_to.as_ref().expect("the bad file is moved aside");
    assert_eq!(fs::read(moved_to).unwrap(), bytes, "{name}: the bad file is kept as it was");
    assert_eq!(read_json(&path)["data"]["theme"], "light", "{name}: a fresh file replaces it");
    assert_eq!(harness.app.state_sync().persistence_errors(), seen);
}

#[test]
fn a_corrupted_file_is_moved_aside_and_the_topic_starts_from_default() {
    assert_recovers_from("corrupt", b"\x00\x00\x00\x00garbage", ProblemKind::Corrupt);
}

#[test]
fn a_truncated_file_is_moved_aside_and_the_topic_starts_from_default() {
    let full = br#"{"data": {"theme": "dark", "lang": "en"}, "revision": "4", "lease": "4", "schemaVersion": 1}"#;
    assert_recovers_from("truncated", &full[..full.len() / 2], ProblemKind::Corrupt);
}

#[test]
fn an_empty_file_is_moved_aside_and_the_topic_starts_from_default() {
    assert_recovers_from("empty", b"", ProblemKind::Corrupt);
}

#[derive(Serialize, Deserialize)]
struct Volume {
    level: u8,
}

#[test]
fn persisted_data_that_no_longer_fits_its_type_is_treated_as_corruption() {
    let bytes = br#"{"data": {"level": 900}, "revision": "2", "schemaVersion": 1}"#;
    let (dir, _) = dir_with_file("typed", "volume", bytes);
    let (builder, seen) = with_hook(
        Builder::new()
            .typed_topic("volume", Volume { level: 5 })
            .persist("volume", Persistence::new())
            .persist_dir(&dir),
    );
    let harness = Harness::new(builder);
    let volume = harness.app.state_sync().typed::<Volume>("volume").unwrap();
    assert_eq!(volume.get().unwrap().data.level, 5);
    assert!(volume.get().unwrap().revision > Revision::new(2), "revisions still move forward");
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].kind, ProblemKind::InvalidData);
    assert!(seen[0].message.contains("level"), "{}", seen[0].message);
    assert_eq!(fs::read(seen[0].moved_to.as_ref().unwrap()).unwrap(), bytes);
}

#[test]
fn a_missing_directory_is_created() {
    let dir = temp_dir("missing-dir").join("several/levels/deep");
    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    harness.app.state_sync().patch("settings", json!({"theme": "dark"})).unwrap();
    harness.app.state_sync().flush().unwrap();
    assert_eq!(read_json(&file_of(&dir, "settings"))["data"]["theme"], "dark");
}

#[test]
fn persisting_an_undeclared_topic_fails_setup() {
    let result = tauri::test::mock_builder()
        .plugin(Builder::new().persist("ghost", Persistence::new()).persist_dir(temp_dir("ghost")).build())
        .build(tauri::test::mock_context(tauri::test::noop_assets()));
    let err = result.expect_err("setup must fail");
    assert!(err.to_string().contains("ghost"), "{err}");
}

#[test]
fn the_official_store_api_reads_the_files() {
    use tauri_plugin_store::StoreExt;

    let dir = temp_dir("store-api");
    let app = tauri::test::mock_builder()
        .plugin(tauri_plugin_store::Builder::new().build())
        .plugin(settings_builder(&dir, Persistence::new()).build())
        .build(tauri::test::mock_context(tauri::test::noop_assets()))
        .unwrap();
    app.state_sync().patch("settings", json!({"theme": "dark"})).unwrap();
    app.state_sync().flush().unwrap();

    let store = app.store(file_of(&dir, "settings")).unwrap();
    assert_eq!(store.get("data").unwrap()["theme"], "dark");
    assert_eq!(store.get("revision").unwrap(), "1");
    store.close_resource();
}

/// Issue 11, item 5: data nested 127 levels, written from Rust to a
/// persisted topic, was saved, then failed to parse at the next start and
/// the topic reset to its default. At the limit it must come back whole.
#[test]
fn data_nested_to_the_depth_limit_survives_a_restart() {
    let dir = temp_dir("depth-limit");
    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    // The data is one object around `deep`.
    let deep = common::nested(MAX_DEPTH - 1);
    harness.app.state_sync().patch("settings", json!({"deep": deep})).unwrap();
    exit_cleanly(harness);

    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    let restored = harness.app.state_sync().get("settings").unwrap();
    assert_eq!(restored.revision, Revision::new(1));
    assert_eq!(restored.data["deep"], deep);
    assert!(harness.app.state_sync().persistence_errors().is_empty());
}

/// Issue 11, item 5: deeper than the limit, the write is refused when it is
/// made, so nothing acknowledged is lost at the next start.
#[test]
fn data_nested_deeper_than_the_limit_is_refused_at_write_time_and_never_saved() {
    let dir = temp_dir("depth-refused");
    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    let sync = harness.app.state_sync();
    let err = sync.patch("settings", json!({"deep": common::nested(MAX_DEPTH)})).unwrap_err();
    assert_eq!(err.code(), "TOO_DEEP");
    sync.flush().unwrap();
    assert_eq!(sync.get("settings").unwrap().revision, Revision::ZERO);
    let saved = read_json(&file_of(&dir, "settings"));
    assert_eq!((&saved["revision"], saved["data"].get("deep")), (&json!("0"), None));
}

/// A file that this plugin would never write: its data is deeper than the
/// limit, though the JSON parser reads it.
#[test]
fn a_file_whose_data_is_deeper_than_the_limit_is_kept_aside() {
    let file = json!({"data": common::nested(MAX_DEPTH + 1), "revision": "3"});
    let bytes = serde_json::to_vec(&file).unwrap();
    assert_recovers_from("too-deep", &bytes, ProblemKind::TooDeep);
}

#[test]
fn a_file_too_deep_for_the_json_parser_is_kept_aside_as_corrupt() {
    let bytes = format!("{{\"data\": {}0{}, \"revision\": \"3\"}}", "[".repeat(5_000), "]".repeat(5_000));
    assert_recovers_from("too-deep-to-parse", bytes.as_bytes(), ProblemKind::Corrupt);
}

#[test]
fn a_migration_that_returns_data_deeper_than_the_limit_is_a_failed_migration() {
    let original = br#"{"data": {"theme": "dark"}, "revision": "3", "schemaVersion": 1}"#;
    let (dir, path) = dir_with_file("migrate-deep", "settings", original);
    let options = Persistence::new().version(2).migration(1, |_| Ok(common::nested(MAX_DEPTH + 1)));
    let (builder, seen) = with_hook(settings_builder(&dir, options));
    let harness = Harness::new(builder);
    assert_eq!(harness.app.state_sync().get("settings").unwrap().data["theme"], "light");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].kind, ProblemKind::Migration);
    assert!(seen[0].message.contains("deeper than the limit"), "{}", seen[0].message);
    exit_cleanly(harness);
    assert_eq!(fs::read(&path).unwrap(), original, "the file is left for a later version");
}

/// Found by mutating the fuzz seeds: without `serde_json`'s
/// `float_roundtrip`, a number such as 1.844674407370955e60 could be read
/// back one unit in the last place away from what was saved, so a topic
/// came back from disk with other data at the same revision.
#[test]
fn a_number_survives_a_restart_to_the_last_bit() {
    let dir = temp_dir("float-roundtrip");
    let numbers: Value = serde_json::from_str(
        "[1844674407370955161518446744073709551615184467440737095516152, 1184467440737095516151844674407370955161518446744073709551615, 0.1, 5e-324]",
    )
    .unwrap();
    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    harness.app.state_sync().patch("settings", json!({"numbers": numbers})).unwrap();
    exit_cleanly(harness);

    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    let restored = harness.app.state_sync().get("settings").unwrap();
    assert_eq!(restored.revision, Revision::new(1));
    assert_eq!(restored.data["numbers"], numbers);
}

/// Bug: the saver made its first save and only then subscribed, so a write
/// made right after setup was not saved until a later change.
#[test]
fn a_write_right_after_setup_is_saved_without_a_later_change() {
    let dir = temp_dir("right-after-setup");
    let builder = settings_builder(&dir, Persistence::new())
        .save_debounce(Duration::from_millis(20))
        .save_max_wait(Duration::from_millis(100));
    let harness = Harness::new(builder);
    harness.app.state_sync().patch("settings", json!({"theme": "dark"})).unwrap();
    let path = file_of(&dir, "settings");
    wait_for("the debounced save of the first write", Duration::from_secs(5), || {
        read_json(&path)["revision"] == "1"
    });
    assert_eq!(read_json(&path)["data"]["theme"], "dark");
}

/// Bug: at load, any `.<topic>.json.<6 alphanumerics>` file was deleted as a
/// stale temporary file, such as a user's `.settings.json.backup`.
#[test]
fn only_temporary_files_the_plugin_provably_made_are_deleted() {
    let dir = temp_dir("lookalikes");
    fs::create_dir_all(&dir).unwrap();
    let lookalikes = [".settings.json.backup", ".settings.json.a1B2c3", "settings.json.backup"];
    for name in lookalikes {
        fs::write(dir.join(name), name).unwrap();
    }
    fs::write(dir.join(".settings.json.Qx7pZ2.state-sync-tmp"), "a save killed mid-way").unwrap();
    let harness = Harness::new(settings_builder(&dir, Persistence::new()));
    harness.app.state_sync().patch("settings", json!({"theme": "dark"})).unwrap();
    exit_cleanly(harness);
    drop(Harness::new(settings_builder(&dir, Persistence::new())));
    for name in lookalikes {
        assert_eq!(fs::read_to_string(dir.join(name)).unwrap(), name, "{name} is kept as it was");
    }
    let mut names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, [".settings.json.a1B2c3", ".settings.json.backup", "settings.json", "settings.json.backup"], "no temporary file is left either");
}

/// Bug: the saver held the removed topic's cell, so its subscribers never saw
/// the channel close and a re-registered topic was not saved by debounced saves.
#[test]
fn removing_a_persisted_topic_closes_its_channel_and_saves_its_last_state() {
    let dir = temp_dir("remove");
    let builder = settings_builder(&dir, Persistence::new())
        .save_debounce(Duration::from_secs(60))
        .save_max_wait(Duration::from_secs(60));
    let harness = Harness::new(builder);
    let sync = harness.app.state_sync();
    let mut rx = sync.subscribe("settings").unwrap();
    sync.patch("settings", json!({"theme": "dark"})).unwrap();
    let last = sync.remove("settings").unwrap();
    let closed = tauri::async_runtime::block_on(async {
        tokio::time::timeout(Duration::from_secs(5), async {
            while rx.changed().await.is_ok() {}
        })
        .await
    });
    assert!(closed.is_ok(), "the subscriber's channel closes");
    let saved = read_json(&file_of(&dir, "settings"));
    assert_eq!(saved["revision"], last.revision.to_string(), "remove saves the last state");
    assert_eq!(saved["lease"], last.revision.to_string(), "with nothing left to lease");
    assert_eq!(saved["data"]["theme"], "dark");
}

#[test]
fn a_removed_and_re_registered_persisted_topic_is_saved_by_debounced_saves() {
    let dir = temp_dir("re-register");
    let builder = settings_builder(&dir, Persistence::new())
        .save_debounce(Duration::from_millis(20))
        .save_max_wait(Duration::from_millis(100));
    let harness = Harness::new(builder);
    let sync = harness.app.state_sync();
    sync.patch("settings", json!({"theme": "dark"})).unwrap();
    let removed = sync.remove("settings").unwrap();

    let again = sync
        .register_persisted::<Value>("settings", json!({"theme": "light"}), Persistence::new())
        .unwrap();
    let start = again.get().unwrap();
    assert_eq!(start.data["theme"], "dark", "it is loaded from the file its predecessor saved");
    assert_eq!(start.revision, Revision::new(removed.revision.get() + 1), "its revisions continue, without a jump");

    let path = file_of(&dir, "settings");
    for n in 0..3 {
        let outcome = sync.patch("settings", json!({"n": n})).unwrap();
        let revision = outcome.revision.to_string();
        wait_for("the debounced save of the re-registered topic", Duration::from_secs(5), || {
            read_json(&path)["revision"] == revision.as_str()
        });
    }
    assert_eq!(read_json(&path)["data"]["n"], 2);
}

/// Bug: `persistence_errors()` grew by one entry per failed save, forever.
#[test]
fn persistence_errors_stay_bounded_under_repeated_save_failures() {
    let dir = temp_dir("bounded-errors");
    let quiet = settings_builder(&dir, Persistence::new())
        .save_debounce(Duration::from_secs(60))
        .save_max_wait(Duration::from_secs(60));
    let (builder, seen) = with_hook(quiet);
    let harness = Harness::new(builder);
    let sync = harness.app.state_sync();
    // A non-empty directory where the file should go: every save fails.
    let path = file_of(&dir, "settings");
    fs::remove_file(&path).unwrap();
    fs::create_dir_all(path.join("in-the-way")).unwrap();
    for n in 0..300 {
        sync.patch("settings", json!({"n": n})).unwrap();
        assert_eq!(sync.flush().unwrap_err().code(), "PERSISTENCE_FAILED");
    }
    assert_eq!(seen.lock().unwrap().len(), 300, "every failure is still reported as it happens");
    let kept = sync.persistence_errors();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].kind, ProblemKind::Save);
    assert_eq!(&kept[0], seen.lock().unwrap().last().unwrap(), "the latest one is kept");
}

/// Sets up an app whose topic path holds what `make` puts there, in a thread,
/// failing if setup does not finish within 10 s instead of hanging the run.
/// Returns the path, the problems reported and the topic's data.
fn setup_with_special_file(name: &str, make: impl FnOnce(&Path)) -> (PathBuf, Vec<PersistenceError>, Value) {
    let dir = temp_dir(name);
    fs::create_dir_all(&dir).unwrap();
    let path = file_of(&dir, "settings");
    make(&path);
    let (tx, rx) = std::sync::mpsc::channel();
    let builder_dir = dir.clone();
    std::thread::spawn(move || {
        let harness = Harness::new(settings_builder(&builder_dir, Persistence::new()));
        let sync = harness.app.state_sync();
        tx.send((sync.persistence_errors(), (*sync.get("settings").unwrap().data).clone())).unwrap();
    });
    let (errors, data) = rx.recv_timeout(Duration::from_secs(10)).expect("setup finished instead of blocking");
    (path, errors, data)
}

/// Bug: a FIFO at a topic's path blocked app setup forever, waiting for a writer.
#[cfg(unix)]
#[test]
fn a_fifo_at_a_topics_path_does_not_block_setup_and_is_reported() {
    use std::os::unix::fs::FileTypeExt;
    let (path, errors, data) = setup_with_special_file("fifo", |path| {
        let status = std::process::Command::new("mkfifo").arg(path).status().unwrap();
        assert!(status.success());
    });
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].kind, ProblemKind::NotAFile);
    assert!(errors[0].message.contains("FIFO"), "{}", errors[0].message);
    let moved_to = errors[0].moved_to.as_ref().expect("the FIFO is moved aside");
    assert!(fs::metadata(moved_to).unwrap().file_type().is_fifo(), "and kept as it was");
    assert_eq!(data["theme"], "light", "the topic starts from its default");
    assert_eq!(read_json(&path)["data"]["theme"], "light", "a regular file replaces it");
}

#[test]
fn a_directory_at_a_topics_path_is_reported_as_not_a_file() {
    let (path, errors, _) = setup_with_special_file("dir-at-path", |path| fs::create_dir(path).unwrap());
    assert_eq!(errors[0].kind, ProblemKind::NotAFile);
    assert!(errors[0].message.contains("a directory"), "{}", errors[0].message);
    assert!(Path::new(errors[0].moved_to.as_ref().unwrap()).is_dir());
    assert!(path.is_file());
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Prefs {
    theme: String,
    zoom: u8,
}

const PREFS: tauri_plugin_state_sync::TopicKey<Prefs> = tauri_plugin_state_sync::TopicKey::new("prefs");

#[test]
fn a_typed_persisted_topic_is_declared_once_and_reached_by_its_key() {
    let dir = temp_dir("declared-once");
    let builder = || Builder::new().persisted_topic(PREFS, Prefs::default(), Persistence::new()).persist_dir(&dir);
    let harness = Harness::new(builder());
    let prefs = harness.app.state_sync().handle(PREFS).unwrap();
    prefs.update(|p| p.zoom = 3).unwrap();
    let main = harness.window("main", &["state-sync:default"]);
    let err = harness.invoke(&main, "patch", json!({"topic": "prefs", "patch": {"colour": "red"}})).unwrap_err();
    assert_eq!(err["code"], "VALIDATION_FAILED", "it is typed");
    exit_cleanly(harness);

    let harness = Harness::new(builder());
    let restored = harness.app.state_sync().handle(PREFS).unwrap().get().unwrap();
    assert_eq!(restored.data, Prefs { theme: String::new(), zoom: 3 }, "it is persisted");
    assert_eq!(restored.revision, Revision::new(1));
}

#[test]
fn a_topic_registered_at_run_time_is_persisted_and_restored() {
    let dir = temp_dir("run-time");
    let harness = Harness::new(Builder::new().persist_dir(&dir));
    let prefs = harness.app.state_sync().register_persisted("user/7:prefs", Prefs::default(), Persistence::new()).unwrap();
    prefs.update(|p| p.theme = "dark".into()).unwrap();
    exit_cleanly(harness);
    assert_eq!(read_json(&file_of(&dir, "user%2F7%3Aprefs"))["data"]["theme"], "dark");

    let harness = Harness::new(Builder::new().persist_dir(&dir));
    let sync = harness.app.state_sync();
    let prefs = sync.register_persisted("user/7:prefs", Prefs::default(), Persistence::new()).unwrap();
    assert_eq!(prefs.get().unwrap().data.theme, "dark");
    assert_eq!(prefs.get().unwrap().revision, Revision::new(1));
    let taken = sync.register_persisted("user/7:prefs", Prefs::default(), Persistence::new());
    assert_eq!(taken.unwrap_err().code(), "TOPIC_EXISTS");
}

#[test]
fn a_file_with_a_key_the_type_no_longer_has_loads_without_it() {
    let bytes = br#"{"data": {"theme": "dark", "zoom": 2, "retired": true}, "revision": "4", "schemaVersion": 1}"#;
    let (dir, path) = dir_with_file("retired-key", "prefs", bytes);
    let (builder, seen) = with_hook(Builder::new().persisted_topic(PREFS, Prefs::default(), Persistence::new()).persist_dir(&dir));
    let harness = Harness::new(builder);
    let restored = harness.app.state_sync().handle(PREFS).unwrap().get().unwrap();
    assert_eq!(restored.data, Prefs { theme: "dark".into(), zoom: 2 });
    assert_eq!(restored.revision, Revision::new(4));
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(read_json(&path)["data"], json!({"theme": "dark", "zoom": 2}));
}
