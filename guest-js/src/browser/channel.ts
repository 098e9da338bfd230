/**
 * Invalidations between the tabs of one origin, over a BroadcastChannel, in
 * the plugin's event shape `{ topic, revision, sourceId }`.
 *
 * @module
 */
import type { Invalidation } from '../protocol'

/**
 * The invalidations of the backend `name`: {@link Channel.subscribe} per
 * topic, {@link Channel.announce} after each commit.
 *
 * @example
 * const events = channel('state-sync')
 */
export interface Channel {
  /** Calls `handler` with every invalidation of `topic`, from any tab; returns the unsubscribe. */
  subscribe(topic: string, handler: (event: Invalidation) => void): () => void
  /** Whether this tab has a subscriber of `topic`. */
  has(topic: string): boolean
  /** Tells every tab, this one included, that `event.topic` is at `event.revision`. */
  announce(event: Invalidation): void
  /** Closes the channel. */
  close(): void
}

/**
 * Opens the {@link Channel} of backend `name`. The BroadcastChannel is
 * acquired with the first subscriber and released with the last, as is
 * `watch`, a second source of invalidations (the storage's own change
 * events), whose events get the `sourceId` `"@storage"`. Without
 * BroadcastChannel (very old browsers) only this tab hears its writes, and
 * other tabs heal on focus and interval.
 *
 * @example
 * const off = channel('state-sync').subscribe('settings', (e) => console.log(e.revision))
 */
export function channel(name: string, watch?: (changed: (topic: string, revision: string) => void) => () => void): Channel {
  const id = 'state-sync:' + name
  const handlers = new Map<string, Set<(event: Invalidation) => void>>()
  const has = typeof BroadcastChannel === 'function'
  let bc: BroadcastChannel | undefined
  let unwatch: (() => void) | undefined
  const deliver = (event: Invalidation) => {
    const set = event && typeof event.topic === 'string' ? handlers.get(event.topic) : undefined
    set && [...set].forEach((h) => h(event))
  }
  const release = () => {
    bc?.close()
    unwatch?.()
    bc = unwatch = undefined
  }
  return {
    subscribe(topic, handler) {
      const set = handlers.get(topic) ?? new Set()
      handlers.set(topic, set.add(handler))
      if (has && !bc) (bc = new BroadcastChannel(id)).onmessage = (e: MessageEvent<Invalidation>) => deliver(e.data)
      unwatch ??= watch?.((topic, revision) => deliver({ topic, revision, sourceId: '@storage' }))
      return () => {
        if (set.delete(handler) && !set.size && handlers.delete(topic) && !handlers.size) release()
      }
    },
    has: (topic) => handlers.has(topic),
    announce(event) {
      if (has) {
        const out = bc ?? new BroadcastChannel(id)
        out.postMessage(event)
        if (out !== bc) out.close()
      }
      deliver(event)
    },
    close() {
      handlers.clear()
      release()
    },
  }
}
