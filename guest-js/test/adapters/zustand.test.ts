import { describe, expect, it, vi } from 'vitest'
import { createStore } from 'zustand/vanilla'
import { bindZustand, createZustandSnapshotApplier } from '../../src/adapters/zustand'
import { describeAdapter } from './contract'
import { type Data, observed, plain, world } from './world'

type State = Data & { bump(): void }

function make(initial: Data) {
  const store = createStore<State>()((set) => ({ ...initial, bump: () => set((s) => ({ count: (s.count as number) + 1 })) }))
  const { seen, see } = observed()
  see(store.getState().theme)
  store.subscribe((s) => see(s.theme))
  return { store, seen }
}

describeAdapter('Zustand', (initial) => {
  const { store, seen } = make(initial)
  return {
    bind: (topic, options) => bindZustand(store, topic, options),
    applier: (options) => createZustandSnapshotApplier(store, options),
    data: () => plain(store.getState()),
    raw: (key) => store.getState()[key],
    set: (key, value) => store.setState({ [key]: value }),
    remove: (key) =>
      store.setState((s) => {
        const next = { ...s }
        delete next[key]
        return next
      }, true),
    bump: () => store.getState().bump(),
    seen,
  }
})

describe('Zustand adapter, store specifics', () => {
  it('applies a snapshot in one setState, so a subscriber fires once per snapshot', async () => {
    vi.useFakeTimers()
    const w = world({ a: 1, b: 2, c: 3 })
    const { store } = make({})
    const listener = vi.fn()
    store.subscribe(listener)
    bindZustand(store, w.open(), { mode: 'replace' })
    await vi.advanceTimersByTimeAsync(100)
    expect(listener).toHaveBeenCalledTimes(1)
    expect(typeof store.getState().bump).toBe('function')
    vi.useRealTimers()
  })
})
