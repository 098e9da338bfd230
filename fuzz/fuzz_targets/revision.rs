//! Revision parsing, from text and from JSON.
fn main() {
    afl::fuzz!(|bytes: &[u8]| tauri_plugin_state_sync::fuzzing::revision(bytes));
}
