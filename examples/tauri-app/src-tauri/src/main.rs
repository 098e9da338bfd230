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
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
struct Settings {
    theme: Theme,
    language: String,
    accent: String,
}

#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
enum Theme {
    Light,
    Dark,
}

/// The TypeScript types of the two untyped topics: the plugin accepts any
/// JSON for them, the windows see these types.
#[cfg(feature = "typescript")]
#[allow(dead_code)] // only their TypeScript declarations are used
mod untyped {
    use std::collections::BTreeMap;

    /// Todos keyed by id: deleting one is a merge patch `{ [id]: null }`.
    #[derive(ts_rs::TS)]
    pub struct Todos(BTreeMap<String, Todo>);

    /// One todo.
    #[derive(ts_rs::TS)]
    pub struct Todo {
        title: String,
        done: bool,
    }

    /// The counter, changed only by compare-and-set.
    #[derive(ts_rs::TS)]
    pub struct Counter {
        value: u64,
    }

    pub fn declare_types(builder: super::Builder) -> super::Builder {
        builder
            .declare_type::<Todos>("todos")
            .declare_type::<Counter>("counter")
    }
}

#[cfg(not(feature = "typescript"))]
mod untyped {
    pub fn declare_types(builder: super::Builder) -> super::Builder {
        builder
    }
}

/// The demo's topics. `src/shared/topics.ts` is generated from them by
/// `cargo test -p state-sync-demo --features typescript`.
fn state_sync(persist_dir: String) -> Builder {
    let builder = Builder::new()
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
        .on_persistence_error(|problem| eprintln!("state-sync demo: {problem}"));
    untyped::declare_types(builder)
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
        .plugin(state_sync(persist_dir).build())
        .invoke_handler(tauri::generate_handler![quit])
        .build(context)
        .expect("error while building the state-sync demo")
        .run(|_, event| {
            if let tauri::RunEvent::Ready = event {
                println!(
                    "state-sync demo: running. Stop it with Ctrl+C here or by closing its windows; \
                     either way the settings and todos are saved."
                );
            }
        });
}

#[cfg(all(test, feature = "typescript"))]
mod tests {
    /// Writes the front ends' `src/shared/topics.ts`; CI fails when the
    /// committed copy differs.
    #[test]
    fn topics_file_is_exported() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../src/shared/topics.ts");
        super::state_sync("unused".into()).export_types(path).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains("\"settings\": Settings;"), "{text}");
        assert!(text.contains("\"todos\": Todos;"), "{text}");
    }
}
