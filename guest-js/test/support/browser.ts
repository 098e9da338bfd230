// Stand-ins for what a browser gives the browser backend, for unit tests in
// Node: a Web Locks manager (exclusive, FIFO per name) and a localStorage with
// a quota. Tabs of one origin share one of each (and one fake-indexeddb
// factory); Node's own BroadcastChannel connects them.
import { IDBFactory } from 'fake-indexeddb'
import { browser, type BrowserOptions } from '../../src/browser/index'

export function lockManager(): LockManager {
  const tails = new Map<string, Promise<unknown>>()
  return {
    request(name: string, ...args: [() => Promise<unknown>] | [{ signal?: AbortSignal }, () => Promise<unknown>]) {
      const [options, task] = args.length === 1 ? [{}, args[0]] : args
      const { signal } = options
      const run = (tails.get(name) ?? Promise.resolve()).then(() => {
        // An aborted request that has not been granted is dropped, as the Web Locks API does.
        if (signal?.aborted) throw new DOMException('aborted', 'AbortError')
        return task()
      })
      tails.set(name, run.catch(() => {}))
      return run
    },
  } as unknown as LockManager
}

export class MemoryStorage implements Storage {
  readonly map = new Map<string, string>()
  constructor(public quota = Infinity) {}
  get length() {
    return this.map.size
  }
  key(i: number) {
    return [...this.map.keys()][i] ?? null
  }
  getItem(key: string) {
    return this.map.get(key) ?? null
  }
  setItem(key: string, value: string) {
    let used = key.length + value.length - (this.map.get(key)?.length ?? 0)
    for (const [k, v] of this.map) used += k.length + v.length
    if (used > this.quota) throw new DOMException('the quota has been exceeded', 'QuotaExceededError')
    this.map.set(key, String(value))
  }
  removeItem(key: string) {
    this.map.delete(key)
  }
  clear() {
    this.map.clear()
  }
}

/**
 * One tab's copy of a localStorage, as Chromium gives each tab: it reads its
 * own copy, loaded when the tab opened, which never hears of other tabs'
 * writes (the worst case of its lag); its own writes go to `truth` too.
 */
export class StaleCopy extends MemoryStorage {
  constructor(readonly truth: MemoryStorage) {
    super()
    truth.map.forEach((v, k) => this.map.set(k, v))
  }
  override setItem(key: string, value: string) {
    this.truth.setItem(key, value)
    super.setItem(key, value)
  }
  override removeItem(key: string) {
    this.truth.removeItem(key)
    super.removeItem(key)
  }
}

let origins = 0

/**
 * One origin: tabs opened with `tab()` share its storage, locks and channel.
 * With `stale`, each tab reads localStorage from its own {@link StaleCopy}.
 */
export function origin(base: Omit<BrowserOptions, 'name'>, { locks = true, stale = false } = {}) {
  const name = 'test-' + ++origins
  const shared = { indexedDB: new IDBFactory(), localStorage: new MemoryStorage(), locks: locks ? lockManager() : null }
  const opened: ReturnType<typeof browser>[] = []
  return {
    ...shared,
    name,
    tab(extra: Partial<BrowserOptions> = {}) {
      const copy = stale ? { localStorage: new StaleCopy(shared.localStorage) } : {}
      const backend = browser({ ...shared, ...copy, ...base, ...extra, name })
      opened.push(backend)
      return backend
    },
    close: () => opened.forEach((b) => b.close()),
  }
}

/** The record stored for `topic` in an origin's IndexedDB. */
export function idbRecord(factory: IDBFactory, name: string, topic: string, value?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const open = factory.open(name, 1)
    open.onupgradeneeded = () => {
      open.result.createObjectStore('topics')
      open.result.createObjectStore('aside')
    }
    open.onerror = () => reject(open.error)
    open.onsuccess = () => {
      const db = open.result
      const tx = db.transaction(['topics', 'aside'], value === undefined ? 'readonly' : 'readwrite')
      const store = tx.objectStore('topics')
      const req = value === undefined ? store.get(topic) : store.put(value, topic)
      let aside: unknown
      const all = tx.objectStore('aside').getAll()
      all.onsuccess = () => (aside = all.result)
      tx.oncomplete = () => {
        db.close()
        resolve(value === undefined ? { record: req.result, aside } : undefined)
      }
      tx.onerror = () => reject(tx.error)
    }
  })
}
