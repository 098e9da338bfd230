/**
 * `createRevisionSync`: the `@statesync/core` API on top of this package's
 * engine, so that an app migrates by changing an import. The differences are
 * listed in `guest-js/COMPAT.md`.
 *
 * @module
 */
import { createEngine, type EngineOptions } from './engine'
import type { Revision, Snapshot } from './protocol'

/**
 * Applies a snapshot to the app's own state (`@statesync/core`'s `SnapshotApplier`).
 * An async `apply` is awaited before the next one starts.
 *
 * @example
 * const applier: SnapshotApplier<Settings> = { apply: ({ data }) => store.replace(data) }
 */
export interface SnapshotApplier<T> {
  apply(snapshot: Snapshot<T>): void | Promise<void>
}

/**
 * Options of {@link createRevisionSync}: `topic`, `subscriber`, `provider`,
 * `applier`, `shouldRefresh`, `logger`, `onError`, `throttling`, plus this
 * package's `retry`, `resyncOnFocus` and `resyncIntervalMs`.
 *
 * @example
 * const options: RevisionSyncOptions<Settings> = { topic: 'settings', subscriber, provider, applier }
 */
export interface RevisionSyncOptions<T> extends EngineOptions<T> {
  applier: SnapshotApplier<T>
}

/**
 * The handle of {@link createRevisionSync}.
 *
 * @example
 * const handle: RevisionSyncHandle = createRevisionSync(options)
 */
export interface RevisionSyncHandle {
  /** Subscribes, then fetches; resolves once the first snapshot is applied. */
  start(): Promise<void>
  /** Final and idempotent: unsubscribes; nothing applies afterwards. */
  stop(): void
  /** Resolves once the local state is at least as new as the backend was when called. */
  refresh(): Promise<void>
  /** The revision last applied, or `"0"` before the first snapshot. */
  getLocalRevision(): Revision
}

/**
 * Keeps `applier` in sync with a topic, given any invalidation `subscriber`
 * and snapshot `provider` (for Tauri, see {@link createTauriSubscriber} and
 * {@link createTauriProvider}).
 *
 * @example
 * import { createRevisionSync, createTauriSubscriber, createTauriProvider } from 'tauri-plugin-state-sync-api'
 *
 * const sync = createRevisionSync<Settings>({
 *   topic: 'settings',
 *   subscriber: createTauriSubscriber('settings'),
 *   provider: createTauriProvider<Settings>('settings'),
 *   applier: { apply: ({ data }) => store.$patch(data) },
 *   throttling: { debounceMs: 30 },
 *   onError: ({ phase, error }) => console.warn(phase, error.code),
 * })
 * await sync.start()
 */
export function createRevisionSync<T>(options: RevisionSyncOptions<T>): RevisionSyncHandle {
  const engine = createEngine(options)
  let applying = Promise.resolve()
  engine.subscribe((snapshot) => {
    applying = applying
      .then(() => options.applier.apply(snapshot))
      .catch((e: unknown) => void engine.report('apply', e))
  })
  return {
    start: () => engine.start().then(() => applying),
    stop: engine.stop,
    refresh: () => engine.refresh().then(() => applying),
    getLocalRevision: () => engine.get()?.revision ?? '0',
  }
}
