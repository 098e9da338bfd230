/**
 * The typed error every failure of this package reaches the caller as.
 *
 * @module
 */
import type { Revision } from './protocol'

/**
 * The details each error code carries, beside `code` and `message`.
 *
 * The codes listed before `FORBIDDEN` are the plugin's (see "Errors" in
 * `docs/protocol.md`; `guest-js/test/types/wire.ts` checks them against the
 * codes generated from `src/error.rs`); `FORBIDDEN` and the codes after it
 * are raised on the window side:
 * - `FORBIDDEN`: Tauri refused the command before the plugin saw it, because
 *   no capability of the window allows it or one denies it. The message names
 *   the window and the permission to add (or the denying one to remove) in
 *   `src-tauri/capabilities/`; `details.cause` is Tauri's own text. Final: never retried.
 * - `PLUGIN_MISSING`: the app does not register the plugin; the message says
 *   what to add to the app's `tauri::Builder`; `details.cause` is Tauri's text.
 * - `IPC`: any other failure of the call itself (another plain-string
 *   rejection, or an exception thrown by a custom provider).
 * - `PROTOCOL`: the other side answered with something that breaks the
 *   protocol, such as a revision that is not a canonical string.
 * - `TIMEOUT`: one attempt of a fetch took longer than its time-out (10 s, or
 *   the `timeoutMs` of {@link backoff}).
 * - `STOPPED`: the handle was stopped before it was hydrated.
 *
 * The browser backend (`tauri-plugin-state-sync-api/browser`) adds:
 * - `STORAGE_UNAVAILABLE`: IndexedDB or localStorage cannot be used (private
 *   mode, blocked by the browser, or localStorage without the Web Locks API);
 * - `QUOTA_EXCEEDED`: the browser refused to store the write for lack of space;
 * - `MIGRATION_FAILED`: the stored record needs a migration that is missing or threw;
 * - `NEWER_SCHEMA`: the stored record was written by a newer schema version.
 *
 * @example
 * const d: ErrorDetails['REVISION_CONFLICT'] = { topic: 't', expectedRevision: '1', currentRevision: '2' }
 */
export interface ErrorDetails {
  UNKNOWN_TOPIC: { topic: string }
  INVALID_TOPIC: { topic: string }
  TOPIC_EXISTS: { topic: string }
  /** `currentData` is the topic's data at `currentRevision`, sent to windows allowed to read the topic. */
  REVISION_CONFLICT: { topic: string; expectedRevision: Revision; currentRevision: Revision; currentData?: unknown }
  INVALID_REVISION: { value: string }
  INVALID_ARGUMENT: { argument?: string }
  INVALID_PATCH: { topic: string }
  VALIDATION_FAILED: { topic: string; path: string }
  PAYLOAD_TOO_LARGE: { size: number; limit: number }
  TOO_DEEP: { limit: number }
  REVISION_EXHAUSTED: { topic: string }
  TYPE_MISMATCH: { topic: string }
  SERIALIZATION: Record<string, never>
  UNKNOWN_ACTION: { topic: string; action: string }
  ACTION_EXISTS: { topic: string; action: string }
  ACTION_FAILED: { topic: string; action: string }
  ACTION_PANICKED: { topic: string; action: string }
  PERSISTENCE_FAILED: { topic?: string }
  TYPE_EXPORT_FAILED: Record<string, never>
  TOPIC_FORBIDDEN: { topic: string; access: 'read' | 'write' }
  INVALID_SCOPE: { pattern: string }
  FORBIDDEN: { cause: string }
  PLUGIN_MISSING: { cause: string }
  IPC: { cause?: unknown }
  PROTOCOL: { value?: unknown }
  TIMEOUT: Record<string, never>
  STOPPED: Record<string, never>
  STORAGE_UNAVAILABLE: { storage: 'indexeddb' | 'localstorage'; cause?: unknown }
  QUOTA_EXCEEDED: { topic: string }
  MIGRATION_FAILED: { topic: string; version: number; cause?: unknown }
  NEWER_SCHEMA: { topic: string; version: number; supported: number }
}

/**
 * Every error code: branch on it with `switch (error.code)`.
 *
 * @example
 * const retryable = (code: StateSyncErrorCode) => code === 'IPC' || code === 'TIMEOUT'
 */
export type StateSyncErrorCode = keyof ErrorDetails

/**
 * The error every command, write and fetch rejects with. `code` is stable and
 * meant for branching; `message` is for people; `details` holds the other
 * fields the plugin sent (for example `currentRevision` of a conflict).
 *
 * A newer plugin may send a code this version does not list; it is passed
 * through unchanged.
 *
 * @example
 * try {
 *   await settings.set(next, { expectedRevision: '3' })
 * } catch (e) {
 *   if (isStateSyncError(e, 'REVISION_CONFLICT')) console.log(e.details.currentRevision)
 * }
 */
export class StateSyncError<C extends StateSyncErrorCode = StateSyncErrorCode> extends Error {
  /** The stable, machine-readable code. */
  declare readonly code: C
  /** The fields of the error beside `code` and `message`. */
  declare readonly details: ErrorDetails[C]

  /**
   * @example
   * new StateSyncError('TIMEOUT', 'timeout')
   */
  constructor(code: C, message: string, details = {} as ErrorDetails[C]) {
    super(message)
    this.name = 'StateSyncError'
    Object.assign(this, { code, details })
  }
}

/**
 * Whether `error` is a {@link StateSyncError}, optionally with the given code;
 * narrows `details` to that code's fields.
 *
 * @example
 * if (isStateSyncError(e, 'VALIDATION_FAILED')) highlight(e.details.path)
 */
export const isStateSyncError = <C extends StateSyncErrorCode>(
  error: unknown,
  code?: C,
): error is StateSyncError<C> =>
  error instanceof StateSyncError && (code === undefined || error.code === code)

/**
 * Turns anything a command or provider rejected with into a {@link StateSyncError}:
 * the plugin's `{ code, message, ...details }` keeps its code and details,
 * Tauri's own plain-string refusals become `FORBIDDEN` (the message names the
 * permission, the window and the capability folder) or `PLUGIN_MISSING`, and
 * anything else becomes `IPC` with the original as `details.cause`.
 *
 * @example
 * toStateSyncError({ code: 'UNKNOWN_TOPIC', message: 'unknown topic `x`', topic: 'x' }).details.topic // 'x'
 * toStateSyncError('state-sync.set not allowed. Permissions associated with this command: state-sync:allow-set').code // 'FORBIDDEN'
 */
export function toStateSyncError(error: unknown): StateSyncError {
  if (error instanceof StateSyncError) return error
  if (typeof error === 'string') return fromTauri(error)
  const { code, message, ...details } = (error ?? {}) as Record<string, unknown>
  return typeof code === 'string'
    ? new StateSyncError(code as StateSyncErrorCode, text(message ?? code), details as never)
    : new StateSyncError('IPC', text(message ?? error), { cause: error })
}

// `String(value)`, except for values it throws on (an object without a
// prototype, a `toString` that throws): their type.
const text = (value: unknown): string => {
  try {
    return String(value)
  } catch {
    return typeof value
  }
}

// Reads a plain-string rejection of `invoke`. Tauri 2 (2.12, `crates/tauri`)
// answers with these strings before a plugin sees the call:
// - debug builds (`RuntimeAuthority::resolve_access_message` in
//   `ipc/authority.rs`): `<plugin>.<command> not allowed ...`, or
//   `<plugin>.<command> explicitly denied on origin ...` followed by
//   `referenced by: capability: <id>, permission: deny-<command>`;
// - release builds (`webview/mod.rs`): `Command plugin:<plugin>|<command> not allowed by ACL`;
// - `plugin state-sync not found` (`plugin.rs`: the app never called
//   `.plugin(...)`) or `... not allowed. Plugin not found` (the app knows no
//   permission of the plugin, so its crate is not in the build).
const fromTauri = (cause: string): StateSyncError => {
  if (/(plugin state-sync|Plugin) not found/.test(cause))
    return new StateSyncError('PLUGIN_MISSING', 'add .plugin(tauri_plugin_state_sync::init()) to tauri::Builder', { cause })
  const [, plugin, name, denied] =
    /([\w-]+)[.|](\w+) (?:not allowed|explicitly denied.*permission: (deny-\S+))/s.exec(cause) ?? []
  if (!name) return new StateSyncError('IPC', cause)
  // `listen` belongs to the core plugin `event`; permission names are kebab-case.
  const permission = (plugin == 'state-sync' ? '' : 'core:') + plugin + ':' + (denied ?? 'allow-' + name.replace('_', '-'))
  // The window whose label Tauri checked against the capabilities: this page's.
  const window = (globalThis as { __TAURI_INTERNALS__?: { metadata?: { currentWindow?: { label?: string } } } })
    .__TAURI_INTERNALS__?.metadata?.currentWindow?.label
  return new StateSyncError(
    'FORBIDDEN',
    `${plugin}.${name} not allowed in window "${window}": ${denied ? 'remove' : 'add'} ${permission} in src-tauri/capabilities/`,
    { cause },
  )
}

/**
 * The `PROTOCOL` error for something the other side sent that breaks the
 * protocol: by default a revision (of an event, snapshot or write outcome)
 * that is not a canonical revision string. `details.value` is what was received.
 *
 * @example
 * throw invalid(42)
 * throw invalid({ revision: '1' }, 'snapshot without data')
 */
export const invalid = (value: unknown, message = 'invalid revision'): StateSyncError<'PROTOCOL'> =>
  new StateSyncError('PROTOCOL', message, { value })
