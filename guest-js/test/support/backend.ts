// An in-memory model of the Rust plugin (docs/protocol.md): topics with
// revisions, snapshot/set/patch/topics with compare-and-set, `exact`, typed
// normalization, actions, conflicts that carry the current data,
// invalidation events handed to `emit`, and subscriptions
// (`subscribe`/`unsubscribe`) whose channels `deliver` reaches the way the
// plugin's channels do: through `__TAURI_INTERNALS__.runCallback`.
import type { ActionOutcome, Invalidation, Snapshot, WriteOutcome } from '../../src/protocol'
import { mergePatch } from '../../src/protocol'

interface Entry {
  revision: bigint
  data: unknown
  normalize?: (data: unknown) => unknown
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

  constructor(initial: Record<string, unknown> = {}) {
    for (const [topic, data] of Object.entries(initial)) this.topics.set(topic, { revision: 0n, data })
  }

  /** Registers a typed topic whose writes are normalized by `normalize`. */
  typed(topic: string, data: unknown, normalize: (data: unknown) => unknown) {
    this.topics.set(topic, { revision: 0n, data, normalize })
  }

  private entry(topic: unknown): Entry {
    const e = typeof topic === 'string' ? this.topics.get(topic) : undefined
    if (!e) throw fail('UNKNOWN_TOPIC', { topic })
    return e
  }

  snapshot(topic: string): Snapshot {
    const e = this.entry(topic)
    return { revision: String(e.revision), data: structuredClone(e.data) }
  }

  write(source: string, topic: string, kind: 'set' | 'patch', value: unknown, expectedRevision?: string): WriteOutcome {
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
    if (canonical(stored) !== canonical(e.data)) {
      e.revision++
      e.data = structuredClone(stored)
      const event = { topic, revision: String(e.revision), sourceId: source }
      this.changes.push(event)
      this.emit(event)
    }
    return { revision: String(e.revision), previousRevision: String(previous), exact }
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
        return this.snapshot(args.topic as string)
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
