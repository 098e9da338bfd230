/**
 * The one place where a framework store and a topic meet. Every adapter in
 * `src/adapters/*.ts` only says how to read its store, write keys into it and
 * watch it ({@link StoreAccess}); the options, the diffing, the echo
 * suppression, the debounce, the hydration and failed-write policies and the
 * error path live here, once.
 *
 * Values are compared by their JSON text, key by key: a store is "changed"
 * when a top-level key's JSON differs from what the backend was last known to
 * hold. Functions (actions, methods) have no JSON text, so they are never
 * compared, written, sent or removed.
 *
 * Every key is data, `"__proto__"` too, as in the core's `mergePatch` and in
 * Rust: the diffing works on objects without a prototype, and
 * {@link assign} defines a new `"__proto__"` key before assigning it, so that
 * the store gets a key rather than a new prototype.
 *
 * Not a package entry of its own: `entries.mjs` only picks up the files
 * directly in `src/adapters/`. It is counted in every adapter's size.
 *
 * @module
 */
import { StateSyncError, isNewer, isStateSyncError, topic as open } from '../../index'
import type { Revision, Snapshot, SnapshotApplier, TopicHandle, TopicOptions } from '../../index'

/**
 * How a snapshot reaches the store:
 * - `patch`: its top-level keys are merged into the store; other keys stay;
 * - `replace`: keys of the store that the snapshot lacks are deleted too.
 *
 * Either way, functions (actions) are never removed.
 *
 * @example
 * const mode: ApplyMode = 'replace'
 */
export type ApplyMode = 'patch' | 'replace'

/**
 * How snapshots are turned into store state; the options of every
 * `create*SnapshotApplier`, with the names and meanings of `@statesync/*`.
 *
 * - `mode`: {@link ApplyMode}, default `'patch'`;
 * - `pickKeys`: only these top-level keys are synced;
 * - `omitKeys`: these top-level keys are never synced;
 * - `toState(data, ctx)`: maps the topic's data to the store's state before it
 *   is applied; `ctx` names the target as `@statesync/*` does (`{ store }`,
 *   `{ proxy }`, `{ state }` or `{ ref }`, see each adapter);
 * - `strict`: data (after `toState`) that is not a plain object (`null`, an
 *   array, a class instance, a primitive) is rejected with an
 *   `INVALID_ARGUMENT` error whose message contains
 *   `toState(data) must return a plain object`, reported in the `apply` phase
 *   (default `true`); with `strict: false` such a snapshot is skipped.
 *
 * @example
 * const options: ApplierOptions<Settings> = { mode: 'replace', omitKeys: ['draft'] }
 */
export interface ApplierOptions<T = unknown, C = object> {
  mode?: ApplyMode
  pickKeys?: readonly string[]
  omitKeys?: readonly string[]
  toState?: (data: T, ctx: C) => unknown
  strict?: boolean
}

/**
 * The options of every `bind*` function: those of {@link ApplierOptions}, those
 * of `topic()` (used when the topic is given by name), and `debounceMs`, how
 * long local changes must be quiet before they are written (default `0`:
 * changes made in one task are written together).
 *
 * @example
 * const options: BindOptions<Settings> = { mode: 'replace', debounceMs: 200, onError: console.warn }
 */
export interface BindOptions<T = unknown, C = object> extends ApplierOptions<T, C>, TopicOptions<T> {
  debounceMs?: number
}

/**
 * A store bound to a topic, returned by every `bind*` function.
 *
 * @example
 * const binding: Binding = bindZustand(store, 'settings')
 * if (!binding.hydrated) showSpinner()
 */
export interface Binding {
  /** Whether a snapshot has been applied to the store. */
  readonly hydrated: boolean
  /** Writes pending local changes now; resolves when every write in flight has settled. Never rejects. */
  flush(): Promise<void>
  /** Writes pending local changes, then stops listening (and stops the topic if it was opened by name). */
  stop(): void
}

/**
 * What an adapter tells the core about its framework's store.
 *
 * @example
 * const access: StoreAccess = {
 *   name: 'zustand',
 *   ctx: { store },
 *   read: () => store.getState(),
 *   write: (set, drop) => store.setState((s) => assign({ ...s }, set, drop), true),
 *   watch: (changed) => store.subscribe(changed),
 * }
 */
export interface StoreAccess {
  /** The adapter's name, for error messages. */
  name: string
  /** What `toState` receives as its second argument. */
  ctx: object
  /** The store's current state (may be a reactive proxy). */
  read(): object
  /** Sets the keys of `set` and deletes the keys in `drop`, in one update where the framework allows. */
  write(set: Record<string, unknown>, drop: string[]): void
  /** Calls `changed` after local changes (at once or later); returns the unsubscribe. */
  watch(changed: () => void): () => void
}

/** Top-level key → JSON text of its value. */
type Enc = Record<string, string>

const NULL = 'null'

// An object without a prototype holding the keys of `from`: there, assigning
// any key, `"__proto__"` too, sets that key, and `in` sees only its own keys.
const dict = <V = string>(...from: object[]): Record<string, V> => Object.assign(Object.create(null), ...from)

/**
 * Sets the keys of `set` on `target` and deletes those of `drop`; returns `target`.
 * The `write` of adapters whose state is a mutable object.
 *
 * A `"__proto__"` key that `target` lacks is first defined (as `0`, through
 * the proxy's own trap where there is one), so that assigning it then sets
 * the key, as a framework's proxy sees and reports, instead of the prototype.
 *
 * @example
 * assign(reactiveState, { theme: 'dark' }, ['legacy'])
 */
export const assign = <O extends object>(target: O, set: Record<string, unknown>, drop: string[]): O => {
  const t = target as Record<string, unknown>
  for (const key of drop) delete t[key]
  for (const key in set) {
    if (key == '__proto__' && !Object.hasOwn(t, key))
      Object.defineProperty(t, key, { value: 0, writable: true, enumerable: true, configurable: true })
    t[key] = set[key]
  }
  return target
}

// The synced keys of a state, as JSON text; functions and undefined have none.
const encode = (state: object, { pickKeys, omitKeys }: ApplierOptions<never>): Enc => {
  const out: Enc = dict()
  for (const key in state)
    if ((!pickKeys || pickKeys.includes(key)) && !omitKeys?.includes(key)) {
      const json = JSON.stringify((state as Record<string, unknown>)[key])
      if (json !== undefined) out[key] = json
    }
  return out
}

// The snapshot's data as synced keys, or undefined when it is to be skipped.
const project = <T>(data: T, options: ApplierOptions<T>, store: StoreAccess): Enc | undefined => {
  const state = options.toState ? options.toState(data, store.ctx) : data
  // (`null` is not plain: it used to slip through here, and replace mode then emptied the store.)
  const proto = state && typeof state == 'object' ? Object.getPrototypeOf(state) : 0
  if (proto === Object.prototype || proto === null) return encode(state as object, options as ApplierOptions<never>)
  if (options.strict !== false)
    throw new StateSyncError(
      'INVALID_ARGUMENT',
      `state-sync/${store.name}: toState(data) must return a plain object (top-level state), got ${Object.prototype.toString.call(state)}`,
    )
}

// Keys of `from` to `to` as a merge patch in JSON text ('null' deletes).
const diff = (from: Enc, to: Enc): Enc => {
  const patch: Enc = dict()
  for (const key in to) if (to[key] !== from[key]) patch[key] = to[key]!
  for (const key in from) if (!(key in to)) patch[key] = NULL
  return patch
}

// Applies an encoded merge patch to `target`; returns it.
const overlay = (target: Enc, patch: Enc): Enc => {
  for (const key in patch) patch[key] === NULL ? delete target[key] : (target[key] = patch[key]!)
  return target
}

const some = (o: object) => Object.keys(o).length > 0

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v == 'object' && !Array.isArray(v)

// The RFC 7396 merge patch from `from` to `to`: nested objects are diffed key
// by key (so a nested deletion is sent as null), anything else is replaced.
const deep = (was: unknown, now: unknown): unknown => {
  if (!isObject(was) || !isObject(now)) return now
  const [from, to, out] = [dict<unknown>(was), dict<unknown>(now), dict<unknown>()]
  for (const key in to) if (JSON.stringify(to[key]) !== JSON.stringify(from[key])) out[key] = deep(from[key], to[key])
  for (const key in from) if (!(key in to)) out[key] = null
  return out
}

// Brings the store from `current` to `wanted`, writing only the keys that differ.
const put = (store: StoreAccess, current: Enc, wanted: Enc) => {
  const set = dict<unknown>()
  const drop: string[] = []
  let changed = 0
  for (const key in wanted) if (wanted[key] !== current[key]) (set[key] = JSON.parse(wanted[key]!)), changed++
  for (const key in current) if (!(key in wanted)) changed = drop.push(key)
  if (changed) store.write(set, drop)
}

/**
 * The compat applier behind every `create*SnapshotApplier`: applies each
 * snapshot to `store` as `options` say.
 *
 * @example
 * const applier = createApplier(access, { mode: 'replace' })
 */
export const createApplier = <T, C>(store: StoreAccess, options: ApplierOptions<T, C> = {}): SnapshotApplier<T> => ({
  apply({ data }) {
    const next = project(data, options as ApplierOptions<T>, store)
    if (!next) return
    const current = encode(store.read(), options as ApplierOptions<T>)
    put(store, current, options.mode == 'replace' ? next : dict(current, next))
  },
})

/**
 * Binds `store` to a topic in both directions.
 *
 * Remote → local: every snapshot the topic applies is applied to the store
 * (only the keys whose JSON changed are written); the store's own change
 * notification that follows finds nothing to send, so there is no echo write.
 *
 * Local → remote: a change is diffed, key by key, against what the backend was
 * last known to hold and written as one RFC 7396 merge patch (`null` for a
 * deleted key, nested objects diffed the same way), `debounceMs` after the
 * last change; one write is in flight at a time.
 * A snapshot that arrives while local changes are pending is applied under
 * them: the pending keys are laid back on top unless the snapshot changed the
 * same key, in which case the backend's value wins.
 *
 * Hydration: nothing is written before the first snapshot. Changes made before
 * it are kept, laid over the first snapshot, and written as a compare-and-set
 * on its revision; if the backend moved on meanwhile, the binding refreshes,
 * keys the backend changed take the backend's value, and the rest is written
 * again the same way. So they are not lost and never overwrite newer state.
 *
 * A failed write is reported by the topic (`onError`, phase `write`); its keys
 * are rolled back in the store to the backend's value, unless they were
 * changed again meanwhile.
 *
 * @example
 * const binding = bind(access, topic<Settings>('settings'), { mode: 'replace', debounceMs: 100 })
 * binding.hydrated // false until the first snapshot
 * binding.stop()
 */
export function bind<T, C>(store: StoreAccess, source: TopicHandle<T> | string, options: BindOptions<T, C> = {}): Binding {
  const handle = typeof source == 'string' ? open<T>(source, options) : source
  const read = () => encode(store.read(), options as ApplierOptions<never>)
  const initial = read() // the store as found: changes before hydration are relative to it
  let base: Enc | undefined // what the backend holds, as far as this binding knows
  let inflight: Enc = dict() // the patch being written
  let revision: Revision
  let cas = false // the next write is a compare-and-set on `revision`
  let busy: Promise<void> | undefined
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined

  const apply = ({ revision: at, data }: Snapshot<T>) => {
    const next = project(data, options as ApplierOptions<T>, store)
    if (!next) return
    const current = read()
    const was = base ?? initial
    const now = options.mode == 'replace' ? next : dict(was, next)
    const pending = diff(was, current)
    // The backend wins on a key both sides changed (its echo of our own write aside).
    for (const key in pending)
      if (base && now[key] !== base[key] && (now[key] ?? NULL) !== inflight[key]) delete pending[key]
    if (!base) cas = some(pending)
    base = now
    revision = at
    put(store, current, overlay(dict(now), pending))
    if (cas) void flush()
  }

  const flush = (): Promise<void> => {
    clearTimeout(timer)
    if (busy) return busy.then(flush)
    if (!base) return Promise.resolve()
    const patch = diff(base, read())
    if (!some(patch)) return (cas = false), Promise.resolve()
    const at = revision
    const sent = dict<unknown>()
    for (const key in patch) sent[key] = deep(JSON.parse(base[key] ?? NULL), JSON.parse(patch[key]!))
    inflight = patch
    return (busy = handle
      .patch(sent as never, cas ? { expectedRevision: at } : {})
      .then(
        (outcome) => {
          // Unless a state that includes this write was applied already.
          if (isNewer(outcome.revision, revision)) overlay(base!, patch)
          cas = false
          return 1
        },
        async (e: unknown) => {
          // A conflict (only on the hydration write): refreshing rebases the
          // pending keys on the newer state; they are then written again.
          if (isStateSyncError(e, 'REVISION_CONFLICT') && (await handle.refresh().then(() => revision != at, () => 0)))
            return 1
          // Otherwise roll back the keys that still hold what was sent (the
          // store's change notification then sends whatever else is pending).
          const current = read()
          const back: Enc = dict()
          for (const key in patch) if ((current[key] ?? NULL) === patch[key]) back[key] = base![key] ?? NULL
          put(store, current, overlay(dict(current), back))
        },
      )
      .catch(() => {})
      .then((again) => {
        busy = undefined
        inflight = dict()
        if (again) return flush()
      }))
  }

  const unwatch = store.watch(() => {
    if (stopped) return
    clearTimeout(timer)
    timer = setTimeout(flush, options.debounceMs ?? 0)
  })
  const unsubscribe = handle.subscribe(apply)
  const state = handle.get()
  if (state) apply(state)

  return {
    get hydrated() {
      return !!base
    },
    flush,
    stop() {
      if (stopped) return
      stopped = true
      void flush()
      unwatch()
      unsubscribe()
      if (handle !== source) handle.stop()
    },
  }
}
