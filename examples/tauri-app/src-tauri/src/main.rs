//! The state-sync demo: three windows, each on a different front-end
//! framework, sharing settings, a todo list and a counter through
//! tauri-plugin-state-sync. Settings are persisted across restarts.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tauri_plugin_state_sync::{Builder, Persistence};

mod bench;

/// The persisted, typed settings topic: a window's write that does not fit
/// is refused with a validation error naming the field.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    theme: Theme,
    language: String,
    accent: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Theme {
    Light,
    Dark,
}

/// Ends the app through its normal exit path, so persisted topics are
/// flushed with a clean lease (used by the end-to-end restart test).
#[tauri::command]
fn quit(app: tauri::AppHandle) {
    app.exit(0);
}

fn main() {
    let context = tauri::generate_context!();
    // `.ci/bench` (STATE_SYNC_BENCH=1): the benchmark instead of the demo.
    if bench::requested() {
        return bench::run(context);
    }
    let persist_dir = std::env::var("STATE_SYNC_DEMO_DIR").unwrap_or_else(|_| "state-sync".into());
    tauri::Builder::default()
        .plugin(
            Builder::new()
                .typed_topic(
                    "settings",
                    Settings {
                        theme: Theme::Light,
                        language: "en".into(),
                        accent: "#4f46e5".into(),
                    },
                )
                .topic("todos", json!({}))
                .topic("counter", json!({ "value": 0 }))
                .persist("settings", Persistence::new())
                .persist("todos", Persistence::new())
                .persist_dir(persist_dir)
                .on_persistence_error(|problem| eprintln!("state-sync demo: {problem}"))
                .build(),
        )
        .invoke_handler(tauri::generate_handler![quit])
        .run(context)
        .expect("error while running the state-sync demo");
}
