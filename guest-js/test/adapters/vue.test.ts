import { describe, expect, it, vi } from 'vitest'
import { computed, reactive, ref, watch } from 'vue'
import { bindVue, createVueSnapshotApplier } from '../../src/adapters/vue'
import { describeAdapter } from './contract'
import { type Data, observed, plain, world } from './world'

describeAdapter('Vue reactive', (initial) => {
  const state: Data & { bump(): void } = reactive({
    ...initial,
    bump() {
      state.count = (state.count as number) + 1
    },
  })
  const { seen, see } = observed()
  const theme = computed(() => state.theme)
  see(theme.value)
  watch(theme, see)
  return {
    bind: (topic, options) => bindVue(state, topic, options),
    applier: (options) => createVueSnapshotApplier(state, options),
    data: () => plain(state),
    raw: (key) => state[key],
    set: (key, value) => void (state[key] = value),
    remove: (key) => void delete state[key],
    bump: () => state.bump(),
    seen,
  }
})

describeAdapter('Vue ref', (initial) => {
  const state = ref<Data & { bump(): void }>({
    ...initial,
    bump() {
      state.value.count = (state.value.count as number) + 1
    },
  })
  const { seen, see } = observed()
  watch(() => state.value.theme, see)
  see(state.value.theme)
  return {
    bind: (topic, options) => bindVue(state, topic, options),
    applier: (options) => createVueSnapshotApplier(state, options),
    data: () => plain(state.value),
    raw: (key) => state.value[key],
    set: (key, value) => void (state.value[key] = value),
    remove: (key) => void delete state.value[key],
    bump: () => state.value.bump(),
    seen,
  }
})

describe('Vue adapter, reactivity specifics', () => {
  it('keeps the reactive object and the ref value identity, so computed values stay live', async () => {
    vi.useFakeTimers()
    const w = world({ theme: 'light' })
    const settings = ref<Data>({ theme: 'dark' })
    const object = settings.value
    const dark = computed(() => settings.value.theme === 'dark')
    bindVue(settings, w.open(), { mode: 'replace' })
    await vi.advanceTimersByTimeAsync(100)
    expect(settings.value).toBe(object)
    expect(dark.value).toBe(false)
    w.rust({ theme: 'dark' })
    await vi.advanceTimersByTimeAsync(100)
    expect(dark.value).toBe(true)
    vi.useRealTimers()
  })

  it('a deep change made in place inside a nested reactive object is written as a nested merge patch', async () => {
    vi.useFakeTimers()
    const w = world({ font: { size: 12, family: 'serif' } })
    const settings = reactive<Data>({})
    bindVue(settings, w.open())
    await vi.advanceTimersByTimeAsync(100)
    ;(settings.font as { size: number }).size = 14
    await vi.advanceTimersByTimeAsync(100)
    expect(w.writes.map((x) => x.value)).toEqual([{ font: { size: 14 } }])
    expect(w.data()).toEqual({ font: { size: 14, family: 'serif' } })
    vi.useRealTimers()
  })
})
