import { counter, settings, todos, type Settings, type Todos } from '../shared/model'

/** The window's Svelte 5 state, kept in step with the plugin's topics. */
export const demo = $state({
  settings: undefined as Settings | undefined,
  todos: {} as Todos,
  count: 0,
  revisions: { settings: '-', todos: '-', counter: '-' },
})

settings.subscribe(({ revision, data }) => {
  demo.settings = data
  demo.revisions.settings = revision
})
todos.subscribe(({ revision, data }) => {
  demo.todos = data
  demo.revisions.todos = revision
})
counter.subscribe(({ revision, data }) => {
  demo.count = data.value
  demo.revisions.counter = revision
})
