//! Merge patches and replacements through the Rust API of a mock-runtime app.
use tauri::test::{mock_builder, mock_context, noop_assets};
use tauri_plugin_state_sync::StateSyncExt;

fn main() {
    let app = mock_builder()
        .plugin(tauri_plugin_state_sync::init())
        .build(mock_context(noop_assets()))
        .expect("build the mock app");
    // afl runs each input under catch_unwind, so that a panic is a crash it
    // records; the mock app is not unwind safe, and after a panic the process
    // is done with anyway.
    let sync = std::panic::AssertUnwindSafe(app.state_sync().clone());
    afl::fuzz!(|bytes: &[u8]| tauri_plugin_state_sync::fuzzing::merge_patches(&*sync, "fuzz", bytes));
}
