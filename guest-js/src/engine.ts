/**
 * The sync engine: one per topic, independent of the transport.
 *
 * Where a change goes: an invalidation event that carries its change (a
 * pushed delta) is applied at once; one that does not, or whose delta does
 * not apply (the local state is not at its `from`), or a focus, an interval,
 * a `refresh()`, requests a fetch; fetches are coalesced (one in flight, one
 * queued), tried as the `retry` option says (once, by default), and ask for
 * the change since the local revision. Every
 * result, like every own-write adoption and every pushed delta, becomes an
 * {@link Action} for the one reducer, {@link Engine.dispatch}, which passes it
 * through the one gate, {@link isNewer}, before listeners see it.
 *
 * @module
 */
import { invalid, toStateSyncError, type StateSyncError } from './errors'
import { applyPatch } from './patch'
import { isNewer, isRevision, noop } from './protocol'
import type { CatchUp, Delta, JsonPatch, PushedInvalidation, Revision, Snapshot } from './protocol'
import { once, type Retry } from './retry'
import type { Limiter } from './throttle'

/**
 * Where an error happened:
 * - `subscribe`: the event listener could not be set up;
 * - `snapshot`: a fetch failed after its retries;
 * - `protocol`: an event or snapshot broke the protocol (a bad revision, an
 *   event that names no topic, a snapshot without `data`, a delta whose
 *   patch does not apply);
 * - `apply`: a listener (or compat `applier`) threw;
 * - `write`: a `set`, `patch` or `update` failed.
 *
 * @example
 * const phase: SyncPhase = 'snapshot'
 */
export type SyncPhase = 'subscribe' | 'snapshot' | 'protocol' | 'apply' | 'write'

/**
 * What `onError` and the logger receive.
 *
 * @example
 * const onError = (ctx: SyncErrorContext) => console.warn(ctx.topic, ctx.phase, ctx.error.code)
 */
export interface SyncErrorContext {
  phase: SyncPhase
  topic: string
  error: StateSyncError
}

/**
 * The source of invalidations for one topic (`@statesync/core`'s
 * `InvalidationSubscriber`). An event may carry its change
 * ({@link PushedInvalidation}), which the engine then applies without a fetch.
 *
 * @example
 * const subscriber: InvalidationSubscriber = { subscribe: async (h) => bus.on('settings', h) }
 */
export interface InvalidationSubscriber {
  subscribe(handler: (event: PushedInvalidation) => void): Promise<() => void>
}

/**
 * The source of snapshots for one topic (`@statesync/core`'s
 * `SnapshotProvider`). The engine passes `since`, its local revision, when it
 * has one: the provider may answer the change since then (a {@link Delta}) or,
 * as a provider that ignores `since` does, the full snapshot.
 *
 * @example
 * const provider: SnapshotProvider<number> = { getSnapshot: async () => ({ revision: '1', data: 1 }) }
 * const pulling: SnapshotProvider<Settings> = { getSnapshot: (since) => getSnapshot('settings', since) }
 */
export interface SnapshotProvider<T> {
  getSnapshot(since?: Revision): Promise<CatchUp<T>>
}

/**
 * Options of {@link createEngine}.
 *
 * @example
 * const options: EngineOptions<number> = { topic: 'counter', subscriber, provider, throttling: throttle({ debounceMs: 20 }) }
 */
export interface EngineOptions<T> {
  /** The topic's name, used in error reports. */
  topic: string
  subscriber: InvalidationSubscriber
  provider: SnapshotProvider<T>
  /**
   * How events that are newer than the local state turn into fetches
   * (default: each requests one at once), as made by {@link throttle}.
   */
  throttling?: Limiter
  /**
   * How a fetch is attempted (default: once, failing with `TIMEOUT` after
   * 10 s), as made by {@link backoff}.
   */
  retry?: Retry
  /**
   * Called once per error; an `onError` that throws is ignored. Without it,
   * errors go to `console.error` as `"state-sync: <phase>"` with the context.
   */
  onError?: (context: SyncErrorContext) => void
  /** Refetch when the window regains focus or becomes visible (default `true`). */
  resyncOnFocus?: boolean
  /** Also refetch on this interval, in ms (default: off). */
  resyncIntervalMs?: number
}

/**
 * A state change for the reducer, whatever its origin:
 * - `snapshot`: the full data at `revision` (a pulled snapshot, the data of
 *   a conflict or an action's outcome, or the value of an own exact `set`);
 * - `delta`: an RFC 6902 JSON Patch from `from` to `revision` (pushed on the
 *   channel, pulled since the local revision, or carried by the outcome of
 *   an own `patch`). If it does not apply (an unsupported op, a missing
 *   path), the state stays exactly as it was, the failure is reported in the
 *   `protocol` phase, and a full snapshot is fetched.
 *
 * A `delta` applies only when the local state is exactly at `from`.
 * Every action reaches listeners only through the gate {@link isNewer}.
 *
 * @example
 * engine.dispatch({ type: 'snapshot', revision: '4', data: { theme: 'dark' } })
 * engine.dispatch({ type: 'delta', from: '4', revision: '5', patch: [{ op: 'remove', path: '/theme' }] })
 */
export type Action<T> =
  | { type: 'snapshot'; revision: Revision; data: T }
  | { type: 'delta'; from: Revision; revision: Revision; patch: JsonPatch }

/**
 * One topic's engine. Created by {@link createEngine}.
 *
 * @example
 * const engine = createEngine({ topic: 'counter', subscriber, provider })
 * await engine.start()
 * engine.get()?.data
 */
export interface Engine<T> {
  /** Subscribes, then fetches. Resolves when hydrated; idempotent. */
  start(): Promise<void>
  /**
   * Final and idempotent: unsubscribes, clears the retry backoff, a pending
   * debounce and the interval, and nothing applies or is fetched afterwards.
   * The default single try in flight keeps its time-out until it settles (its
   * answer is ignored); with {@link backoff}, the try is abandoned at once.
   */
  stop(): void
  /** Resolves once the local state is at least as new as the backend was when called. */
  refresh(): Promise<void>
  /** The current state, or `undefined` before hydration. */
  get(): Snapshot<T> | undefined
  /** Calls `listener` after every change of the state; returns the unsubscribe. */
  subscribe(listener: (state: Snapshot<T>) => void): () => void
  /** The reducer: applies `action` if the gate lets it; returns whether it did. */
  dispatch(action: Action<T>): boolean
  /**
   * Notes that the backend is at `revision` (an event, a write outcome):
   * applies the change `event` carries if the local state is at its `from`,
   * and otherwise fetches if `revision` is newer.
   */
  invalidate(revision: Revision, event?: PushedInvalidation): void
  /** Reports an error under `phase` and returns it as a {@link StateSyncError}. */
  report(phase: SyncPhase, error: unknown): StateSyncError
  /**
   * Runs an own write: events that arrive meanwhile (its echo may come before
   * its outcome) only note their revision; when `task` settles, a fetch is
   * requested if they are still ahead of the local state.
   */
  hold<R>(task: () => Promise<R>): Promise<R>
}

/**
 * Creates the engine for one topic. Transport-agnostic: {@link topic} wires it
 * to Tauri, {@link createRevisionSync} to any subscriber and provider.
 *
 * @example
 * const engine = createEngine<number>({
 *   topic: 'counter',
 *   subscriber: { subscribe: async (handler) => bus.on(handler) },
 *   provider: { getSnapshot: () => fetchCounter() },
 * })
 * engine.subscribe(({ revision, data }) => render(data))
 * await engine.start()
 */
export function createEngine<T>(options: EngineOptions<T>): Engine<T> {
  const { topic, subscriber, provider, onError, resyncIntervalMs } = options
  const listeners = new Set<(state: Snapshot<T>) => void>()
  let state: Snapshot<T> | undefined
  let wanted: Revision | undefined // the newest revision an event announced
  let stopped = false
  const abort = new AbortController() // aborted by stop(): ends retries, timers and listeners
  const { signal } = abort
  let started: Promise<void> | undefined
  let current: Promise<void> | undefined // the fetch in flight
  let queued: Promise<void> | undefined // the fetch that starts after it
  let unsubscribe: (() => void) | undefined
  let interval: ReturnType<typeof setInterval> | undefined
  let holds = 0 // own writes in flight: their echo must not cause a fetch
  let whole = false // a delta failed to apply: fetch the full snapshot next

  const report = (phase: SyncPhase, e: unknown) => {
    const error = toStateSyncError(e)
    const context = { phase, topic, error }
    try {
      onError ? onError(context) : console.error('state-sync: ' + phase, context)
    } catch {
      // an onError that throws must not break the engine
    }
    return error
  }

  const dispatch = (action: Action<T>): boolean => {
    if (stopped || !isNewer(action.revision, state?.revision)) return false // the one gate
    let data: T
    if (action.type === 'snapshot') data = action.data
    else if (!state || state.revision !== action.from) return false // also before hydration, whatever `from` is
    else
      try {
        data = applyPatch(state.data, action.patch)
      } catch (e) {
        report('protocol', e)
        whole = true
        return background(), false
      }
    const next = (state = { revision: action.revision, data })
    for (const listener of [...listeners]) {
      try {
        listener(next)
      } catch (e) {
        report('apply', e)
      }
    }
    return true
  }

  const load = async () => {
    for (let stale = 0; !stopped; ) {
      const target = wanted
      const since = whole ? undefined : state?.revision
      whole = false
      let answer: CatchUp<T>
      try {
        answer = await (options.retry ?? once)(() => provider.getSnapshot(since), signal)
      } catch (e) {
        if (stopped) return
        throw report('snapshot', e)
      }
      const { revision, data, patch } = (answer ?? {}) as Partial<Snapshot<T> & Delta>
      if (!isRevision(revision)) throw report('protocol', invalid(revision))
      if (!patch && data === undefined) throw report('protocol', invalid(answer, 'snapshot without data'))
      dispatch({ ...answer, type: patch ? 'delta' : 'snapshot' } as Action<T>)
      // Still behind the event that caused this fetch, or behind an answer
      // that did not apply (a delta from a revision the state has left meanwhile):
      // fetch again, up to a bound.
      if (!isNewer(target && isNewer(target, revision) ? target : revision, state?.revision) || ++stale > 3) return
    }
  }

  // At most one fetch in flight and one queued; a request while one is in
  // flight joins the queued fetch, which starts only after the current one
  // settles, so a caller never resolves on a fetch that began before it asked.
  const request = (): Promise<void> =>
    current
      ? (queued ??= current.then(noop, noop).then(() => ((queued = undefined), request())))
      : (current = load().finally(() => (current = undefined)))

  const background = () => void request().catch(noop)
  const trigger = options.throttling?.(background, signal) ?? background
  const heal = () => {
    if (globalThis.document?.visibilityState !== 'hidden') background()
  }

  // Notes that the backend is at `revision`: applies the event's delta if it
  // carries one that fits, otherwise requests a fetch if `revision` is newer
  // than the local state; the fetch is deferred while own writes are in flight.
  const invalidate = (revision: Revision, event?: PushedInvalidation) => {
    if (stopped) return
    if (!isRevision(revision)) return void report('protocol', invalid(revision))
    if (!isNewer(revision, state?.revision)) return
    if (event?.patch && dispatch({ ...event, type: 'delta' })) return
    if (isNewer(revision, wanted)) wanted = revision
    if (!holds) trigger()
  }

  const hold = async <R>(task: () => Promise<R>): Promise<R> => {
    holds++
    try {
      return await task()
    } finally {
      // Events that came during the write and are still ahead of us: fetch now.
      if (!--holds && !stopped && wanted && isNewer(wanted, state?.revision)) trigger()
    }
  }

  const start = async () => {
    try {
      // The subscriber is the topic's: of an event, only its revision (and the
      // change it may carry) matters, and an event without one is reported.
      unsubscribe = await subscriber.subscribe((event) => invalidate(event?.revision, event))
    } catch (e) {
      throw report('subscribe', e)
    }
    if (stopped) return unsubscribe()
    if (options.resyncOnFocus !== false) {
      // Where there is a window (not in a worker or Node).
      globalThis.window?.addEventListener('focus', heal, { signal })
      globalThis.document?.addEventListener('visibilitychange', heal, { signal })
    }
    if (resyncIntervalMs) interval = setInterval(heal, resyncIntervalMs)
    await request()
  }

  return {
    start: () => (started ??= start()),
    stop() {
      if (stopped) return
      stopped = true
      abort.abort()
      unsubscribe?.()
      clearInterval(interval)
      listeners.clear()
    },
    refresh: request,
    get: () => state,
    subscribe(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    dispatch,
    invalidate,
    report,
    hold,
  }
}
