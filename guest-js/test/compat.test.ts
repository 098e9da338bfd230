import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { backoff, createRevisionSync, createTauriProvider, createTauriSubscriber } from '../src/index'
import type { Snapshot } from '../src/protocol'
import { Backend } from './support/backend'
import { deferred, flush, manual } from './support/manual'

// A compat handle over a hand-driven source, reporting to a spy.
const make = (extra: Partial<Parameters<typeof createRevisionSync<number>>[0]> = {}) => {
  const src = manual<number>()
  const onError = vi.fn()
  const sync = createRevisionSync<number>({
    topic: 't',
    subscriber: src.subscriber,
    provider: src.provider,
    applier: { apply: () => {} },
    onError,
    resyncOnFocus: false,
    ...extra,
  })
  return { src, onError, sync }
}

afterEach(() => {
  vi.useRealTimers()
  clearMocks()
})

describe('createRevisionSync (the @statesync/core API)', () => {
  it('start, refresh, getLocalRevision and stop behave like the engine', async () => {
    vi.useFakeTimers()
    const src = manual<number>()
    const applied: Snapshot<number>[] = []
    const sync = createRevisionSync<number>({
      topic: 't',
      subscriber: src.subscriber,
      provider: src.provider,
      applier: { apply: (s) => void applied.push(s) },
      onError: () => {},
    })
    expect(sync.getLocalRevision()).toBe('0')
    const started = sync.start()
    await flush()
    src.answer('3', 30)
    await started
    expect(sync.getLocalRevision()).toBe('3')
    const refreshed = sync.refresh()
    await flush()
    src.answer('4', 40)
    await refreshed
    expect(applied).toEqual([
      { revision: '3', data: 30 },
      { revision: '4', data: 40 },
    ])
    sync.stop()
    sync.stop()
    expect(src.unsubscribe).toHaveBeenCalledTimes(1)
  })

  it('an async applier finishes before the next snapshot is applied, and start waits for it', async () => {
    const src = manual<number>()
    const order: string[] = []
    const gates = [deferred<void>(), deferred<void>()]
    let n = 0
    const sync = createRevisionSync<number>({
      topic: 't',
      subscriber: src.subscriber,
      provider: src.provider,
      applier: {
        async apply({ revision }) {
          const gate = gates[n++]!
          order.push('begin ' + revision)
          await gate.promise
          order.push('end ' + revision)
        },
      },
      resyncOnFocus: false,
    })
    let startedDone = false
    const started = sync.start().then(() => (startedDone = true))
    await flush()
    src.answer('1', 1)
    await flush()
    expect(startedDone).toBe(false)
    src.emit('2')
    await flush()
    src.answer('2', 2)
    await flush()
    expect(order).toEqual(['begin 1'])
    gates[0]!.resolve()
    await started
    await flush()
    gates[1]!.resolve()
    await flush()
    expect(order).toEqual(['begin 1', 'end 1', 'begin 2', 'end 2'])
    sync.stop()
  })

  it('an applier that throws on the first snapshot is reported in the apply phase, and start() rejects with it', async () => {
    const { src, onError, sync } = make({
      applier: {
        apply: () => {
          throw new Error('store rejected it')
        },
      },
    })
    const started = sync.start()
    await flush()
    src.answer('1', 1)
    await expect(started).rejects.toThrow('store rejected it')
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ phase: 'apply', topic: 't' }))
    sync.stop()
  })

  it('an applier that throws on a later snapshot is reported, and start() had resolved', async () => {
    const { src, onError, sync } = make({
      applier: {
        apply: ({ data }) => {
          if (data === 2) throw new Error('no twos')
        },
      },
    })
    const started = sync.start()
    await flush()
    src.answer('1', 1)
    await started
    src.emit('2')
    await flush()
    src.answer('2', 2)
    await flush()
    expect(onError.mock.calls.map(([c]) => c.phase)).toEqual(['apply'])
    expect(sync.getLocalRevision()).toBe('2')
    sync.stop()
  })

  it('migrates a Tauri app by changing an import: the Tauri subscriber and provider talk to the plugin', async () => {
    const backend = new Backend({ settings: { theme: 'light' } })
    backend.emit = (event) => backend.deliver(event)
    mockIPC((cmd, args) => backend.handle('main', cmd, args as Record<string, unknown>), { shouldMockEvents: true })
    let data: unknown
    const sync = createRevisionSync<{ theme: string }>({
      topic: 'settings',
      subscriber: createTauriSubscriber('settings'),
      provider: createTauriProvider('settings'),
      applier: { apply: (s) => void (data = s.data) },
      throttling: { debounceMs: 0 },
      resyncOnFocus: false,
    })
    await sync.start()
    expect(data).toEqual({ theme: 'light' })
    backend.rust('settings', { theme: 'dark' })
    await new Promise((r) => setTimeout(r, 5))
    expect(data).toEqual({ theme: 'dark' })
    expect(sync.getLocalRevision()).toBe('1')
    sync.stop()
  })

  describe('behaves like @statesync/core where an app can observe it', () => {
    it('throws at once on an empty topic', () => {
      expect(() => make({ topic: '' })).toThrow('topic must be a non-empty string')
      expect(() => make({ topic: '  ' })).toThrow('topic must be a non-empty string')
    })

    it('reports a failed provider in the getSnapshot phase, to onError and to the logger', async () => {
      const error = vi.fn()
      const { src, onError, sync } = make({ logger: { error } })
      const started = sync.start()
      await flush()
      src.fetches[0]!.reject(new Error('offline'))
      await expect(started).rejects.toMatchObject({ code: 'IPC' })
      expect(onError.mock.calls.map(([c]) => c.phase)).toEqual(['getSnapshot'])
      expect(error).toHaveBeenCalledWith('state-sync: getSnapshot', expect.objectContaining({ phase: 'getSnapshot', topic: 't' }))
      sync.stop()
    })

    it('shouldRefresh returning false ignores an event, and is asked only of events newer than the local state', async () => {
      const asked: string[] = []
      const { src, sync } = make({ shouldRefresh: (e) => (asked.push(e.revision), e.sourceId !== 'self') })
      const started = sync.start()
      await flush()
      src.answer('1', 1)
      await started
      src.emit('1', 'other') // not newer: dropped before shouldRefresh is asked
      src.emit('2', 'self')
      await flush()
      expect(src.fetches).toHaveLength(1)
      src.emit('2', 'other')
      await flush()
      expect(src.fetches).toHaveLength(2)
      expect(asked).toEqual(['2', '2'])
      sync.stop()
    })

    it('shouldRefresh is asked of a pushed change as a plain invalidation: false ignores it, and its patch is never applied', async () => {
      const asked: unknown[] = []
      const { src, sync } = make({ shouldRefresh: (e) => (asked.push(e), e.sourceId !== 'me') })
      const started = sync.start()
      await flush()
      src.answer('1', 1)
      await started
      const to5 = [{ op: 'replace' as const, path: '', value: 5 }]
      src.push('1', '2', to5, 'me')
      await flush()
      expect(src.fetches).toHaveLength(1)
      expect(sync.getLocalRevision()).toBe('1')
      src.push('1', '2', to5, 'other')
      await flush()
      expect(sync.getLocalRevision()).toBe('1') // not applied from the event: fetched
      expect(src.fetches).toHaveLength(2)
      src.answer('2', 5)
      await flush()
      expect(sync.getLocalRevision()).toBe('2')
      expect(asked).toEqual([
        { topic: 't', revision: '2', sourceId: 'me' },
        { topic: 't', revision: '2', sourceId: 'other' },
      ])
      sync.stop()
    })

    it('a shouldRefresh that throws is reported in the apply phase, and the event is ignored', async () => {
      const { src, onError, sync } = make({
        shouldRefresh: () => {
          throw new Error('boom')
        },
      })
      const started = sync.start()
      await flush()
      src.answer('1', 1)
      await started
      expect(() => src.emit('2')).not.toThrow()
      await flush()
      expect(onError.mock.calls.map(([c]) => [c.phase, c.error.message])).toEqual([['apply', 'boom']])
      expect(src.fetches).toHaveLength(1)
      expect(sync.getLocalRevision()).toBe('1')
      sync.stop()
    })

    it('the logger hears of every error, even when onError throws; without both, console.error does', async () => {
      const error = vi.fn()
      const { src, sync } = make({
        logger: { error },
        onError: () => {
          throw new Error('bad handler')
        },
      })
      const started = sync.start()
      await flush()
      src.emit('02')
      src.answer('1', 1)
      await started
      expect(error).toHaveBeenCalledWith('state-sync: protocol', expect.objectContaining({ phase: 'protocol', topic: 't' }))
      sync.stop()
      const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
      try {
        const bare = make({ onError: undefined })
        const first = bare.sync.start()
        await flush()
        bare.src.fetches[0]!.reject(new Error('offline'))
        await expect(first).rejects.toMatchObject({ code: 'IPC' })
        expect(spy).toHaveBeenCalledWith('state-sync: getSnapshot', expect.objectContaining({ phase: 'getSnapshot' }))
        bare.sync.stop()
      } finally {
        spy.mockRestore()
      }
    })

    it("takes @statesync/core's throttling object: a debounced burst of events costs one fetch after the quiet period", async () => {
      vi.useFakeTimers()
      const { src, sync } = make({ throttling: { debounceMs: 100 } })
      const started = sync.start()
      await flush()
      src.answer('1', 1)
      await started
      for (let r = 2; r <= 6; r++) {
        src.emit(String(r))
        await vi.advanceTimersByTimeAsync(50)
      }
      expect(src.fetches).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(100)
      expect(src.fetches).toHaveLength(2)
      sync.stop()
    })

    it('tries a failed provider once by default, and as often as backoff() says when given', async () => {
      vi.useFakeTimers()
      vi.spyOn(Math, 'random').mockReturnValue(0)
      const once = make()
      const first = once.sync.start()
      await flush()
      once.src.fetches[0]!.reject(new Error('offline'))
      await expect(first).rejects.toMatchObject({ code: 'IPC' })
      await vi.runAllTimersAsync()
      expect(once.src.fetches).toHaveLength(1)
      once.sync.stop()

      const retried = make({ retry: backoff({ attempts: 2 }) })
      const second = retried.sync.start()
      await flush()
      retried.src.fetches[0]!.reject(new Error('offline'))
      await vi.advanceTimersByTimeAsync(0)
      expect(retried.src.fetches).toHaveLength(2)
      retried.src.answer('1', 1)
      await second
      expect(retried.sync.getLocalRevision()).toBe('1')
      expect(retried.onError).not.toHaveBeenCalled()
      retried.sync.stop()
    })

    it('start() after stop() rejects', async () => {
      const { sync } = make()
      sync.stop()
      await expect(sync.start()).rejects.toThrow('start() called after stop()')
    })

    it('an event with an empty or non-string topic, or a non-string revision, is reported in the protocol phase; another topic is ignored', async () => {
      const { src, onError, sync } = make()
      const started = sync.start()
      await flush()
      src.answer('1', 1)
      await started
      const handler = src.subscriber.subscribe.mock.calls[0]![0]
      handler({ topic: '', revision: '2', sourceId: 'x' })
      handler({ topic: '   ', revision: '2', sourceId: 'x' })
      handler({ topic: 7, revision: '2', sourceId: 'x' } as never)
      handler({ topic: 't', revision: 2, sourceId: 'x' } as never)
      handler({ topic: 'other', revision: '9', sourceId: 'x' })
      await flush()
      expect(onError.mock.calls.map(([c]) => [c.phase, c.error.code])).toEqual(Array(4).fill(['protocol', 'PROTOCOL']))
      expect(onError.mock.calls[0]![0].error.message).toBe('Empty topic in invalidation event')
      expect(onError.mock.calls[3]![0].error.message).toMatch(/^Non-canonical revision in invalidation event/)
      expect(src.fetches).toHaveLength(1) // none of them caused a fetch
      sync.stop()
    })
  })
})
