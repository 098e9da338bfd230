import { describe, expect, it, vi } from 'vitest'
import { createPinia, defineStore, setActivePinia } from 'pinia'
import { createApp, watch } from 'vue'
import { bindPinia, createPiniaSnapshotApplier, createStateSyncPlugin } from '../../src/adapters/pinia'
import { describeAdapter } from './contract'
import { type Data, observed, plain, world } from './world'

let id = 0

describeAdapter('Pinia', (initial) => {
  setActivePinia(createPinia())
  const useStore = defineStore('store' + id++, {
    state: (): Data => ({ ...initial }),
    actions: {
      // Through $state: keys the snapshot adds after the store was created live
      // in $state only (declare keys in state() to have them on the store).
      bump() {
        this.$state.count = (this.$state.count as number) + 1
      },
    },
  })
  const store = useStore()
  const { seen, see } = observed()
  see(store.$state.theme)
  watch(() => store.$state.theme, see)
  return {
    bind: (topic, options) => bindPinia(store, topic, options),
    applier: (options) => createPiniaSnapshotApplier(store, options),
    data: () => plain(store.$state),
    raw: (key) => (store.$state as Data)[key],
    set: (key, value) => store.$patch((s: Data) => void (s[key] = value)),
    remove: (key) => store.$patch((s: Data) => void delete s[key]),
    bump: () => store.bump(),
    seen,
  }
})

describe('Pinia adapter, store specifics', () => {
  it('the plugin binds a store defined with a stateSync option, getters follow, and $stateSync reports hydration', async () => {
    vi.useFakeTimers()
    const w = world({ theme: 'dark', extra: 1 })
    const pinia = createPinia()
    createApp({}).use(pinia)
    pinia.use(createStateSyncPlugin())
    const transport = w.transport('main')
    const useSettings = defineStore('plugin-settings', {
      state: () => ({ theme: 'light' }),
      getters: { dark: (s) => s.theme === 'dark' },
      actions: {
        toggle() {
          this.theme = this.theme === 'dark' ? 'light' : 'dark'
        },
      },
      stateSync: { topic: 'settings', mode: 'replace', transport, onError: () => {} },
    })
    const settings = useSettings(pinia)
    expect(settings.$stateSync?.hydrated).toBe(false)
    await vi.advanceTimersByTimeAsync(100)
    expect(settings.$stateSync?.hydrated).toBe(true)
    expect(settings.$state).toEqual({ theme: 'dark', extra: 1 })
    expect(settings.dark).toBe(true)
    settings.toggle()
    await vi.advanceTimersByTimeAsync(100)
    expect(w.writes.map((x) => x.value)).toEqual([{ theme: 'light' }])
    expect(w.data()).toEqual({ theme: 'light', extra: 1 })
    settings.$stateSync?.stop()
    w.rust({ theme: 'dark' })
    await vi.advanceTimersByTimeAsync(100)
    expect(settings.theme).toBe('light')
    vi.useRealTimers()
  })

  it('stores without a stateSync option are left alone by the plugin', () => {
    const pinia = createPinia()
    createApp({}).use(pinia)
    pinia.use(createStateSyncPlugin())
    const store = defineStore('plain-store', { state: () => ({ n: 1 }) })(pinia)
    expect(store.$stateSync).toBeUndefined()
  })
})
