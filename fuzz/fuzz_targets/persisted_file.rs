//! Persisted-file loading with migrations, untyped and typed.
use std::path::PathBuf;

fn main() {
    // A memory-backed directory keeps the file I/O of each run cheap.
    let dir = std::env::var_os("STATE_SYNC_FUZZ_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("state-sync-fuzz"))
        .join(std::process::id().to_string());
    afl::fuzz!(|bytes: &[u8]| tauri_plugin_state_sync::fuzzing::persisted_file(&dir, bytes));
}
