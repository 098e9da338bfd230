//! An app that handles SIGINT itself keeps it: with `stop_on_signals(false)`
//! the plugin installs nothing, and the app's own handler decides.
//!
//! The plugin's own handling (save, then a clean exit through Tauri) needs a
//! runtime that can exit, which the mock runtime cannot; the end-to-end test
//! `examples/tauri-app/e2e/signals.test.mjs` signals the real demo app.

#![cfg(unix)]

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use tauri::test::{mock_builder, mock_context, noop_assets};
use tauri_plugin_state_sync::{Builder, Persistence, StateSyncExt};

/// Runs the test `test` of this binary again as a child app with `env` set to
/// `dir`, and returns it with its remaining stdout once it printed `ready`.
fn spawn_ready_child(test: &str, env: &str, dir: &Path) -> (Child, impl Iterator<Item = String>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture"])
        .env(env, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child app");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    assert!(lines.by_ref().any(|line| line == "ready"), "the child never got ready");
    (child, lines)
}

fn send_sigint(child: &Child) {
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success(), "SIGINT sent to the child");
}

const CHILD_DIR: &str = "STATE_SYNC_SIGNALS_CHILD_DIR";
const TEST: &str = "with_signals_turned_off_sigint_reaches_only_the_apps_own_handler";

/// The child: an app with its own SIGINT handler and the plugin's turned off.
fn run_child(dir: &Path) -> ! {
    let app = mock_builder()
        .plugin(
            Builder::new()
                .topic("settings", json!({"theme": "light"}))
                .persist("settings", Persistence::new())
                .persist_dir(dir)
                .stop_on_signals(false)
                .build(),
        )
        .build(mock_context(noop_assets()))
        .expect("mock app");
    let interrupted = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, interrupted.clone()).unwrap();
    app.state_sync().patch("settings", json!({"theme": "dark"})).unwrap();
    println!("ready");
    let started = Instant::now();
    while !interrupted.load(Ordering::SeqCst) {
        assert!(started.elapsed() < Duration::from_secs(30), "no SIGINT came");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Still running after the signal: the app's handler, not the plugin, decides.
    println!("own handler ran at revision {}", app.state_sync().get("settings").unwrap().revision);
    std::process::exit(0);
}

#[test]
fn with_signals_turned_off_sigint_reaches_only_the_apps_own_handler() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        run_child(Path::new(&dir));
    }
    let dir = std::env::temp_dir().join(format!("state-sync-signals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut child, lines) = spawn_ready_child(TEST, CHILD_DIR, &dir);

    send_sigint(&child);
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.collect();

    assert_eq!(status.code(), Some(0), "the app's handler ended it as it chose: {rest:?}");
    assert!(rest.iter().any(|l| l == "own handler ran at revision 1"), "{rest:?}");
    let file: Value = serde_json::from_slice(&std::fs::read(dir.join("settings.json")).unwrap()).unwrap();
    assert_ne!(file["lease"], file["revision"], "the plugin did not stop the app: its lease is still held");
}

const SAVE_CHILD: &str = "STATE_SYNC_SIGNALS_SAVE_CHILD_DIR";
const SAVE_TEST: &str = "sigint_saves_every_persisted_topic_before_the_process_ends";

/// The child: the plugin's default handling, a change its debounced saver
/// would not save for a minute, then idle until signalled.
fn run_save_child(dir: &Path) -> ! {
    let app = mock_builder()
        .plugin(
            Builder::new()
                .topic("settings", json!({"theme": "light"}))
                .persist("settings", Persistence::new())
                .persist_dir(dir)
                .save_debounce(Duration::from_secs(60))
                .save_max_wait(Duration::from_secs(60))
                .build(),
        )
        .build(mock_context(noop_assets()))
        .expect("mock app");
    app.state_sync().patch("settings", json!({"theme": "dark"})).unwrap();
    println!("ready");
    std::thread::sleep(Duration::from_secs(30));
    println!("the signal did not end the process");
    std::process::exit(3);
}

/// On a real runtime the signal then exits through Tauri with a clean lease
/// (see the end-to-end test); the mock runtime cannot exit, so the process
/// ends with the signal's default action instead, after the save.
#[test]
fn sigint_saves_every_persisted_topic_before_the_process_ends() {
    use std::os::unix::process::ExitStatusExt;
    if let Ok(dir) = std::env::var(SAVE_CHILD) {
        run_save_child(Path::new(&dir));
    }
    let dir = std::env::temp_dir().join(format!("state-sync-signals-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut child, lines) = spawn_ready_child(SAVE_TEST, SAVE_CHILD, &dir);
    let file = || -> Value { serde_json::from_slice(&std::fs::read(dir.join("settings.json")).unwrap()).unwrap() };
    assert_eq!(file()["revision"], "0", "before the signal, only setup's save is on disk");

    send_sigint(&child);
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.collect();
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}: {rest:?}");
    assert_eq!(file()["revision"], "1", "the change is saved");
    assert_eq!(file()["data"]["theme"], "dark");
}
