/**
 * The demo's topics, shared by every window whatever its framework.
 *
 * `settings` and `todos` are bound to each window's framework state with the
 * framework's adapter: the window just changes its state, and the adapter
 * writes the change as a merge patch. The everyday changes that depend on the
 * current state are actions registered in Rust (src-tauri/src/main.rs):
 * `increment` on the counter, `add` and `toggle` on the todos. An action runs
 * in Rust on the latest state, so increments from several windows at once are
 * never lost and never conflict (a merge patch of `{ value: n + 1 }` from two
 * windows at once would lose one), and its outcome carries the new state.
 */
import { getCurrentWebviewWindow } from '@tauri-apps/api/webviewWindow'
import { invoke } from '@tauri-apps/api/core'
import { tauri, throttle, topic, isStateSyncError, type Snapshot, type TopicHandle, type Transport } from 'tauri-plugin-state-sync-api'
// Generated from the Rust types of src-tauri/src/main.rs; it also types topic(name) and act() below.
import type { Settings } from './topics'

export const label = getCurrentWebviewWindow().label

/** The last error a write met, shown in the window (and read by the end-to-end tests). */
export const errors: string[] = []
const errorListeners = new Set<() => void>()
export function onErrorsChanged(listener: () => void): () => void {
  errorListeners.add(listener)
  return () => errorListeners.delete(listener)
}
export function reportError(error: unknown): void {
  const text = isStateSyncError(error) ? `${error.code}: ${error.message}` : String(error)
  errors.push(text)
  for (const listener of [...errorListeners]) listener()
}

// Every failure of a topic, including the writes the adapters make on their
// own, is reported here once.
const onError = ({ error }: { error: unknown }) => reportError(error)

/** For writes made directly on a handle: their failure is already reported by `onError`. */
export function fireAndForget(write: Promise<unknown>): void {
  write.catch(() => {})
}

/**
 * The end-to-end tests' fault injection (`__demo.deafen`): while `deaf` is
 * set, this window drops every message its subscriptions bring, as a window
 * does that misses them. Otherwise this is the plain Tauri transport.
 */
let deaf = false
const transport: Transport = {
  ...tauri,
  subscribe: (name, handler) => tauri.subscribe(name, (event) => deaf || handler(event)),
}

// Data and actions are typed by topics.ts: `todos.act('add', ...)` takes the
// Rust `AddTodo`, and a misspelt action or argument does not compile.
export const settings = topic('settings', { onError, transport })
export const todos = topic('todos', { onError, transport })
export const counter = topic('counter', { onError, transport, throttling: throttle({ throttleMs: 16 }) })

/** Adds one, with the `increment` action: it never conflicts, whoever else is writing. */
export async function increment(): Promise<void> {
  await counter.act('increment', { by: 1 })
}

/** Adds a todo with the `add` action. */
export function addTodo(title: string): Promise<unknown> {
  return todos.act('add', { id: newTodoId(), title })
}

/** Flips a todo's `done` with the `toggle` action, on the latest state. */
export function toggleTodo(id: string): Promise<unknown> {
  return todos.act('toggle', { id })
}

/** Increments the counter `times` times in a row, each an action. */
export async function hammer(times: number): Promise<void> {
  for (let i = 0; i < times; i++) await increment()
}

export function newTodoId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`
}

/** Keeps `set(revision)` up to date with a topic's revision, for display. */
export function watchRevision(handle: Pick<TopicHandle<unknown>, 'subscribe'>, set: (revision: string) => void): () => void {
  return handle.subscribe(({ revision }) => set(revision))
}

export function applyTheme(s: Settings | undefined): void {
  if (!s) return
  document.documentElement.dataset.theme = s.theme
  document.documentElement.style.setProperty('--accent', s.accent)
}
settings.subscribe(({ data }) => applyTheme(data))

/** Quits the whole app through its normal exit path (persisted topics are flushed). */
export function quit(): Promise<void> {
  return invoke('quit')
}

type Handles = Record<string, TopicHandle<unknown>>
const handles: Handles = { settings, todos, counter } as unknown as Handles

/**
 * What the end-to-end tests read and drive: every topic's `{ revision, data }`
 * as this window sees it, the counter hammer, and the todo actions.
 */
declare global {
  interface Window {
    __demo: {
      label: string
      ready: Promise<void>
      state(): Record<string, Snapshot<unknown> | undefined>
      errors: string[]
      hammer(times: number): Promise<void>
      addTodo(title: string): Promise<unknown>
      toggleTodo(id: string): Promise<unknown>
      /** While on, this window drops the messages of its subscriptions (the tests' lost messages). */
      deafen(on: boolean): void
      quit(): Promise<void>
    }
  }
}
window.__demo = {
  label,
  ready: Promise.all([settings.ready, todos.ready, counter.ready]).then(() => undefined),
  state: () => Object.fromEntries(Object.entries(handles).map(([name, handle]) => [name, handle.get()])),
  errors,
  hammer,
  addTodo,
  toggleTodo,
  deafen: (on) => void (deaf = on),
  quit,
}
