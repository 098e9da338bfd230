import { bindState } from 'tauri-plugin-state-sync-api/svelte'
import { counter, settings, todos, watchRevision } from '../shared/model'
import type { Settings, Todos } from '../shared/topics'

/** Settings and todos as Svelte 5 `$state`, bound to their topics: assigning to them is a write. */
export const settingsState = $state<Settings>({ theme: 'light', language: 'en', accent: '#4f46e5' })
export const todoList = $state<Todos>({})
bindState(settingsState, settings, { mode: 'replace' })
bindState(todoList, todos, { mode: 'replace' })

/** The counter and every topic's revision, for display; the counter changes only through `update`. */
export const view = $state({ count: 0, revisions: { settings: '-', todos: '-', counter: '-' } })
watchRevision(settings, (r) => (view.revisions.settings = r))
watchRevision(todos, (r) => (view.revisions.todos = r))
counter.subscribe(({ revision, data }) => {
  view.count = data.value
  view.revisions.counter = revision
})
