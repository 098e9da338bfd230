import { describe, expect, it, vi } from 'vitest'
import { proxy, snapshot, subscribe } from 'valtio/vanilla'
import { bindValtio, createValtioSnapshotApplier } from '../../src/adapters/valtio'
import { describeAdapter } from './contract'
import { type Data, observed, plain, world } from './world'

function make(initial: Data) {
  const state: Data & { bump(): void } = proxy({
    ...initial,
    bump() {
      state.count = (state.count as number) + 1
    },
  })
  const { seen, see } = observed()
  see(state.theme)
  subscribe(state, () => see(state.theme))
  return { state, seen }
}

describeAdapter('Valtio', (initial) => {
  const { state, seen } = make(initial)
  return {
    bind: (topic, options) => bindValtio(state, topic, options),
    applier: (options) => createValtioSnapshotApplier(state, options),
    data: () => plain(state),
    raw: (key) => (state as Data)[key],
    set: (key, value) => void (state[key] = value),
    remove: (key) => void delete state[key],
    bump: () => state.bump(),
    seen,
  }
})

describe('Valtio adapter, proxy specifics', () => {
  it('updates nested objects inside the same proxy, so snapshots taken before stay unchanged', async () => {
    vi.useFakeTimers()
    const w = world({ font: { size: 12 } })
    const { state } = make({})
    bindValtio(state, w.open())
    await vi.advanceTimersByTimeAsync(100)
    const before = snapshot(state)
    w.rust({ font: { size: 14 } })
    await vi.advanceTimersByTimeAsync(100)
    expect(before.font).toEqual({ size: 12 })
    expect(snapshot(state).font).toEqual({ size: 14 })
    ;(state.font as { size: number }).size = 16
    await vi.advanceTimersByTimeAsync(100)
    expect(w.writes.map((x) => x.value)).toEqual([{ font: { size: 16 } }])
    vi.useRealTimers()
  })
})
