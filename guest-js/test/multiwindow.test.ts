// Several windows, one simulated backend with jitter, reordering, duplicated
// and dropped events and failing calls: every run converges.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isNewer } from '../src/protocol'
import { backoff } from '../src/retry'
import { topic, type TopicHandle } from '../src/topic'
import { Backend } from './support/backend'
import { network, prng } from './support/network'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

type Board = Record<string, number>

describe('simulated multi-window app', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('converges to the backend state despite jitter, reordering, duplicates and drops (seed %i)', async (seed) => {
    const rand = prng(seed)
    const backend = new Backend({ board: {}, counter: 0 })
    const net = network(backend, rand, { jitterMs: 30, drop: 0.25, duplicate: 0.25, fail: 0.05 })
    const windows = Array.from({ length: 4 }, (_, w) => {
      const options = { transport: net.transport('w' + w), onError: () => {}, resyncIntervalMs: 2000, retry: backoff({ attempts: 6 }) }
      return { board: topic<Board>('board', options), counter: topic<number>('counter', options), applied: [] as string[] }
    })
    for (const w of windows) w.board.subscribe(({ revision }) => w.applied.push(revision))

    const writes: Promise<unknown>[] = []
    let successfulPatches = 0
    let successfulIncrements = 0
    for (let i = 0; i < 60; i++) {
      const w = windows[Math.floor(rand() * windows.length)]!
      const r = rand()
      if (r < 0.4) writes.push(w.board.patch({ ['k' + i]: i }).then(() => successfulPatches++, () => {}))
      else if (r < 0.7) writes.push(w.counter.update((n) => n + 1).then(() => successfulIncrements++, () => {}))
      else if (r < 0.85) backend.rust('board', { ...(backend.snapshot('board').data as Board), rust: i })
      else w.board.refresh().catch(() => {})
      await vi.advanceTimersByTimeAsync(Math.floor(rand() * 20))
    }
    await vi.advanceTimersByTimeAsync(10_000)
    await Promise.all(writes)

    expect(net.dropped).toBeGreaterThan(0)
    const board = backend.snapshot('board')
    const counter = backend.snapshot('counter')
    expect(Object.keys(board.data as Board).filter((k) => k.startsWith('k'))).toHaveLength(successfulPatches)
    expect(counter.data).toBe(successfulIncrements)
    for (const w of windows) {
      expect(w.board.get()).toEqual(board)
      expect(w.counter.get()).toEqual(counter)
      for (let i = 1; i < w.applied.length; i++) expect(isNewer(w.applied[i]!, w.applied[i - 1])).toBe(true)
      w.board.stop()
      w.counter.stop()
    }
  })

  it('handles that were stopped keep their last state and apply nothing more', async () => {
    const backend = new Backend({ board: {} })
    const net = network(backend, prng(42), { jitterMs: 10, drop: 0, duplicate: 0, fail: 0 })
    const a: TopicHandle<Board> = topic('board', { transport: net.transport('a'), onError: () => {} })
    await vi.advanceTimersByTimeAsync(100)
    await a.ready
    a.stop()
    backend.rust('board', { x: 1 })
    await vi.advanceTimersByTimeAsync(100)
    expect(a.get()).toEqual({ revision: '0', data: {} })
  })
})
