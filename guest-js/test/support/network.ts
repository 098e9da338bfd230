// A simulated IPC between one Backend and several windows, on fake timers:
// every call and every event is delayed by a random jitter (so they reorder),
// events can be duplicated or dropped, and calls can fail before they reach
// the backend. Randomness comes from a seeded generator, so runs replay.
import type { Transport } from '../../src/tauri'
import type { Invalidation } from '../../src/protocol'
import type { Backend } from './backend'

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Faults {
  /** Largest delay of one hop, in ms. */
  jitterMs: number
  /** Probability that an event is not delivered to a window. */
  drop: number
  /** Probability that an event is delivered twice. */
  duplicate: number
  /** Probability that a call fails (with an IPC error) before reaching the backend. */
  fail: number
}

export function network(backend: Backend, rand: () => number, faults: Faults) {
  const listeners = new Map<string, Set<(event: Invalidation) => void>>()
  const hop = () => new Promise<void>((r) => setTimeout(r, Math.floor(rand() * faults.jitterMs)))
  const call = async <R>(run: () => R): Promise<R> => {
    await hop()
    if (rand() < faults.fail) throw 'connection reset'
    const answer = run()
    await hop()
    return answer
  }
  let dropped = 0
  backend.emit = (event) => {
    for (const handler of [...(listeners.get(event.topic) ?? [])]) {
      if (rand() < faults.drop) {
        dropped++
        continue
      }
      const copies = rand() < faults.duplicate ? 2 : 1
      for (let i = 0; i < copies; i++) setTimeout(() => handler(event), Math.floor(rand() * faults.jitterMs))
    }
  }
  return {
    get dropped() {
      return dropped
    },
    /** The transport of the window labelled `label`. */
    transport(label: string): Transport {
      return {
        async subscribe(topic, handler) {
          await hop()
          const set = listeners.get(topic) ?? new Set()
          listeners.set(topic, set.add(handler))
          return () => void set.delete(handler)
        },
        snapshot: (topic, since) => call(() => backend.snapshot(topic, since)) as never,
        write: (topic, kind, value, expectedRevision) =>
          call(() => backend.write(label, topic, kind, value, expectedRevision)),
        act: (topic, action, args) => call(() => backend.act(label, topic, action, args)),
      }
    },
  }
}
