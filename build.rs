const COMMANDS: &[&str] = &["patch", "set", "snapshot", "snapshots", "topics"];

fn main() {
    tauri_plugin::Builder::new(COMMANDS).build();
}
