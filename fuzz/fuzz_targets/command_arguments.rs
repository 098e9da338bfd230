//! Command argument parsing: the JSON arguments of every command.
fn main() {
    afl::fuzz!(|bytes: &[u8]| tauri_plugin_state_sync::fuzzing::command_arguments(bytes));
}
