// @vitest-environment node
// The browser backend (src/browser/) under fake-indexeddb, a memory
// localStorage, a fake Web Locks manager and Node's BroadcastChannel; "tabs"
// are backends of one origin. Real tabs in Chromium: browser/tabs.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { browser, COMPRESS_MIN_BYTES, type BrowserProblem } from '../src/browser/index'
import { isStateSyncError } from '../src/errors'
import { topic } from '../src/topic'
import { IDBObjectStore } from 'fake-indexeddb'
import { idbRecord, MemoryStorage, origin } from './support/browser'

const cleanup: (() => void)[] = []
afterEach(() => {
  cleanup.splice(0).forEach((f) => f())
  vi.useRealTimers()
})

// Fake timers for the engine and the clock; fake-indexeddb keeps its setImmediate.
const fakeTime = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })

const world = (topics: Parameters<typeof origin>[0]['topics'], storage: 'indexeddb' | 'localstorage' = 'indexeddb', o?: Parameters<typeof origin>[1]) => {
  const w = origin({ topics, storage }, o)
  cleanup.push(w.close)
  return w
}

const open = <T>(backend: ReturnType<typeof browser>, name: string, onError = vi.fn()) => {
  const handle = topic<T>(name, { transport: backend, resyncOnFocus: false, onError })
  cleanup.push(handle.stop)
  return handle
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5))
  expect(check()).toBe(true)
}

// A tab showing `draft` (TTL 1 s) that has just written it, on fake time.
const typedDraft = async (storage: 'indexeddb' | 'localstorage') => {
  fakeTime()
  const w = world({ draft: { initial: { text: '' }, ttlMs: 1_000 } }, storage)
  const draft = open<{ text: string }>(w.tab(), 'draft')
  await draft.ready
  await draft.set({ text: 'typed' })
  return { w, draft }
}

const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e)

describe.each(['indexeddb', 'localstorage'] as const)('browser backend on %s', (storage) => {
  it('a write in one tab reaches the other tabs at the same revision', async () => {
    const w = world({ settings: { initial: { theme: 'light' } } }, storage)
    const a = open<{ theme: string }>(w.tab(), 'settings')
    const b = open<{ theme: string }>(w.tab(), 'settings')
    await Promise.all([a.ready, b.ready])
    expect(b.get()).toEqual({ revision: '0', data: { theme: 'light' } })
    await a.patch({ theme: 'dark' })
    await until(() => b.get()?.revision === '1')
    expect(b.get()).toEqual({ revision: '1', data: { theme: 'dark' } })
  })

  it('a tab that missed the invalidation heals on its interval', async () => {
    fakeTime()
    const w = world({ counter: { initial: 0 } }, storage)
    const backend = w.tab()
    const counter = topic<number>('counter', { transport: backend, resyncOnFocus: false, resyncIntervalMs: 1_000 })
    cleanup.push(counter.stop)
    await counter.ready
    await backend.write('counter', 'set', 0) // changes nothing (on localStorage, this tab is the writer from here on)
    // A write that announced nothing (a message this tab missed).
    const record = { revision: '1', version: 1, savedAt: Date.now(), json: '5' }
    if (storage === 'indexeddb') await idbRecord(w.indexedDB, w.name, 'counter', record)
    else w.localStorage.setItem(`state-sync:${w.name}:topic:counter`, JSON.stringify(record))
    await vi.advanceTimersByTimeAsync(999)
    expect(counter.get()).toEqual({ revision: '0', data: 0 })
    await vi.advanceTimersByTimeAsync(1)
    await vi.waitFor(() => expect(counter.get()).toEqual({ revision: '1', data: 5 }))
  })

  it('concurrent update() from three tabs loses no increment', async () => {
    const w = world({ counter: { initial: 0 } }, storage)
    const tabs = [w.tab(), w.tab(), w.tab()].map((t) => open<number>(t, 'counter'))
    await Promise.all(tabs.map((t) => t.ready))
    await Promise.all(tabs.map(async (t) => {
      for (let i = 0; i < 20; i++) await t.update((n) => n + 1, { attempts: 100 })
    }))
    expect(await w.tab().snapshot('counter')).toEqual({ revision: '60', data: 60 })
  })

  it('a compare-and-set on a revision the topic has left is a REVISION_CONFLICT carrying the current data, and changes nothing', async () => {
    const w = world({ counter: { initial: 0 } }, storage)
    const backend = w.tab()
    await backend.write('counter', 'set', 1)
    const error = await rejection(backend.write('counter', 'set', 2, '0'))
    expect(isStateSyncError(error, 'REVISION_CONFLICT') && error.details).toEqual({ topic: 'counter', expectedRevision: '0', currentRevision: '1', currentData: 1 })
    expect(await backend.snapshot('counter')).toEqual({ revision: '1', data: 1 })
  })

  it('a write that leaves the data equal keeps the revision and announces nothing', async () => {
    const w = world({ settings: { initial: { a: 1, b: 2 } } }, storage)
    const backend = w.tab()
    const heard = vi.fn()
    cleanup.push(await w.tab().subscribe('settings', heard))
    expect(await backend.write('settings', 'set', { b: 2, a: 1 })).toEqual({ revision: '0', previousRevision: '0', exact: true })
    await new Promise((r) => setTimeout(r, 20))
    expect(heard).not.toHaveBeenCalled()
  })

  it('its own write is adopted without a fetch', async () => {
    const w = world({ settings: { initial: { theme: 'light' } } }, storage)
    const backend = w.tab()
    const snapshot = vi.spyOn(backend, 'snapshot')
    const settings = topic<{ theme: string }>('settings', { transport: backend, resyncOnFocus: false })
    cleanup.push(settings.stop)
    await settings.ready
    await settings.set({ theme: 'dark' })
    await new Promise((r) => setTimeout(r, 20))
    expect(settings.get()).toEqual({ revision: '1', data: { theme: 'dark' } })
    expect(snapshot).toHaveBeenCalledTimes(1)
  })

  it('migrations run once, in order, and the migrated record is written back at the next revision', async () => {
    const w = world({ s: { initial: null } }, storage)
    await w.tab({ topics: { s: { initial: { dark: false } } } }).write('s', 'set', { dark: true })
    const calls: string[] = []
    const v3 = {
      initial: { theme: 'light', size: 12 },
      version: 3,
      migrations: {
        1: (d: { dark: boolean }) => (calls.push('1'), { theme: d.dark ? 'dark' : 'light' }),
        2: (d: { theme: string }) => (calls.push('2'), { ...d, size: 12 }),
      },
    }
    const tabs = [w.tab({ topics: { s: v3 } }), w.tab({ topics: { s: v3 } }), w.tab({ topics: { s: v3 } })]
    const snapshots = await Promise.all(tabs.map((t) => t.snapshot('s')))
    expect(calls).toEqual(['1', '2'])
    for (const s of snapshots) expect(s).toEqual({ revision: '2', data: { theme: 'dark', size: 12 } })
  })

  it('a failing migration leaves the record untouched and answers MIGRATION_FAILED, reported once', async () => {
    const w = world({ s: { initial: 0 } }, storage)
    await w.tab().write('s', 'set', 5)
    const onProblem = vi.fn()
    const v2 = { initial: 0, version: 2, migrations: { 1: () => { throw new Error('bad data') } } }
    const backend = w.tab({ topics: { s: v2 }, onProblem })
    const error = await rejection(backend.snapshot('s'))
    expect(isStateSyncError(error, 'MIGRATION_FAILED') && error.details.version).toBe(1)
    expect(isStateSyncError(await rejection(backend.write('s', 'set', 6)), 'MIGRATION_FAILED')).toBe(true)
    expect(onProblem).toHaveBeenCalledTimes(1)
    expect(onProblem.mock.calls[0]![0]).toMatchObject({ topic: 's', kind: 'migration', movedTo: null })
    expect(await w.tab().snapshot('s')).toEqual({ revision: '1', data: 5 })
  })

  it('a record from a newer schema is not overwritten: NEWER_SCHEMA on read and write', async () => {
    const w = world({ s: { initial: 0, version: 3, migrations: { 1: (d) => d, 2: (d) => d } } }, storage)
    await w.tab().write('s', 'set', 9)
    const old = w.tab({ topics: { s: { initial: 0, version: 2, migrations: { 1: (d) => d } } } })
    const error = await rejection(old.snapshot('s'))
    expect(isStateSyncError(error, 'NEWER_SCHEMA') && error.details).toEqual({ topic: 's', version: 3, supported: 2 })
    expect(isStateSyncError(await rejection(old.write('s', 'set', 1)), 'NEWER_SCHEMA')).toBe(true)
    expect(old.problems()).toEqual([expect.objectContaining({ kind: 'newer-schema' })])
    expect(await w.tab().snapshot('s')).toEqual({ revision: '1', data: 9 })
  })

  it('an expired record reads as the initial value at the next revision and is reported', async () => {
    fakeTime()
    const w = world({ draft: { initial: { text: '' }, ttlMs: 60_000 } }, storage)
    await w.tab().write('draft', 'set', { text: 'hello' })
    vi.advanceTimersByTime(59_000)
    expect((await w.tab().snapshot('draft')).data).toEqual({ text: 'hello' })
    vi.advanceTimersByTime(1_000)
    const onProblem = vi.fn()
    expect(await w.tab({ onProblem }).snapshot('draft')).toEqual({ revision: '2', data: { text: '' } })
    expect(onProblem).toHaveBeenCalledWith(expect.objectContaining({ topic: 'draft', kind: 'expired', movedTo: null }))
  })

  it('the initial value put back after expiry does not expire again (it used to, bumping the revision every ttlMs)', async () => {
    const { w, draft } = await typedDraft(storage)
    await vi.advanceTimersByTimeAsync(1_000)
    await vi.waitFor(() => expect(draft.get()?.revision).toBe('2'))
    await vi.advanceTimersByTimeAsync(5_000)
    expect(await w.tab().snapshot('draft')).toEqual({ revision: '2', data: { text: '' } })
    expect(draft.get()).toEqual({ revision: '2', data: { text: '' } })
  })

  it('an open tab sees its topic expire when the TTL runs out', async () => {
    const { draft } = await typedDraft(storage)
    await vi.advanceTimersByTimeAsync(999)
    expect(draft.get()?.data).toEqual({ text: 'typed' })
    await vi.advanceTimersByTimeAsync(1)
    await vi.waitFor(() => expect(draft.get()).toEqual({ revision: '2', data: { text: '' } }))
  })

  it('data above the threshold is stored gzipped and read back; smaller data is stored as JSON', async () => {
    const w = world({ log: { initial: [], compress: true } }, storage)
    const backend = w.tab()
    const big = Array.from({ length: 200 }, (_, i) => ({ line: i, text: 'the same words again' }))
    await backend.write('log', 'set', ['short'])
    const small = storage === 'indexeddb' ? ((await idbRecord(w.indexedDB, w.name, 'log')) as { record: object }).record : JSON.parse(w.localStorage.getItem(`state-sync:${w.name}:topic:log`)!)
    expect(small).toMatchObject({ json: '["short"]' })
    await backend.write('log', 'set', big)
    const packed = storage === 'indexeddb' ? ((await idbRecord(w.indexedDB, w.name, 'log')) as { record: { gzip: unknown } }).record : JSON.parse(w.localStorage.getItem(`state-sync:${w.name}:topic:log`)!)
    expect(packed.json).toBeUndefined()
    expect(storage === 'indexeddb' ? packed.gzip instanceof Uint8Array : typeof packed.gzip === 'string').toBe(true)
    expect(JSON.stringify(big).length).toBeGreaterThan(COMPRESS_MIN_BYTES)
    expect(await w.tab().snapshot('log')).toEqual({ revision: '2', data: big })
  })
})

describe('browser backend: corrupt records', () => {
  it('an unparsable localStorage record is kept aside, reported, and the topic restarts from its initial value', async () => {
    const w = world({ s: { initial: { ok: true } } }, 'localstorage')
    w.localStorage.setItem(`state-sync:${w.name}:topic:s`, '{not json')
    const problems: BrowserProblem[] = []
    const backend = w.tab({ onProblem: (p) => void problems.push(p) })
    const { revision, data } = await backend.snapshot('s')
    expect(data).toEqual({ ok: true })
    expect(BigInt(revision)).toBeGreaterThan(0n)
    expect(problems).toEqual([expect.objectContaining({ topic: 's', kind: 'corrupt' })])
    expect(w.localStorage.getItem(problems[0]!.movedTo!)).toBe('{not json')
    expect((await backend.write('s', 'set', { ok: false })).previousRevision).toBe(revision)
  })

  it('an IndexedDB record of the wrong shape keeps its revision order and is kept aside', async () => {
    const w = world({ s: { initial: 0 } })
    await idbRecord(w.indexedDB, w.name, 's', { revision: '7', data: 'from another app' })
    const backend = w.tab()
    expect(await backend.snapshot('s')).toEqual({ revision: '8', data: 0 })
    expect(backend.problems()).toEqual([expect.objectContaining({ kind: 'corrupt', movedTo: expect.stringMatching(/^s@/) })])
    expect(((await idbRecord(w.indexedDB, w.name, 's')) as { aside: unknown[] }).aside).toEqual([{ revision: '7', data: 'from another app' }])
  })

  it('damaged compressed bytes are reported as corrupt, not replaced silently', async () => {
    const w = world({ s: { initial: 'x', compress: { minBytes: 0 } } })
    await idbRecord(w.indexedDB, w.name, 's', { revision: '3', version: 1, savedAt: Date.now(), gzip: new Uint8Array([1, 2, 3]) })
    const backend = w.tab()
    expect(await backend.snapshot('s')).toEqual({ revision: '4', data: 'x' })
    expect(backend.problems()[0]).toMatchObject({ kind: 'corrupt', message: 'the stored data cannot be decoded' })
  })
})

describe('browser backend: errors', () => {
  it('a full localStorage answers QUOTA_EXCEEDED, and the topic keeps its acknowledged state', async () => {
    const w = world({ s: { initial: '' } }, 'localstorage')
    const onError = vi.fn()
    const s = open<string>(w.tab({ localStorage: Object.assign(w.localStorage, { quota: 400 }) as MemoryStorage }), 's', onError)
    await s.ready
    await s.set('small')
    const error = await rejection(s.set('x'.repeat(1000)))
    expect(isStateSyncError(error, 'QUOTA_EXCEEDED') && error.details).toEqual({ topic: 's' })
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ phase: 'write' }))
    expect(s.get()).toEqual({ revision: '1', data: 'small' })
    expect(await w.tab().snapshot('s')).toEqual({ revision: '1', data: 'small' })
  })

  it('a full IndexedDB answers QUOTA_EXCEEDED', async () => {
    const w = world({ s: { initial: '' } })
    const backend = w.tab()
    await backend.snapshot('s')
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore) {
      this.transaction.abort()
      Object.defineProperty(this.transaction, 'error', { value: new DOMException('full', 'QuotaExceededError') })
      return {} as IDBRequest
    })
    const error = await rejection(backend.write('s', 'set', 'data'))
    put.mockRestore()
    expect(isStateSyncError(error, 'QUOTA_EXCEEDED')).toBe(true)
    expect(await backend.snapshot('s')).toEqual({ revision: '0', data: '' })
  })

  it('missing or blocked storage answers STORAGE_UNAVAILABLE, and topic().ready rejects with it', async () => {
    const noIdb = browser({ topics: { s: { initial: 0 } }, locks: null }) // Node has no indexedDB
    const onError = vi.fn()
    const blocked = browser({
      topics: { s: { initial: 0 } },
      storage: 'localstorage',
      locks: null,
      get localStorage(): Storage {
        throw new DOMException('denied', 'SecurityError')
      },
    })
    for (const b of [noIdb, blocked]) cleanup.push(b.close)
    const s = topic<number>('s', { transport: blocked, onError, resyncOnFocus: false })
    cleanup.push(s.stop)
    expect(isStateSyncError(await rejection(s.ready), 'STORAGE_UNAVAILABLE')).toBe(true)
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ phase: 'snapshot' }))
    const error = await rejection(noIdb.snapshot('s'))
    expect(isStateSyncError(error, 'STORAGE_UNAVAILABLE') && error.details.storage).toBe('indexeddb')
  })

  it('localStorage without Web Locks refuses writes with STORAGE_UNAVAILABLE rather than risk a lost update', async () => {
    const w = world({ s: { initial: 0 } }, 'localstorage', { locks: false })
    const error = await rejection(w.tab().write('s', 'set', 1))
    expect(isStateSyncError(error, 'STORAGE_UNAVAILABLE') && error.message).toMatch(/Web Locks/)
    expect(await w.tab().snapshot('s')).toEqual({ revision: '0', data: 0 })
  })

  it('without Web Locks, racing IndexedDB writes lose no update: the compare-and-set in the transaction retries', async () => {
    const w = world({ keys: { initial: {} } }, 'indexeddb', { locks: false })
    const tabs = [w.tab(), w.tab()]
    await Promise.all(Array.from({ length: 20 }, (_, i) => tabs[i % 2]!.write('keys', 'patch', { ['k' + i]: true })))
    const { revision, data } = await w.tab().snapshot<Record<string, boolean>>('keys')
    expect(revision).toBe('20')
    expect(Object.keys(data).sort()).toEqual(Array.from({ length: 20 }, (_, i) => 'k' + i).sort())
  })

  it('bad declarations and arguments are typed errors naming the problem', async () => {
    const declare = (topics: object) => rejection(Promise.resolve().then(() => browser({ topics } as never)))
    const details = async (topics: object) => ((await declare(topics)) as { code: string; details: unknown })
    expect(await details({ 'bad name!': { initial: 0 } })).toMatchObject({ code: 'INVALID_TOPIC' })
    expect(await details({ s: { initial: undefined } })).toMatchObject({ details: { argument: 'topics.s.initial' } })
    expect(await details({ s: { initial: 0, version: 0 } })).toMatchObject({ details: { argument: 'topics.s.version' } })
    expect(await details({ s: { initial: 0, version: 2, migrations: { 2: () => 0 } } })).toMatchObject({ details: { argument: 'topics.s.migrations' } })
    expect(await details({ s: { initial: 0, ttlMs: -1 } })).toMatchObject({ details: { argument: 'topics.s.ttlMs' } })
    expect(await details({ s: { initial: 0, compress: { minBytes: -1 } } })).toMatchObject({ details: { argument: 'topics.s.compress' } })
    const w = world({ s: { initial: { a: 1 } } })
    const backend = w.tab()
    expect(await rejection(backend.snapshot('nope'))).toMatchObject({ code: 'UNKNOWN_TOPIC', details: { topic: 'nope' } })
    expect(await rejection(backend.write('s', 'patch', [1]))).toMatchObject({ code: 'INVALID_PATCH' })
    expect(await rejection(backend.write('s', 'set', 1, '01'))).toMatchObject({ code: 'INVALID_REVISION' })
    expect(await rejection(backend.write('s', 'set', { n: 1n }))).toMatchObject({ code: 'INVALID_ARGUMENT', details: { argument: 'data' } })
    expect(await backend.snapshot('s')).toEqual({ revision: '0', data: { a: 1 } })
  })
})

// The one tab that writes localStorage for all (src/browser/writer.ts), and
// its protocol, spoken by hand where a test plays a tab.
describe('browser backend: the localStorage writer', () => {
  type Message = { request?: string; answer?: string; next?: string; ok?: boolean }
  const hand = (name: string) => {
    const bc = new BroadcastChannel(`state-sync:${name}:writer`)
    const heard: Message[] = []
    bc.onmessage = (e: MessageEvent<Message>) => void heard.push(e.data)
    cleanup.push(() => bc.close())
    return { post: (m: Message & { topic: string; seen?: string }) => bc.postMessage(m), answers: (id: string) => heard.filter((m) => m.answer === id) }
  }
  const record = (revision: string, json: string) => JSON.stringify({ revision, version: 1, savedAt: Date.now(), json })
  // Calls `hook` with every message a tab posts to the writer channel; `hook` returning true drops it.
  const intercept = (hook: (m: Message) => boolean | void) => {
    const post = BroadcastChannel.prototype.postMessage
    const spy = vi.spyOn(BroadcastChannel.prototype, 'postMessage').mockImplementation(function (this: BroadcastChannel, m: Message) {
      if (!hook(m)) post.call(this, m)
    })
    cleanup.push(() => spy.mockRestore())
  }

  it('tabs whose copies of localStorage never catch up lose no increment: every compare-and-set runs at the writer', async () => {
    const w = world({ counter: { initial: 0 } }, 'localstorage', { stale: true })
    const tabs = [w.tab(), w.tab(), w.tab()].map((t) => open<number>(t, 'counter'))
    await Promise.all(tabs.map((t) => t.ready))
    await Promise.all(tabs.map(async (t) => {
      for (let i = 0; i < 20; i++) await t.update((n) => n + 1, { attempts: 100 })
    }))
    expect(await w.tab().snapshot('counter')).toEqual({ revision: '60', data: 60 })
    // Each tab's own copy is still behind; it shows the record the writer announced.
    await until(() => tabs.every((t) => t.get()?.revision === '60'))
  })

  it('a request sent twice is applied once, and acknowledged each time', async () => {
    const w = world({ counter: { initial: 0 } }, 'localstorage')
    const writer = w.tab()
    await writer.write('counter', 'set', 1) // the first tab to write is the writer
    const tab = hand(w.name)
    const request = { request: 'hand:1', topic: 'counter', seen: '1', next: record('2', '2') }
    tab.post(request)
    tab.post(request)
    await until(() => tab.answers('hand:1').length === 2)
    expect(tab.answers('hand:1')).toEqual(Array(2).fill({ answer: 'hand:1', topic: 'counter', raw: request.next, ok: true }))
    await writer.write('counter', 'set', 3)
    tab.post(request) // once the topic moved on: acknowledged again, neither a failure nor a second write
    await until(() => tab.answers('hand:1').length === 3)
    expect(tab.answers('hand:1')[2]).toEqual({ answer: 'hand:1', topic: 'counter', raw: expect.stringContaining('"revision":"3"'), ok: true })
    expect(await w.tab().snapshot('counter')).toEqual({ revision: '3', data: 3 })
  })

  it('a request whose writer closed before it arrived is sent again to the next writer and applied once', async () => {
    const w = world({ counter: { initial: 0 } }, 'localstorage')
    const [a, b, c] = [w.tab(), w.tab(), w.tab()]
    await a.write('counter', 'set', 1) // a is the writer
    await b.write('counter', 'set', 1) // b waits for the writer lock next
    let closed = false
    intercept((m) => {
      if (m.request && m.next && !closed) (closed = true), a.close() // c's compare-and-set is on its way
    })
    expect(await c.write('counter', 'set', 2, '1')).toEqual({ revision: '2', previousRevision: '1', exact: true })
    expect(closed).toBe(true)
    expect(await w.tab().snapshot('counter')).toEqual({ revision: '2', data: 2 })
  })

  it('a request the closing writer stored but never answered is acknowledged by the next writer, not applied twice', async () => {
    const w = world({ counter: { initial: 0 } }, 'localstorage')
    const [a, b, c] = [w.tab(), w.tab(), w.tab()]
    await a.write('counter', 'set', 1)
    await b.write('counter', 'set', 1)
    let dropped = false
    // a stores c's write, then its answer is lost (as when a tab crashes between the two).
    intercept((m) => {
      if (m.answer && m.ok && !dropped) return (dropped = true), a.close(), true
    })
    expect(await c.write('counter', 'set', 2, '1')).toEqual({ revision: '2', previousRevision: '1', exact: true })
    expect(dropped).toBe(true)
    expect(await w.tab().snapshot('counter')).toEqual({ revision: '2', data: 2 })
  })

  it('the next writer starts from the records the old one announced, not from its stale copy', async () => {
    const w = world({ keys: { initial: {} } }, 'localstorage', { stale: true })
    const [a, b] = [w.tab(), w.tab()]
    await b.snapshot('keys') // b hears the writer from here on
    for (const k of ['x', 'y', 'z']) await a.write('keys', 'patch', { [k]: true }) // a is the writer
    a.close()
    expect(await b.write('keys', 'patch', { w: true })).toMatchObject({ revision: '4', previousRevision: '3' })
    expect(await w.tab().snapshot('keys')).toEqual({ revision: '4', data: { x: true, y: true, z: true, w: true } })
  })

  it('the writer tab hears of a record it stored for a tab that closed before announcing it', async () => {
    const w = world({ counter: { initial: 0 } }, 'localstorage')
    const a = w.tab()
    const shown = open<number>(a, 'counter')
    await shown.ready
    await a.write('counter', 'set', 0) // a is the writer
    const b = w.tab()
    intercept((m) => 'sourceId' in m) // b's invalidation never leaves (b's tab closed first)
    await b.write('counter', 'set', 1)
    await until(() => shown.get()?.revision === '1')
    expect(shown.get()).toEqual({ revision: '1', data: 1 })
  })

  it('after a hand-over, every tab fetches a record the closed writer stored but never announced', async () => {
    const w = world({ counter: { initial: 0 } }, 'localstorage')
    const a = w.tab()
    await a.write('counter', 'set', 0) // a is the writer
    const b = w.tab()
    const shown = open<number>(b, 'counter')
    await shown.ready
    await b.write('counter', 'set', 0) // b waits for the writer lock next
    let closing = false
    intercept((m) => closing && ('sourceId' in m || 'ok' in m)) // a's answer and invalidation are lost with its tab
    closing = true
    await a.write('counter', 'set', 1)
    a.close()
    closing = false
    await until(() => shown.get()?.revision === '1')
    expect(shown.get()).toEqual({ revision: '1', data: 1 })
  })

  // The race of the hand-over: writer `a` stores a record and its tab dies before
  // the answer leaves (nothing `a` posts from then on arrives), while every
  // tab's copy of localStorage is stale (never hears another tab's write).
  // `store` makes the write that `a` stores. Every content stored and every
  // state a tab showed is kept, by revision, in `seen`.
  // With `requesterCloses`, tab `c` closes with `a` (it never sends its request again).
  const writerDiesAfterStoring = async (store: (tabs: { a: ReturnType<typeof browser>; c: ReturnType<typeof browser> }) => Promise<unknown>, requesterCloses = false) => {
    const w = world({ keys: { initial: {} } }, 'localstorage', { stale: true })
    const seen = new Map<string, Set<string>>()
    const saw = (revision: string, data: unknown) => seen.set(revision, (seen.get(revision) ?? new Set()).add(JSON.stringify(data)))
    const setItem = w.localStorage.setItem.bind(w.localStorage)
    vi.spyOn(w.localStorage, 'setItem').mockImplementation((k, v) => {
      setItem(k, v)
      const r = JSON.parse(v) as { revision?: string; json?: string }
      if (k.endsWith(':topic:keys') && r.json) saw(r.revision!, JSON.parse(r.json))
    })
    const view = (backend: ReturnType<typeof browser>) => {
      const v = open<Record<string, true>>(backend, 'keys')
      v.subscribe((s) => saw(s.revision, s.data))
      return v
    }
    const [a, b, c] = [w.tab(), w.tab(), w.tab()]
    const views = [view(a), view(b), view(c)]
    await Promise.all(views.map((v) => v.ready)) // a is the writer; b waits for the writer lock first
    await views[0]!.patch({ a1: true })
    await until(() => views.every((v) => v.get()?.revision === '1'))
    let [dying, dead] = [true, false]
    intercept((m) => dead || (dead = dying && m.answer !== undefined && m.ok === true))
    const stored = store({ a, c })
    await until(() => dead)
    a.close()
    if (requesterCloses) c.close()
    dying = dead = false
    // A tab opened now loads its copy with the record a stored.
    const late = view(w.tab())
    await late.ready
    return { w, a, b, c, stored, late, seen, views }
  }
  // The outcome of a patch that changed the data: it carries the whole new value.
  const patched = (revision: string, previousRevision: string, value: unknown) => ({
    revision,
    previousRevision,
    exact: true,
    patch: [{ op: 'replace', path: '', value }],
  })
  // No revision names two contents, in storage or in any tab.
  const oneContentPerRevision = (seen: Map<string, Set<string>>) =>
    expect([...seen].filter(([, contents]) => contents.size > 1)).toEqual([])

  it('race: the writer dies after storing its own write, before its answer leaves, and the next writer\'s copy never has it: the next writer does not reuse the revision, nothing acknowledged is lost', async () => {
    const { w, b, late, seen, views, stored } = await writerDiesAfterStoring(({ a }) => a.write('keys', 'patch', { a2: true }))
    expect(await stored).toEqual(patched('2', '1', { a1: true, a2: true })) // acknowledged in a's tab
    expect(late.get()).toEqual({ revision: '2', data: { a1: true, a2: true } })
    expect(await b.write('keys', 'patch', { b: true })).toEqual(patched('3', '2', { a1: true, a2: true, b: true }))
    const final = { revision: '3', data: { a1: true, a2: true, b: true } }
    await until(() => [late, views[1]!, views[2]!].every((v) => JSON.stringify(v.get()) === JSON.stringify(final)))
    expect(await w.tab().snapshot('keys')).toEqual(final)
    oneContentPerRevision(seen)
  })

  it('race: the writer dies after storing another tab\'s write, before its answer leaves, and that tab closes too: the next writer does not reuse the revision', async () => {
    const { w, b, late, seen, stored } = await writerDiesAfterStoring(({ c }) => rejection(c.write('keys', 'patch', { c: true })), true)
    expect(isStateSyncError(await stored, 'STORAGE_UNAVAILABLE')).toBe(true) // c closed before it heard the outcome
    expect(late.get()).toEqual({ revision: '2', data: { a1: true, c: true } })
    expect(await b.write('keys', 'patch', { b: true })).toEqual(patched('3', '2', { a1: true, c: true, b: true }))
    const final = { revision: '3', data: { a1: true, c: true, b: true } }
    await until(() => JSON.stringify(late.get()) === JSON.stringify(final))
    expect(await w.tab().snapshot('keys')).toEqual(final)
    oneContentPerRevision(seen)
  })

  it('after that race, a compare-and-set expecting the revision before the lost answer is a REVISION_CONFLICT carrying the stored record; one expecting the stored record applies', async () => {
    const { c, seen } = await writerDiesAfterStoring(({ a }) => a.write('keys', 'patch', { a2: true }))
    const error = await rejection(c.write('keys', 'patch', { c: true }, '1'))
    expect(isStateSyncError(error, 'REVISION_CONFLICT') && error.details).toEqual({
      topic: 'keys',
      expectedRevision: '1',
      currentRevision: '2',
      currentData: { a1: true, a2: true },
    })
    expect(await c.write('keys', 'patch', { c: true }, '2')).toEqual(patched('3', '2', { a1: true, a2: true, c: true }))
    expect(await c.snapshot('keys')).toEqual({ revision: '3', data: { a1: true, a2: true, c: true } })
    oneContentPerRevision(seen)
  })

  it('a compare-and-set the dying writer refused, its answer lost, is refused again by the next writer, not applied', async () => {
    const w = world({ counter: { initial: 0 } }, 'localstorage', { stale: true })
    const [a, b] = [w.tab(), w.tab()]
    await a.snapshot('counter') // a is the writer
    await b.snapshot('counter') // b hears it, and waits for the writer lock
    await a.write('counter', 'set', 1)
    const tab = hand(w.name)
    let [dying, dead] = [true, false]
    intercept((m) => dead || (dead = dying && m.answer === 'hand:1'))
    tab.post({ request: 'hand:1', topic: 'counter', seen: '0', next: record('1', '9') }) // the topic has left revision 0
    await until(() => dead)
    a.close()
    dying = dead = false
    await until(() => tab.answers('hand:1').length === 1)
    expect(tab.answers('hand:1')[0]).toEqual({ answer: 'hand:1', topic: 'counter', raw: expect.stringContaining('"revision":"1"'), ok: false })
    expect(await w.tab().snapshot('counter')).toEqual({ revision: '1', data: 1 })
  })

  it('a request pending when its backend closes fails with STORAGE_UNAVAILABLE', async () => {
    const w = world({ counter: { initial: 0 } }, 'localstorage')
    const [a, b] = [w.tab(), w.tab()]
    await a.write('counter', 'set', 1)
    intercept((m) => {
      if (m.request && m.next) b.close()
    })
    const error = await rejection(b.write('counter', 'set', 2))
    expect(isStateSyncError(error, 'STORAGE_UNAVAILABLE') && error.message).toMatch(/closed/)
    expect(await w.tab().snapshot('counter')).toEqual({ revision: '1', data: 1 })
  })
})
