// The plain strings Tauri 2 rejects an `invoke` with before a plugin sees it,
// formatted exactly as tauri 2.12.5 formats them (the version in Cargo.lock):
// `RuntimeAuthority::resolve_access_message` in `crates/tauri/src/ipc/authority.rs`
// (debug builds), the release-build rejection in `crates/tauri/src/webview/mod.rs`,
// and `PluginStore::run_invoke_handler` in `crates/tauri/src/plugin.rs`.

/** No capability grants the command (debug build). */
export const notGranted = (plugin: string, command: string, permissions: string[]) =>
  `${plugin}.${command} not allowed. Permissions associated with this command: ${permissions.join(', ')}`

/** A capability grants the command, but to other windows (debug build). */
export const otherWindows = (plugin: string, command: string, window: string, allowedOn: string, capability: string) =>
  `${plugin}.${command} not allowed on window "${window}", webview "${window}", URL: local\n\n` +
  `allowed on: [windows: "${allowedOn}", URL: local]\n\nreferenced by: capability: ${capability}, permission: default`

/** A capability of the window denies the command (debug build). */
export const denied = (plugin: string, command: string, capability: string) =>
  `${plugin}.${command} explicitly denied on origin local\n\nreferenced by: capability: ${capability}, permission: deny-${command.replace(/_/g, '-')}`

/** Any refusal in a release build. */
export const release = (plugin: string, command: string) => `Command plugin:${plugin}|${command} not allowed by ACL`

/** The app depends on the crate but never called `.plugin(...)`. */
export const unregistered = (plugin: string) => `plugin ${plugin} not found`

/** The app knows no permission of the plugin: the crate is not in its build (debug build). */
export const unknownPlugin = (plugin: string, command: string) => `${plugin}.${command} not allowed. Plugin not found`
