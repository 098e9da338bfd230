//! A save killed at any moment leaves either the old file or the new one.
//!
//! The test re-runs its own binary as a child that saves a persisted topic in
//! a loop, kills it with SIGKILL at random moments, and checks after every
//! kill that the file loads and holds a whole state no older than before.

#![cfg(unix)]

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::{json, Value};
use tauri::test::{mock_builder, mock_context, noop_assets};
use tauri_plugin_state_sync::{Builder, Persistence, StateSyncExt};

const CHILD_DIR: &str = "STATE_SYNC_DURABILITY_CHILD_DIR";
const KILLS: usize = 200;

fn app(dir: &Path) -> tauri::App<tauri::test::MockRuntime> {
    mock_builder()
        .plugin(
            Builder::new()
                .topic("stress", json!({"i": 0, "payload": ""}))
                .persist("stress", Persistence::new())
                .persist_dir(dir)
                .build(),
        )
        .build(mock_context(noop_assets()))
        .expect("mock app")
}

/// A state whose payload can be checked against its counter, so a torn or
/// mixed file cannot pass for a whole one. Sizes vary up to about 64 KB.
fn state(i: u64) -> Value {
    let unit = format!("{i:08}");
    json!({"i": i, "payload": unit.repeat((i % 8192) as usize)})
}

fn check_whole(file: &Value) -> u64 {
    let data = &file["data"];
    let i = data["i"].as_u64().expect("a counter");
    assert_eq!(data, &state(i), "the payload belongs to counter {i}");
    assert_eq!(file["revision"].as_str().map(str::is_empty), Some(false));
    i
}

/// The child: continue from what is on disk and save every state.
fn save_forever(dir: &Path) -> ! {
    let app = app(dir);
    let sync = app.state_sync();
    let mut i = sync.get("stress").unwrap().data["i"].as_u64().unwrap();
    loop {
        i += 1;
        sync.set("stress", state(i)).unwrap();
        sync.flush().unwrap();
    }
}

#[test]
fn saves_killed_with_sigkill_at_random_moments_never_leave_a_torn_file() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        save_forever(Path::new(&dir));
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("state-sync-sigkill-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let path = dir.join("stress.json");
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut advanced = 0;
    let spawn = || {
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "saves_killed_with_sigkill_at_random_moments_never_leave_a_torn_file", "--nocapture"])
            .env(CHILD_DIR, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the saving child")
    };

    // How long a child takes to start saving on this machine, so that the
    // random kills land before, during and well after the first saves
    // whether the machine is fast or slow.
    let started = std::time::Instant::now();
    let mut child = spawn();
    while !path.exists() {
        assert!(started.elapsed() < Duration::from_secs(30), "the child never saved");
        std::thread::sleep(Duration::from_millis(1));
    }
    let startup = started.elapsed().as_micros() as u64;
    child.kill().expect("SIGKILL the child");
    child.wait().unwrap();
    let mut last = check_whole(&serde_json::from_slice(&fs::read(&path).unwrap()).expect("the first file parses"));

    for kill in 0..KILLS {
        let mut child = spawn();
        std::thread::sleep(Duration::from_micros(rng.u64(startup / 2..startup * 3 + 20_000)));
        child.kill().expect("SIGKILL the child");
        child.wait().unwrap();

        assert!(path.exists(), "kill {kill}: the file vanished");
        let file: Value = serde_json::from_slice(&fs::read(&path).unwrap())
            .unwrap_or_else(|err| panic!("kill {kill}: the file does not parse: {err}"));
        let i = check_whole(&file);
        assert!(i >= last, "kill {kill}: went back from {last} to {i}");
        if i > last {
            advanced += 1;
        }
        last = i;

        // The plugin itself loads it without reporting a problem.
        let app = app(&dir);
        assert!(app.state_sync().persistence_errors().is_empty(), "kill {kill}");
        assert_eq!(app.state_sync().get("stress").unwrap().data["i"], i);
    }

    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "stress.json")
        .collect();
    assert!(leftovers.len() <= 1, "stale temporary files pile up: {leftovers:?}");
    assert!(advanced > KILLS / 4, "only {advanced} of {KILLS} runs saved anything; the kills test nothing");
    eprintln!("{KILLS} kills, {advanced} advanced the file, last state {last}, startup {startup} µs");
}
