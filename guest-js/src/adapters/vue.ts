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
import { isReactive, isRef, watch, type Ref } from 'vue'
import type { TopicHandle } from '../index'
import { assign, bind, createApplier, type ApplierOptions, type Binding, type BindOptions, type StoreAccess } from './shared/bind'

export type { ApplierOptions, ApplyMode, Binding, BindOptions } from './shared/bind'

// A `ref`, or a plain `{ value: object }` that is not reactive (a ref-like,
// as `@statesync/vue` accepts): the state is its `value`.
const isRefLike = (state: object): state is { value: object } =>
  isRef(state) ||
  (!isReactive(state) && Object.keys(state).length === 1 && typeof (state as { value?: unknown }).value == 'object')

const access = (state: object): StoreAccess => {
  const ref = isRefLike(state)
  const target = () => (ref ? state.value : state)
  return {
    name: 'vue',
    ctx: ref ? { ref: state } : { state },
    read: target,
    write: (set, drop) => assign(target(), set, drop),
    watch: (changed) => watch(state, changed, { deep: true }),
  }
}

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
  options?: BindOptions<T, { state: S } | { ref: Ref<S> }>,
): Binding => bind(access(state), topic, options)

/**
 * A `SnapshotApplier` for `createRevisionSync`, with the options of
 * `@statesync/vue`: applies in place to a `reactive` object (or any plain
 * object), or to the `value` of a `ref` or of a plain ref-like `{ value }`;
 * `toState(data, ctx)` gets `{ state }` or `{ ref }`.
 *
 * @example
 * const sync = createRevisionSync({ topic: 'settings', subscriber, provider, applier: createVueSnapshotApplier(settings, { mode: 'replace' }) })
 */
export const createVueSnapshotApplier = <S extends object, T = S>(
  state: S | Ref<S> | { value: S },
  options?: ApplierOptions<T, { state: S } | { ref: Ref<S> | { value: S } }>,
) => createApplier(access(state), options)
