/// <reference types="svelte" />
import { flushSync } from 'svelte'
import { get, writable } from 'svelte/store'
import { describe, expect, it, vi } from 'vitest'
import { bindState, bindWritable, createSvelteSnapshotApplier } from '../../src/adapters/svelte'
import { describeAdapter } from './contract'
import { createSettings } from './runes.svelte'
import { type Data, observed, plain, world } from './world'

// The usual custom-store shape: a writable plus actions on the store object.
function settingsStore(initial: Data) {
  const store = writable<Data>({ ...initial })
  return { ...store, bump: () => store.update((s) => ({ ...s, count: (s.count as number) + 1 })) }
}

describeAdapter('Svelte writable', (initial) => {
  const store = settingsStore(initial)
  const { seen, see } = observed()
  store.subscribe((s) => see(s.theme))
  return {
    bind: (topic, options) => bindWritable(store, topic, options),
    applier: (options) => createSvelteSnapshotApplier(store, options),
    data: () => plain(get(store)),
    raw: (key) => (get(store) as Data)[key],
    set: (key, value) => store.update((s) => ({ ...s, [key]: value })),
    remove: (key) =>
      store.update((s) => {
        const next = { ...s }
        delete next[key]
        return next
      }),
    bump: () => store.bump(),
    seen,
  }
})

describeAdapter('Svelte runes ($state)', (initial) => {
  const { settings, seen } = createSettings(initial)
  flushSync()
  return {
    bind: (topic, options) => bindState(settings, topic, options),
    applier: (options) => createSvelteSnapshotApplier(settings, options),
    // A $state proxy holds a "__proto__" key added later, and its readers see it, but it
    // does not list it among its own keys (Object.prototype has that name), so it is read explicitly.
    data: () => plain(Object.hasOwn(settings, '__proto__') ? { ...settings, ['__proto__']: settings['__proto__'] } : settings),
    raw: (key) => (settings as Data)[key],
    set: (key, value) => void (settings[key] = value),
    remove: (key) => void delete settings[key],
    bump: () => settings.bump(),
    seen,
  }
})

describe('Svelte adapter, runes specifics', () => {
  it('a $derived over the bound $state follows remote changes, and a local change through an action is written', async () => {
    vi.useFakeTimers()
    const w = world({ theme: 'light', count: 0 })
    const { settings, derived, stop } = createSettings({})
    const binding = bindState(settings, w.open(), { mode: 'replace' })
    await vi.advanceTimersByTimeAsync(100)
    w.rust({ theme: 'dark', count: 0 })
    await vi.advanceTimersByTimeAsync(100)
    expect(derived).toEqual([false, true])
    settings.bump()
    await vi.advanceTimersByTimeAsync(100)
    expect(w.writes.map((x) => x.value)).toEqual([{ count: 1 }])
    expect(typeof settings.bump).toBe('function')
    binding.stop()
    stop()
    vi.useRealTimers()
  })
})
