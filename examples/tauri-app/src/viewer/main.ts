import '../shared/styles.css'
import { addTodo, counter, errors, fireAndForget, label, onErrorsChanged, settings, todos } from '../shared/model'
import type { Snapshot, TopicHandle } from 'tauri-plugin-state-sync-api'

// A read-only window: its capability grants `state-sync:read` only, so it
// shows every topic, and every write it tries is refused by Tauri.
document.querySelector('#app')!.innerHTML = `
<main>
  <header><h1>Read-only viewer</h1><span class="badge">${label}</span></header>
  <section class="card revisions">
    <div><b data-testid="rev-settings">-</b><span>settings</span></div>
    <div><b data-testid="rev-todos">-</b><span>todos</span></div>
    <div><b data-testid="rev-counter">-</b><span>counter</span></div>
  </section>
  <section class="card"><h2>Settings</h2><pre data-testid="settings-json"></pre></section>
  <section class="card"><h2>Todos</h2><pre data-testid="todos-json"></pre></section>
  <section class="card"><h2>Counter</h2><span class="counter" data-testid="counter">0</span></section>
  <section class="card">
    <h2>Writes <span>refused here</span></h2>
    <div class="windows">
      <button data-testid="try-theme">Switch theme</button>
      <button data-testid="try-todo">Add a todo</button>
    </div>
  </section>
  <ul class="errors" data-testid="errors"></ul>
</main>`

const $ = (selector: string) => document.querySelector<HTMLElement>(selector)!
function show<T>(name: string, handle: TopicHandle<T>, render: (s: Snapshot<T>) => void) {
  handle.subscribe((s) => {
    $(`[data-testid=rev-${name}]`).textContent = s.revision
    render(s)
  })
}
show('settings', settings, ({ data }) => ($('[data-testid=settings-json]').textContent = JSON.stringify(data, null, 2)))
show('todos', todos, ({ data }) => ($('[data-testid=todos-json]').textContent = JSON.stringify(data, null, 2)))
show('counter', counter, ({ data }) => ($('[data-testid=counter]').textContent = String(data.value)))

$('[data-testid=try-theme]').onclick = () =>
  fireAndForget(settings.patch({ theme: settings.get()?.data.theme === 'dark' ? 'light' : 'dark' }))
$('[data-testid=try-todo]').onclick = () =>
  fireAndForget(addTodo('from the viewer'))
onErrorsChanged(() => {
  $('[data-testid=errors]').innerHTML = errors
    .slice(-3)
    .map((e) => `<li>${e.replace(/</g, '&lt;')}</li>`)
    .join('')
})
