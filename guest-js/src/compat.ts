/**
 * `createRevisionSync`: the `@statesync/core` API on top of this package's
 * engine, so that an app migrates by changing an import. The differences are
 * listed in `guest-js/COMPAT.md`.
 *
 * @module
 */
import { createEngine, type EngineOptions, type SyncErrorContext, type SyncPhase } from './engine'
import { StateSyncError } from './errors'
import { throttle, type Throttling } from './throttle'
import { isNewer, isRevision, type Invalidation, type Revision, type Snapshot } from './protocol'

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
 * A pluggable logger (`@statesync/core`'s `logger` option); `console` fits.
 *
 * @example
 * const logger: Logger = { error: (message, ctx) => myLog.error(message, ctx) }
 */
export interface Logger {
  error(message: string, context?: unknown): void
}

/**
 * The phases of `createRevisionSync`'s errors, with `@statesync/core`'s names:
 * the engine's, except that a failed fetch is `getSnapshot` (the engine says
 * `snapshot`).
 *
 * @example
 * const phase: RevisionSyncPhase = 'getSnapshot'
 */
export type RevisionSyncPhase = Exclude<SyncPhase, 'snapshot'> | 'getSnapshot'

/**
 * What `onError` and the logger of {@link createRevisionSync} receive.
 *
 * @example
 * const onError = (ctx: RevisionSyncErrorContext) => ctx.phase === 'getSnapshot' && showOffline()
 */
export interface RevisionSyncErrorContext extends Omit<SyncErrorContext, 'phase'> {
  phase: RevisionSyncPhase
}

/**
 * Options of {@link createRevisionSync}: `topic`, `subscriber`, `provider`,
 * `applier`, `shouldRefresh`, `logger`, `onError`, `throttling` (the
 * `@statesync/core` object, `{ debounceMs, throttleMs, leading, trailing,
 * maxWaitMs }`), plus this package's `retry` (as for {@link topic}: a
 * {@link backoff}; one try by default), `resyncOnFocus` and `resyncIntervalMs`.
 *
 * @example
 * const options: RevisionSyncOptions<Settings> = { topic: 'settings', subscriber, provider, applier }
 */
export interface RevisionSyncOptions<T> extends Omit<EngineOptions<T>, 'onError' | 'throttling'> {
  applier: SnapshotApplier<T>
  /** How events turn into fetches, as in `@statesync/core` (default: each fetches at once). */
  throttling?: Throttling
  /** Return `false` to ignore an event (asked only of events newer than the local state). */
  shouldRefresh?: (event: Invalidation) => boolean
  /** Called once per error; an `onError` that throws is ignored. */
  onError?: (context: RevisionSyncErrorContext) => void
  /** Receives every error too; without `onError` and `logger`, errors go to `console.error`. */
  logger?: Logger
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
  const { topic, onError, subscriber, shouldRefresh } = options
  if (typeof topic !== 'string' || !topic.trim())
    throw new StateSyncError('INVALID_TOPIC', 'topic must be a non-empty string', { topic: String(topic) })
  const rename = (ctx: SyncErrorContext): RevisionSyncErrorContext => ({
    ...ctx,
    phase: ctx.phase === 'snapshot' ? 'getSnapshot' : ctx.phase,
  })
  const logger = options.logger ?? (onError ? undefined : console)
  const protocol = (message: string, value: unknown) => void engine.report('protocol', new StateSyncError('PROTOCOL', message, { value }))
  const engine = createEngine<T>({
    ...options,
    throttling: options.throttling && throttle(options.throttling),
    // Both hear of every error, with `@statesync/core`'s phase names; the
    // engine ignores what throws, and the logger hears even then.
    onError: (ctx) => {
      const context = rename(ctx)
      try {
        onError?.(context)
      } finally {
        logger?.error('state-sync: ' + context.phase, context)
      }
    },
    // As `@statesync/core`: an event without a topic, or whose revision is not
    // a string, is a protocol error; an event of another topic is ignored;
    // fields beyond `topic`, `revision` and `sourceId` (a pushed change's
    // `from` and `patch`) are ignored, so every event is a plain invalidation;
    // `shouldRefresh` is asked only of an event newer than the local state.
    subscriber: {
      subscribe: (handler) =>
        subscriber.subscribe((event) => {
          const { topic: t, revision, sourceId } = (event ?? {}) as Partial<typeof event>
          if (typeof t !== 'string' || !t.trim()) return protocol('Empty topic in invalidation event', event)
          if (!isRevision(revision)) return protocol(`Non-canonical revision in invalidation event: "${String(revision)}"`, revision)
          if (t !== topic || !isNewer(revision, engine.get()?.revision)) return
          const plain = { topic: t, revision, sourceId: sourceId! }
          try {
            if (shouldRefresh && !shouldRefresh(plain)) return
          } catch (e) {
            return void engine.report('apply', e) // a throwing shouldRefresh must not break the listener
          }
          handler(plain)
        }),
    },
  })
  let stopped = false
  let applied = 0
  let first: StateSyncError | undefined // the first apply's failure, which start() rejects with
  let applying = Promise.resolve()
  engine.subscribe((snapshot) => {
    const n = ++applied
    applying = applying
      .then(() => options.applier.apply(snapshot))
      .catch((e: unknown) => {
        const error = engine.report('apply', e)
        if (n === 1) first = error
      })
  })
  return {
    start: () =>
      stopped
        ? Promise.reject(new StateSyncError('STOPPED', 'start() called after stop()'))
        : engine
            .start()
            .then(() => applying)
            .then(() => {
              if (first) throw first
            }),
    stop() {
      stopped = true
      engine.stop()
    },
    refresh: () => engine.refresh().then(() => applying),
    getLocalRevision: () => engine.get()?.revision ?? '0',
  }
}
