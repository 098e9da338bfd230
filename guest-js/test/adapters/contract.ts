// The behaviour every adapter must show, run once per adapter against the real
// framework. Each adapter's test file supplies a Harness that builds a real
// store and observes it through the framework's own reactivity (a Vue
// watch/computed, a Zustand or Svelte store subscriber, a rune $effect, a
// Valtio subscribe).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRevisionSync } from '../../src/compat'
import type { SnapshotApplier } from '../../src/compat'
import { isStateSyncError } from '../../src/errors'
import { throttle } from '../../src/throttle'
import type { Transport } from '../../src/tauri'
import type { ApplierOptions, Binding, BindOptions } from '../../src/adapters/shared/bind'
import type { TopicHandle } from '../../src/topic'
import { manual } from '../support/manual'
import { type Data, world } from './world'

export interface Harness {
  bind(topic: TopicHandle<Data> | string, options?: BindOptions<Data>): Binding
  applier(options?: ApplierOptions<Data>): SnapshotApplier<Data>
  /** The store's state as plain data (functions left out). */
  data(): Data
  /** The store's own value at `key`, as the framework holds it (a proxy in reactive ones). */
  raw(key: string): unknown
  /** A local change made the framework's usual way. */
  set(key: string, value: unknown): void
  remove(key: string): void
  /** Calls the store's action, which adds 1 to `count`. */
  bump(): void
  /** The values of `theme` a real reactive observer has seen, in order. */
  seen: unknown[]
}

export type MakeHarness = (initial: Data) => Harness

const settle = (ms = 100) => vi.advanceTimersByTimeAsync(ms)

export function describeAdapter(name: string, make: MakeHarness) {
  describe(`${name} adapter`, () => {
    beforeEach(() => {
      vi.useFakeTimers()
    })
    afterEach(() => {
      vi.useRealTimers()
    })

    describe('remote to local', () => {
      it("an action called on the bound topic reaches the store from its outcome, and the adapter writes nothing back", async () => {
        const w = world({ theme: 'dark', count: 1 })
        w.backend.actions.set('settings/bump', (data, args) => ({ ...(data as Data), count: ((data as Data).count as number) + (args as { by: number }).by }))
        const h = make({})
        const handle = w.open()
        h.bind(handle, { mode: 'replace' })
        await settle()
        const acted = handle.act('bump', { by: 2 })
        await settle()
        expect(await acted).toMatchObject({ revision: '1', data: { theme: 'dark', count: 3 } })
        expect(h.data()).toEqual({ theme: 'dark', count: 3 })
        await settle()
        expect(w.writes).toEqual([])
        expect(w.backend.changes).toHaveLength(1)
      })

      it.each(['patch', 'replace'] as const)('a pushed delta reaches the store as the keys it touched (%s mode): an untouched key keeps its object', async (mode) => {
        // Data larger than the change, so that the plugin pushes the change
        // itself, not one replace of the whole value.
        const w = world({ theme: 'dark', font: { family: 'Helvetica Neue', size: 12 }, list: [1, 2] })
        w.backend.pushLimit = 10_000
        const h = make({})
        h.bind(w.open(), { mode })
        await settle()
        const font = h.raw('font')
        const list = h.raw('list')
        const read = w.backend.snapshot.bind(w.backend)
        let pulls = 0
        w.backend.snapshot = (name, since) => (pulls++, read(name, since))
        w.rust({ theme: 'light', font: { family: 'Helvetica Neue', size: 12 }, list: [1, 2] })
        await settle()
        expect(w.backend.changes.at(-1)).toMatchObject({ from: '0', patch: [{ op: 'replace', path: '/theme', value: 'light' }] })
        expect(h.data()).toEqual({ theme: 'light', font: { family: 'Helvetica Neue', size: 12 }, list: [1, 2] })
        expect(h.seen.slice(-2)).toEqual(['dark', 'light'])
        expect(h.raw('font')).toBe(font)
        expect(h.raw('list')).toBe(list)
        expect(pulls).toBe(0) // applied from the event, without a fetch
        expect(w.writes).toEqual([])
      })

      it('patch mode merges the snapshot into the store and keeps keys it lacks, and a real observer sees it', async () => {
        const w = world({ theme: 'dark', lang: 'fr', count: 0 })
        const h = make({ theme: 'light', count: 0, local: 'kept' })
        h.bind(w.open(), { mode: 'patch' })
        await settle()
        expect(h.data()).toEqual({ theme: 'dark', lang: 'fr', count: 0, local: 'kept' })
        expect(h.seen).toEqual(['light', 'dark'])
        expect(w.writes).toEqual([])
      })

      it('replace mode deletes the keys the snapshot lacks, and the action survives', async () => {
        const w = world({ theme: 'dark', count: 5 })
        const h = make({ theme: 'light', count: 0, local: 'dropped' })
        h.bind(w.open(), { mode: 'replace' })
        await settle()
        expect(h.data()).toEqual({ theme: 'dark', count: 5 })
        h.bump()
        await settle()
        expect(h.data()).toEqual({ theme: 'dark', count: 6 })
        expect(w.data()).toEqual({ theme: 'dark', count: 6 })
      })

      it('a later remote change reaches the store and its observers with no write back', async () => {
        const w = world({ theme: 'light', lang: 'en', count: 0 })
        const h = make({})
        const binding = h.bind(w.open(), { mode: 'replace' })
        await settle()
        w.rust({ theme: 'dark', count: 1 })
        await settle()
        expect(h.data()).toEqual({ theme: 'dark', count: 1 })
        expect(h.seen).toEqual([undefined, 'light', 'dark'])
        await binding.flush()
        await settle(1000)
        expect(w.writes).toEqual([])
      })

      it('a key deleted remotely is deleted locally in replace mode and kept in patch mode', async () => {
        const w = world({ theme: 'light', lang: 'en' })
        const replaced = make({})
        const patched = make({})
        replaced.bind(w.open('a'), { mode: 'replace' })
        patched.bind(w.open('b'), { mode: 'patch' })
        await settle()
        w.rust({ theme: 'light' })
        await settle()
        expect(replaced.data()).toEqual({ theme: 'light' })
        expect(patched.data()).toEqual({ theme: 'light', lang: 'en' })
        expect(w.writes).toEqual([])
      })

      it('toState shapes the applied state, and the defaults it adds are not written back', async () => {
        const w = world({ theme: 'light' })
        const h = make({})
        h.bind(w.open(), { mode: 'replace', toState: (data) => ({ lang: 'en', ...data }) })
        await settle()
        expect(h.data()).toEqual({ lang: 'en', theme: 'light' })
        h.set('theme', 'dark')
        await settle()
        expect(w.writes.map((x) => x.value)).toEqual([{ theme: 'dark' }])
      })

      it('a snapshot that is not a plain object is reported in the apply phase and leaves the store as it was', async () => {
        const w = world({ theme: 'light' })
        const h = make({})
        h.bind(w.open(), { mode: 'replace' })
        await settle()
        w.rust(['not', 'an', 'object'] as never)
        await settle()
        expect(w.errors.map((e) => [e.phase, e.error.code])).toEqual([['apply', 'INVALID_ARGUMENT']])
        expect(h.data()).toEqual({ theme: 'light' })
        expect(w.writes).toEqual([])
      })

      it('pickKeys and omitKeys limit the synced keys both ways', async () => {
        const w = world({ theme: 'light', lang: 'en', secret: 's' })
        const picked = make({ mine: 1 })
        const omitted = make({ mine: 1 })
        picked.bind(w.open('a'), { mode: 'replace', pickKeys: ['theme', 'mine'] })
        omitted.bind(w.open('b'), { mode: 'replace', omitKeys: ['secret', 'mine'] })
        await settle()
        expect(picked.data()).toEqual({ theme: 'light' })
        expect(omitted.data()).toEqual({ theme: 'light', lang: 'en', mine: 1 })
        omitted.set('mine', 2)
        await settle()
        expect(w.writes).toEqual([])
      })

      it('regression: a "__proto__" key was dropped by the adapter; it is now data in the store, both ways', async () => {
        // JSON.parse defines "__proto__" as a key, as the wire and the Rust side do.
        const json = (text: string) => JSON.parse(text) as Data
        const w = world(json('{"theme":"light","__proto__":{"x":1}}'))
        const h = make({})
        h.bind(w.open(), { mode: 'replace' })
        await settle()
        // A key, not the store's prototype: JSON text shows own keys only.
        expect(JSON.stringify(h.data())).toBe('{"theme":"light","__proto__":{"x":1}}')
        w.rust(json('{"theme":"light","__proto__":{"x":2}}'))
        await settle()
        expect(JSON.stringify(h.data())).toBe('{"theme":"light","__proto__":{"x":2}}')
        expect(w.writes).toEqual([])
        // (A local `set` is not used here: Zustand's own partial setState assigns every key, "__proto__" too.)
        h.remove('__proto__')
        await settle()
        expect(w.writes.map((x) => JSON.stringify(x.value))).toEqual(['{"__proto__":null}'])
        expect(JSON.stringify(w.data())).toBe('{"theme":"light"}')
        expect(JSON.stringify(h.data())).toBe('{"theme":"light"}')
      })
    })

    describe('local to remote', () => {
      it('local changes are written once, after the debounce, as a merge patch of what changed, with no echo write', async () => {
        const w = world({ theme: 'light', lang: 'en', count: 0 })
        const h = make({})
        h.bind(w.open(), { mode: 'replace', debounceMs: 50 })
        await settle()
        h.set('theme', 'dark')
        await settle(20)
        h.set('lang', 'fr')
        await settle(40)
        expect(w.writes).toEqual([])
        await settle(20)
        expect(w.writes).toEqual([{ window: 'main', kind: 'patch', value: { theme: 'dark', lang: 'fr' }, expectedRevision: undefined }])
        await settle(1000)
        expect(w.writes).toHaveLength(1)
        expect(w.data()).toEqual({ theme: 'dark', lang: 'fr', count: 0 })
        expect(h.data()).toEqual(w.data())
      })

      it('a local key deletion is written as null and removes the key in the backend and in other windows', async () => {
        const w = world({ theme: 'light', lang: 'en' })
        const a = make({})
        const b = make({})
        a.bind(w.open('a'), { mode: 'replace' })
        b.bind(w.open('b'), { mode: 'replace' })
        await settle()
        a.remove('lang')
        await settle()
        expect(w.writes.map((x) => x.value)).toEqual([{ lang: null }])
        expect(w.data()).toEqual({ theme: 'light' })
        expect(b.data()).toEqual({ theme: 'light' })
      })

      it('a change inside a nested object is written as a nested merge patch, so a nested deletion propagates', async () => {
        const w = world({ font: { size: 12, family: 'serif' }, tags: ['a'] })
        const h = make({})
        h.bind(w.open(), { mode: 'replace' })
        await settle()
        h.set('font', { size: 14 })
        h.set('tags', ['a', 'b'])
        await settle()
        expect(w.writes.map((x) => x.value)).toEqual([{ font: { size: 14, family: null }, tags: ['a', 'b'] }])
        expect(w.data()).toEqual({ font: { size: 14 }, tags: ['a', 'b'] })
        expect(h.data()).toEqual(w.data())
      })

      it('two windows that edit different keys at the same time converge with no key lost', async () => {
        const w = world({ theme: 'light', lang: 'en', count: 0 }, { jitterMs: 15, seed: 7 })
        const a = make({})
        const b = make({})
        a.bind(w.open('a'), { mode: 'replace' })
        b.bind(w.open('b'), { mode: 'replace' })
        await settle()
        a.set('theme', 'dark')
        b.set('lang', 'fr')
        b.bump()
        await settle(5)
        a.remove('lang')
        a.set('font', 14)
        b.set('zoom', 2)
        await settle(2000)
        // b's lang edit and a's deletion of lang raced; whichever the backend took, all agree.
        const expected = { theme: 'dark', count: 1, font: 14, zoom: 2 }
        expect(w.data()).toMatchObject(expected)
        expect(a.data()).toEqual(w.data())
        expect(b.data()).toEqual(w.data())
        expect(b.seen.at(-1)).toBe('dark')
      })

      it('an edit made while a write of the same key is in flight is not undone by that write\'s echo', async () => {
        const w = world({ theme: 'light' }, { jitterMs: 10 })
        const h = make({})
        h.bind(w.open(), { mode: 'replace' })
        await settle()
        h.set('theme', 'a')
        await settle(1)
        h.set('theme', 'b')
        await settle(500)
        expect(w.writes.map((x) => x.value)).toEqual([{ theme: 'a' }, { theme: 'b' }])
        expect(w.data()).toEqual({ theme: 'b' })
        expect(h.data()).toEqual({ theme: 'b' })
        expect(h.seen.at(-1)).toBe('b')
      })

      it('a write the backend normalized is sent once, and the normalized state is then applied', async () => {
        const w = world({ theme: 'light' }, { normalize: (data) => ({ ...data, theme: String(data.theme).toUpperCase() }) })
        const h = make({})
        h.bind(w.open(), { mode: 'replace' })
        await settle()
        h.set('theme', 'dark')
        await settle(500)
        expect(w.writes.map((x) => x.value)).toEqual([{ theme: 'dark' }])
        expect(w.data()).toEqual({ theme: 'DARK' })
        expect(h.data()).toEqual({ theme: 'DARK' })
        expect(h.seen.at(-1)).toBe('DARK')
      })

      it('a failed write is reported through onError and its keys are rolled back to the backend state', async () => {
        const w = world({ theme: 'light', count: 0 })
        const h = make({})
        h.bind(w.open(), { mode: 'replace' })
        await settle()
        w.failWith = 'state-sync.patch not allowed. Command not allowed by ACL'
        h.set('theme', 'dark')
        await settle()
        expect(w.errors.map((e) => [e.phase, e.error.code])).toEqual([['write', 'FORBIDDEN']])
        expect(h.data()).toEqual({ theme: 'light', count: 0 })
        expect(h.seen).toEqual([undefined, 'light', 'dark', 'light'])
        expect(w.writes).toHaveLength(1)
      })
    })

    describe('lifecycle', () => {
      it('stop() writes the pending change at once, then neither applies nor writes anything', async () => {
        const w = world({ theme: 'light' })
        const h = make({})
        const binding = h.bind(w.open(), { mode: 'replace', debounceMs: 1000 })
        await settle()
        h.set('theme', 'dark')
        binding.stop()
        await settle()
        expect(w.writes.map((x) => x.value)).toEqual([{ theme: 'dark' }])
        w.rust({ theme: 'blue' })
        h.set('lang', 'fr')
        await settle(2000)
        expect(w.writes).toHaveLength(1)
        expect(h.data()).toEqual({ theme: 'dark', lang: 'fr' })
      })
    })

    describe('topic options', () => {
      // Bound by name, the adapter opens the topic itself with the options:
      // counting the fetches of a burst of remote changes shows the throttle
      // reached the core (without it, every change fetches).
      const burst = async (throttled: boolean) => {
        const w = world({ theme: 'light' })
        const h = make({})
        const inner = w.transport('main')
        let fetches = 0
        const transport: Transport = { ...inner, snapshot: (topic, since) => (fetches++, inner.snapshot(topic, since)) }
        const binding = h.bind('settings', { transport, ...(throttled && { throttling: throttle({ throttleMs: 100 }) }) })
        await settle(0)
        for (let i = 0; i < 10; i++) {
          w.rust({ theme: 't' + i })
          await settle(10)
        }
        await settle(200)
        expect(h.data()).toEqual({ theme: 't9' })
        binding.stop()
        return fetches
      }

      it('bound by name, an opted-in throttle reaches the core: a burst of remote changes costs one fetch per period', async () => {
        expect(await burst(true)).toBe(3) // hydration, the first change at once, the rest at the end of the period
      })

      it('bound by name without throttling, every remote change fetches', async () => {
        expect(await burst(false)).toBe(11)
      })
    })

    describe('hydration', () => {
      it('is not hydrated until the first snapshot is applied, and writes nothing before it', async () => {
        const w = world({ theme: 'light' })
        const h = make({ theme: 'light' })
        const binding = h.bind(w.open())
        expect(binding.hydrated).toBe(false)
        await settle()
        expect(binding.hydrated).toBe(true)
        expect(w.writes).toEqual([])
      })

      it('a local change made before hydration is kept over the first snapshot and written as a compare-and-set', async () => {
        const w = world({ theme: 'light', lang: 'en' })
        const h = make({ theme: 'light' })
        const binding = h.bind(w.open(), { mode: 'replace' })
        h.set('theme', 'dark')
        await settle(0)
        expect(binding.hydrated).toBe(false)
        expect(w.writes).toEqual([])
        await settle()
        expect(w.writes).toEqual([{ window: 'main', kind: 'patch', value: { theme: 'dark' }, expectedRevision: '0' }])
        expect(w.data()).toEqual({ theme: 'dark', lang: 'en' })
        expect(h.data()).toEqual({ theme: 'dark', lang: 'en' })
      })

      it('a change made before hydration never overwrites a newer backend value, and its other keys still go through', async () => {
        const w = world({ theme: 'light', lang: 'en' })
        const h = make({ theme: 'light', lang: 'en' })
        h.bind(w.open(), { mode: 'replace' })
        h.set('theme', 'dark')
        h.set('font', 14)
        // Another window changes theme after our first snapshot, before our write lands.
        w.beforeWrite = () => w.backend.write('other', 'settings', 'patch', { theme: 'blue' })
        await settle(1000)
        expect(w.writes.map((x) => [x.value, x.expectedRevision])).toEqual([
          [{ theme: 'dark', font: 14 }, '0'],
          [{ font: 14 }, '1'],
        ])
        expect(w.data()).toEqual({ theme: 'blue', lang: 'en', font: 14 })
        expect(h.data()).toEqual(w.data())
        expect(h.seen.at(-1)).toBe('blue')
      })
    })

    describe('compat applier', () => {
      it('works with createRevisionSync in both modes, with toState, and rejects data that is not a plain object when strict', async () => {
        const h = make({ theme: 'light', local: 1 })
        const src = manual<Data>()
        const errors: string[] = []
        const sync = createRevisionSync<Data>({
          topic: 't',
          subscriber: src.subscriber,
          provider: src.provider,
          applier: h.applier({ mode: 'patch', toState: (data) => ({ ...data, theme: String(data.theme).toUpperCase() }) }),
          onError: ({ phase, error }) => errors.push(phase + ' ' + error.code),
        })
        const started = sync.start()
        await settle(0)
        src.answer('1', { theme: 'dark' })
        await started
        expect(h.data()).toEqual({ theme: 'DARK', local: 1 })
        expect(h.seen.at(-1)).toBe('DARK')

        await h.applier({ mode: 'replace' }).apply({ revision: '2', data: { theme: 'x' } })
        expect(h.data()).toEqual({ theme: 'x' })

        const strict = h.applier()
        let thrown: unknown
        try {
          await strict.apply({ revision: '3', data: [1, 2] as never })
        } catch (e) {
          thrown = e
        }
        expect(isStateSyncError(thrown, 'INVALID_ARGUMENT')).toBe(true)
        expect((thrown as Error).message).toContain('plain object')
        await h.applier({ strict: false }).apply({ revision: '3', data: 42 as never })
        expect(h.data()).toEqual({ theme: 'x' })
        sync.stop()
      })
    })
  })
}
