/**
 * Vue adapter: binds a `reactive` object, or a `ref` holding an object, to a
 * topic. The object is updated in place, so its identity, and every `watch`
 * and `computed` on it, is kept.
 *
 * @example
 * import { reactive } from 'vue'
 * import { bindVue } from 'tauri-plugin-state-sync-api/vue'
 *
 * const settings = reactive({ theme: 'light', lang: 'en' })
 * const binding = bindVue(settings, 'settings')
 *
 * @module
 */
import { unref, watch, type Ref } from 'vue'
import type { TopicHandle } from '../index'
import { assign, bind, createApplier, type ApplierOptions, type Binding, type BindOptions, type StoreAccess } from './shared/bind'

export type { ApplierOptions, ApplyMode, Binding, BindOptions } from './shared/bind'

const access = (state: object): StoreAccess => ({
  read: () => unref(state),
  write: (set, drop) => assign(unref(state), set, drop),
  watch: (changed) => watch(state, changed, { deep: true }),
})

/**
 * Binds a `reactive` object or a `ref` of an object to a topic (a
 * {@link TopicHandle} or a name) in both directions. See `ADAPTERS.md` for
 * the hydration and failed-write policies.
 *
 * @example
 * const settings = ref({ theme: 'light' })
 * const dark = computed(() => settings.value.theme === 'dark')
 * bindVue(settings, topic<{ theme: string }>('settings'), { mode: 'replace' })
 * settings.value.theme = 'dark' // written to the topic as { theme: 'dark' }
 */
export const bindVue = <S extends object, T = S>(
  state: S | Ref<S>,
  topic: TopicHandle<T> | string,
  options?: BindOptions<T>,
): Binding => bind(access(state), topic, options)

/**
 * A `SnapshotApplier` for `createRevisionSync` that applies to a `reactive` object or a `ref`.
 *
 * @example
 * const sync = createRevisionSync({ topic: 'settings', subscriber, provider, applier: createVueSnapshotApplier(settings, { mode: 'replace' }) })
 */
export const createVueSnapshotApplier = <S extends object, T = S>(state: S | Ref<S>, options?: ApplierOptions<T>) =>
  createApplier<T>(access(state), options)
