//! Merge patches and replacements through the Rust API of a mock-runtime app.
use tauri::test::{mock_builder, mock_context, noop_assets};
use tauri_plugin_state_sync::StateSyncExt;

fn main() {
    let app = mock_builder()
        .plugin(tauri_plugin_state_sync::init())
        .build(mock_context(noop_assets()))
        .expect("build the mock app");
    let sync = app.state_sync().clone();
    afl::fuzz!(|bytes: &[u8]| tauri_plugin_state_sync::fuzzing::merge_patches(&sync, "fuzz", bytes));
}
