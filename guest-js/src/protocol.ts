/**
 * The wire protocol of tauri-plugin-state-sync, mirrored one for one from the
 * Rust `models.rs`. The rules are specified in `docs/protocol.md` and pinned by
 * `docs/protocol-vectors.json`, which the tests replay.
 *
 * @module
 */
import type { PersistenceError } from './persistence'

/**
 * A revision: the canonical decimal form of a `u64`, as a string.
 *
 * Never convert it with `Number()`: values above 2^53 lose precision. Compare
 * revisions with {@link isNewer}.
 *
 * @example
 * const r: Revision = '9007199254740993'
 */
export type Revision = string

/**
 * A topic's data together with its revision (`@statesync/core`'s `SnapshotEnvelope`).
 *
 * @example
 * const s: Snapshot<{ theme: string }> = { revision: '3', data: { theme: 'dark' } }
 */
export interface Snapshot<T = unknown> {
  /** The revision of `data`. */
  revision: Revision
  /** The topic's data at `revision`. */
  data: T
}

/**
 * One entry of the `snapshots` command.
 *
 * @example
 * const s: TopicSnapshot = { topic: 'counter', revision: '1', data: 1 }
 */
export interface TopicSnapshot<T = unknown> extends Snapshot<T> {
  /** The topic's name. */
  topic: string
}

/**
 * One operation of a {@link JsonPatch}: RFC 6902 `add`, `replace` or
 * `remove` at a JSON Pointer `path` (`""` is the whole value). The plugin
 * produces no other operations.
 *
 * @example
 * const op: PatchOperation = { op: 'replace', path: '/items/3/done', value: true }
 */
export type PatchOperation = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string }

/**
 * An RFC 6902 JSON Patch: operations applied in order.
 *
 * @example
 * const p: JsonPatch = [{ op: 'add', path: '/theme', value: 'dark' }, { op: 'remove', path: '/beta' }]
 */
export type JsonPatch = Array<PatchOperation>

/**
 * The change of a topic from `from` to `revision`: applying `patch` to the
 * data at `from` gives the data at `revision`. The answer of `snapshot` with
 * `since` when the topic's history reaches back to it; see "Pulling since a
 * revision" in `docs/protocol.md`.
 *
 * @example
 * const d: Delta = { revision: '7', from: '5', patch: [{ op: 'replace', path: '/n', value: 7 }] }
 */
export interface Delta {
  /** The revision the patch leads to. */
  revision: Revision
  /** The revision the patch applies to. */
  from: Revision
  /** The operations, in order; empty when `from` equals `revision`. */
  patch: JsonPatch
}

/**
 * The answer of `snapshot` with `since`: a {@link Delta}, or the full
 * {@link Snapshot} (the one with `data`) when no delta from `since` can be given.
 *
 * @example
 * const c: CatchUp = { revision: '7', data: { n: 7 } }
 */
export type CatchUp<T = unknown> = Delta | Snapshot<T>

/**
 * One entry of the `snapshots` command with `since`.
 *
 * @example
 * const c: TopicCatchUp = { topic: 'counter', revision: '2', from: '2', patch: [] }
 */
export type TopicCatchUp<T = unknown> = { topic: string } & CatchUp<T>

/**
 * A topic's name and current revision, as listed by the `topics` command.
 *
 * @example
 * const t: TopicInfo = { topic: 'settings', revision: '3' }
 */
export interface TopicInfo {
  /** The topic's name. */
  topic: string
  /** Its current revision. */
  revision: Revision
}

/**
 * The payload of {@link INVALIDATION_EVENT} (`@statesync/core`'s `InvalidationEvent`).
 * It carries no data: "`topic` is now at `revision`; fetch if you are behind".
 *
 * @example
 * const e: Invalidation = { topic: 'settings', revision: '3', sourceId: 'main' }
 */
export interface Invalidation {
  /** The topic that changed. */
  topic: string
  /** The revision it changed to. */
  revision: Revision
  /** The label of the writing webview, or {@link RUST_SOURCE_ID}. */
  sourceId: string
}

/**
 * An {@link Invalidation} as it comes on a window's subscription channel:
 * for a small change it also carries the change, `from` and `patch` (both or
 * neither), meaning "applying `patch` to the data at `from` gives the data at
 * `revision`". The broadcast {@link INVALIDATION_EVENT} never carries them.
 *
 * @example
 * const e: PushedInvalidation = { topic: 'settings', revision: '4', sourceId: '@rust', from: '3', patch: [{ op: 'replace', path: '/theme', value: 'dark' }] }
 */
export type PushedInvalidation = Invalidation & ({ from?: undefined; patch?: undefined } | { from: Revision; patch: JsonPatch })

/**
 * One message on a window's subscription channel (see the `subscribe`
 * command), tagged by `type`.
 *
 * @example
 * const m: ChannelMessage = { type: 'invalidate', topic: 'settings', revision: '3', sourceId: 'main' }
 */
export type ChannelMessage =
  | ({ type: 'invalidate' } & PushedInvalidation)
  | ({ type: 'persistenceError' } & PersistenceError)

/**
 * What a `set` or `patch` did. See "The write outcome" in `docs/protocol.md`.
 *
 * @example
 * const o: WriteOutcome = { revision: '4', previousRevision: '3', exact: true }
 */
export interface WriteOutcome {
  /** The revision after the write; equal to `previousRevision` when nothing changed. */
  revision: Revision
  /** The revision the write was applied on top of. */
  previousRevision: Revision
  /** Whether the plugin stored exactly what was sent (or the exact merge of the patch). */
  exact: boolean
}

/**
 * What a `patch` did: the {@link WriteOutcome}, plus `patch`, the change's
 * RFC 6902 patch from `previousRevision` to `revision` exactly as windows are
 * sent it (left out when that message carries none: a change past the push
 * limit, or nothing changed). The writing window applies it as it would the
 * pushed change. See "The write outcome" in `docs/protocol.md`.
 *
 * @example
 * const o: PatchOutcome = { revision: '4', previousRevision: '3', exact: true, patch: [{ op: 'replace', path: '/theme', value: 'dark' }] }
 */
export interface PatchOutcome extends WriteOutcome {
  /** The change from `previousRevision` to `revision`. */
  patch?: JsonPatch
}

/**
 * What an action did: the {@link WriteOutcome}, plus the topic's data at
 * `revision` (left out when the window may not read the topic). See
 * "Actions" in `docs/protocol.md`.
 *
 * @example
 * const o: ActionOutcome = { revision: '5', previousRevision: '4', exact: true, data: { value: 5 } }
 */
export interface ActionOutcome extends WriteOutcome {
  /** The topic's data at `revision`. */
  data?: unknown
}

/**
 * An RFC 7396 JSON merge patch for data of type `T`: keys replace, nested
 * objects merge, `null` deletes a key.
 *
 * @example
 * const p: MergePatch<{ theme: string; font?: { size: number } }> = { font: null }
 */
export type MergePatch<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: MergePatch<T[K]> | null }
    : T

/**
 * The name of the event the plugin broadcasts after every change, while no
 * capability uses state-sync scopes (or when the app keeps it on). The
 * Tauri transport does not use it: it subscribes through channels.
 *
 * @example
 * import { listen } from '@tauri-apps/api/event'
 * await listen<Invalidation>(INVALIDATION_EVENT, (e) => console.log(e.payload.revision))
 */
export const INVALIDATION_EVENT = 'state-sync://invalidate'

/**
 * The `sourceId` of changes made from Rust. Webview labels cannot contain `@`.
 *
 * @example
 * if (event.sourceId === RUST_SOURCE_ID) console.log('changed by the app')
 */
export const RUST_SOURCE_ID = '@rust'

const U64_MAX = '18446744073709551615'

/**
 * Whether `value` is a canonical revision string: digits only, no leading zero
 * (except `"0"`), at most `u64::MAX`. JSON numbers are refused.
 *
 * @example
 * isRevision('42') // true
 * isRevision('042') // false
 * isRevision(42) // false
 */
export const isRevision = (value: unknown): value is Revision =>
  typeof value === 'string' &&
  /^(0|[1-9]\d{0,19})$/.test(value) &&
  (value.length < 20 || value <= U64_MAX)

/**
 * The one gate: whether `incoming` is strictly newer than `local`. Anything is
 * newer than `undefined` (no state yet), so the first snapshot always applies.
 * Compares canonical strings without `Number()`: longer is larger, equal
 * lengths compare character by character.
 *
 * @example
 * isNewer('10', '9') // true
 * isNewer('9', '9') // false
 * isNewer('0', undefined) // true
 */
export const isNewer = (incoming: Revision, local: Revision | undefined): boolean =>
  local === undefined ||
  incoming.length > local.length ||
  (incoming.length === local.length && incoming > local)

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Applies an RFC 7396 merge patch to `target` and returns the result, without
 * modifying either argument. Every key is data, `"__proto__"` too, as in Rust:
 * the merge works on an object without a prototype, where assigning
 * `"__proto__"` defines a key, and spreads it into a plain object at the end.
 *
 * @example
 * mergePatch({ a: 'b', c: { d: 1 } }, { a: null, c: { e: 2 } }) // { c: { d: 1, e: 2 } }
 */
export function mergePatch<T>(target: T, patch: unknown): T {
  if (!isObject(patch)) return patch as T
  const out: Record<string, unknown> = Object.assign(Object.create(null), isObject(target) && target)
  for (const key in patch) {
    if (patch[key] === null) delete out[key]
    else out[key] = mergePatch(out[key], patch[key])
  }
  return { ...out } as T
}

/**
 * JSON equality: arrays element by element, objects by their own keys
 * whatever their order (`"__proto__"` included, as data).
 *
 * @example
 * same({ a: [1, { b: 2 }], c: 3 }, { c: 3, a: [1, { b: 2 }] }) // true
 */
export const same = (a: unknown, b: unknown): boolean =>
  a === b ||
  (!!a &&
    !!b &&
    typeof a == 'object' &&
    typeof b == 'object' &&
    Array.isArray(a) == Array.isArray(b) &&
    Object.keys(a).length == Object.keys(b).length &&
    Object.keys(a).every((k) => Object.hasOwn(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])))

/**
 * Does nothing; the shared no-op callback.
 *
 * @example
 * promise.catch(noop)
 */
export const noop = (): void => {}
