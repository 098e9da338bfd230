const COMMANDS: &[&str] = &[
    "act",
    "flush",
    "patch",
    "persistence_errors",
    "set",
    "snapshot",
    "snapshots",
    "subscribe",
    "topics",
    "unsubscribe",
];

/// One `allow` or `deny` entry of a scope on `state-sync:read` or
/// `state-sync:write`: the topics it names.
#[allow(dead_code)]
#[derive(schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
struct TopicScopeEntry {
    /// An exact topic name, such as `settings`, or a glob over topic names:
    /// `*` and `?` match within one `/`-separated segment (`todos/*` matches
    /// `todos/a` but not `todos/a/b`), `**` matches across segments
    /// (`todos/**`), and `[abc]` matches one of the listed characters.
    topic: String,
}

fn main() {
    tauri_plugin::Builder::new(COMMANDS)
        .global_scope_schema(schemars::schema_for!(TopicScopeEntry))
        .build();
}
