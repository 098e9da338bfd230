/**
 * Svelte adapter: binds a `writable` store ({@link bindWritable}) or a Svelte 5
 * `$state` object ({@link bindState}) to a topic.
 *
 * @example
 * // settings.svelte.ts
 * import { bindState } from 'tauri-plugin-state-sync-api/svelte'
 * export const settings = $state({ theme: 'light', lang: 'en' })
 * bindState(settings, 'settings')
 *
 * @module
 */
import { get, toStore, type Writable } from 'svelte/store'
import type { TopicHandle } from '../index'
import { assign, bind, createApplier, type ApplierOptions, type Binding, type BindOptions, type StoreAccess } from './shared/bind'

export type { ApplierOptions, ApplyMode, Binding, BindOptions } from './shared/bind'

/**
 * What the compat applier accepts as a store: a `writable`, or any object with
 * `set` and `update` (`@statesync/svelte`'s structural target; `subscribe` is
 * not needed to apply).
 *
 * @example
 * let value = { theme: 'light' }
 * const target: StoreLike<typeof value> = { set: (v) => (value = v), update: (fn) => (value = fn(value)) }
 */
export interface StoreLike<S> {
  set(value: S): void
  update(fn: (value: S) => S): void
  subscribe?: Writable<S>['subscribe']
}

const writableAccess = (store: StoreLike<object>): StoreAccess => ({
  name: 'svelte',
  ctx: { store },
  // Without `subscribe`, the value is read through `update`, which hands it over.
  read() {
    if (store.subscribe) return get(store as Writable<object>)
    let value: object = {}
    store.update((v) => (value = v))
    return value
  },
  write: (set, drop) => store.update((state) => assign({ ...state }, set, drop)),
  watch: (changed) => store.subscribe!(changed),
})

/**
 * Binds a `writable` store of an object to a topic (a {@link TopicHandle} or
 * a name) in both directions. See `ADAPTERS.md` for the policies.
 *
 * @example
 * const settings = writable({ theme: 'light' })
 * bindWritable(settings, 'settings', { mode: 'replace' })
 * settings.update((s) => ({ ...s, theme: 'dark' })) // written to the topic as { theme: 'dark' }
 */
export const bindWritable = <S extends object, T = S>(
  store: Writable<S>,
  topic: TopicHandle<T> | string,
  options?: BindOptions<T, { store: Writable<S> }>,
): Binding => bind(writableAccess(store), topic, options)

const stateAccess = (state: object): StoreAccess => {
  // A $state proxy leaves a key added later out of its own keys when Object.prototype
  // has one of that name, as with "__proto__"; that key is read back here, as data.
  const read = () => (Object.hasOwn(state, '__proto__') ? { ...state, ['__proto__']: (state as { __proto__: unknown }).__proto__ } : state)
  return {
    name: 'svelte',
    ctx: { store: state },
    read,
    write: (set, drop) => assign(state, set, drop),
    // Reading the JSON text reads every key, so the effect behind toStore tracks them all.
    watch: (changed) => toStore(() => JSON.stringify(read())).subscribe(changed),
  }
}

/**
 * Binds a Svelte 5 `$state` object (declared in a `.svelte.ts` module or a
 * component) to a topic in both directions. It is updated in place, so every
 * `$derived` and `$effect` reading it sees remote changes; local changes are
 * observed through `toStore` from `svelte/store`.
 *
 * @example
 * export const settings = $state({ theme: 'light' })
 * bindState(settings, 'settings', { mode: 'replace' })
 * settings.theme = 'dark' // written to the topic as { theme: 'dark' }
 */
export const bindState = <S extends object, T = S>(
  state: S,
  topic: TopicHandle<T> | string,
  options?: BindOptions<T, { store: S }>,
): Binding => bind(stateAccess(state), topic, options)

/**
 * A `SnapshotApplier` for `createRevisionSync`, with the options of
 * `@statesync/svelte`: applies to a `writable` store or any {@link StoreLike}
 * (an object with `set` and `update`), or else to a `$state` object;
 * `toState(data, { store })`.
 *
 * @example
 * const sync = createRevisionSync({ topic: 'settings', subscriber, provider, applier: createSvelteSnapshotApplier(settings) })
 */
export const createSvelteSnapshotApplier = <S extends object, T = S, X extends StoreLike<S> | S = StoreLike<S> | S>(
  store: X,
  options?: ApplierOptions<T, { store: X }>,
) =>
  createApplier(
    typeof (store as StoreLike<S>).set == 'function' && typeof (store as StoreLike<S>).update == 'function'
      ? writableAccess(store as StoreLike<object>)
      : stateAccess(store),
    options,
  )
