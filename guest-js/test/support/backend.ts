// An in-memory model of the Rust plugin (docs/protocol.md): topics with
// revisions, snapshot/set/patch/topics with compare-and-set, `exact`, typed
// normalization, actions, conflicts that carry the current data,
// invalidation events handed to `emit`, and subscriptions
// (`subscribe`/`unsubscribe`) whose channels `deliver` reaches the way the
// plugin's channels do: through `__TAURI_INTERNALS__.runCallback`.
// Optionally (`historyLimit`, `pushLimit`) a bounded history of each change as
// an RFC 6902 patch, answering `snapshot` with `since` as a delta when it
// reaches back there, and events (and the outcomes of `patch`) that carry
// small changes.
import type { ActionOutcome, CatchUp, Invalidation, JsonPatch, PatchOutcome, PushedInvalidation } from '../../src/protocol'
import { mergePatch, same } from '../../src/protocol'

interface Entry {
  revision: bigint
  data: unknown
  normalize?: (data: unknown) => unknown
  /** The latest changes, oldest first: `patch` leads from revision `to - 1` to `to`. */
  history: { to: bigint; patch: JsonPatch }[]
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const pointer = (key: string | number) => '/' + String(key).replace(/~/g, '~0').replace(/\//g, '~1')

/** An RFC 6902 patch from `a` to `b`: objects key by key, arrays element by element, anything else replaced. */
export function diff(a: unknown, b: unknown, path = ''): JsonPatch {
  if (same(a, b)) return []
  if (isObject(a) && isObject(b)) {
    const ops: JsonPatch = []
    for (const k of Object.keys(a)) if (!Object.hasOwn(b, k)) ops.push({ op: 'remove', path: path + pointer(k) })
    for (const k of Object.keys(b))
      if (Object.hasOwn(a, k)) ops.push(...diff(a[k], b[k], path + pointer(k)))
      else ops.push({ op: 'add', path: path + pointer(k), value: structuredClone(b[k]) })
    return ops
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const ops: JsonPatch = []
    const common = Math.min(a.length, b.length)
    for (let i = 0; i < common; i++) ops.push(...diff(a[i], b[i], path + pointer(i)))
    for (let i = common; i < b.length; i++) ops.push({ op: 'add', path: path + '/-', value: structuredClone(b[i]) })
    for (let i = a.length - 1; i >= common; i--) ops.push({ op: 'remove', path: path + pointer(i) })
    return ops
  }
  return [{ op: 'replace', path, value: structuredClone(b) }]
}

/** The length of `value`'s JSON in UTF-8 bytes, as Rust measures it. */
const size = (value: unknown): number => new TextEncoder().encode(JSON.stringify(value)).length

/**
 * What a change's channel message carries, as the plugin picks it: the
 * change's `patch` (from the data before to `data`), or one `replace` of the
 * whole value when `data` is smaller than the patch; `undefined` when what it
 * picked is longer than `limit`.
 */
export function pushed(patch: JsonPatch, data: unknown, limit: number): JsonPatch | undefined {
  const picked: JsonPatch = size(data) < size(patch) ? [{ op: 'replace', path: '', value: data }] : patch
  return size(picked) <= limit ? structuredClone(picked) : undefined
}

const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  )

const fail = (code: string, details: Record<string, unknown> = {}) => ({ code, message: code.toLowerCase(), ...details })

interface Subscription {
  topic: string
  channel: { id: number }
  /** The index of the next message, as Tauri's Rust channel numbers them. */
  next: number
}

export class Backend {
  readonly topics = new Map<string, Entry>()
  /** The live subscriptions, by id. */
  readonly subscriptions = new Map<number, Subscription>()
  private lastSubscription = 0
  /** Every change, in commit order. */
  readonly changes: Invalidation[] = []
  /** Receives each event after a change; replace to control delivery. */
  emit: (event: Invalidation) => void = () => {}
  /** Actions by `topic/action`: from the current data and the argument to the new data; throw a string to refuse. */
  readonly actions = new Map<string, (data: unknown, args: unknown) => unknown>()
  /** Whether a conflict carries `currentData`, as the plugin sends it to windows allowed to read. */
  conflictData = true
  /** How many changes each topic keeps as patches for `snapshot` with `since` (default 0: none, always the snapshot). */
  historyLimit = 0
  /**
   * An event carries its change (see {@link pushed}) when that is at most this
   * many bytes of JSON (default -1: never), and so does the outcome of a `patch`.
   */
  pushLimit = -1
  /** Each topic's data at every revision it had, by `topic/revision`. */
  readonly states = new Map<string, unknown>()

  constructor(initial: Record<string, unknown> = {}) {
    for (const [topic, data] of Object.entries(initial)) this.add(topic, { revision: 0n, data, history: [] })
  }

  private add(topic: string, entry: Entry) {
    this.topics.set(topic, entry)
    this.states.set(topic + '/' + entry.revision, structuredClone(entry.data))
  }

  /** Registers a typed topic whose writes are normalized by `normalize`. */
  typed(topic: string, data: unknown, normalize: (data: unknown) => unknown) {
    this.add(topic, { revision: 0n, data, normalize, history: [] })
  }

  private entry(topic: unknown): Entry {
    const e = typeof topic === 'string' ? this.topics.get(topic) : undefined
    if (!e) throw fail('UNKNOWN_TOPIC', { topic })
    return e
  }

  /** The snapshot; with `since`, the joined patches since then when the history reaches back there. */
  snapshot(topic: string, since?: string): CatchUp & { data?: unknown } {
    const e = this.entry(topic)
    const revision = String(e.revision)
    if (since !== undefined) {
      const first = e.history.findIndex((h) => String(h.to - 1n) === since)
      if (since === revision) return { revision, from: since, patch: [] }
      if (first >= 0) return { revision, from: since, patch: structuredClone(e.history.slice(first).flatMap((h) => h.patch)) }
    }
    return { revision, data: structuredClone(e.data) }
  }

  write(source: string, topic: string, kind: 'set' | 'patch', value: unknown, expectedRevision?: string): PatchOutcome {
    const e = this.entry(topic)
    const previous = e.revision
    if (expectedRevision !== undefined && expectedRevision !== String(previous))
      throw fail('REVISION_CONFLICT', {
        topic,
        expectedRevision,
        currentRevision: String(previous),
        ...(this.conflictData && { currentData: structuredClone(e.data) }),
      })
    if (kind === 'patch' && (typeof value !== 'object' || value === null || Array.isArray(value)))
      throw fail('INVALID_PATCH', { topic })
    const sent = kind === 'set' ? value : mergePatch(e.data, value)
    const stored = e.normalize ? e.normalize(sent) : sent
    const exact = canonical(stored) === canonical(sent)
    const outcome: PatchOutcome = { revision: '', previousRevision: String(previous), exact }
    if (canonical(stored) !== canonical(e.data)) {
      const patch = diff(e.data, stored)
      e.revision++
      e.data = structuredClone(stored)
      this.states.set(topic + '/' + e.revision, structuredClone(stored))
      e.history.push({ to: e.revision, patch })
      e.history.splice(0, e.history.length - this.historyLimit)
      const event: PushedInvalidation = { topic, revision: String(e.revision), sourceId: source }
      const carried = pushed(patch, stored, this.pushLimit)
      if (carried) {
        Object.assign(event, { from: String(previous), patch: carried })
        // As the plugin answers a patch: with exactly what the change's message carries.
        if (kind === 'patch') outcome.patch = structuredClone(carried)
      }
      this.changes.push(event)
      this.emit(event)
    }
    outcome.revision = String(e.revision)
    return outcome
  }

  /** Sends `event` to every subscription of its topic, on its channel. */
  deliver(event: Invalidation) {
    this.send({ type: 'invalidate', ...event }, event.topic)
  }

  /** Sends `message` as it is on the channel of every subscription (of `topic` only, when given). */
  send(message: unknown, topic?: string) {
    const internals = (globalThis as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } })
      .__TAURI_INTERNALS__
    for (const s of this.subscriptions.values())
      if (topic === undefined || s.topic === topic) internals.runCallback(s.channel.id, { message, index: s.next++ })
  }

  /** Runs an action as the plugin does: on the latest data, never a conflict. */
  act(source: string, topic: string, action: string, args: unknown): ActionOutcome {
    const e = this.entry(topic)
    const run = this.actions.get(topic + '/' + action)
    if (!run) throw fail('UNKNOWN_ACTION', { topic, action })
    let next: unknown
    try {
      next = run(structuredClone(e.data), args)
    } catch (reason) {
      throw fail('ACTION_FAILED', { topic, action, reason: String(reason) })
    }
    return { ...this.write(source, topic, 'set', next), data: structuredClone(this.entry(topic).data) }
  }

  /** A change made from Rust. */
  rust(topic: string, data: unknown) {
    return this.write('@rust', topic, 'set', data)
  }

  /** Answers a `plugin:state-sync|*` command as the plugin would. */
  handle(source: string, cmd: string, args: Record<string, unknown>): unknown {
    switch (cmd) {
      case 'plugin:state-sync|snapshot':
        return this.snapshot(args.topic as string, args.since as string | undefined)
      case 'plugin:state-sync|snapshots':
        return (args.topics as string[]).map((topic) => ({ topic, ...this.snapshot(topic) }))
      case 'plugin:state-sync|topics':
        return [...this.topics].sort(([a], [b]) => (a < b ? -1 : 1)).map(([topic, e]) => ({ topic, revision: String(e.revision) }))
      case 'plugin:state-sync|set':
        return this.write(source, args.topic as string, 'set', args.data, args.expectedRevision as string | undefined)
      case 'plugin:state-sync|patch':
        return this.write(source, args.topic as string, 'patch', args.patch, args.expectedRevision as string | undefined)
      case 'plugin:state-sync|subscribe':
        this.subscriptions.set(++this.lastSubscription, { topic: args.topic as string, channel: args.channel as { id: number }, next: 0 })
        return this.lastSubscription
      case 'plugin:state-sync|unsubscribe':
        this.subscriptions.delete(args.id as number)
        return null
      case 'plugin:state-sync|act':
        return this.act(source, args.topic as string, args.action as string, args.args)
      default:
        throw `unknown command ${cmd}`
    }
  }
}
