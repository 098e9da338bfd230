// The compat appliers on @statesync/*'s structural targets: objects shaped
// like a store that are not framework objects (the real frameworks are
// tested in the *.test.ts beside this file). Each applier must apply to its
// shape, hand toState the context that library names, and, when strict,
// reject state that is not a plain object with the text apps match on.
import { describe, expect, it } from 'vitest'
import { reactive } from 'vue'
import { createPiniaSnapshotApplier } from '../../src/adapters/pinia'
import { createSvelteSnapshotApplier } from '../../src/adapters/svelte'
import { createValtioSnapshotApplier } from '../../src/adapters/valtio'
import { createVueSnapshotApplier } from '../../src/adapters/vue'
import { createZustandSnapshotApplier } from '../../src/adapters/zustand'
import { createRevisionSync } from '../../src/compat'
import type { SnapshotApplier } from '../../src/compat'
import type { ApplierOptions } from '../../src/adapters/shared/bind'
import { flush, manual } from '../support/manual'

type State = Record<string, unknown>
interface Shape {
  name: string
  /** A fresh target holding `initial`, the applier over it, and how to read it. */
  make(initial: State, options?: ApplierOptions<State, never>): { target: object; applier: SnapshotApplier<State>; read(): State }
  /** The context toState must receive for `target`. */
  ctx(target: object): object
}

const shapes: Shape[] = [
  {
    name: 'svelte: a store-like with only set and update',
    make(initial, options) {
      let value = initial
      const target = { set: (v: State) => void (value = v), update: (fn: (v: State) => State) => void (value = fn(value)) }
      return { target, applier: createSvelteSnapshotApplier(target, options as never), read: () => value }
    },
    ctx: (store) => ({ store }),
  },
  {
    name: 'vue: a plain ref-like { value }',
    make(initial, options) {
      const target = { value: initial }
      return { target, applier: createVueSnapshotApplier(target, options as never), read: () => target.value }
    },
    ctx: (ref) => ({ ref }),
  },
  {
    name: 'vue: a reactive object',
    make(initial, options) {
      const target = reactive({ ...initial })
      return { target, applier: createVueSnapshotApplier(target, options as never), read: () => ({ ...target }) }
    },
    ctx: (state) => ({ state }),
  },
  {
    name: 'zustand: a { getState, setState }',
    make(initial, options) {
      let value = initial
      const target = {
        getState: () => value,
        setState: (next: State | ((s: State) => State), replace?: boolean) => {
          const v = typeof next == 'function' ? next(value) : next
          value = replace ? v : { ...value, ...v }
        },
      }
      return { target, applier: createZustandSnapshotApplier(target as never, options as never), read: () => value }
    },
    ctx: (store) => ({ store }),
  },
  {
    name: 'valtio: a plain object',
    make(initial, options) {
      const target = { ...initial }
      return { target, applier: createValtioSnapshotApplier(target, options as never), read: () => target }
    },
    ctx: (proxy) => ({ proxy }),
  },
  {
    name: 'pinia: a { $patch, $state }',
    make(initial, options) {
      const target = {
        $state: { ...initial },
        $patch(fn: (s: State) => void) {
          fn(this.$state)
        },
      }
      return { target, applier: createPiniaSnapshotApplier(target, options as never), read: () => target.$state }
    },
    ctx: (store) => ({ store }),
  },
]

class Instance {
  theme = 'x'
}

describe.each(shapes)('$name', (shape) => {
  it('applies in patch mode (keeps keys the snapshot lacks) and in replace mode (deletes them)', async () => {
    const patch = shape.make({ theme: 'light', local: 1 })
    await patch.applier.apply({ revision: '1', data: { theme: 'dark' } })
    expect(patch.read()).toEqual({ theme: 'dark', local: 1 })
    const replace = shape.make({ theme: 'light', local: 1 }, { mode: 'replace' })
    await replace.applier.apply({ revision: '1', data: { theme: 'dark' } })
    expect(replace.read()).toEqual({ theme: 'dark' })
  })

  it('toState(data, ctx) receives the data and the context naming the target', async () => {
    const calls: unknown[][] = []
    const made = shape.make({}, { toState: ((data: State, ctx: object) => (calls.push([data, ctx]), { ...data, mapped: true })) as never })
    await made.applier.apply({ revision: '1', data: { theme: 'dark' } })
    expect(calls).toEqual([[{ theme: 'dark' }, shape.ctx(made.target)]])
    expect((calls[0]![1] as Record<string, unknown>)[Object.keys(shape.ctx(made.target))[0]!]).toBe(made.target)
    expect(made.read()).toEqual({ theme: 'dark', mapped: true })
  })

  it('strict rejects null, arrays, class instances and primitives from toState or in the snapshot, with the text apps match on', async () => {
    for (const bad of [null, [1, 2], new Instance(), 42, 'text']) {
      const viaToState = shape.make({ theme: 'light' }, { toState: (() => bad) as never })
      expect(() => viaToState.applier.apply({ revision: '1', data: {} })).toThrow('toState(data) must return a plain object')
      const inSnapshot = shape.make({ theme: 'light' })
      expect(() => inSnapshot.applier.apply({ revision: '1', data: bad as never })).toThrow('toState(data) must return a plain object')
      expect(inSnapshot.read()).toEqual({ theme: 'light' })
    }
  })

  it('a null snapshot in replace mode no longer empties the target (null used to pass as a plain object)', async () => {
    const made = shape.make({ theme: 'light', local: 1 }, { mode: 'replace' })
    expect(() => made.applier.apply({ revision: '1', data: null as never })).toThrow('toState(data) must return a plain object')
    expect(made.read()).toEqual({ theme: 'light', local: 1 })
  })

  it('strict: false ignores such state and leaves the target as it was', async () => {
    const made = shape.make({ theme: 'light' }, { strict: false })
    await made.applier.apply({ revision: '1', data: [1, 2] as never })
    expect(made.read()).toEqual({ theme: 'light' })
  })

  it('through createRevisionSync, a first snapshot that strict rejects makes start() reject in the apply phase', async () => {
    const src = manual<State>()
    const phases: string[] = []
    const sync = createRevisionSync<State>({
      topic: 't',
      subscriber: src.subscriber,
      provider: src.provider,
      applier: shape.make({}).applier,
      onError: ({ phase }) => void phases.push(phase),
      resyncOnFocus: false,
    })
    const started = sync.start()
    await flush()
    src.answer('1', null as never)
    await expect(started).rejects.toThrow('toState(data) must return a plain object')
    expect(phases).toEqual(['apply'])
    sync.stop()
  })
})
