/**
 * Zustand adapter: binds a vanilla store (`createStore`, or the store behind a
 * `create` hook) to a topic. Actions in the state are never removed.
 *
 * @example
 * import { createStore } from 'zustand/vanilla'
 * import { bindZustand } from 'tauri-plugin-state-sync-api/zustand'
 *
 * const store = createStore(() => ({ theme: 'light', lang: 'en' }))
 * const binding = bindZustand(store, 'settings', { mode: 'replace' })
 *
 * @module
 */
import type { StoreApi } from 'zustand/vanilla'
import type { TopicHandle } from '../index'
import { assign, bind, createApplier, type ApplierOptions, type Binding, type BindOptions, type StoreAccess } from './shared/bind'

export type { ApplierOptions, ApplyMode, Binding, BindOptions } from './shared/bind'

const access = <S extends object>(store: Pick<StoreApi<S>, 'getState' | 'setState'>): StoreAccess => ({
  name: 'zustand',
  ctx: { store },
  read: store.getState,
  // One `setState` with `replace`, so that deleted keys go and actions stay.
  write: (set, drop) => store.setState((state) => assign({ ...state }, set, drop), true),
  watch: (changed) => (store as StoreApi<S>).subscribe(changed),
})

/**
 * Binds a Zustand store to a topic (a {@link TopicHandle} or a name) in both
 * directions. See `ADAPTERS.md` for the hydration and failed-write policies.
 *
 * @example
 * const useSettings = create(() => ({ theme: 'light', setTheme: (t: string) => useSettings.setState({ theme: t }) }))
 * const binding = bindZustand(useSettings, 'settings', { mode: 'replace', debounceMs: 100 })
 * useSettings.getState().setTheme('dark') // written to the topic as { theme: 'dark' }
 */
export const bindZustand = <S extends object, T = S>(
  store: StoreApi<S>,
  topic: TopicHandle<T> | string,
  options?: BindOptions<T, { store: StoreApi<S> }>,
): Binding => bind(access(store), topic, options)

/**
 * A `SnapshotApplier` for `createRevisionSync`, with the options of
 * `@statesync/zustand`: applies to a Zustand store or any `{ getState,
 * setState }` (`setState(fn, true)` replaces); `toState(data, { store })`.
 *
 * @example
 * const sync = createRevisionSync({ topic: 'settings', subscriber, provider, applier: createZustandSnapshotApplier(store, { mode: 'replace' }) })
 */
export const createZustandSnapshotApplier = <S extends object, T = S>(
  store: Pick<StoreApi<S>, 'getState' | 'setState'>,
  options?: ApplierOptions<T, { store: Pick<StoreApi<S>, 'getState' | 'setState'> }>,
) => createApplier(access(store), options)
