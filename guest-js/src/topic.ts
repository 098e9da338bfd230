/**
 * The everyday API: `topic<T>(name)`, one engine wired to the Tauri transport,
 * plus writes from the window.
 *
 * @module
 */
import { createEngine, type EngineOptions } from './engine'
import { invalid, StateSyncError, toStateSyncError } from './errors'
import { isNewer, isRevision, noop } from './protocol'
import type { ActionOutcome, MergePatch, PatchOutcome, Revision, Snapshot, WriteOutcome } from './protocol'
import { tauri, type Transport } from './tauri'
import type { ActionsFor, DataFor, TopicName } from './topics'

/**
 * Options of a write.
 *
 * @example
 * await settings.set(next, { expectedRevision: '3' })
 */
export interface WriteOptions {
  /** Compare-and-set: apply only if the topic is still at this revision. */
  expectedRevision?: Revision
}

/**
 * The actions a topic has in Rust: each action's name mapped to the type of
 * its argument. The generated file gives every topic's map (`TopicActions`);
 * without it, give such a map (an interface fits too) to {@link topic} to
 * type {@link TopicHandle.act}.
 *
 * @example
 * type CounterActions = { increment: { by: number }; reset: undefined }
 * const counter = topic<{ value: number }, 'counter', CounterActions>('counter')
 */
export type ActionMap = Record<string, unknown>

/**
 * The arguments of `act` after the action's name: optional when the action
 * takes `undefined` or `null`, which is how a Rust argument of type `()` or
 * `Option<T>` is generated (the plugin reads a missing argument as `null`).
 *
 * @example
 * const args: ActionArgs<{ reset: undefined }, 'reset'> = []
 * const none: ActionArgs<{ clear: null }, 'clear'> = []
 */
export type ActionArgs<A extends object, K extends keyof A> = undefined extends A[K]
  ? [args?: A[K]]
  : null extends A[K]
    ? [args?: A[K]]
    : [args: A[K]]

/**
 * Options of {@link topic}: those of the engine, except what the Tauri
 * transport provides.
 *
 * @example
 * const counter = topic<number>('counter', { throttling: throttle({ throttleMs: 50 }), retry: backoff(), resyncIntervalMs: 60_000 })
 */
export interface TopicOptions<T> extends Omit<EngineOptions<T>, 'topic' | 'subscriber' | 'provider'> {
  /** Where events, snapshots and writes go (default: {@link tauri}, the plugin). */
  transport?: Transport
}

/**
 * A live, typed view of one topic. See {@link topic}.
 *
 * @example
 * const settings: TopicHandle<{ theme: string }> = topic('settings')
 */
export interface TopicHandle<T, A extends object = ActionMap> {
  /**
   * Resolves once the first snapshot is applied. Rejects if the first load
   * fails (the handle keeps healing on focus, interval and events, and
   * `subscribe` sees the state once it arrives) or if the handle is stopped first.
   */
  readonly ready: Promise<void>
  /** The current `{ revision, data }`, or `undefined` before `ready`. */
  get(): Snapshot<T> | undefined
  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (state: Snapshot<T>) => void): () => void
  /** Replaces the data. */
  set(data: T, options?: WriteOptions): Promise<WriteOutcome>
  /** Merges an RFC 7396 patch into the data; `null` deletes a key. */
  patch(patch: MergePatch<T>, options?: WriteOptions): Promise<PatchOutcome>
  /**
   * Read-modify-write with compare-and-set: `fn` gets a copy of the current
   * data and returns the new data; on `REVISION_CONFLICT` the state is
   * brought up to date and `fn` runs again, at most `attempts` times in all
   * (default 5). A conflict carries the current state, so the retry needs no fetch.
   */
  update(fn: (data: T) => T, options?: { attempts?: number }): Promise<WriteOutcome>
  /**
   * Calls the action `action` registered in Rust on this topic with `args`.
   * It runs on the latest state and never fails with `REVISION_CONFLICT`;
   * the outcome carries the resulting data, which the handle applies without
   * a fetch.
   */
  act<K extends keyof A & string>(action: K, ...args: ActionArgs<A, K>): Promise<ActionOutcome>
  /** Fetches now; resolves once the state is at least as new as the backend was when called. */
  refresh(): Promise<void>
  /** Stops syncing. Final and idempotent. */
  stop(): void
}

/**
 * Opens a live view of the topic `name`: subscribes to its invalidations,
 * fetches it, keeps it up to date, and writes to it.
 *
 * Once `Topics` is filled (by the file generated from the Rust types),
 * the name must be one of its keys and the data type is looked up, with no
 * type argument (one given is ignored): a misspelt name, or a `set` or
 * `patch` that does not fit, fails to compile. Before that, give the data
 * type as a type argument. Actions work the same way with `TopicActions`:
 * once the generated file fills it, `act` takes only the topic's actions,
 * each with its Rust argument type; before, give the action map as `A`.
 *
 * @example
 * // with the generated file, whose Topics has `settings: Settings` and
 * // TopicActions has `settings: { 'zoom-in': Zoom }`:
 * const settings = topic('settings')
 * await settings.ready
 * settings.subscribe(({ data }) => applyTheme(data.theme))
 * await settings.patch({ theme: 'dark' })
 * await settings.update((s) => ({ ...s, lang: 'fr' }))
 * await settings.act('zoom-in', { by: 1 })
 * settings.stop()
 * // without it:
 * const counter = topic<{ value: number }>('counter')
 */
export function topic<T = unknown, K extends TopicName = TopicName, A extends object = ActionMap>(
  name: K,
  options: TopicOptions<DataFor<T, K>> = {},
): TopicHandle<DataFor<T, K>, ActionsFor<A, K>> {
  type D = DataFor<T, K>
  const { transport = tauri } = options
  const engine = createEngine<D>({
    ...options,
    topic: name,
    subscriber: { subscribe: (handler) => transport.subscribe(name, handler) },
    provider: { getSnapshot: (since) => transport.snapshot<D>(name, since) },
  })

  // Runs an own write. Own echo: adopt the result without a fetch when the
  // new state is known (see "Own-echo rule" in docs/protocol.md): an exact
  // `set` is its value, a `patch` is the change its outcome carries, applied
  // like a pushed one; otherwise treat the outcome like an event: fetch if
  // the backend is ahead of us.
  const run = <O extends WriteOutcome>(call: () => Promise<O>, adopt: (outcome: O) => unknown) =>
    engine.hold(async () => {
      const outcome = await call()
      if (!isRevision(outcome?.revision)) throw invalid(outcome?.revision)
      if (!adopt(outcome)) engine.invalidate(outcome.revision)
      return outcome
    })
  const send = (kind: 'set' | 'patch', value: unknown, o: WriteOptions = {}) =>
    run(
      () => transport.write(name, kind, value, o.expectedRevision),
      ({ exact, previousRevision: from, revision, patch }) =>
        kind == 'set'
          ? exact && engine.dispatch({ type: 'snapshot', revision, data: value as D })
          : patch && engine.dispatch({ type: 'delta', from, revision, patch }),
    )
  // Reports a failed write under `write`, its message naming the write.
  // A new error: the one caught may be shared (the rejection of `ready`, or
  // what a transport rejects every call with), and must not be renamed.
  const failed = (kind: string, e: unknown): never => {
    const { code, message, details } = toStateSyncError(e)
    throw engine.report('write', new StateSyncError(code, `${kind} of "${name}" failed: ${message}`, details))
  }
  const write = (kind: 'set' | 'patch', value: unknown, o?: WriteOptions) =>
    send(kind, value, o).catch((e: unknown) => failed(kind, e))

  const ready = engine.start().then(() => {
    if (!engine.get()) throw new StateSyncError('STOPPED', 'stopped')
  })
  ready.catch(noop) // awaiting `ready` is optional; its failure is reported through onError too

  // The engine's get, subscribe, refresh and stop, plus the writes.
  return Object.assign(engine, {
    ready,
    set: (data: D, o?: WriteOptions) => write('set', data, o),
    patch: (patch: MergePatch<D>, o?: WriteOptions) => write('patch', patch, o),
    async update(fn: (data: D) => D, { attempts = 5 } = {}) {
      for (let i = 1, behind = false; ; i++) {
        try {
          if (behind) await engine.refresh() // after a conflict that left us behind: retry on a fresh state
          const { revision, data } = engine.get() ?? (await ready, engine.get()!)
          return await send('set', fn(structuredClone(data)), { expectedRevision: revision })
        } catch (e) {
          // Only the final failure is reported, whatever step failed: reading, `fn` or the write.
          const { code, details: { currentRevision: revision, currentData: data } } = toStateSyncError(e) as StateSyncError<'REVISION_CONFLICT'>
          if (i >= attempts || code !== 'REVISION_CONFLICT' || !isRevision(revision)) return failed('update', e)
          // The conflict carries the current state: apply it and retry at once.
          // Fetch only if it did not (a window not allowed to read gets none).
          if (data !== undefined) engine.dispatch({ type: 'snapshot', revision, data: data as D })
          behind = isNewer(revision, engine.get()?.revision)
        }
      }
    },
    act: (action: string, args?: unknown) =>
      run(
        () => transport.act(name, action, args),
        ({ revision, data }) => data !== undefined && (engine.dispatch({ type: 'snapshot', revision, data: data as D }), 1),
      ).catch((e: unknown) => failed(`action ${action}`, e)),
  })
}
