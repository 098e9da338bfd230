/**
 * The localStorage storage of the browser backend, for small data: one key
 * per topic, `state-sync:<name>:topic:<topic>`, holding the record as JSON
 * text. localStorage has no transactions, and each tab reads it from its own
 * copy, which hears of other tabs' writes a moment later, so one tab writes
 * for all ({@link writer}): its copy is current, and every compare-and-set
 * runs there, in one task. The other tabs read their copy, or the newer
 * record the writer announced when their copy has not caught up yet.
 *
 * The `storage` event, which fires once a tab's copy has another tab's
 * write, and the records heard from the writer are also sources of
 * invalidations ({@link Store.watch}).
 *
 * @module
 */
import { parse } from './record'
import { stamp } from './schema'
import { failure, unavailable, type Store } from './store'
import { writer, type Answer, type Request } from './writer'

/**
 * The {@link Store} over `storage` (normally `window.localStorage`) under the
 * key prefix of `name`, written through the tab that `locks` elects.
 *
 * @example
 * const store = localStorageStore(() => localStorage, 'state-sync', navigator.locks)
 */
export function localStorageStore(storage: () => Storage | undefined, name: string, locks?: LockManager): Store {
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
  // Records heard from the writer that this tab's copy has not caught up with.
  const heard = new Map<string, string>()
  const watchers = new Set<(topic: string, revision: string) => void>()
  const order = (raw: string | undefined) => BigInt(parse(raw)?.revision ?? -1)
  // The newest value of `topic` this tab knows.
  const newest = (topic: string) => {
    const copy = get().getItem(key(topic)) ?? undefined
    const record = heard.get(topic)
    if (record === undefined || (copy !== undefined && order(copy) >= order(record))) return heard.delete(topic), copy
    return record
  }
  const prefix = key('')
  // Tells the watchers of the record stored under localStorage key `k`.
  const tell = (k: string | null, raw: string | null | undefined) => {
    const revision = k?.startsWith(prefix) && parse(raw ?? undefined)?.revision
    if (revision) watchers.forEach((changed) => changed(k!.slice(prefix.length), revision))
  }
  // What the writer does with a request, on its own copy.
  const serve = ({ request, topic, seen, next, aside }: Request): Answer => {
    try {
      let raw = newest(topic)
      let ok: boolean | undefined
      if (next !== undefined) {
        ok = stamp(raw) === seen
        if (ok) {
          if (aside && raw !== undefined) get().setItem(aside, raw)
          get().setItem(key(topic), (raw = next))
        }
        // Stored already: a request sent again after its writer closed.
        else ok = raw === next
      }
      return { answer: request, topic, raw: raw ?? null, ok }
    } catch (e) {
      const { name, message } = e as Error
      return { answer: request, topic, raw: null, error: { name, message } }
    }
  }
  // Every answer, from any tab: its record is told of when it is news to
  // this tab, or was just stored (the writer's own tab hears of what it
  // stored for another tab, even if that tab closes before announcing it).
  const learn = ({ topic, raw, ok }: Answer) => {
    try {
      if (raw === null) return
      if (order(raw) > order(newest(topic))) heard.set(topic, raw)
      else if (!ok) return
    } catch {
      return // storage unavailable: nothing to read it against
    }
    tell(key(topic), raw)
  }
  // A writer tab that closed may have stored a record and not announced it
  // (a closing tab's last messages can be dropped): after a hand-over, tell of
  // every record this tab's copy holds, so that a tab that missed one fetches it.
  const recheck = () => {
    const s = get()
    for (let i = 0; i < s.length; i++) tell(s.key(i), s.getItem(s.key(i)!))
  }
  const writes = writer(name, locks, serve, learn, () => {
    try {
      recheck()
    } catch {
      // storage unavailable: nothing to tell
    }
  })
  const ask = async (r: Omit<Request, 'request'>) => {
    get()
    const a = await writes.ask(r)
    if (a.error) throw failure('localstorage', r.topic, a.error)
    return a
  }

  const store: Store = {
    kind: 'localstorage',
    textual: true,
    read: async (topic, fresh) => (fresh ? ((await ask({ topic })).raw ?? undefined) : (writes.stand(), newest(topic))),
    commit: async (topic, seen, next, aside) => (await ask({ topic, seen, next: next as string, aside })).ok!,
    asideKey: (topic) => `state-sync:${name}:aside:${Date.now()}:${topic}`,
    watch(changed) {
      const storage = (e: StorageEvent) => tell(e.key, e.newValue)
      globalThis.addEventListener?.('storage', storage)
      watchers.add(changed)
      return () => {
        watchers.delete(changed)
        globalThis.removeEventListener?.('storage', storage)
      }
    },
    close() {
      writes.close()
      heard.clear()
    },
  }
  return store
}
