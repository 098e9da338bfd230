import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createEngine, type EngineOptions, type SyncErrorContext } from '../src/engine'
import { StateSyncError } from '../src/errors'
import { backoff } from '../src/retry'
import { throttle } from '../src/throttle'
import type { Snapshot } from '../src/protocol'
import { flush, manual } from './support/manual'
import { otherWindows } from './support/tauri-refusals'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

function setup(options: Partial<EngineOptions<number>> = {}) {
  const src = manual<number>()
  const errors: SyncErrorContext[] = []
  const engine = createEngine<number>({
    topic: 't',
    subscriber: src.subscriber,
    provider: src.provider,
    onError: (ctx) => errors.push(ctx),
    ...options,
  })
  const applied: Snapshot<number>[] = []
  engine.subscribe((s) => applied.push(s))
  return { src, engine, errors, applied, revisions: () => applied.map((s) => s.revision) }
}

/** An engine started and hydrated at revision "1". */
async function hydrated(options: Partial<EngineOptions<number>> = {}) {
  const fresh = setup(options)
  const started = fresh.engine.start()
  await flush()
  fresh.src.answer('1', 1)
  await started
  return fresh
}

describe('gate', () => {
  it('applies the first snapshot whatever its revision, even "0"', async () => {
    const { src, engine, applied } = setup()
    const started = engine.start()
    await flush()
    src.answer('0', 7)
    await started
    expect(applied).toEqual([{ revision: '0', data: 7 }])
    expect(engine.get()).toEqual({ revision: '0', data: 7 })
  })

  it('applies a snapshot only if its revision is strictly newer, comparing as u64 strings', () => {
    const { engine, revisions } = setup()
    expect(engine.dispatch({ type: 'snapshot', revision: '9', data: 1 })).toBe(true)
    expect(engine.dispatch({ type: 'snapshot', revision: '9', data: 2 })).toBe(false)
    expect(engine.dispatch({ type: 'snapshot', revision: '10', data: 3 })).toBe(true)
    expect(engine.dispatch({ type: 'snapshot', revision: '9', data: 4 })).toBe(false)
    expect(engine.dispatch({ type: 'snapshot', revision: '9007199254740993', data: 5 })).toBe(true)
    expect(engine.dispatch({ type: 'snapshot', revision: '9007199254740992', data: 6 })).toBe(false)
    expect(revisions()).toEqual(['9', '10', '9007199254740993'])
    expect(engine.get()?.data).toBe(5)
  })

  it('an event at or below the local revision triggers no fetch', async () => {
    const { src, engine } = setup()
    const started = engine.start()
    await flush()
    src.answer('5', 1)
    await started
    src.emit('5')
    src.emit('4')
    src.emit('0')
    await vi.runAllTimersAsync()
    expect(src.provider.getSnapshot).toHaveBeenCalledTimes(1)
  })

  it('a delta applies only on top of the exact revision it was based on', () => {
    const { engine } = setup()
    engine.dispatch({ type: 'snapshot', revision: '3', data: 1 })
    const to9 = [{ op: 'replace' as const, path: '', value: 9 }]
    expect(engine.dispatch({ type: 'delta', from: '2', revision: '4', patch: to9 })).toBe(false)
    expect(engine.dispatch({ type: 'delta', from: '3', revision: '3', patch: to9 })).toBe(false)
    expect(engine.dispatch({ type: 'delta', from: '3', revision: '4', patch: to9 })).toBe(true)
    expect(engine.get()).toEqual({ revision: '4', data: 9 })
  })

  it('a delta applies its RFC 6902 operations to the local data', () => {
    const src = manual<Record<string, unknown>>()
    const engine = createEngine({ topic: 't', subscriber: src.subscriber, provider: src.provider, onError: () => {} })
    engine.dispatch({ type: 'snapshot', revision: '1', data: { a: 1, b: { c: 2, d: 3 } } })
    engine.dispatch({
      type: 'delta',
      from: '1',
      revision: '2',
      patch: [{ op: 'remove', path: '/a' }, { op: 'replace', path: '/b/c', value: 5 }],
    })
    expect(engine.get()).toEqual({ revision: '2', data: { b: { c: 5, d: 3 } } })
  })
})

describe('start', () => {
  it('subscribes before it fetches', async () => {
    const { src, engine } = await hydrated()
    expect(src.log).toEqual(['subscribe', 'fetch'])
  })

  it('event arriving during the first fetch is not lost', async () => {
    const { src, engine, revisions } = setup()
    const started = engine.start()
    await flush()
    src.emit('2') // the backend changed after the first fetch read it
    src.answer('1', 10, 0)
    await started
    await flush()
    expect(src.fetches).toHaveLength(2)
    src.answer('2', 20)
    await flush()
    expect(revisions()).toEqual(['1', '2'])
    expect(engine.get()?.data).toBe(20)
  })

  it('start() is idempotent', async () => {
    const { src, engine } = setup()
    const a = engine.start()
    const b = engine.start()
    await flush()
    src.answer('1', 1)
    await Promise.all([a, b])
    expect(a).toBe(b)
    expect(src.subscriber.subscribe).toHaveBeenCalledTimes(1)
  })
})

describe('coalescing', () => {
  it('100 events during one slow fetch cost at most 2 fetches', async () => {
    const { src, engine } = setup()
    const started = engine.start()
    await flush()
    for (let r = 1; r <= 100; r++) src.emit(String(r))
    await flush()
    expect(src.fetches).toHaveLength(1)
    src.answer('0', 0, 0)
    await started
    await flush()
    expect(src.fetches).toHaveLength(2)
    src.answer('100', 100)
    await vi.runAllTimersAsync()
    expect(src.fetches).toHaveLength(2)
    expect(engine.get()?.revision).toBe('100')
  })

  it('snapshot older than the event that caused the fetch is fetched again, up to a bound', async () => {
    const { src, engine } = await hydrated()
    src.emit('5')
    await flush()
    // A lagging provider answers with older snapshots than the event announced.
    for (let i = 0; i < 10; i++) {
      src.answer('2', 2)
      await flush()
    }
    // 1 start fetch + 1 fetch for the event + 3 refetches, then it gives up.
    expect(src.provider.getSnapshot).toHaveBeenCalledTimes(5)
    expect(engine.get()?.revision).toBe('2')
  })

  it('stale refetch stops as soon as the snapshot catches up with the event', async () => {
    const { src, engine } = await hydrated()
    src.emit('3')
    await flush()
    src.answer('2', 2)
    await flush()
    src.answer('3', 3)
    await vi.runAllTimersAsync()
    expect(src.provider.getSnapshot).toHaveBeenCalledTimes(3)
    expect(engine.get()).toEqual({ revision: '3', data: 3 })
  })

  it('refresh coalesced into a fetch that began earlier does not resolve early', async () => {
    const { src, engine } = setup()
    const started = engine.start()
    await flush()
    // The first fetch is in flight: it may have read the backend before the refresh was asked for.
    let refreshed = false
    const refresh = engine.refresh().then(() => (refreshed = true))
    src.answer('1', 1, 0)
    await started
    await flush()
    expect(refreshed).toBe(false)
    expect(src.fetches).toHaveLength(2)
    src.answer('2', 2, 1)
    await refresh
    expect(engine.get()?.revision).toBe('2')
  })

  it('refresh resolves once the state is at least as new as the backend was when called', async () => {
    const { src, engine } = await hydrated()
    const refresh = engine.refresh()
    await flush()
    src.answer('4', 4)
    await refresh
    expect(engine.get()?.revision).toBe('4')
  })

  it('several refreshes during one fetch share one queued fetch', async () => {
    const { src, engine } = setup()
    const started = engine.start()
    await flush()
    const refreshes = [engine.refresh(), engine.refresh(), engine.refresh()]
    src.answer('1', 1, 0)
    await started
    await flush()
    expect(src.fetches).toHaveLength(2)
    src.answer('2', 2, 1)
    await Promise.all(refreshes)
  })

  it('a failed fetch never drops the queued one', async () => {
    const { src, engine, errors } = setup()
    const started = engine.start()
    await flush()
    src.emit('2')
    src.fetches[0]!.reject('boom')
    await expect(started).rejects.toBeInstanceOf(StateSyncError)
    await flush()
    expect(src.fetches).toHaveLength(2)
    src.answer('2', 2)
    await flush()
    expect(engine.get()).toEqual({ revision: '2', data: 2 })
    expect(errors.map((e) => e.phase)).toEqual(['snapshot'])
  })
})

describe('own writes (hold)', () => {
  it('an event during an own write causes no fetch while the write runs, and one after it if still ahead', async () => {
    const { src, engine } = await hydrated()
    await engine.hold(async () => {
      src.emit('2') // the echo, or another window's change
      await vi.runAllTimersAsync()
      expect(src.fetches).toHaveLength(1)
    })
    expect(src.fetches).toHaveLength(2)
  })

  it('no fetch after an own write whose result was adopted', async () => {
    const { src, engine } = await hydrated()
    await engine.hold(async () => {
      src.emit('2')
      engine.dispatch({ type: 'snapshot', revision: '2', data: 2 })
    })
    await vi.runAllTimersAsync()
    expect(src.fetches).toHaveLength(1)
    expect(engine.get()).toEqual({ revision: '2', data: 2 })
  })

  it('events held during a write that fails are fetched after it', async () => {
    const { src, engine } = await hydrated()
    await expect(
      engine.hold(async () => {
        src.emit('3')
        throw new Error('write failed')
      }),
    ).rejects.toThrow('write failed')
    expect(src.fetches).toHaveLength(2)
  })
})

describe('retry', () => {
  it('without retry, a failed fetch is tried once and reported; the next event fetches again', async () => {
    const { src, engine, errors } = setup()
    const started = engine.start()
    await flush()
    src.fetches[0]!.reject('IPC down')
    await expect(started).rejects.toMatchObject({ code: 'IPC', message: 'IPC down' })
    await vi.runAllTimersAsync()
    expect(src.fetches).toHaveLength(1)
    expect(errors.map((e) => [e.phase, e.error.code])).toEqual([['snapshot', 'IPC']])
    src.emit('2')
    await flush()
    expect(src.fetches).toHaveLength(2)
    src.answer('2', 2)
    await flush()
    expect(engine.get()).toEqual({ revision: '2', data: 2 })
  })

  it('without retry, a fetch that hangs fails with TIMEOUT after 10 s and no longer holds up the next one', async () => {
    const { src, engine, errors } = setup()
    const started = engine.start()
    started.catch(() => {})
    await flush()
    src.emit('2') // queued behind the hung fetch
    await vi.advanceTimersByTimeAsync(9_999)
    expect(src.fetches).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    await expect(started).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect(errors.map((e) => [e.phase, e.error.code])).toEqual([['snapshot', 'TIMEOUT']])
    await flush()
    expect(src.fetches).toHaveLength(2) // the queued fetch runs at once, not retried after a backoff
    src.answer('2', 2)
    await flush()
    expect(engine.get()).toEqual({ revision: '2', data: 2 })
    src.answer('1', 1, 0) // the late answer of the hung fetch is ignored
    await flush()
    expect(engine.get()).toEqual({ revision: '2', data: 2 })
  })

  it('backoff() with no options tries 4 times, 10 s each, IPC and TIMEOUT only', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const { src, engine, errors } = setup({ retry: backoff() })
    const started = engine.start()
    started.catch(() => {})
    await flush()
    src.fetches[0]!.reject('IPC down')
    await vi.advanceTimersByTimeAsync(0)
    expect(src.fetches).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(9_999) // the second attempt hangs...
    expect(src.fetches).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1) // ...fails with TIMEOUT at 10 s...
    await flush()
    await vi.advanceTimersByTimeAsync(1) // ...and is retried after the backoff, 0 ms with this jitter
    expect(src.fetches).toHaveLength(3)
    src.fetches[2]!.reject('IPC down')
    await vi.advanceTimersByTimeAsync(0)
    expect(src.fetches).toHaveLength(4)
    src.fetches[3]!.reject('IPC down')
    await expect(started).rejects.toMatchObject({ code: 'IPC' })
    await vi.runAllTimersAsync()
    expect(src.fetches).toHaveLength(4)
    expect(errors).toHaveLength(1)
  })

  it('retries a failed fetch with exponential backoff and jitter', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const { src, engine, errors } = setup({ retry: backoff({ attempts: 4, baseDelayMs: 100, maxDelayMs: 300 }) })
    const started = engine.start()
    await flush()
    src.fetches[0]!.reject('IPC down')
    await flush()
    expect(src.fetches).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(49)
    expect(src.fetches).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1) // 100 ms * 0.5
    expect(src.fetches).toHaveLength(2)
    src.fetches[1]!.reject('IPC down')
    await vi.advanceTimersByTimeAsync(99) // 200 ms * 0.5
    expect(src.fetches).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(src.fetches).toHaveLength(3)
    src.fetches[2]!.reject('IPC down')
    await vi.advanceTimersByTimeAsync(150) // min(400, 300) * 0.5
    expect(src.fetches).toHaveLength(4)
    src.answer('1', 1)
    await started
    expect(engine.get()?.revision).toBe('1')
    expect(errors).toEqual([])
  })

  it('gives up after the last attempt and reports the snapshot phase', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const { src, engine, errors } = setup({ retry: backoff({ attempts: 2 }) })
    const started = engine.start()
    await flush()
    src.fetches[0]!.reject('down')
    await vi.advanceTimersByTimeAsync(0)
    src.fetches[1]!.reject('still down')
    await expect(started).rejects.toMatchObject({ code: 'IPC', message: 'still down' })
    expect(errors.map((e) => [e.phase, e.error.code])).toEqual([['snapshot', 'IPC']])
  })

  it('an attempt that hangs times out and is retried', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const { src, engine } = setup({ retry: backoff({ attempts: 2, timeoutMs: 1000 }) })
    const started = engine.start()
    await flush()
    await vi.advanceTimersByTimeAsync(999)
    expect(src.fetches).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    await flush()
    await vi.advanceTimersByTimeAsync(1) // the backoff, 0 ms with this jitter
    expect(src.fetches).toHaveLength(2)
    src.answer('1', 1)
    await started
    // The late answer of the timed-out attempt is ignored.
    src.answer('0', 0, 0)
    await flush()
    expect(engine.get()).toEqual({ revision: '1', data: 1 })
  })

  it('a hanging attempt fails with TIMEOUT when it was the last', async () => {
    const { engine, errors } = setup({ retry: backoff({ attempts: 1, timeoutMs: 50 }) })
    const started = engine.start()
    started.catch(() => {})
    await vi.advanceTimersByTimeAsync(50)
    await expect(started).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect(errors[0]?.error.code).toBe('TIMEOUT')
  })

  it("does not retry the plugin's own errors, which are deterministic", async () => {
    const { src, engine } = setup({ retry: backoff({ attempts: 5 }) })
    const started = engine.start()
    await flush()
    src.fetches[0]!.reject({ code: 'UNKNOWN_TOPIC', message: 'unknown topic `t`', topic: 't' })
    await expect(started).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC', details: { topic: 't' } })
    await vi.runAllTimersAsync()
    expect(src.fetches).toHaveLength(1)
  })
})

describe('stop', () => {
  it('is final, idempotent and unsubscribes', async () => {
    const { src, engine } = await hydrated()
    engine.stop()
    engine.stop()
    expect(src.unsubscribe).toHaveBeenCalledTimes(1)
    await engine.refresh()
    expect(src.fetches).toHaveLength(1)
    expect(engine.dispatch({ type: 'snapshot', revision: '9', data: 9 })).toBe(false)
  })

  it('fetch in flight at stop() is never applied', async () => {
    const { src, engine, applied } = await hydrated()
    src.emit('2')
    await flush()
    engine.stop()
    src.answer('2', 2)
    await flush()
    expect(applied).toHaveLength(1)
    expect(engine.get()?.revision).toBe('1')
  })

  it('stop() during subscribe unsubscribes as soon as the subscription exists, and never fetches', async () => {
    const src = manual<number>()
    let resolveSubscribe!: (off: () => void) => void
    const off = vi.fn()
    const engine = createEngine<number>({
      topic: 't',
      subscriber: { subscribe: () => new Promise((r) => (resolveSubscribe = r)) },
      provider: src.provider,
    })
    const started = engine.start()
    engine.stop()
    resolveSubscribe(off)
    await started
    expect(off).toHaveBeenCalledTimes(1)
    expect(src.provider.getSnapshot).not.toHaveBeenCalled()
  })

  it('stop() during retry backoff ends the retries without reporting an error', async () => {
    const { src, engine, errors } = setup({ retry: backoff({ attempts: 5 }) })
    const started = engine.start()
    await flush()
    engine.stop()
    src.fetches[0]!.reject('down')
    await started
    await vi.runAllTimersAsync()
    expect(src.fetches).toHaveLength(1)
    expect(errors).toEqual([])
  })
})

describe('stop clears every timer', () => {
  it('regression: stop() during a retry backoff makes no more calls', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const { src, engine, errors } = setup({ retry: backoff({ attempts: 5, baseDelayMs: 100 }) })
    const started = engine.start()
    await flush()
    src.fetches[0]!.reject('IPC down')
    await vi.advanceTimersByTimeAsync(20) // inside the 50 ms backoff
    engine.stop()
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(src.fetches).toHaveLength(1)
    await started // settles at once, with nothing to report
    expect(errors).toEqual([])
  })

  it('regression: with backoff(), stop() clears the time-out of the fetch in flight and settles start() at once', async () => {
    const { src, engine, errors } = setup({ retry: backoff({ attempts: 3, timeoutMs: 1000 }) })
    const started = engine.start()
    await flush()
    expect(vi.getTimerCount()).toBe(1) // the time-out of the attempt in flight
    engine.stop()
    expect(vi.getTimerCount()).toBe(0)
    await started
    src.answer('1', 1) // the late answer is not applied
    await flush()
    expect(engine.get()).toBeUndefined()
    expect(errors).toEqual([])
  })

  it.each([
    ['answers', (src: ReturnType<typeof manual<number>>) => src.answer('1', 1)],
    ['fails', (src: ReturnType<typeof manual<number>>) => src.fetches[0]!.reject(new Error('offline'))],
  ] as const)('without retry, stop() leaves the try in flight alone; when it %s, nothing applies or is reported, and its time-out goes', async (_, settle) => {
    const { src, engine, errors, applied } = setup()
    let done = false
    const started = engine.start().then(() => (done = true))
    await flush()
    expect(vi.getTimerCount()).toBe(1) // the time-out of the one try
    engine.stop()
    await flush()
    expect(vi.getTimerCount()).toBe(1) // stop() does not end the try, nor its time-out
    expect(done).toBe(false)
    settle(src)
    await started
    expect(vi.getTimerCount()).toBe(0)
    expect(engine.get()).toBeUndefined()
    expect(applied).toEqual([])
    expect(errors).toEqual([])
    expect(src.fetches).toHaveLength(1)
  })

  it('regression: without retry, a provider that throws at once leaves no time-out behind', async () => {
    const src = manual<number>()
    const errors: unknown[] = []
    const engine = createEngine<number>({
      topic: 't',
      subscriber: src.subscriber,
      provider: {
        getSnapshot: () => {
          throw new Error('no provider')
        },
      },
      onError: (ctx) => void errors.push(ctx.phase),
      resyncOnFocus: false,
    })
    await expect(engine.start()).rejects.toMatchObject({ code: 'IPC', message: 'no provider' })
    expect(vi.getTimerCount()).toBe(0)
    expect(errors).toEqual(['snapshot'])
    engine.stop()
  })

  it('without retry, one try that takes longer than 10 s fails with TIMEOUT, and the next event fetches again', async () => {
    const { src, engine, errors } = setup()
    const started = engine.start()
    const failed = expect(started).rejects.toMatchObject({ code: 'TIMEOUT' })
    await flush()
    await vi.advanceTimersByTimeAsync(10_000)
    await failed
    expect(errors.map((e) => [e.phase, e.error.code])).toEqual([['snapshot', 'TIMEOUT']])
    src.emit('1')
    await flush()
    src.answer('1', 1)
    await flush()
    expect(engine.get()).toEqual({ revision: '1', data: 1 })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('regression: stop() clears a pending debounce', async () => {
    const { src, engine } = await hydrated({ throttling: throttle({ debounceMs: 100 }) })
    src.emit('2')
    expect(vi.getTimerCount()).toBe(1)
    engine.stop()
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(1000)
    expect(src.fetches).toHaveLength(1)
  })

  it('stop() clears a pending throttle and the resync interval, and a write settling later arms nothing', async () => {
    const { src, engine } = await hydrated({ throttling: throttle({ throttleMs: 100 }), resyncIntervalMs: 500 })
    src.emit('2') // leading: fetches at once, then the throttle window is open
    const write = engine.hold(() => new Promise<void>((r) => setTimeout(r, 50)))
    src.emit('3') // noted during the write
    engine.stop()
    // Left: the write's own timer, and the time-out of the try in flight,
    // which goes when that try settles.
    expect(vi.getTimerCount()).toBe(2)
    src.answer('2', 2)
    await flush()
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(50)
    await write
    expect(vi.getTimerCount()).toBe(0)
    expect(src.fetches).toHaveLength(2)
  })
})

describe('errors', () => {
  it('reports a failed subscription in the subscribe phase', async () => {
    const src = manual<number>()
    const onError = vi.fn()
    const engine = createEngine<number>({
      topic: 't',
      subscriber: { subscribe: () => Promise.reject(otherWindows('event', 'listen', 'second', 'main', 'default')) },
      provider: src.provider,
      onError,
    })
    await expect(engine.start()).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ phase: 'subscribe', topic: 't' }))
  })

  it('reports an event with a malformed revision in the protocol phase and ignores it', async () => {
    const { src, engine, errors } = await hydrated()
    src.emit('02')
    src.emit(42 as unknown as string)
    await vi.runAllTimersAsync()
    expect(errors.map((e) => [e.phase, e.error.code, (e.error.details as { value: unknown }).value])).toEqual([
      ['protocol', 'PROTOCOL', '02'],
      ['protocol', 'PROTOCOL', 42],
    ])
    expect(src.fetches).toHaveLength(1)
  })

  it('reports a snapshot with a malformed revision in the protocol phase and does not apply it', async () => {
    const { src, engine, errors, applied } = setup()
    const started = engine.start()
    await flush()
    src.fetches[0]!.resolve({ revision: 3 as unknown as string, data: 1 })
    await expect(started).rejects.toMatchObject({ code: 'PROTOCOL' })
    expect(errors.map((e) => e.phase)).toEqual(['protocol'])
    expect(applied).toEqual([])
  })

  it('regression: a snapshot answer without data is a protocol error and applies nothing', async () => {
    const { src, engine, errors, applied } = await hydrated()
    src.emit('2')
    await flush()
    src.fetches[1]!.resolve({ revision: '2' } as Snapshot<number>)
    await vi.runAllTimersAsync()
    expect(errors.map((e) => [e.phase, e.error.code, e.error.message])).toEqual([['protocol', 'PROTOCOL', 'snapshot without data']])
    expect(errors[0]!.error.details).toEqual({ value: { revision: '2' } })
    expect(engine.get()).toEqual({ revision: '1', data: 1 })
    expect(applied).toHaveLength(1)
    // The first load too: `start` rejects and nothing is applied.
    const fresh = setup()
    const started = fresh.engine.start()
    await flush()
    fresh.src.fetches[0]!.resolve({ revision: '1', data: undefined } as unknown as Snapshot<number>)
    await expect(started).rejects.toMatchObject({ code: 'PROTOCOL', message: 'snapshot without data' })
    expect(fresh.engine.get()).toBeUndefined()
  })

  it('regression: events that are not objects with a canonical revision are reported in the protocol phase', async () => {
    const { src, errors } = await hydrated()
    const handler = src.subscriber.subscribe.mock.calls[0]![0]
    const events = [null, 'x', 42, { topic: 't' }, { topic: 't', revision: 2 }]
    for (const event of events) handler(event as never)
    await vi.runAllTimersAsync()
    expect(errors.map((e) => [e.phase, e.error.code, e.error.message, (e.error.details as { value: unknown }).value])).toEqual(
      [undefined, undefined, undefined, undefined, 2].map((value) => ['protocol', 'PROTOCOL', 'invalid revision', value]),
    )
    expect(src.fetches).toHaveLength(1) // none of them caused a fetch
  })

  it("the engine reads an event's revision, not its topic: its subscriber is the topic's", async () => {
    const { src, errors } = await hydrated()
    const handler = src.subscriber.subscribe.mock.calls[0]![0]
    handler({ revision: '2', sourceId: '@rust' } as never)
    await flush()
    expect(errors).toEqual([])
    expect(src.fetches).toHaveLength(2)
  })

  it('a listener that throws is reported in the apply phase and others still run', async () => {
    const { engine, errors, applied } = setup()
    engine.subscribe(() => {
      throw new Error('render failed')
    })
    const after = vi.fn()
    engine.subscribe(after)
    engine.dispatch({ type: 'snapshot', revision: '1', data: 1 })
    expect(errors.map((e) => [e.phase, e.error.message])).toEqual([['apply', 'render failed']])
    expect(applied).toHaveLength(1)
    expect(after).toHaveBeenCalledTimes(1)
  })

  it('an onError that throws does not break the engine', async () => {
    const { src, engine } = setup({
      onError: () => {
        throw new Error('bad handler')
      },
    })
    const started = engine.start()
    await flush()
    src.emit('x')
    src.answer('1', 1)
    await started
    expect(engine.get()?.revision).toBe('1')
  })

  it('without onError, errors go to console.error', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    const src = manual<number>()
    const engine = createEngine<number>({ topic: 't', subscriber: src.subscriber, provider: src.provider })
    engine.dispatch({ type: 'snapshot', revision: '1', data: 1 })
    engine.subscribe(() => {
      throw new Error('x')
    })
    engine.dispatch({ type: 'snapshot', revision: '2', data: 2 })
    expect(spy).toHaveBeenCalledWith('state-sync: apply', expect.objectContaining({ topic: 't' }))
  })
})

describe('healing', () => {
  it('resyncs when the window regains focus', async () => {
    const { src, engine } = await hydrated()
    window.dispatchEvent(new Event('focus'))
    await flush()
    expect(src.fetches).toHaveLength(2)
    src.answer('3', 3)
    await flush()
    expect(engine.get()?.revision).toBe('3')
    engine.stop()
  })

  it('resyncs when the document becomes visible, not when it is hidden', async () => {
    const { src, engine } = await hydrated()
    const state = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden')
    document.dispatchEvent(new Event('visibilitychange'))
    await flush()
    expect(src.fetches).toHaveLength(1)
    state.mockReturnValue('visible')
    document.dispatchEvent(new Event('visibilitychange'))
    await flush()
    expect(src.fetches).toHaveLength(2)
    engine.stop()
  })

  it('resyncs on an interval when asked to', async () => {
    const { src, engine } = await hydrated({ resyncIntervalMs: 1000 })
    await vi.advanceTimersByTimeAsync(999)
    expect(src.fetches).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(src.fetches).toHaveLength(2)
    engine.stop()
    await vi.advanceTimersByTimeAsync(5000)
    expect(src.fetches).toHaveLength(2)
  })

  it('resyncOnFocus: false leaves focus alone', async () => {
    const { src, engine } = await hydrated({ resyncOnFocus: false })
    window.dispatchEvent(new Event('focus'))
    await flush()
    expect(src.fetches).toHaveLength(1)
    engine.stop()
  })

  it('stop() removes the focus and visibility listeners', async () => {
    const { src, engine } = await hydrated()
    engine.stop()
    window.dispatchEvent(new Event('focus'))
    document.dispatchEvent(new Event('visibilitychange'))
    await flush()
    expect(src.fetches).toHaveLength(1)
  })

  it('a missed event is healed by the next focus', async () => {
    const { src, engine } = await hydrated()
    // The backend moved to revision 2 but the event was dropped.
    window.dispatchEvent(new Event('focus'))
    await flush()
    src.answer('2', 2)
    await flush()
    expect(engine.get()).toEqual({ revision: '2', data: 2 })
    engine.stop()
  })
})

describe('throttled events', () => {
  it('without throttling, every event newer than the state fetches at once, with no timer', async () => {
    const { src, engine } = await hydrated()
    for (let r = 2; r <= 4; r++) {
      src.emit(String(r))
      expect(vi.getTimerCount()).toBe(1) // the fetch's own time-out, nothing waiting to fire
      await flush()
      expect(src.fetches).toHaveLength(r)
      src.answer(String(r), r)
      await flush()
    }
    expect(engine.get()).toEqual({ revision: '4', data: 4 })
  })

  it('an opted-in throttle fetches at the first event, then at most once per period', async () => {
    const { src, engine } = await hydrated({ throttling: throttle({ throttleMs: 100 }) })
    const fetchedAt: number[] = []
    const start = Date.now()
    let backend = 1
    src.provider.getSnapshot.mockImplementation(() => {
      fetchedAt.push(Date.now() - start)
      return Promise.resolve({ revision: String(backend), data: backend })
    })
    for (let t = 0; t < 10; t++) {
      src.emit(String(++backend)) // an event every 30 ms, 0..270
      await vi.advanceTimersByTimeAsync(30)
    }
    await vi.advanceTimersByTimeAsync(200)
    expect(fetchedAt).toEqual([0, 100, 200, 300])
    expect(engine.get()?.revision).toBe('11')
  })

  it('a debounced burst of events costs one fetch after the quiet period', async () => {
    const { src, engine } = await hydrated({ throttling: throttle({ debounceMs: 100 }) })
    for (let r = 2; r <= 10; r++) {
      src.emit(String(r))
      await vi.advanceTimersByTimeAsync(50)
    }
    expect(src.fetches).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(100)
    expect(src.fetches).toHaveLength(2)
  })
})
