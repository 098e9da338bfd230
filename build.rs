const COMMANDS: &[&str] = &[
    "act",
    "flush",
    "patch",
    "persistence_errors",
    "set",
    "snapshot",
    "snapshots",
    "topics",
];

fn main() {
    tauri_plugin::Builder::new(COMMANDS).build();
}
