import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { counter, settings, todos, type Settings, type Todos } from '../shared/model'

/** The window's Pinia store, kept in step with the plugin's topics. */
export const useDemoStore = defineStore('demo', () => {
  const settingsState = ref<Settings>()
  const todosState = ref<Todos>({})
  const count = ref(0)
  const revisions = ref({ settings: '-', todos: '-', counter: '-' })

  settings.subscribe(({ revision, data }) => {
    settingsState.value = data
    revisions.value.settings = revision
  })
  todos.subscribe(({ revision, data }) => {
    todosState.value = data
    revisions.value.todos = revision
  })
  counter.subscribe(({ revision, data }) => {
    count.value = data.value
    revisions.value.counter = revision
  })

  const remaining = computed(() => Object.values(todosState.value).filter((t) => !t.done).length)
  return { settings: settingsState, todos: todosState, count, revisions, remaining }
})
