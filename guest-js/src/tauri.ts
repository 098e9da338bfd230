/**
 * The Tauri transport: the plugin's commands, and one subscription channel
 * per topic.
 *
 * @module
 */
import { Channel, invoke } from '@tauri-apps/api/core'
import { toStateSyncError } from './errors'
import { noop } from './protocol'
import type { ActionOutcome, CatchUp, ChannelMessage, PatchOutcome, PushedInvalidation, Revision, TopicCatchUp, TopicInfo } from './protocol'

/**
 * What {@link topic} needs from the other side: invalidations, snapshots and
 * writes. {@link tauri} is the implementation over the plugin; tests and other
 * hosts can provide their own.
 *
 * @example
 * const settings = topic<Settings>('settings', { transport: tauri })
 */
export interface Transport {
  /** Calls `handler` with every invalidation of `topic` (with its change when pushed); resolves with the unsubscribe once events flow. */
  subscribe(topic: string, handler: (event: PushedInvalidation) => void): Promise<() => void>
  /** Fetches the topic's snapshot, or with `since` the change since that revision when the other side can give it. */
  snapshot<T>(topic: string, since?: Revision): Promise<CatchUp<T>>
  /**
   * Writes with `set` or `patch`; `expectedRevision` makes it a
   * compare-and-set. The outcome of a `patch` may carry the change as an
   * RFC 6902 `patch`, which the writer applies instead of fetching.
   */
  write(topic: string, kind: 'set' | 'patch', value: unknown, expectedRevision?: Revision): Promise<PatchOutcome>
  /** Calls the action `action` registered in Rust on `topic`. */
  act(topic: string, action: string, args?: unknown): Promise<ActionOutcome>
}

/**
 * Calls `plugin:state-sync|<command>`; rejects with a {@link StateSyncError}.
 *
 * @example
 * const { revision, data } = await command<Snapshot>('snapshot', { topic: 'settings' })
 */
export const command = <R>(name: string, args: Record<string, unknown>): Promise<R> =>
  invoke<R>('plugin:state-sync|' + name, args).catch((e: unknown) => {
    throw toStateSyncError(e)
  })

/**
 * Subscribes to everything the plugin sends about `topic` (`subscribe`
 * command): it checks the window's read scope, and rejects with
 * `TOPIC_FORBIDDEN` if the window may not read the topic. Messages come on a
 * Tauri `Channel` that reaches this window alone. Resolves, once subscribed,
 * with the function that unsubscribes.
 *
 * @example
 * const off = await subscribeTopic('settings', (m) => m.type === 'invalidate' && console.log(m.revision))
 */
export const subscribeTopic = (topic: string, onMessage: (message: ChannelMessage) => void): Promise<() => void> =>
  command<number>('subscribe', { topic, channel: new Channel(onMessage) }).then(
    (id) => () => void command('unsubscribe', { id }).catch(noop),
  )

/** Each subscribed topic's handlers, and its subscription. */
const topics = new Map<string, [Set<(event: PushedInvalidation) => void>, Promise<() => void>]>()

/**
 * Calls `handler` with every invalidation of `topic` (which carries `from`
 * and `patch` when the plugin pushed the change), and with every other
 * message on its channel except persistence problems (so that the engine
 * reports one that breaks the protocol). The handlers of a topic share one
 * subscription, made with the first and released with the last. Resolves,
 * with the unsubscribe function, once events are flowing.
 *
 * @example
 * const off = await onInvalidate('settings', (e) => console.log(e.revision, e.sourceId))
 * off()
 */
export function onInvalidate(topic: string, handler: (event: PushedInvalidation) => void): Promise<() => void> {
  let entry = topics.get(topic)
  if (!entry) {
    const set = new Set<(event: PushedInvalidation) => void>()
    const deliver = (m: ChannelMessage) => m?.type != 'persistenceError' && set.forEach((h) => h(m as PushedInvalidation))
    topics.set(topic, (entry = [set, subscribeTopic(topic, deliver)]))
  }
  const [set, acquired] = entry
  set.add(handler)
  const off = () => {
    // `delete` is false on a second call, which makes `off` idempotent.
    if (set.delete(handler) && !set.size && topics.delete(topic)) acquired.then((unsubscribe) => unsubscribe(), noop)
  }
  return acquired.then(
    () => off,
    (e: unknown) => {
      off()
      throw e
    },
  )
}

/**
 * Fetches one topic's snapshot (`snapshot` command). With `since`, a
 * revision the caller holds, the answer may instead be the change since then,
 * `{ revision, from, patch }` (see "Pulling since a revision" in
 * `docs/protocol.md`); it is the full snapshot, with `data`, otherwise.
 *
 * @example
 * const { revision, data } = (await getSnapshot<{ theme: string }>('settings')) as Snapshot<{ theme: string }>
 * const answer = await getSnapshot('settings', revision)
 * if ('patch' in answer) console.log(answer.from, answer.patch)
 */
export const getSnapshot = <T>(topic: string, since?: Revision): Promise<CatchUp<T>> => command('snapshot', { topic, since })

/**
 * Writes a topic (`set` or `patch` command); `expectedRevision` makes it a
 * compare-and-set. The outcome of a `patch` carries the change's RFC 6902
 * `patch` when its channel message does.
 *
 * @example
 * const outcome = await write('settings', 'patch', { theme: 'dark' }, '3')
 */
export const write = (
  topic: string,
  kind: 'set' | 'patch',
  value: unknown,
  expectedRevision?: Revision,
): Promise<PatchOutcome> =>
  command(kind, {
    topic,
    [kind === 'set' ? 'data' : 'patch']: value,
    expectedRevision, // JSON leaves it out when undefined
  })

/**
 * Calls an action registered in Rust on a topic (`act` command); the outcome
 * carries the resulting data.
 *
 * @example
 * const { revision, data } = await act('counter', 'increment', { by: 1 })
 */
export const act = (topic: string, action: string, args?: unknown): Promise<ActionOutcome> =>
  command('act', { topic, action, args })

/**
 * Fetches several snapshots at once (`snapshots` command), in the order
 * asked. A topic named in `since` with the revision the caller holds may
 * answer with the change since then, `{ topic, revision, from, patch }`.
 *
 * @example
 * const [settings, counter] = await getSnapshots(['settings', 'counter'])
 * const changed = await getSnapshots(['settings', 'counter'], { settings: '12' })
 */
export const getSnapshots = (topics: string[], since?: Record<string, Revision>): Promise<TopicCatchUp[]> =>
  command('snapshots', { topics, since })

/**
 * Lists all topics with their revisions, sorted by name (`topics` command).
 *
 * @example
 * for (const { topic, revision } of await listTopics()) console.log(topic, revision)
 */
export const listTopics = (): Promise<TopicInfo[]> => command('topics', {})

/**
 * The {@link Transport} over the plugin's commands and its subscription channels;
 * the default of {@link topic}.
 *
 * @example
 * const counter = topic<number>('counter', { transport: tauri })
 */
export const tauri: Transport = { subscribe: onInvalidate, snapshot: getSnapshot, write, act }
