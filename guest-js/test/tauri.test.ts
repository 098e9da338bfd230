// The Tauri transport against @tauri-apps/api's mockIPC with events mocked:
// the real command names (`plugin:state-sync|*`), answered by an in-memory
// model of the plugin that delivers changes on the subscription channels the
// way the plugin's Rust channels do.
import { clearMocks, mockIPC, mockWindows } from '@tauri-apps/api/mocks'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type * as Api from '../src/index'
import type { PushedInvalidation } from '../src/protocol'
import type { Transport } from '../src/tauri'
import { Backend } from './support/backend'
import { denied, notGranted, unregistered } from './support/tauri-refusals'

let api: typeof Api
let backend: Backend
let commands: { cmd: string; args: Record<string, unknown> }[]
/** The `subscribe` and `unsubscribe` calls, kept apart from `commands`. */
let subscriptionCalls: { cmd: string; args: Record<string, unknown> }[]
let eventCalls: string[]
/** When the plugin's event reaches the window relative to the write's answer. */
let echo: 'before-outcome' | 'after-outcome'
/** Tauri's answer to a command it refuses before the plugin sees it (see support/tauri-refusals). */
let refuse: ((command: string) => string | undefined) | undefined
/** A topic the window's read scope does not permit. */
let forbidden: string | undefined

beforeEach(async () => {
  vi.resetModules() // a fresh shared listener per test
  api = await import('../src/index')
  backend = new Backend({ settings: { theme: 'light', lang: 'en' }, counter: 0 })
  backend.typed('prefs', { volume: 5, muted: false }, (d) => ({ muted: false, ...(d as object) }))
  commands = []
  subscriptionCalls = []
  eventCalls = []
  echo = 'before-outcome'
  refuse = undefined
  forbidden = undefined
  mockWindows('main')
  const pending: Promise<unknown>[] = []
  backend.emit = (event) => {
    if (echo === 'after-outcome') setTimeout(() => backend.deliver(event), 1)
    else pending.push(Promise.resolve().then(() => backend.deliver(event)))
  }
  mockIPC(
    async (cmd, args) => {
      const call = { cmd, args: args as Record<string, unknown> }
      ;(/subscribe$/.test(cmd) ? subscriptionCalls : commands).push(call)
      if (cmd.endsWith('|subscribe') && call.args.topic === forbidden)
        throw { code: 'TOPIC_FORBIDDEN', message: 'reading of topic is not allowed for this window', topic: forbidden, access: 'read' }
      const refusal = refuse?.(cmd.slice(cmd.indexOf('|') + 1))
      if (refusal) throw refusal
      const answer = backend.handle('main', cmd, args as Record<string, unknown>)
      await Promise.all(pending.splice(0))
      return answer
    },
    { shouldMockEvents: true },
  )
  const internals = (window as unknown as { __TAURI_INTERNALS__: { invoke: (cmd: string, ...rest: unknown[]) => unknown } }).__TAURI_INTERNALS__
  const invoke = internals.invoke
  internals.invoke = (cmd, ...rest) => {
    if (cmd.startsWith('plugin:event|')) eventCalls.push(cmd)
    return invoke(cmd, ...rest)
  }
})

afterEach(() => {
  clearMocks()
})

const settle = () => new Promise((r) => setTimeout(r, 5))
// Another window writes settings, and this window misses its event.
const missOthersWrite = () => {
  const deliver = backend.emit
  backend.emit = () => {}
  backend.write('other', 'settings', 'set', { theme: 'blue', lang: 'de' })
  backend.emit = deliver
}
const snapshotsFetched = () => commands.filter((c) => c.cmd === 'plugin:state-sync|snapshot').length
const quiet = { onError: () => {}, resyncOnFocus: false }

/** Makes another writer set the counter to 10 just before the first `set` reaches the plugin. */
function raceFirstSet() {
  let raced = false
  const handle = backend.handle.bind(backend)
  backend.handle = (source, cmd, args) => {
    if (cmd.endsWith('|set') && !raced) {
      raced = true
      backend.rust('counter', 10)
    }
    return handle(source, cmd, args)
  }
}

describe('Tauri transport', () => {
  it('subscribes through a channel, hydrates with plugin:state-sync|snapshot and follows what the channel delivers', async () => {
    const settings = api.topic<{ theme: string; lang: string }>('settings', quiet)
    await settings.ready
    expect(settings.get()).toEqual({ revision: '0', data: { theme: 'light', lang: 'en' } })
    expect(commands[0]).toEqual({ cmd: 'plugin:state-sync|snapshot', args: { topic: 'settings' } })
    expect(subscriptionCalls).toEqual([
      { cmd: 'plugin:state-sync|subscribe', args: { topic: 'settings', channel: expect.objectContaining({ id: expect.any(Number) }) } },
    ])
    const seen: string[] = []
    settings.subscribe(({ revision }) => seen.push(revision))
    backend.rust('settings', { theme: 'dark', lang: 'en' })
    await settle()
    expect(settings.get()).toEqual({ revision: '1', data: { theme: 'dark', lang: 'en' } })
    expect(seen).toEqual(['1'])
    settings.stop()
  })

  it('each topic has one subscription, made with its first handler and released with its last', async () => {
    const a = api.topic('settings', quiet)
    const b = api.topic('counter', quiet)
    const b2 = api.topic('counter', quiet)
    await Promise.all([a.ready, b.ready, b2.ready])
    const made = () => subscriptionCalls.filter((c) => c.cmd.endsWith('|subscribe')).map((c) => c.args.topic)
    const released = () => subscriptionCalls.filter((c) => c.cmd.endsWith('|unsubscribe')).length
    expect(made()).toEqual(['settings', 'counter'])
    a.stop()
    await settle()
    expect(released()).toBe(1)
    b.stop()
    backend.rust('counter', 5)
    await settle()
    expect(b2.get()?.data).toBe(5)
    expect(released()).toBe(1)
    b2.stop()
    await settle()
    expect(released()).toBe(2)
    expect(backend.subscriptions.size).toBe(0)
    const c = api.topic('counter', quiet)
    await c.ready
    expect(made()).toEqual(['settings', 'counter', 'counter'])
    expect(eventCalls).toEqual([]) // no Tauri event listener at all
    c.stop()
  })

  it('calling an unsubscribe twice does not release the subscription another handler still needs', async () => {
    const seen: string[] = []
    const offA = await api.onInvalidate('counter', () => seen.push('a'))
    const offB = await api.onInvalidate('counter', (e) => seen.push('b' + e.revision))
    offA()
    offA()
    backend.rust('counter', 1)
    await settle()
    expect(seen).toEqual(['b1'])
    expect(subscriptionCalls.filter((c) => c.cmd.endsWith('|unsubscribe'))).toHaveLength(0)
    offB()
    await settle()
    expect(subscriptionCalls.filter((c) => c.cmd.endsWith('|unsubscribe'))).toEqual([
      { cmd: 'plugin:state-sync|unsubscribe', args: { id: 1 } },
    ])
  })

  it('a topic the window may not read rejects ready with TOPIC_FORBIDDEN, reported in the subscribe phase, and fetches nothing', async () => {
    forbidden = 'counter'
    const onError = vi.fn()
    const counter = api.topic<number>('counter', { onError, resyncOnFocus: false })
    await expect(counter.ready).rejects.toMatchObject({ code: 'TOPIC_FORBIDDEN', details: { topic: 'counter', access: 'read' } })
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ phase: 'subscribe', topic: 'counter' }))
    expect(snapshotsFetched()).toBe(0)
    // The failed subscription leaves nothing behind: another topic still works.
    const settings = api.topic('settings', quiet)
    await settings.ready
    counter.stop()
    settings.stop()
  })

  it('an event for one topic does not fetch the others', async () => {
    const a = api.topic('settings', quiet)
    const b = api.topic('counter', quiet)
    await Promise.all([a.ready, b.ready])
    backend.rust('counter', 1)
    await settle()
    expect(commands.filter((c) => c.cmd.endsWith('snapshot')).map((c) => c.args.topic)).toEqual(['settings', 'counter', 'counter'])
    a.stop()
    b.stop()
  })

  it('getSnapshots and listTopics use the snapshots and topics commands', async () => {
    backend.rust('counter', 3)
    expect(await api.getSnapshots(['counter', 'settings'])).toEqual([
      { topic: 'counter', revision: '1', data: 3 },
      { topic: 'settings', revision: '0', data: { theme: 'light', lang: 'en' } },
    ])
    expect(await api.listTopics()).toEqual([
      { topic: 'counter', revision: '1' },
      { topic: 'prefs', revision: '0' },
      { topic: 'settings', revision: '0' },
    ])
    expect(commands.map((c) => c.cmd)).toEqual(['plugin:state-sync|snapshots', 'plugin:state-sync|topics'])
  })

  it('getSnapshot and getSnapshots send since, and leave it out without one', async () => {
    await api.getSnapshot('settings', '3').catch(() => {})
    await api.getSnapshot('settings')
    await api.getSnapshots(['settings', 'counter'], { settings: '3' }).catch(() => {})
    expect(commands.map((c) => [c.cmd, c.args])).toEqual([
      ['plugin:state-sync|snapshot', { topic: 'settings', since: '3' }],
      ['plugin:state-sync|snapshot', { topic: 'settings' }],
      ['plugin:state-sync|snapshots', { topics: ['settings', 'counter'], since: { settings: '3' } }],
    ])
  })

  it('an invalidate on the channel that carries from and patch is applied without a snapshot command', async () => {
    const settings = api.topic<{ theme: string; lang: string }>('settings', quiet)
    await settings.ready
    const before = snapshotsFetched()
    backend.send({ type: 'invalidate', topic: 'settings', revision: '1', sourceId: '@rust', from: '0', patch: [{ op: 'replace', path: '/theme', value: 'dark' }] }, 'settings')
    await settle()
    expect(settings.get()).toEqual({ revision: '1', data: { theme: 'dark', lang: 'en' } })
    expect(snapshotsFetched()).toBe(before)
    // One that does not fit the local revision is pulled since it.
    backend.send({ type: 'invalidate', topic: 'settings', revision: '3', sourceId: '@rust', from: '2', patch: [{ op: 'replace', path: '/lang', value: 'de' }] }, 'settings')
    await settle()
    expect(commands.filter((c) => c.cmd === 'plugin:state-sync|snapshot').at(-1)!.args).toEqual({ topic: 'settings', since: '1' })
    settings.stop()
  })

  it('ready rejects with UNKNOWN_TOPIC for a topic the plugin does not have, reported in the snapshot phase', async () => {
    const onError = vi.fn()
    const nope = api.topic('nope', { onError })
    await expect(nope.ready).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC', details: { topic: 'nope' } })
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ phase: 'snapshot', topic: 'nope' }))
    nope.stop()
  })

  it('a missing plugin rejects with PLUGIN_MISSING, naming .plugin(...) in the builder', async () => {
    refuse = () => unregistered('state-sync')
    const settings = api.topic('settings', { ...quiet, retry: api.backoff({ attempts: 3 }) })
    await expect(settings.ready).rejects.toMatchObject({
      code: 'PLUGIN_MISSING',
      message: 'add .plugin(tauri_plugin_state_sync::init()) to tauri::Builder',
    })
    // The subscription is refused first, once, and nothing is fetched after it.
    expect(subscriptionCalls).toHaveLength(1)
    expect(snapshotsFetched()).toBe(0)
    settings.stop()
  })

  it('regression: channel messages without a canonical revision are reported by their topic in the protocol phase', async () => {
    const reported: { topic: string; phase: string; code: string }[] = []
    const onError = ({ topic, phase, error }: { topic: string; phase: string; error: { code: string } }) =>
      void reported.push({ topic, phase, code: error.code })
    const a = api.topic('settings', { onError, resyncOnFocus: false })
    const b = api.topic('counter', { onError, resyncOnFocus: false })
    await Promise.all([a.ready, b.ready])
    for (const payload of [{ topic: 7, revision: 5 }, { topic: 'settings' }, null, 'x']) backend.send(payload)
    await settle()
    expect(reported).toHaveLength(8) // four messages on each topic's channel, each reported by its topic
    expect(new Set(reported.map((r) => [r.topic, r.phase, r.code].join(' ')))).toEqual(
      new Set(['settings protocol PROTOCOL', 'counter protocol PROTOCOL']),
    )
    expect(snapshotsFetched()).toBe(2) // nothing was fetched for them
    a.stop()
    b.stop()
  })

  it('ready rejects with STOPPED when the handle is stopped before it is hydrated', async () => {
    const settings = api.topic('settings', quiet)
    settings.stop()
    await expect(settings.ready).rejects.toMatchObject({ code: 'STOPPED' })
  })
})

describe('writes', () => {
  it("own write's echo causes no refetch: set adopts the data sent", async () => {
    echo = 'after-outcome'
    const settings = api.topic<{ theme: string; lang: string }>('settings', quiet)
    await settings.ready
    const outcome = await settings.set({ theme: 'dark', lang: 'en' })
    expect(outcome).toEqual({ revision: '1', previousRevision: '0', exact: true })
    expect(settings.get()).toEqual({ revision: '1', data: { theme: 'dark', lang: 'en' } })
    await settle() // the echo arrives now, and the gate drops it
    expect(snapshotsFetched()).toBe(1)
    expect(commands[1]).toEqual({ cmd: 'plugin:state-sync|set', args: { topic: 'settings', data: { theme: 'dark', lang: 'en' } } })
    // What reaches the plugin: no `expectedRevision` key at all (it refuses unknown or null-typed misuse).
    expect(JSON.stringify(commands[1]!.args)).toBe('{"topic":"settings","data":{"theme":"dark","lang":"en"}}')
    settings.stop()
  })

  it("echo arriving before the write's outcome causes no refetch", async () => {
    echo = 'before-outcome'
    const settings = api.topic<{ theme: string; lang: string }>('settings', quiet)
    await settings.ready
    await settings.set({ theme: 'dark', lang: 'fr' })
    await settle()
    expect(snapshotsFetched()).toBe(1)
    expect(settings.get()).toEqual({ revision: '1', data: { theme: 'dark', lang: 'fr' } })
    settings.stop()
  })

  it('patch adopts the change its outcome carries onto the local data without a fetch', async () => {
    backend.pushLimit = 10_000 // the plugin pushes the change, and answers the patch with it
    const settings = api.topic<{ theme: string; lang?: string; font?: { size: number } }>('settings', quiet)
    await settings.ready
    const outcome = await settings.patch({ lang: null, font: { size: 12 } })
    // The data is smaller than its operations: the change is one replace of the whole value.
    expect(outcome).toEqual({
      revision: '1',
      previousRevision: '0',
      exact: true,
      patch: [{ op: 'replace', path: '', value: { theme: 'light', font: { size: 12 } } }],
    })
    expect(outcome.patch).toEqual((backend.changes.at(-1) as PushedInvalidation).patch) // exactly what its message carries
    await settle()
    expect(snapshotsFetched()).toBe(1)
    expect(settings.get()).toEqual({ revision: '1', data: { theme: 'light', font: { size: 12 } } })
    expect(commands[1]).toEqual({ cmd: 'plugin:state-sync|patch', args: { topic: 'settings', patch: { lang: null, font: { size: 12 } } } })
    settings.stop()
  })

  it('regression: a "__proto__" key in an adopted patch is data, so the window holds what the backend holds', async () => {
    backend.pushLimit = 10_000
    const settings = api.topic<Record<string, unknown>>('settings', quiet)
    await settings.ready
    await settings.patch(JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>)
    await settle()
    expect(snapshotsFetched()).toBe(1) // adopted as its own echo
    const expected = '{"theme":"light","lang":"en","__proto__":{"polluted":true}}'
    expect(JSON.stringify(settings.get()?.data)).toBe(expected)
    expect(JSON.stringify(backend.snapshot('settings').data)).toBe(expected)
    expect(settings.get()?.data.polluted).toBeUndefined()
    settings.stop()
  })

  it('a patch whose change is smaller than the data is adopted as its operations: what they do not touch keeps its object', async () => {
    backend.pushLimit = 10_000
    type Settings = { theme: string; lang: string; font: { family: string; size: number } }
    const initial: Settings = { theme: 'light', lang: 'en', font: { family: 'Helvetica Neue', size: 12 } }
    const deliver = backend.emit
    backend.emit = () => {} // before any window opens
    backend.rust('settings', initial)
    backend.emit = deliver
    const settings = api.topic<Settings>('settings', quiet)
    await settings.ready
    const font = settings.get()!.data.font
    const outcome = await settings.patch({ theme: 'dark' })
    expect(outcome).toEqual({ revision: '2', previousRevision: '1', exact: true, patch: [{ op: 'replace', path: '/theme', value: 'dark' }] })
    expect(outcome.patch).toEqual((backend.changes.at(-1) as PushedInvalidation).patch)
    await settle()
    expect(snapshotsFetched()).toBe(1)
    expect(settings.get()).toEqual({ revision: '2', data: { ...initial, theme: 'dark' } })
    expect(settings.get()!.data.font).toBe(font)
    settings.stop()
  })

  it("a patch carrying its change, applied on top of another window's write this window missed, is fetched since its revision", async () => {
    backend.pushLimit = 10_000
    const settings = api.topic<{ theme: string; lang: string }>('settings', quiet)
    await settings.ready
    missOthersWrite()
    const outcome = await settings.patch({ theme: 'dark' })
    expect(outcome).toMatchObject({ revision: '2', previousRevision: '1', exact: true, patch: expect.any(Array) })
    await settle()
    expect(snapshotsFetched()).toBe(2) // the change applies at revision 1, which this window never held
    expect(commands.at(-1)).toEqual({ cmd: 'plugin:state-sync|snapshot', args: { topic: 'settings', since: '0' } })
    expect(settings.get()).toEqual({ revision: '2', data: { theme: 'dark', lang: 'de' } })
    settings.stop()
  })

  it("an exact set applied on top of another window's write this window missed is adopted: the data at its revision is the data sent", async () => {
    const settings = api.topic<{ theme: string; lang: string }>('settings', quiet)
    await settings.ready
    const deliver = backend.emit
    backend.emit = () => {}
    backend.write('other', 'settings', 'set', { theme: 'blue', lang: 'de' })
    backend.emit = deliver
    expect(await settings.set({ theme: 'dark', lang: 'fr' })).toEqual({ revision: '2', previousRevision: '1', exact: true })
    await settle()
    expect(snapshotsFetched()).toBe(1)
    expect(settings.get()).toEqual({ revision: '2', data: { theme: 'dark', lang: 'fr' } })
    expect(backend.snapshot('settings')).toEqual(settings.get())
    settings.stop()
  })

  it('regression: a failed write rejects with a new error naming the write, with the code and details of the one it caught, which stays as it was', async () => {
    const refusal = new api.StateSyncError('REVISION_CONFLICT', 'the revision moved on', {
      topic: 'settings',
      expectedRevision: '0',
      currentRevision: '1',
    })
    const transport: Transport = {
      subscribe: async () => () => {},
      snapshot: async () => ({ revision: '0', data: { theme: 'light' } as never }),
      write: async () => Promise.reject(refusal), // the same object every call
      act: async () => Promise.reject(new Error('no actions')),
    }
    const onError = vi.fn()
    const settings = api.topic<{ theme: string }>('settings', { onError, resyncOnFocus: false, transport })
    await settings.ready
    for (let i = 0; i < 2; i++) {
      const error = (await settings.set({ theme: 'dark' }, { expectedRevision: '0' }).catch((e: unknown) => e)) as InstanceType<typeof api.StateSyncError>
      expect(error).not.toBe(refusal)
      // Named once, however often the shared error is caught.
      expect(error.message).toBe('set of "settings" failed: the revision moved on')
      expect(error.code).toBe('REVISION_CONFLICT')
      expect(error.details).toEqual({ topic: 'settings', expectedRevision: '0', currentRevision: '1' })
      expect(onError).toHaveBeenLastCalledWith(expect.objectContaining({ phase: 'write', topic: 'settings', error }))
    }
    expect(refusal.message).toBe('the revision moved on')
    expect(settings.get()).toEqual({ revision: '0', data: { theme: 'light' } })
    settings.stop()
  })

  it('a patch whose outcome carries no change (past the push limit) is fetched since the local revision, not merged locally', async () => {
    const settings = api.topic<{ theme: string; lang?: string }>('settings', quiet)
    await settings.ready
    backend.historyLimit = 8
    await settings.patch({ lang: null })
    await settle()
    expect(snapshotsFetched()).toBe(2)
    expect(commands.at(-1)).toEqual({ cmd: 'plugin:state-sync|snapshot', args: { topic: 'settings', since: '0' } })
    expect(settings.get()).toEqual({ revision: '1', data: { theme: 'light' } })
    settings.stop()
  })

  it('a write that a typed topic normalized (exact: false) is fetched, not adopted', async () => {
    const prefs = api.topic<{ volume: number; muted?: boolean }>('prefs', quiet)
    await prefs.ready
    const outcome = await prefs.set({ volume: 7 })
    expect(outcome.exact).toBe(false)
    await settle()
    expect(snapshotsFetched()).toBe(2)
    expect(prefs.get()).toEqual({ revision: '1', data: { volume: 7, muted: false } })
    prefs.stop()
  })

  it("a write applied on top of another window's write is fetched, not adopted", async () => {
    const settings = api.topic<{ theme: string; lang: string }>('settings', quiet)
    await settings.ready
    missOthersWrite()
    const outcome = await settings.patch({ theme: 'dark' })
    expect(outcome).toEqual({ revision: '2', previousRevision: '1', exact: true })
    await settle()
    expect(snapshotsFetched()).toBe(2)
    expect(settings.get()).toEqual({ revision: '2', data: { theme: 'dark', lang: 'de' } })
    settings.stop()
  })

  it('a write that changes nothing causes no fetch', async () => {
    const settings = api.topic('settings', quiet)
    await settings.ready
    const outcome = await settings.set({ theme: 'light', lang: 'en' })
    expect(outcome).toEqual({ revision: '0', previousRevision: '0', exact: true })
    await settle()
    expect(snapshotsFetched()).toBe(1)
    settings.stop()
  })

  it('a compare-and-set sends expectedRevision and succeeds on the current revision', async () => {
    const counter = api.topic<number>('counter', quiet)
    await counter.ready
    await counter.set(1, { expectedRevision: '0' })
    expect(commands[1]?.args).toEqual({ topic: 'counter', data: 1, expectedRevision: '0' })
    expect(counter.get()).toEqual({ revision: '1', data: 1 })
    counter.stop()
  })

  it('plugin errors reject as a StateSyncError with code and details, reported in the write phase', async () => {
    const onError = vi.fn()
    const counter = api.topic<number>('counter', { onError })
    await counter.ready
    backend.rust('counter', 9)
    await settle()
    const error = await counter.set(1, { expectedRevision: '0' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(api.StateSyncError)
    expect(api.isStateSyncError(error, 'REVISION_CONFLICT') && error.details).toEqual({
      topic: 'counter',
      expectedRevision: '0',
      currentRevision: '1',
      currentData: 9,
    })
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ phase: 'write', error }))
    counter.stop()
  })

  it("Tauri's ACL refusal rejects with FORBIDDEN, naming the write, the permission and the window", async () => {
    const counter = api.topic<number>('counter', quiet)
    await counter.ready
    refuse = (c) => (c === 'set' ? notGranted('state-sync', 'set', ['state-sync:allow-set', 'state-sync:default']) : undefined)
    await expect(counter.set(1)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'set of "counter" failed: state-sync.set not allowed in window "main": add state-sync:allow-set in src-tauri/capabilities/',
    })
    counter.stop()
  })

  it('regression: a command a capability explicitly denies reaches the binding as FORBIDDEN, not IPC', async () => {
    const counter = api.topic<number>('counter', quiet)
    await counter.ready
    refuse = (c) => (c === 'set' ? denied('state-sync', 'set', 'viewer') : undefined)
    await expect(counter.set(1)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('not allowed in window "main": remove state-sync:deny-set in src-tauri/capabilities/'),
    })
    expect(backend.snapshot('counter').revision).toBe('0')
    counter.stop()
  })

  it('regression: a snapshot fetch refused by the ACL is final: no retry', async () => {
    refuse = (c) => (c === 'snapshot' ? denied('state-sync', 'snapshot', 'viewer') : undefined)
    const onError = vi.fn()
    const counter = api.topic<number>('counter', { onError, resyncOnFocus: false, retry: api.backoff({ attempts: 5, baseDelayMs: 1 }) })
    await expect(counter.ready).rejects.toMatchObject({ code: 'FORBIDDEN' })
    await new Promise((r) => setTimeout(r, 30)) // longer than every backoff of 5 attempts
    expect(snapshotsFetched()).toBe(1)
    expect(onError).toHaveBeenCalledTimes(1)
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ phase: 'snapshot', error: expect.objectContaining({ code: 'FORBIDDEN' }) }))
    counter.stop()
  })

  it('a failed update reports the update that failed, not snapshot', async () => {
    refuse = (c) => (c === 'snapshot' ? notGranted('state-sync', 'snapshot', ['state-sync:allow-snapshot']) : undefined)
    const onError = vi.fn()
    const counter = api.topic<number>('counter', { onError, resyncOnFocus: false })
    const error = await counter.update((n) => n + 1).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'FORBIDDEN',
      message: 'update of "counter" failed: state-sync.snapshot not allowed in window "main": add state-sync:allow-snapshot in src-tauri/capabilities/',
    })
    expect(onError).toHaveBeenLastCalledWith(expect.objectContaining({ phase: 'write', error }))
    counter.stop()
  })

  it('an update whose refresh after a conflict fails reports the update in the write phase', async () => {
    const onError = vi.fn()
    const counter = api.topic<number>('counter', { onError, resyncOnFocus: false })
    await counter.ready
    backend.emit = () => {} // this window does not see the next change...
    backend.rust('counter', 5) // ...so its update's set conflicts
    backend.conflictData = false // ...and, with no state carried, it must refresh
    const handle = backend.handle.bind(backend)
    backend.handle = (source, cmd, args) => {
      if (cmd.endsWith('|snapshot')) throw { code: 'UNKNOWN_TOPIC', message: 'unknown topic `counter`', topic: 'counter' }
      return handle(source, cmd, args)
    }
    await expect(counter.update((n) => n + 1)).rejects.toMatchObject({
      code: 'UNKNOWN_TOPIC',
      message: 'update of "counter" failed: unknown topic `counter`',
    })
    expect(onError).toHaveBeenLastCalledWith(expect.objectContaining({ phase: 'write' }))
    counter.stop()
  })

  it('a patch that is not an object is refused with INVALID_PATCH', async () => {
    const settings = api.topic<unknown>('settings', quiet)
    await settings.ready
    await expect(settings.patch([1, 2] as never)).rejects.toMatchObject({ code: 'INVALID_PATCH' })
    settings.stop()
  })

  it('update retries on a conflict with a concurrent writer and applies on the fresh state', async () => {
    const counter = api.topic<number>('counter', quiet)
    await counter.ready
    raceFirstSet() // another writer gets in between read and write
    const seen: number[] = []
    const outcome = await counter.update((n) => (seen.push(n), n + 1))
    expect(seen).toEqual([0, 10])
    expect(outcome).toEqual({ revision: '2', previousRevision: '1', exact: true })
    expect(counter.get()).toEqual({ revision: '2', data: 11 })
    counter.stop()
  })

  it('update fails with the conflict error after its attempts are used up', async () => {
    const onError = vi.fn()
    const counter = api.topic<number>('counter', { onError, resyncOnFocus: false })
    await counter.ready
    const handle = backend.handle.bind(backend)
    backend.handle = (source, cmd, args) => {
      if (cmd.endsWith('|set')) backend.rust('counter', Number(backend.snapshot('counter').data) + 100)
      return handle(source, cmd, args)
    }
    const fn = vi.fn((n: number) => n + 1)
    await expect(counter.update(fn, { attempts: 3 })).rejects.toMatchObject({ code: 'REVISION_CONFLICT' })
    expect(fn).toHaveBeenCalledTimes(3)
    expect(onError).toHaveBeenCalledTimes(1) // only the final failure is reported
    counter.stop()
  })

  it('update retries at once from the state a conflict carries, without fetching', async () => {
    const counter = api.topic<number>('counter', quiet)
    await counter.ready
    raceFirstSet()
    echo = 'after-outcome' // the other writer's event cannot help: it arrives after the conflict
    const seen: number[] = []
    await counter.update((n) => (seen.push(n), n + 1))
    expect(seen).toEqual([0, 10])
    expect(counter.get()).toEqual({ revision: '2', data: 11 })
    const calls = commands.map((c) => c.cmd.replace('plugin:state-sync|', ''))
    expect(calls).toEqual(['snapshot', 'set', 'set']) // the one snapshot is the hydration
    await settle()
    expect(snapshotsFetched()).toBe(1)
    counter.stop()
  })

  it('update fetches before retrying when the conflict carries no state (a window not allowed to read)', async () => {
    backend.conflictData = false
    const counter = api.topic<number>('counter', quiet)
    await counter.ready
    raceFirstSet()
    echo = 'after-outcome'
    await counter.update((n) => n + 1)
    expect(counter.get()).toEqual({ revision: '2', data: 11 })
    const calls = commands.map((c) => c.cmd.replace('plugin:state-sync|', ''))
    expect(calls).toEqual(['snapshot', 'set', 'snapshot', 'set'])
    counter.stop()
  })

  it('a failed compare-and-set set() applies the state its conflict carries only through update, not on its own', async () => {
    const counter = api.topic<number>('counter', quiet)
    await counter.ready
    echo = 'after-outcome'
    backend.rust('counter', 9)
    await expect(counter.set(1, { expectedRevision: '0' })).rejects.toMatchObject({ code: 'REVISION_CONFLICT' })
    await settle() // the event of the other write arrives and is fetched as usual
    expect(counter.get()).toEqual({ revision: '1', data: 9 })
    counter.stop()
  })

  it('update gives fn a copy, so mutating it cannot corrupt the local state', async () => {
    const settings = api.topic<{ theme: string; lang: string }>('settings', quiet)
    await settings.ready
    const before = settings.get()!.data
    await settings.update((s) => {
      s.theme = 'dark'
      return s
    })
    expect(before).toEqual({ theme: 'light', lang: 'en' })
    expect(settings.get()?.data).toEqual({ theme: 'dark', lang: 'en' })
    settings.stop()
  })
})

describe('actions', () => {
  type CounterActions = { increment: { by: number }; reset: undefined }
  beforeEach(() => {
    backend.actions.set('counter/increment', (n, args) => (n as number) + (args as { by: number }).by)
    backend.actions.set('counter/reset', () => 0)
    backend.actions.set('counter/refuse', () => {
      throw 'the counter is locked'
    })
  })

  it('act calls plugin:state-sync|act and applies the data of its outcome without a fetch', async () => {
    echo = 'after-outcome'
    const counter = api.topic<number, 'counter', CounterActions>('counter', quiet)
    await counter.ready
    const outcome = await counter.act('increment', { by: 2 })
    expect(outcome).toEqual({ revision: '1', previousRevision: '0', exact: true, data: 2 })
    expect(commands[1]).toEqual({ cmd: 'plugin:state-sync|act', args: { topic: 'counter', action: 'increment', args: { by: 2 } } })
    expect(counter.get()).toEqual({ revision: '1', data: 2 })
    await settle() // the echo arrives now, and the gate drops it
    expect(snapshotsFetched()).toBe(1)
    counter.stop()
  })

  it('act applies to the latest state even when another writer moved the topic first', async () => {
    const counter = api.topic<number, 'counter', CounterActions>('counter', quiet)
    await counter.ready
    echo = 'after-outcome'
    backend.rust('counter', 40) // the window has not heard of it yet
    await counter.act('increment', { by: 2 })
    expect(counter.get()).toEqual({ revision: '2', data: 42 })
    await settle()
    expect(snapshotsFetched()).toBe(1)
    counter.stop()
  })

  it('the type map types the action names and their arguments', async () => {
    const counter = api.topic<number, 'counter', CounterActions>('counter', quiet)
    await counter.ready
    await counter.act('reset') // an action that takes no argument
    // @ts-expect-error `by` must be a number
    await counter.act('increment', { by: '1' }).catch(() => {})
    // @ts-expect-error not an action of the map
    await counter.act('decrement', { by: 1 }).catch(() => {})
    // @ts-expect-error `increment` needs its argument
    await counter.act('increment').catch(() => {})
    expect(commands.filter((c) => c.cmd.endsWith('|act')).map((c) => c.args.action)).toEqual(['reset', 'increment', 'decrement', 'increment'])
    counter.stop()
  })

  it('an unknown action and a refusing action reject with their codes, reported in the write phase, and change nothing', async () => {
    const onError = vi.fn()
    const counter = api.topic<number>('counter', { onError, resyncOnFocus: false })
    await counter.ready
    const unknown = await counter.act('decrement', { by: 1 }).catch((e: unknown) => e)
    expect(api.isStateSyncError(unknown, 'UNKNOWN_ACTION') && unknown.details).toMatchObject({ topic: 'counter', action: 'decrement' })
    const refused = await counter.act('refuse').catch((e: unknown) => e)
    expect(api.isStateSyncError(refused, 'ACTION_FAILED') && refused.details).toMatchObject({ topic: 'counter', action: 'refuse' })
    expect(onError.mock.calls.map(([c]) => [c.phase, c.error.code])).toEqual([
      ['write', 'UNKNOWN_ACTION'],
      ['write', 'ACTION_FAILED'],
    ])
    expect(counter.get()).toEqual({ revision: '0', data: 0 })
    expect(backend.changes).toEqual([])
    counter.stop()
  })

  it('an outcome without data (a window not allowed to read) is treated like an event: fetched', async () => {
    const counter = api.topic<number, 'counter', CounterActions>('counter', quiet)
    await counter.ready
    const handle = backend.handle.bind(backend)
    backend.handle = (source, cmd, args) => {
      const answer = handle(source, cmd, args)
      if (!cmd.endsWith('|act')) return answer
      const { data: _withheld, ...outcome } = answer as Record<string, unknown>
      return outcome
    }
    await counter.act('increment', { by: 3 })
    await settle()
    expect(counter.get()).toEqual({ revision: '1', data: 3 })
    expect(snapshotsFetched()).toBe(2)
    counter.stop()
  })
})
