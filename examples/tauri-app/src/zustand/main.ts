import { createStore } from 'zustand/vanilla'
import { bindZustand } from 'tauri-plugin-state-sync-api/zustand'
import '../shared/styles.css'
import { addTodo, counter, errors, fireAndForget, hammer, increment, label, onErrorsChanged, settings, todos, toggleTodo, watchRevision } from '../shared/model'
import type { Settings, Todos } from '../shared/topics'
import { kindTitle, openWindow, windowKinds } from '../shared/windows'

/** Settings and todos in Zustand stores, bound to their topics: `setState` is a write. */
const settingsStore = createStore<Settings>(() => ({ theme: 'light', language: 'en', accent: '#4f46e5' }))
const todosStore = createStore<Todos>(() => ({}))
bindZustand(settingsStore, settings, { mode: 'replace' })
bindZustand(todosStore, todos, { mode: 'replace' })

/** The counter and every topic's revision, for display; the counter changes only through `update`. */
const viewStore = createStore(() => ({ count: 0, revisions: { settings: '-', todos: '-', counter: '-' } }))
const setRevision = (name: 'settings' | 'todos' | 'counter') => (revision: string) =>
  viewStore.setState((s) => ({ revisions: { ...s.revisions, [name]: revision } }))
watchRevision(settings, setRevision('settings'))
watchRevision(todos, setRevision('todos'))
counter.subscribe(({ revision, data }) => {
  viewStore.setState({ count: data.value })
  setRevision('counter')(revision)
})


document.querySelector('#app')!.innerHTML = `
<main>
  <header><h1>Zustand</h1><span class="badge">${label}</span></header>
  <section class="card revisions">
    <div><b data-testid="rev-settings">-</b><span>settings</span></div>
    <div><b data-testid="rev-todos">-</b><span>todos</span></div>
    <div><b data-testid="rev-counter">-</b><span>counter</span></div>
  </section>
  <section class="card">
    <h2>Settings <span>persisted</span></h2>
    <div class="row"><label>Theme</label>
      <select data-testid="theme"><option value="light">Light</option><option value="dark">Dark</option></select></div>
    <div class="row"><label>Language</label>
      <select data-testid="language"><option value="en">English</option><option value="fr">Français</option><option value="de">Deutsch</option></select></div>
  </section>
  <section class="card">
    <h2>Todos <span data-testid="remaining"></span></h2>
    <form class="row"><input type="text" data-testid="new-todo" placeholder="What needs doing?" />
      <button class="primary" data-testid="add-todo" type="submit">Add</button></form>
    <ul class="todos"></ul>
  </section>
  <section class="card">
    <h2>Counter <span>action</span></h2>
    <div class="row"><span class="counter" data-testid="counter">0</span>
      <button class="primary" data-testid="increment">+1</button>
      <button data-testid="hammer">Hammer ×200</button></div>
  </section>
  <section class="card"><h2>Windows</h2><div class="windows">
    ${windowKinds.map((k) => `<button data-testid="open-${k}" data-kind="${k}">+ ${kindTitle(k)}</button>`).join('')}
  </div></section>
  <ul class="errors" data-testid="errors"></ul>
</main>`

const $ = <E extends Element>(selector: string) => document.querySelector<E>(selector)!
const theme = $<HTMLSelectElement>('[data-testid=theme]')
const language = $<HTMLSelectElement>('[data-testid=language]')
const list = $<HTMLUListElement>('ul.todos')
const draft = $<HTMLInputElement>('[data-testid=new-todo]')
const hammerButton = $<HTMLButtonElement>('[data-testid=hammer]')

theme.onchange = () => settingsStore.setState({ theme: theme.value as Settings['theme'] })
language.onchange = () => settingsStore.setState({ language: language.value })
$('form').addEventListener('submit', (e) => {
  e.preventDefault()
  const title = draft.value.trim()
  if (title) fireAndForget(addTodo(title))
  draft.value = ''
})
$('[data-testid=increment]').addEventListener('click', () => fireAndForget(increment()))
hammerButton.onclick = async () => {
  hammerButton.disabled = true
  await hammer(200).catch(() => {})
  hammerButton.disabled = false
}
document.querySelectorAll<HTMLButtonElement>('[data-kind]').forEach((b) => (b.onclick = () => openWindow(b.dataset.kind as never)))
onErrorsChanged(() => {
  $('[data-testid=errors]').innerHTML = errors.slice(-3).map((e) => `<li>${e.replace(/</g, '&lt;')}</li>`).join('')
})

function todoItem(id: string, todo: Todos[string]): HTMLLIElement {
  const li = document.createElement('li')
  li.dataset.testid = 'todo'
  li.dataset.id = id
  li.className = todo.done ? 'done' : ''
  const done = Object.assign(document.createElement('input'), { type: 'checkbox', checked: todo.done })
  done.onchange = () => fireAndForget(toggleTodo(id))
  const title = Object.assign(document.createElement('input'), { type: 'text', value: todo.title })
  title.onchange = () => todosStore.setState({ [id]: { ...todo, title: title.value } })
  const remove = Object.assign(document.createElement('button'), { className: 'ghost', title: 'Delete', textContent: '✕' })
  remove.dataset.testid = 'delete-todo'
  remove.onclick = () => {
    const { [id]: _removed, ...rest } = todosStore.getState()
    todosStore.setState(rest, true)
  }
  li.append(done, title, remove)
  return li
}

function renderView() {
  const { count, revisions } = viewStore.getState()
  for (const name of ['settings', 'todos', 'counter'] as const) $(`[data-testid=rev-${name}]`).textContent = revisions[name]
  $('[data-testid=counter]').textContent = String(count)
}

function renderSettings({ theme: t, language: l }: Settings) {
  theme.value = t
  language.value = l
}

function renderTodos(state: Todos) {
  const entries = Object.entries(state)
  list.replaceChildren(...entries.map(([id, todo]) => todoItem(id, todo)))
  if (entries.length === 0) list.innerHTML = '<li class="empty">Nothing to do.</li>'
  $('[data-testid=remaining]').textContent = `${entries.filter(([, t]) => !t.done).length} left`
}

viewStore.subscribe(renderView)
settingsStore.subscribe(renderSettings)
todosStore.subscribe(renderTodos)
renderView()
renderSettings(settingsStore.getState())
renderTodos(todosStore.getState())
