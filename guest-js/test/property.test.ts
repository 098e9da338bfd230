// Property test over random schedules of writes, Rust changes, refreshes,
// focus, event faults and call failures.
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isNewer } from '../src/protocol'
import { backoff } from '../src/retry'
import { topic } from '../src/topic'
import { Backend } from './support/backend'
import { network, prng } from './support/network'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

type Doc = Record<string, number>

const step = fc.record({
  window: fc.nat({ max: 2 }),
  op: fc.constantFrom('patch', 'set', 'increment', 'rust', 'refresh', 'focus'),
  gap: fc.nat({ max: 40 }),
})

describe('property', () => {
  it('for any schedule: every window ends at the backend state, applies strictly increasing revisions, and no write is lost', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.record({
          seed: fc.integer(),
          jitterMs: fc.integer({ min: 0, max: 50 }),
          drop: fc.double({ min: 0, max: 0.5, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 0.5, noNaN: true }),
          fail: fc.double({ min: 0, max: 0.2, noNaN: true }),
        }),
        async (steps, { seed, ...faults }) => {
          const backend = new Backend({ doc: {}, counter: 0 })
          const net = network(backend, prng(seed), faults)
          const windows = [0, 1, 2].map((w) => {
            const options = { transport: net.transport('w' + w), onError: () => {}, resyncIntervalMs: 1000, retry: backoff({ attempts: 8 }) }
            const handle = { doc: topic<Doc>('doc', options), counter: topic<number>('counter', options), applied: new Map<string, string[]>() }
            handle.applied.set('doc', [])
            handle.applied.set('counter', [])
            handle.doc.subscribe(({ revision }) => handle.applied.get('doc')!.push(revision))
            handle.counter.subscribe(({ revision }) => handle.applied.get('counter')!.push(revision))
            return handle
          })

          const pending: Promise<unknown>[] = []
          const written = new Set<string>() // keys whose patch or set succeeded
          let increments = 0
          for (const [i, s] of steps.entries()) {
            const w = windows[s.window]!
            switch (s.op) {
              case 'patch':
                pending.push(w.doc.patch({ ['p' + i]: i }).then(() => written.add('p' + i), () => {}))
                break
              case 'set': {
                // Compare-and-set on what the window sees, keeping every key it knows.
                const current = w.doc.get()
                if (current)
                  pending.push(
                    w.doc.set({ ...current.data, ['s' + i]: i }, { expectedRevision: current.revision }).then(
                      () => written.add('s' + i),
                      () => {},
                    ),
                  )
                break
              }
              case 'increment':
                pending.push(w.counter.update((n) => n + 1).then(() => increments++, () => {}))
                break
              case 'rust':
                backend.rust('counter', Number(backend.snapshot('counter').data) + 1000)
                break
              case 'refresh':
                w.doc.refresh().catch(() => {})
                break
              case 'focus':
                window.dispatchEvent(new Event('focus'))
                break
            }
            await vi.advanceTimersByTimeAsync(s.gap)
          }
          await vi.advanceTimersByTimeAsync(20_000)
          await Promise.all(pending)

          const doc = backend.snapshot('doc')
          const counter = backend.snapshot('counter')
          // No write lost: every successful increment counts, and every key a
          // successful patch or compare-and-set wrote is in the final data (a
          // compare-and-set copies the data at the revision it is based on).
          expect(counter.data).toBe(increments + 1000 * steps.filter((s) => s.op === 'rust').length)
          for (const key of written) expect(doc.data).toHaveProperty(key)
          expect(Object.keys(doc.data as Doc).sort()).toEqual([...written].sort())
          for (const w of windows) {
            expect(w.doc.get()).toEqual(doc)
            expect(w.counter.get()).toEqual(counter)
            for (const revisions of w.applied.values())
              for (let i = 1; i < revisions.length; i++) expect(isNewer(revisions[i]!, revisions[i - 1])).toBe(true)
            w.doc.stop()
            w.counter.stop()
          }
        },
      ),
      { numRuns: 60 },
    )
  })
})
