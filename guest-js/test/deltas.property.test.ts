// Property test of deltas: a backend with a bounded history that answers
// `since` with a delta and pushes small changes on its events, several
// windows, random writes (set, merge patch, array edits, deletions, nulls,
// nested objects), and events dropped, duplicated, reordered and delayed.
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isNewer, same } from '../src/protocol'
import { topic } from '../src/topic'
import { backoff } from '../src/retry'
import { Backend } from './support/backend'
import { network, prng } from './support/network'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

type Doc = Record<string, unknown>

const key = fc.constantFrom('a', 'b', 'c', 'list', '__proto__')
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: 0, max: 9 }),
    fc.constantFrom('x', 'y', null, true),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 3 }),
  ),
}))
const doc = fc.dictionary(key, value, { maxKeys: 4 }) as fc.Arbitrary<Doc>
const edit = fc.oneof(
  fc.record({ op: fc.constant('patch' as const), window: fc.nat({ max: 2 }), patch: doc }),
  fc.record({ op: fc.constant('set' as const), window: fc.nat({ max: 2 }), data: doc }),
  fc.record({ op: fc.constant('rust' as const), data: doc }),
  fc.record({ op: fc.constant('push' as const), item: value }),
  fc.record({ op: fc.constant('splice' as const), at: fc.nat({ max: 4 }), item: fc.option(value) }),
  fc.record({ op: fc.constant('refresh' as const), window: fc.nat({ max: 2 }) }),
)
const step = fc.tuple(edit, fc.nat({ max: 30 }))

describe('deltas property', () => {
  it('for any schedule: every window ends deep-equal to the backend, applies strictly increasing revisions, and every state it applies is the backend state at that revision', async () => {
    // Across the runs, deltas were really pulled and pushed (not only snapshots).
    let pulled = 0
    let pushed = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 30 }),
        fc.record({
          seed: fc.integer(),
          historyLimit: fc.nat({ max: 6 }),
          pushLimit: fc.constantFrom(-1, 40, 200, 10_000),
          jitterMs: fc.integer({ min: 0, max: 40 }),
          drop: fc.double({ min: 0, max: 0.4, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 0.4, noNaN: true }),
        }),
        async (steps, { seed, historyLimit, pushLimit, ...faults }) => {
          const backend = new Backend({ doc: { list: [] } })
          Object.assign(backend, { historyLimit, pushLimit })
          const read = backend.snapshot.bind(backend)
          backend.snapshot = (name, since) => {
            const answer = read(name, since)
            if ('patch' in answer && answer.patch.length) pulled++
            return answer
          }
          const net = network(backend, prng(seed), { ...faults, fail: 0.05 })
          const windows = [0, 1, 2].map((w) => {
            const handle = topic<Doc>('doc', { transport: net.transport('w' + w), onError: () => {}, resyncIntervalMs: 1000, retry: backoff({ attempts: 8 }) })
            const applied: string[] = []
            const wrong: string[] = []
            handle.subscribe(({ revision, data }) => {
              applied.push(revision)
              // A delta applied at the wrong `from` would give other data at this revision.
              if (!same(data, backend.states.get('doc/' + revision))) wrong.push(revision)
            })
            return { handle, applied, wrong }
          })
          const current = () => backend.snapshot('doc').data as Doc
          const list = () => (Array.isArray(current().list) ? [...(current().list as unknown[])] : [])
          const pending: Promise<unknown>[] = []
          for (const [s, gap] of steps) {
            switch (s.op) {
              case 'patch':
                pending.push(windows[s.window]!.handle.patch(s.patch).catch(() => {}))
                break
              case 'set': {
                const at = windows[s.window]!.handle.get()
                if (at) pending.push(windows[s.window]!.handle.set(s.data, { expectedRevision: at.revision }).catch(() => {}))
                break
              }
              case 'rust':
                backend.rust('doc', s.data)
                break
              case 'push':
                backend.rust('doc', { ...current(), list: [...list(), s.item] })
                break
              case 'splice': {
                const items = list()
                if (s.item === null) items.splice(s.at, 1)
                else items.splice(s.at, 0, s.item)
                backend.rust('doc', { ...current(), list: items })
                break
              }
              case 'refresh':
                windows[s.window]!.handle.refresh().catch(() => {})
                break
            }
            await vi.advanceTimersByTimeAsync(gap)
          }
          await vi.advanceTimersByTimeAsync(20_000)
          await Promise.all(pending)

          pushed += backend.changes.filter((c) => 'patch' in c).length
          const final = backend.snapshot('doc')
          for (const w of windows) {
            expect(w.handle.get()).toEqual(final)
            expect(w.wrong).toEqual([])
            for (let i = 1; i < w.applied.length; i++) expect(isNewer(w.applied[i]!, w.applied[i - 1])).toBe(true)
            w.handle.stop()
          }
        },
      ),
      { numRuns: 100 },
    )
    expect(pulled).toBeGreaterThan(0)
    expect(pushed).toBeGreaterThan(0)
  })
})
