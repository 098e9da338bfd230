/**
 * The localStorage storage of the browser backend, for small data: one key
 * per topic, `state-sync:<name>:topic:<topic>`, holding the record as JSON
 * text. localStorage has no transactions, so the backend holds the topic's
 * Web Lock around every write; the check and the write then run in one task.
 *
 * In Chromium each tab reads localStorage from its own copy, which hears of
 * other tabs' writes a moment later, sometimes after their BroadcastChannel
 * message: so the `storage` event, which fires once the copy has the new
 * value, is also a source of invalidations ({@link Store.watch}).
 *
 * @module
 */
import { parse } from './record'
import { stamp } from './schema'
import { failure, unavailable, type Store } from './store'

/**
 * The {@link Store} over `storage` (normally `window.localStorage`) under the
 * key prefix of `name`.
 *
 * @example
 * const store = localStorageStore(localStorage, 'state-sync')
 */
export function localStorageStore(storage: () => Storage | undefined, name: string): Store {
  const key = (topic: string) => `state-sync:${name}:topic:${topic}`
  // Reading `window.localStorage` itself throws where storage is blocked.
  const get = () => {
    let s: Storage | undefined
    try {
      s = storage()
    } catch (e) {
      throw unavailable('localstorage', e)
    }
    if (!s) throw unavailable('localstorage', 'this browser has no localStorage')
    return s
  }
  const store: Store = {
    kind: 'localstorage',
    textual: true,
    read: async (topic) => get().getItem(key(topic)) ?? undefined,
    async commit(topic, seen, next, aside) {
      const s = get()
      const old = s.getItem(key(topic)) ?? undefined
      if (stamp(old) !== seen) return false
      try {
        if (aside && old !== undefined) s.setItem(aside, old)
        s.setItem(key(topic), next as string)
      } catch (e) {
        throw failure('localstorage', topic, e)
      }
      return true
    },
    asideKey: (topic) => `state-sync:${name}:aside:${Date.now()}:${topic}`,
    watch(changed) {
      const prefix = key('')
      const heard = (e: StorageEvent) => {
        const revision = e.key?.startsWith(prefix) && parse(e.newValue ?? undefined)?.revision
        if (revision) changed(e.key!.slice(prefix.length), revision)
      }
      globalThis.addEventListener?.('storage', heard)
      return () => globalThis.removeEventListener?.('storage', heard)
    },
    close() {},
  }
  return store
}
