//! The state-sync demo: three windows, each on a different front-end
//! framework, sharing settings, a todo list and a counter through
//! tauri-plugin-state-sync. Settings and todos are persisted across restarts.
//! The counter and the todos have actions, which windows call by name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tauri_plugin_state_sync::{ActionError, Builder, HistoryLimits, Persistence};

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

/// The counter, changed by windows through its `increment` action.
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
struct Counter {
    value: i64,
}

/// The argument of the counter's `increment` action.
#[derive(Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
struct Increment {
    by: i64,
}

/// One todo.
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
struct Todo {
    title: String,
    done: bool,
}

/// Todos keyed by id: deleting one is a merge patch `{ [id]: null }`.
/// A newtype, so that its name reaches TypeScript; serde writes it as the
/// map itself.
#[derive(Default, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
struct Todos(BTreeMap<String, Todo>);

/// The argument of the todos' `add` action: the window picks the id.
#[derive(Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
struct AddTodo {
    id: String,
    title: String,
}

/// The argument of the todos' `toggle` action.
#[derive(Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
struct ToggleTodo {
    id: String,
}

fn increment(counter: &mut Counter, Increment { by }: Increment) -> Result<(), ActionError> {
    counter.value = counter
        .value
        .checked_add(by)
        .ok_or("the counter would overflow")?;
    Ok(())
}

fn add_todo(todos: &mut Todos, AddTodo { id, title }: AddTodo) -> Result<(), ActionError> {
    let title = title.trim();
    if title.is_empty() {
        return Err("a todo needs a title".into());
    }
    if todos.0.contains_key(&id) {
        return Err(format!("there is already a todo `{id}`").into());
    }
    todos.0.insert(id, Todo { title: title.to_owned(), done: false });
    Ok(())
}

fn toggle_todo(todos: &mut Todos, ToggleTodo { id }: ToggleTodo) -> Result<(), ActionError> {
    let todo = todos
        .0
        .get_mut(&id)
        .ok_or_else(|| ActionError::new(format!("there is no todo `{id}`")))?;
    todo.done = !todo.done;
    Ok(())
}

/// The demo's topics. `src/shared/topics.ts` is generated from them by
/// `cargo test -p state-sync-demo --features typescript`.
fn state_sync(persist_dir: String) -> Builder {
    Builder::new()
        .typed_topic(
            "settings",
            Settings {
                theme: Theme::Light,
                language: "en".into(),
                accent: "#4f46e5".into(),
            },
        )
        .typed_topic("todos", Todos::default())
        // The last 8 changes: a window that missed more pulls the whole list,
        // one that missed fewer only what changed (the end-to-end tests
        // cover both).
        .topic_history_limits("todos", HistoryLimits::new().max_changes(8))
        .typed_action("todos", "add", add_todo)
        .typed_action("todos", "toggle", toggle_todo)
        .typed_topic("counter", Counter { value: 0 })
        .typed_action("counter", "increment", increment)
        .persist("settings", Persistence::new())
        .persist("todos", Persistence::new())
        .persist_dir(persist_dir)
        .on_persistence_error(|problem| eprintln!("state-sync demo: {problem}"))
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
    // For the end-to-end test of the plugin's exit watchdog: an exit that
    // never finishes, as an app's exit handler that blocks would make it.
    let hang_on_exit = std::env::var_os("STATE_SYNC_DEMO_HANG_ON_EXIT").is_some();
    tauri::Builder::default()
        .plugin(state_sync(persist_dir).build())
        .invoke_handler(tauri::generate_handler![quit])
        .build(context)
        .expect("error while building the state-sync demo")
        .run(move |_, event| match event {
            tauri::RunEvent::Ready => println!(
                "state-sync demo: running. Stop it with Ctrl+C here or by closing its windows; \
                 either way the settings and todos are saved."
            ),
            tauri::RunEvent::Exit if hang_on_exit => {
                println!("state-sync demo: exiting, and hanging as asked");
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
            _ => {}
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
        assert!(text.contains("\"increment\": Increment;"), "{text}");
        assert!(text.contains("\"add\": AddTodo;"), "{text}");
    }
}
