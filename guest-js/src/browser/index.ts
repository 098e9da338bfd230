/**
 * The browser backend: a {@link Transport} for `topic()` and the adapters
 * that needs no Tauri. Storage owns the topics: their `{ revision, data }`
 * lives in IndexedDB (default) or localStorage, every write is a
 * compare-and-set inside one storage transaction, and invalidations travel
 * between the tabs of the origin over a BroadcastChannel in the plugin's
 * event shape. The engine on top is the same as in Tauri windows.
 *
 * @example
 * import { topic } from 'tauri-plugin-state-sync-api'
 * import { browser } from 'tauri-plugin-state-sync-api/browser'
 *
 * const backend = browser({ topics: { settings: { initial: { theme: 'light' } } } })
 * const settings = topic<{ theme: string }>('settings', { transport: backend })
 * await settings.patch({ theme: 'dark' }) // every tab of the origin sees revision 1
 *
 * @module
 */
import { StateSyncError, isStateSyncError } from '../errors'
import { isRevision, mergePatch, noop, same } from '../protocol'
import type { PatchOutcome, Revision, Snapshot } from '../protocol'
import type { Transport } from '../tauri'
import { channel } from './channel'
import { indexedDbStore } from './indexeddb'
import { localStorageStore } from './localstorage'
import { pack } from './record'
import { declare, isTopicName, next, read, type Declared, type Reading, type TopicDeclaration } from './schema'
import { unavailable } from './store'

export { COMPRESS_MIN_BYTES } from './record'
export type { StoredRecord } from './record'
export type { TopicDeclaration } from './schema'

/**
 * A stored record the backend could not use as it was, reported to
 * `onProblem` and kept in {@link BrowserBackend.problems} (the counterpart of
 * the plugin's `PersistenceError`):
 * - `corrupt`: not a record, or its data cannot be decoded; it was moved to `movedTo`;
 * - `expired`: older than the topic's `ttlMs`; the topic restarted from `initial`;
 * - `migration`: a migration is missing or threw (`MIGRATION_FAILED`); the record is untouched;
 * - `newer-schema`: written by a newer schema version (`NEWER_SCHEMA`); the record is untouched.
 *
 * @example
 * const p: BrowserProblem = { topic: 'settings', kind: 'expired', message: 'not written for 60000 ms', movedTo: null }
 */
export interface BrowserProblem {
  topic: string
  kind: 'corrupt' | 'expired' | 'migration' | 'newer-schema'
  message: string
  movedTo: string | null
}

/**
 * Options of {@link browser}.
 *
 * @example
 * const options: BrowserOptions = { name: 'my-app', storage: 'localstorage', topics: { counter: { initial: 0 } } }
 */
export interface BrowserOptions {
  /** The topics, by name. */
  topics: Record<string, TopicDeclaration>
  /**
   * Tabs whose backends have the same name share topics: it names the
   * IndexedDB database, the localStorage key prefix, the BroadcastChannel and
   * the Web Locks (default `'state-sync'`).
   */
  name?: string
  /**
   * Where records live (default `'indexeddb'`). There is no automatic
   * fallback: two tabs on different storages would never see each other's
   * writes. localStorage needs the Web Locks API.
   */
  storage?: 'indexeddb' | 'localstorage'
  /** Called with every {@link BrowserProblem}; one that throws is ignored. */
  onProblem?: (problem: BrowserProblem) => void
  /** The IndexedDB factory (default `globalThis.indexedDB`). */
  indexedDB?: IDBFactory
  /** The localStorage (default `globalThis.localStorage`). */
  localStorage?: Storage
  /** The lock manager (default `navigator.locks`; `null`: none). */
  locks?: LockManager | null
}

/**
 * The browser backend: a {@link Transport}, plus its problems and `close()`.
 *
 * @example
 * const backend: BrowserBackend = browser({ topics: { counter: { initial: 0 } } })
 */
export interface BrowserBackend extends Transport {
  /** Reads the topic; the browser backend keeps no history, so it always answers the full snapshot, whatever `since`. */
  snapshot<T>(topic: string, since?: Revision): Promise<Snapshot<T>>
  /** The problems met so far in this tab. */
  problems(): BrowserProblem[]
  /** Closes the database and the channel; topics using the backend stop hearing other tabs. */
  close(): void
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Creates a browser backend over the declared `topics`. Pass it as the
 * `transport` of `topic()` or of an adapter's `bind*`.
 *
 * Throws `INVALID_TOPIC` or `INVALID_ARGUMENT` for a bad declaration.
 * Storage that cannot be used answers `STORAGE_UNAVAILABLE` on each call,
 * a full storage `QUOTA_EXCEEDED`; a write resolves only once committed.
 *
 * @example
 * const backend = browser({
 *   name: 'my-app',
 *   topics: {
 *     settings: { initial: { theme: 'light' }, version: 2, migrations: { 1: (v1) => ({ theme: v1.dark ? 'dark' : 'light' }) } },
 *     draft: { initial: { text: '' }, ttlMs: 24 * 3600_000, compress: true },
 *   },
 *   onProblem: (p) => console.warn(p.topic, p.kind, p.message),
 * })
 * const settings = topic<{ theme: string }>('settings', { transport: backend })
 */
export function browser(options: BrowserOptions): BrowserBackend {
  const { name = 'state-sync', storage = 'indexeddb', onProblem } = options
  if (storage !== 'indexeddb' && storage !== 'localstorage')
    throw new StateSyncError('INVALID_ARGUMENT', `storage must be 'indexeddb' or 'localstorage'`, { argument: 'storage' })
  const topics = new Map<string, Declared>()
  for (const [topic, declaration] of Object.entries(options.topics ?? {})) topics.set(topic, declare(topic, declaration))
  const locks = options.locks === undefined ? globalThis.navigator?.locks : (options.locks ?? undefined)
  const store =
    storage === 'indexeddb'
      ? indexedDbStore(options.indexedDB ?? globalThis.indexedDB, name)
      : localStorageStore(() => options.localStorage ?? globalThis.localStorage, name, locks)
  const events = channel(name, store.watch)
  const sourceId = 'tab-' + Math.random().toString(36).slice(2, 10)
  const problems: BrowserProblem[] = []
  const reported = new Set<string>()
  const timers = new Map<string, ReturnType<typeof setTimeout>>()

  const problem = (p: BrowserProblem, once?: string) => {
    if (once && reported.has(once)) return
    if (once) reported.add(once)
    problems.push(p)
    try {
      onProblem?.(p)
    } catch {
      // an onProblem that throws must not fail the read
    }
  }

  const declared = (topic: string) => {
    const d = topics.get(topic)
    if (d) return d
    throw isTopicName(topic)
      ? new StateSyncError('UNKNOWN_TOPIC', `unknown topic \`${topic}\``, { topic })
      : new StateSyncError('INVALID_TOPIC', `invalid topic name \`${topic}\``, { topic })
  }

  // Runs `task` holding the topic's Web Lock across tabs, so that writes and
  // migrations run one at a time; the compare-and-set in the storage
  // transaction is what keeps them correct without it (IndexedDB).
  const exclusive = <R>(topic: string, task: () => Promise<R>): Promise<R> => {
    if (locks) return locks.request(`state-sync:${name}:${topic}`, task) as Promise<R>
    if (store.kind === 'localstorage')
      return Promise.reject(unavailable('localstorage', 'writes need the Web Locks API (navigator.locks)'))
    return task()
  }

  const commit = async (topic: string, d: Declared, seen: string, revision: Revision, json: string, savedAt?: number, aside?: string) =>
    store.commit(topic, seen, await pack({ revision, version: d.version, savedAt }, json, d.minBytes, store.textual), aside)

  // A topic with a TTL expires while a tab shows it: read it again then, which rewrites and announces it.
  const arm = (topic: string, d: Declared, savedAt: number | undefined) => {
    clearTimeout(timers.get(topic))
    if (d.ttlMs === undefined || savedAt === undefined || !events.has(topic)) return
    timers.set(topic, setTimeout(() => void snapshot(topic).catch(noop), Math.max(0, savedAt + d.ttlMs - Date.now())))
  }

  // The topic's state; with `exclusive` (holding the lock), a record that
  // must change is rewritten first. Without it, `undefined` for such a record.
  const current = async (topic: string, d: Declared, exclusive: boolean): Promise<Reading | undefined> => {
    for (;;) {
      const raw = await store.read(topic, exclusive)
      let reading: Reading | undefined
      try {
        reading = await read(topic, d, raw, Date.now(), exclusive)
      } catch (e) {
        if (isStateSyncError(e, 'MIGRATION_FAILED') || isStateSyncError(e, 'NEWER_SCHEMA'))
          problem(
            { topic, kind: e.code === 'NEWER_SCHEMA' ? 'newer-schema' : 'migration', message: e.message, movedTo: null },
            topic + ':' + e.code + ':' + String((raw as { revision?: unknown })?.revision ?? raw),
          )
        throw e
      }
      if (!reading?.rewrite) return reading
      const aside = reading.aside ? store.asideKey(topic) : undefined
      // The initial value put back (expired, corrupt) never expires; a migrated record keeps its age.
      const savedAt = reading.problem ? undefined : reading.savedAt
      if (await commit(topic, d, reading.stamp, reading.revision, reading.json, savedAt, aside)) {
        if (reading.problem) problem({ topic, ...reading.problem, movedTo: aside ?? null })
        events.announce({ topic, revision: reading.revision, sourceId })
        return { ...reading, stamp: reading.revision, savedAt }
      }
      // Another writer got in between (no Web Locks): read again.
    }
  }

  const snapshot = async <T>(topic: string): Promise<Snapshot<T>> => {
    const d = declared(topic)
    const reading = (await current(topic, d, false)) ?? (await exclusive(topic, () => current(topic, d, true)))
    arm(topic, d, reading!.savedAt)
    return { revision: reading!.revision, data: reading!.data as T }
  }

  const write = async (topic: string, kind: 'set' | 'patch', value: unknown, expectedRevision?: Revision): Promise<PatchOutcome> => {
    const d = declared(topic)
    if (expectedRevision !== undefined && !isRevision(expectedRevision))
      throw new StateSyncError('INVALID_REVISION', 'expectedRevision is not a canonical revision', { value: String(expectedRevision) })
    if (kind === 'patch' && !isObject(value))
      throw new StateSyncError('INVALID_PATCH', 'a merge patch must be a JSON object', { topic })
    return exclusive(topic, async () => {
      for (;;) {
        const state = (await current(topic, d, true))!
        const previousRevision = state.revision
        if (expectedRevision !== undefined && expectedRevision !== previousRevision)
          throw new StateSyncError('REVISION_CONFLICT', `topic \`${topic}\` is at revision ${previousRevision}, not ${expectedRevision}`, {
            topic,
            expectedRevision,
            currentRevision: previousRevision,
            currentData: state.data,
          })
        const data = kind === 'set' ? value : mergePatch(state.data, value)
        let json: string | undefined
        try {
          json = JSON.stringify(data)
        } catch {
          // reported below
        }
        if (json === undefined) throw new StateSyncError('INVALID_ARGUMENT', 'the data is not a JSON value', { argument: 'data' })
        const stored = JSON.parse(json) as unknown
        // Exact unless JSON changed what was sent (an undefined key, a Date).
        const exact = same(stored, data)
        if (same(stored, state.data)) return { revision: previousRevision, previousRevision, exact }
        const revision = next(topic, previousRevision)
        const savedAt = Date.now()
        if (await commit(topic, d, state.stamp, revision, json, savedAt)) {
          events.announce({ topic, revision, sourceId })
          arm(topic, d, savedAt)
          // As the plugin answers a patch: the change, here the whole new value
          // (this backend keeps no history and computes no operations).
          return { revision, previousRevision, exact, ...(kind === 'patch' && { patch: [{ op: 'replace', path: '', value: stored }] }) }
        }
      }
    })
  }

  return {
    async subscribe(topic, handler) {
      declared(topic)
      return events.subscribe(topic, handler)
    },
    snapshot,
    write,
    // Actions are registered in Rust; a browser-only app has none.
    act: (topic, action) =>
      Promise.reject(new StateSyncError('UNKNOWN_ACTION', `the browser backend has no actions (\`${action}\` on \`${topic}\`)`, { topic, action })),
    problems: () => [...problems],
    close() {
      timers.forEach(clearTimeout)
      timers.clear()
      events.close()
      store.close()
    },
  }
}
