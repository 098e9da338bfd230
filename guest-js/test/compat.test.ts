import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { emit } from '@tauri-apps/api/event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createRevisionSync, createTauriProvider, createTauriSubscriber, INVALIDATION_EVENT } from '../src/index'
import type { Snapshot } from '../src/protocol'
import { Backend } from './support/backend'
import { deferred, flush, manual } from './support/manual'

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

  it('an applier that throws is reported in the apply phase', async () => {
    const src = manual<number>()
    const onError = vi.fn()
    const sync = createRevisionSync<number>({
      topic: 't',
      subscriber: src.subscriber,
      provider: src.provider,
      applier: {
        apply: () => {
          throw new Error('store rejected it')
        },
      },
      onError,
      resyncOnFocus: false,
    })
    const started = sync.start()
    await flush()
    src.answer('1', 1)
    await started
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ phase: 'apply', topic: 't' }))
    sync.stop()
  })

  it('migrates a Tauri app by changing an import: the Tauri subscriber and provider talk to the plugin', async () => {
    const backend = new Backend({ settings: { theme: 'light' } })
    backend.emit = (event) => void emit(INVALIDATION_EVENT, event)
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
})
