/**
 * Valtio adapter: binds a `proxy` to a topic. Methods on the proxy are never removed.
 *
 * @example
 * import { proxy } from 'valtio/vanilla'
 * import { bindValtio } from 'tauri-plugin-state-sync-api/valtio'
 *
 * const settings = proxy({ theme: 'light', lang: 'en' })
 * const binding = bindValtio(settings, 'settings')
 *
 * @module
 */
import { subscribe } from 'valtio/vanilla'
import type { TopicHandle } from '../index'
import { assign, bind, createApplier, type ApplierOptions, type Binding, type BindOptions, type StoreAccess } from './shared/bind'

export type { ApplierOptions, ApplyMode, Binding, BindOptions } from './shared/bind'

const access = (state: object): StoreAccess => ({
  name: 'valtio',
  ctx: { proxy: state },
  read: () => state,
  write: (set, drop) => assign(state, set, drop),
  watch: (changed) => subscribe(state, changed),
})

/**
 * Binds a Valtio proxy to a topic (a {@link TopicHandle} or a name) in both
 * directions. See `ADAPTERS.md` for the hydration and failed-write policies.
 *
 * @example
 * const settings = proxy({ theme: 'light', toggle() { settings.theme = settings.theme === 'light' ? 'dark' : 'light' } })
 * bindValtio(settings, 'settings', { mode: 'replace' })
 * settings.toggle() // written to the topic as { theme: 'dark' }
 */
export const bindValtio = <S extends object, T = S>(
  state: S,
  topic: TopicHandle<T> | string,
  options?: BindOptions<T, { proxy: S }>,
): Binding => bind(access(state), topic, options)

/**
 * A `SnapshotApplier` for `createRevisionSync`, with the options of
 * `@statesync/valtio`: mutates the proxy, or any plain object, in place;
 * `toState(data, { proxy })`.
 *
 * @example
 * const sync = createRevisionSync({ topic: 'settings', subscriber, provider, applier: createValtioSnapshotApplier(settings) })
 */
export const createValtioSnapshotApplier = <S extends object, T = S>(state: S, options?: ApplierOptions<T, { proxy: S }>) =>
  createApplier(access(state), options)
