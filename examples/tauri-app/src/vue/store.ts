import { defineStore } from 'pinia'
import { computed, reactive } from 'vue'
import { bindPinia } from 'tauri-plugin-state-sync-api/pinia'
import { bindVue } from 'tauri-plugin-state-sync-api/vue'
import { counter, settings, todos, watchRevision } from '../shared/model'
import type { Settings, Todos } from '../shared/topics'

/** Settings in a Pinia store, bound to the `settings` topic: `store.theme = 'dark'` is a write. */
export const useSettings = defineStore('settings', {
  state: (): Settings => ({ theme: 'light', language: 'en', accent: '#4f46e5' }),
})

/** Todos in a Vue `reactive`, bound to the `todos` topic: `delete todoList[id]` is a write. */
export const todoList = reactive<Todos>({})
bindVue(todoList, todos, { mode: 'replace' })

export const remaining = computed(() => Object.values(todoList).filter((t) => !t.done).length)

/** The counter and every topic's revision, for display; the counter changes only through `update`. */
export const view = reactive({ count: 0, revisions: { settings: '-', todos: '-', counter: '-' } })
watchRevision(settings, (r) => (view.revisions.settings = r))
watchRevision(todos, (r) => (view.revisions.todos = r))
counter.subscribe(({ revision, data }) => {
  view.count = data.value
  view.revisions.counter = revision
})

/** Binds the Pinia store once Pinia is installed. */
export function bindSettings(): void {
  bindPinia(useSettings(), settings, { mode: 'replace' })
}
