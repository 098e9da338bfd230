// Deltas in the window: the reducer's `delta` action and its one gate,
// pushed changes on the channel, pulls since the local revision, own writes
// and their echo in both orders, and the compat path that ignores pushes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRevisionSync } from '../src/compat'
import { createEngine, type EngineOptions, type SyncErrorContext } from '../src/engine'
import type { CatchUp, JsonPatch, PushedInvalidation, Revision, Snapshot, PatchOutcome } from '../src/protocol'
import type { Transport } from '../src/tauri'
import { topic } from '../src/topic'
import { deferred, flush, manual } from './support/manual'

type Doc = Record<string, unknown>

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** An engine hydrated at revision "1" with `data`. */
async function hydrated(data: Doc = { a: { x: 1 }, b: { y: 2 } }, options: Partial<EngineOptions<Doc>> = {}) {
  const src = manual<Doc>()
  const errors: SyncErrorContext[] = []
  const engine = createEngine<Doc>({
    topic: 't',
    subscriber: src.subscriber,
    provider: src.provider,
    onError: (ctx) => errors.push(ctx),
    resyncOnFocus: false,
    ...options,
  })
  const applied: Snapshot<Doc>[] = []
  engine.subscribe((s) => applied.push(s))
  const started = engine.start()
  await flush()
  src.answer('1', data)
  await started
  return { src, engine, errors, applied, initial: data }
}

const replaceX: JsonPatch = [{ op: 'replace', path: '/a/x', value: 9 }]

describe('the delta action', () => {
  it('applies a patch at exactly the local revision and shares the untouched subtrees', async () => {
    const { engine, initial } = await hydrated()
    expect(engine.dispatch({ type: 'delta', from: '1', revision: '2', patch: replaceX })).toBe(true)
    const state = engine.get()!
    expect(state).toEqual({ revision: '2', data: { a: { x: 9 }, b: { y: 2 } } })
    expect(state.data.b).toBe(initial.b)
    expect(initial).toEqual({ a: { x: 1 }, b: { y: 2 } })
  })

  it('never applies a delta at another revision than its from, nor one that is not newer', async () => {
    const { engine, applied, src } = await hydrated()
    expect(engine.dispatch({ type: 'delta', from: '0', revision: '2', patch: replaceX })).toBe(false)
    expect(engine.dispatch({ type: 'delta', from: '2', revision: '3', patch: replaceX })).toBe(false)
    expect(engine.dispatch({ type: 'delta', from: '1', revision: '1', patch: [] })).toBe(false)
    expect(engine.dispatch({ type: 'delta', from: '1', revision: '0', patch: replaceX })).toBe(false)
    expect(applied).toHaveLength(1)
    expect(engine.get()!.revision).toBe('1')
    expect(src.provider.getSnapshot).toHaveBeenCalledTimes(1)
  })

  it.each([
    ['an unsupported op', [{ op: 'move', from: '/a', path: '/c' }]],
    ['a missing path', [{ op: 'replace', path: '/a/x', value: 5 }, { op: 'remove', path: '/nope/deeper' }]],
    ['a failed test', [{ op: 'replace', path: '/a/x', value: 5 }, { op: 'test', path: '/b/y', value: 3 }]],
  ])('a delta with %s leaves the state as it was, is reported in the protocol phase, and fetches the full snapshot', async (_, patch) => {
    const { engine, errors, applied, src } = await hydrated()
    const before = engine.get()
    expect(engine.dispatch({ type: 'delta', from: '1', revision: '2', patch: patch as JsonPatch })).toBe(false)
    expect(engine.get()).toBe(before)
    expect(before!.data).toEqual({ a: { x: 1 }, b: { y: 2 } })
    expect(applied).toHaveLength(1)
    expect(errors.map((e) => [e.phase, e.error.code])).toEqual([['protocol', 'PROTOCOL']])
    await flush()
    // A full snapshot: asked without `since`.
    expect(src.provider.getSnapshot).toHaveBeenCalledTimes(2)
    expect(src.provider.getSnapshot.mock.calls[1]).toEqual([undefined])
    src.answer('2', { a: { x: 5 }, b: { y: 2 } })
    await flush()
    expect(engine.get()).toEqual({ revision: '2', data: { a: { x: 5 }, b: { y: 2 } } })
  })
})

describe('pushed deltas', () => {
  it('a pushed change at the local revision applies without a fetch', async () => {
    const { engine, src } = await hydrated()
    src.push('1', '2', replaceX)
    src.push('2', '3', [{ op: 'add', path: '/c', value: [1] }])
    expect(engine.get()).toEqual({ revision: '3', data: { a: { x: 9 }, b: { y: 2 }, c: [1] } })
    await vi.advanceTimersByTimeAsync(100)
    expect(src.provider.getSnapshot).toHaveBeenCalledTimes(1)
  })

  it('a pushed change from another revision (one was missed) falls back to a fetch since the local revision', async () => {
    const { engine, src } = await hydrated()
    src.push('2', '3', replaceX) // the change to 2 was dropped
    await flush()
    expect(src.provider.getSnapshot).toHaveBeenCalledTimes(2)
    expect(src.provider.getSnapshot.mock.calls[1]).toEqual(['1'])
    src.answerDelta('1', '3', [{ op: 'add', path: '/c', value: 1 }, ...replaceX])
    await flush()
    expect(engine.get()).toEqual({ revision: '3', data: { a: { x: 9 }, b: { y: 2 }, c: 1 } })
  })

  it('a duplicated or late pushed change is ignored: the revision was applied already', async () => {
    const { engine, src, applied } = await hydrated()
    src.push('1', '2', [{ op: 'add', path: '/n', value: 1 }])
    src.push('1', '2', [{ op: 'add', path: '/n', value: 1 }])
    src.push('2', '3', [{ op: 'replace', path: '/n', value: 2 }])
    src.push('1', '2', [{ op: 'add', path: '/n', value: 1 }])
    expect(applied.map((s) => s.revision)).toEqual(['1', '2', '3'])
    expect(engine.get()!.data.n).toBe(2)
    await vi.advanceTimersByTimeAsync(100)
    expect(src.provider.getSnapshot).toHaveBeenCalledTimes(1)
  })

  it('a pushed change whose patch does not apply is reported and the full snapshot is fetched', async () => {
    const { engine, src, errors } = await hydrated()
    src.push('1', '2', [{ op: 'remove', path: '/missing' }])
    await flush()
    expect(errors.map((e) => e.phase)).toEqual(['protocol'])
    expect(src.provider.getSnapshot.mock.calls.slice(1)).toContainEqual([undefined])
    src.answer('2', { z: 1 }, 1)
    await flush()
    expect(engine.get()).toEqual({ revision: '2', data: { z: 1 } })
  })

  it('regression: a pushed change without from before hydration is not applied to no state (found by fuzzing)', async () => {
    const src = manual<Doc>()
    const errors: SyncErrorContext[] = []
    const engine = createEngine<Doc>({ topic: 't', subscriber: src.subscriber, provider: src.provider, onError: (e) => errors.push(e), resyncOnFocus: false })
    void engine.start()
    await flush()
    src.emitRaw({ topic: 't', revision: '3', sourceId: '@rust', patch: [{ op: 'add', path: '/a', value: 1 }] } as PushedInvalidation)
    expect(engine.get()).toBeUndefined()
    expect(errors).toEqual([])
    src.answer('3', { a: 1 })
    await flush()
    expect(engine.get()).toEqual({ revision: '3', data: { a: 1 } })
    engine.stop()
  })

})

describe('pulling since the local revision', () => {
  it('the first fetch asks for the full snapshot; later ones ask since the local revision', async () => {
    const { engine, src } = await hydrated()
    expect(src.provider.getSnapshot.mock.calls[0]).toEqual([undefined])
    const refreshed = engine.refresh()
    await flush()
    expect(src.provider.getSnapshot.mock.calls[1]).toEqual(['1'])
    src.answerDelta('1', '2', replaceX)
    await refreshed
    expect(engine.get()).toEqual({ revision: '2', data: { a: { x: 9 }, b: { y: 2 } } })
  })

  it('an empty delta at the local revision changes nothing and notifies nobody', async () => {
    const { engine, src, applied } = await hydrated()
    const refreshed = engine.refresh()
    await flush()
    src.answerDelta('1', '1', [])
    await refreshed
    expect(applied).toHaveLength(1)
    expect(engine.get()!.revision).toBe('1')
  })

  it('a full snapshot answer to a since fetch applies as today', async () => {
    const { engine, src } = await hydrated()
    const refreshed = engine.refresh()
    await flush()
    src.answer('7', { fresh: true })
    await refreshed
    expect(engine.get()).toEqual({ revision: '7', data: { fresh: true } })
  })

  it('race: a pushed change applied while a since fetch was in flight makes its delta stale; the fetch goes again from the new revision', async () => {
    const { engine, src } = await hydrated()
    const refreshed = engine.refresh()
    await flush()
    src.push('1', '2', [{ op: 'add', path: '/p', value: 1 }])
    src.answerDelta('1', '3', [{ op: 'add', path: '/p', value: 1 }, { op: 'add', path: '/q', value: 1 }])
    await flush()
    // The delta from 1 no longer fits the state at 2: fetched again since 2.
    expect(src.provider.getSnapshot.mock.calls[2]).toEqual(['2'])
    src.answerDelta('2', '3', [{ op: 'add', path: '/q', value: 1 }])
    await refreshed
    expect(engine.get()).toEqual({ revision: '3', data: { a: { x: 1 }, b: { y: 2 }, p: 1, q: 1 } })
  })

  it('a pulled delta whose patch does not apply is reported, leaves the state, and the next fetch asks for the full snapshot', async () => {
    const { engine, src, errors } = await hydrated()
    const before = engine.get()
    const refreshed = engine.refresh()
    await flush()
    src.answerDelta('1', '2', [{ op: 'test', path: '/a/x', value: 'not 1' }] as unknown as JsonPatch)
    await flush()
    expect(engine.get()).toBe(before)
    expect(errors.map((e) => [e.phase, e.error.code])).toEqual([['protocol', 'PROTOCOL']])
    expect(src.provider.getSnapshot.mock.calls[2]).toEqual([undefined])
    src.answer('2', { whole: true }, 2)
    await refreshed
    expect(engine.get()).toEqual({ revision: '2', data: { whole: true } })
  })

  it('a delta answer with a malformed revision is a protocol error and applies nothing', async () => {
    const { engine, src, errors } = await hydrated()
    const refreshed = engine.refresh()
    await flush()
    src.fetches[1]!.resolve({ revision: 2 as unknown as Revision, from: '1', patch: replaceX })
    await expect(refreshed).rejects.toMatchObject({ code: 'PROTOCOL' })
    expect(errors.map((e) => e.phase)).toEqual(['protocol'])
    expect(engine.get()!.revision).toBe('1')
  })
})

describe('compat path (@statesync/core clients)', () => {
  it('an event with extra fields from and patch is a plain invalidation: ignored fields, and a pull', async () => {
    const src = manual<Doc>()
    const applied: Snapshot<Doc>[] = []
    const sync = createRevisionSync<Doc>({
      topic: 't',
      subscriber: src.subscriber,
      provider: { getSnapshot: () => src.provider.getSnapshot() as Promise<Snapshot<Doc>> },
      applier: { apply: (s) => void applied.push(s) },
      onError: () => {},
      resyncOnFocus: false,
    })
    const started = sync.start()
    await flush()
    src.answer('1', { a: 1 })
    await started
    src.push('1', '2', [{ op: 'replace', path: '/a', value: 2 }])
    await flush()
    // Not applied from the event: pulled, as @statesync/core does.
    expect(sync.getLocalRevision()).toBe('1')
    expect(src.provider.getSnapshot).toHaveBeenCalledTimes(2)
    src.answer('2', { a: 2 })
    await flush()
    expect(applied).toEqual([
      { revision: '1', data: { a: 1 } },
      { revision: '2', data: { a: 2 } },
    ])
    sync.stop()
  })
})

describe('own writes and their pushed echo', () => {
  // A transport whose write answer the test releases, and whose channel it drives.
  function ownWindow() {
    let handler: ((e: PushedInvalidation) => void) | undefined
    const outcome = deferred<PatchOutcome>()
    const snapshot = vi.fn(async (_topic: string, _since?: Revision): Promise<CatchUp<never>> => ({ revision: '1', data: { a: 1 } as never }))
    const transport: Transport = {
      subscribe: async (_topic, h) => ((handler = h), () => {}),
      snapshot,
      write: () => outcome.promise,
      act: () => Promise.reject(new Error('no actions')),
    }
    return { transport, snapshot, outcome, echo: (e: PushedInvalidation) => handler!(e) }
  }
  const echo: PushedInvalidation = { topic: 't', revision: '2', sourceId: 'me', from: '1', patch: [{ op: 'replace', path: '/a', value: 2 }] }

  it.each([
    ['echo first, outcome second: the echo applies and the outcome, no longer at its from, does not apply again', true],
    ['outcome first, echo second: the outcome is adopted and the echo, no longer at its from, is ignored', false],
  ])('%s; nothing is fetched', async (_, echoFirst) => {
    const w = ownWindow()
    const t = topic<Doc>('t', { transport: w.transport, resyncOnFocus: false })
    await t.ready
    const applied: Revision[] = []
    t.subscribe((s) => applied.push(s.revision))
    const written = t.patch({ a: 2 })
    await flush()
    if (echoFirst) w.echo(echo)
    w.outcome.resolve({ revision: '2', previousRevision: '1', exact: true, patch: echo.patch })
    await written
    if (!echoFirst) w.echo(echo)
    await vi.advanceTimersByTimeAsync(100)
    expect(applied).toEqual(['2'])
    expect(t.get()).toEqual({ revision: '2', data: { a: 2 } })
    expect(w.snapshot).toHaveBeenCalledTimes(1)
    t.stop()
  })

  it('topic() passes the engine since through the transport', async () => {
    const w = ownWindow()
    const t = topic<Doc>('t', { transport: w.transport, resyncOnFocus: false })
    await t.ready
    await t.refresh()
    expect(w.snapshot.mock.calls.map((c) => c[1])).toEqual([undefined, '1'])
    t.stop()
  })
})
