// The consumer check's Rust side, copied over the lib.rs of a fresh
// create-tauri-app project by .ci/consumer. It keeps the template's shape
// (`run()`, the opener plugin, one command) and adds what the README tells a
// user to add: the plugin, a topic, and windows.
//
// The check: setup writes the topic `check`; windows `main` and `second`
// (both in the capability) read it; `second` writes, `main` sees that and
// writes; `second` sees that and reports done. Window `outsider` is in no
// capability and must be refused. Rust then reads the topic back and prints
// `consumer: PASS`, or `consumer: FAIL ...`, and exits with 0 or 1. The
// windows report each step through the `report` command, printed on stdout.
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;
use tauri::{AppHandle, State, WebviewUrl, WebviewWindowBuilder, Window};
use tauri_plugin_state_sync::StateSyncExt;

/// How long the whole check may take once the app has started.
const DEADLINE: Duration = Duration::from_secs(90);

/// Which windows have finished their part.
#[derive(Default)]
struct Progress {
    second_done: bool,
    outsider_refused: bool,
}

#[tauri::command]
fn report(app: AppHandle, window: Window, progress: State<'_, Mutex<Progress>>, line: String) {
    println!("consumer: {}: {line}", window.label());
    let mut progress = progress.lock().unwrap();
    match (window.label(), line.split(':').next().unwrap_or_default()) {
        (label, "fail") => return finish(&app, Err(format!("window {label} failed"))),
        ("second", "done") => progress.second_done = true,
        // Refused for the reason the README gives: its first call, `subscribe`.
        ("outsider", "refused") if line.contains("FORBIDDEN") && line.contains("state-sync.subscribe") => {
            progress.outsider_refused = true
        }
        ("outsider", _) => return finish(&app, Err(format!("window outsider: {line}"))),
        _ => return,
    }
    if progress.second_done && progress.outsider_refused {
        finish(&app, verify(&app));
    }
}

/// What the topic must hold once both windows have written.
fn verify(app: &AppHandle) -> Result<(), String> {
    let snapshot = app.state_sync().get("check").map_err(|e| e.to_string())?;
    let expected =
        json!({ "rust": "written in setup", "second": "hydrated", "main": "saw second" });
    // Revision 1 is the write in setup, 2 the patch of `second`, 3 that of `main`.
    if *snapshot.data != expected || snapshot.revision.get() != 3 {
        return Err(format!(
            "topic ended at revision {} with {}",
            snapshot.revision, snapshot.data
        ));
    }
    Ok(())
}

fn finish(app: &AppHandle, outcome: Result<(), String>) {
    match outcome {
        Ok(()) => {
            println!("consumer: PASS");
            app.exit(0);
        }
        Err(why) => {
            println!("consumer: FAIL {why}");
            app.exit(1);
        }
    }
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .plugin(
            tauri_plugin_state_sync::Builder::new()
                .topic("check", json!({}))
                .build(),
        )
        .manage(Mutex::new(Progress::default()))
        .invoke_handler(tauri::generate_handler![report])
        .setup(|app| {
            app.state_sync()
                .set("check", json!({ "rust": "written in setup" }))?;
            for label in ["second", "outsider"] {
                WebviewWindowBuilder::new(app, label, WebviewUrl::App("index.html".into()))
                    .title(label)
                    .build()?;
            }
            let handle = app.handle().clone();
            std::thread::spawn(move || {
                std::thread::sleep(DEADLINE);
                println!("consumer: FAIL no result within {} s", DEADLINE.as_secs());
                handle.exit(1);
            });
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running tauri application");
}
