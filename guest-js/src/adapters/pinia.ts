/**
 * Pinia adapter: binds a store to a topic, by hand ({@link bindPinia}) or by
 * a `stateSync` option on `defineStore` ({@link createStateSyncPlugin}).
 * Only `$state` is synced: actions and getters are never touched.
 *
 * @example
 * import { bindPinia } from 'tauri-plugin-state-sync-api/pinia'
 *
 * const useSettings = defineStore('settings', { state: () => ({ theme: 'light' }) })
 * const binding = bindPinia(useSettings(), 'settings', { mode: 'replace' })
 *
 * @module
 */
import type { PiniaPlugin, StateTree, Store } from 'pinia'
import { markRaw } from 'vue'
import type { TopicHandle } from '../index'
import { assign, bind, createApplier, type ApplierOptions, type Binding, type BindOptions, type StoreAccess } from './shared/bind'

export type { ApplierOptions, ApplyMode, Binding, BindOptions } from './shared/bind'

declare module 'pinia' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  export interface DefineStoreOptionsBase<S extends StateTree, Store> {
    /** Binds the store to this topic (its name, or the name plus binding options) when it is created. */
    stateSync?: string | (BindOptions & { topic: string })
  }
  export interface PiniaCustomProperties {
    /** The store's binding, when `defineStore` was given `stateSync`. */
    $stateSync?: Binding
  }
}

type AnyStore = Pick<Store, '$state' | '$patch' | '$subscribe'>

/**
 * What the compat applier accepts: a Pinia store, or any object shaped like
 * one (`@statesync/pinia`'s structural target): `$state`, and `$patch` taking
 * a function that mutates the state; `$id` is optional.
 *
 * @example
 * const target: PiniaLike = { $state: { theme: 'light' }, $patch(fn) { fn(this.$state) } }
 */
export interface PiniaLike {
  $id?: string
  $state: StateTree
  $patch(mutator: (state: StateTree) => void): void
}

const access = (store: PiniaLike | AnyStore): StoreAccess => ({
  name: 'pinia',
  ctx: { store },
  read: () => store.$state,
  write: (set, drop) => (store as PiniaLike).$patch((state) => void assign(state, set, drop)),
  watch: (changed) => (store as AnyStore).$subscribe(changed, { detached: true }),
})

/**
 * Binds a Pinia store's state to a topic (a {@link TopicHandle} or a name) in
 * both directions. See `ADAPTERS.md` for the hydration and failed-write policies.
 *
 * @example
 * const settings = useSettings()
 * bindPinia(settings, 'settings', { mode: 'replace', omitKeys: ['draft'] })
 * settings.theme = 'dark' // written to the topic as { theme: 'dark' }
 */
export const bindPinia = <T = StateTree>(store: AnyStore, topic: TopicHandle<T> | string, options?: BindOptions<T, { store: AnyStore }>): Binding =>
  bind(access(store), topic, options)

/**
 * A Pinia plugin: every store defined with a `stateSync` option is bound to
 * that topic when it is created; the binding is `store.$stateSync`.
 *
 * @example
 * pinia.use(createStateSyncPlugin())
 * const useSettings = defineStore('settings', {
 *   state: () => ({ theme: 'light' }),
 *   stateSync: { topic: 'settings', mode: 'replace' },
 * })
 */
export const createStateSyncPlugin =
  (): PiniaPlugin =>
  ({ store, options: { stateSync: s } }) => {
    // markRaw: the binding is not state, so storeToRefs and devtools skip it.
    if (s) return { $stateSync: markRaw(typeof s == 'string' ? bindPinia(store, s) : bindPinia(store, s.topic, s)) }
  }

/**
 * A `SnapshotApplier` for `createRevisionSync`, with the options of
 * `@statesync/pinia`: applies to a Pinia store or a {@link PiniaLike};
 * `toState(data, { store })`.
 *
 * @example
 * const sync = createRevisionSync({ topic: 'settings', subscriber, provider, applier: createPiniaSnapshotApplier(useSettings()) })
 */
export const createPiniaSnapshotApplier = <T = StateTree, S extends PiniaLike | AnyStore = PiniaLike | AnyStore>(
  store: S,
  options?: ApplierOptions<T, { store: S }>,
) => createApplier(access(store), options)
