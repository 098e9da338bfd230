import '../shared/styles.css'
import { listen } from '@tauri-apps/api/event'
import { getCurrentWebviewWindow } from '@tauri-apps/api/webviewWindow'
import {
  INVALIDATION_EVENT,
  getSnapshot,
  isStateSyncError,
  onInvalidate,
  topic,
  write,
  type Invalidation,
} from 'tauri-plugin-state-sync-api'
// Generated from the Rust types of src-tauri/src/main.rs; it types topic('settings') below.
import type {} from '../shared/topics'

// A window restricted to one topic: its capability (capabilities/restricted.json)
// lets it read and write `settings` only. It shows the settings, and its
// attempts to read or write `todos` are refused with TOPIC_FORBIDDEN. It does
// not import ../shared/model, which would subscribe to every topic.
const label = getCurrentWebviewWindow().label

document.querySelector('#app')!.innerHTML = `
<main>
  <header><h1>Settings only</h1><span class="badge">${label}</span></header>
  <section class="card revisions">
    <div><b data-testid="rev-settings">-</b><span>settings</span></div>
  </section>
  <section class="card"><h2>Settings</h2><pre data-testid="settings-json"></pre>
    <div class="windows"><button data-testid="toggle-theme">Switch theme</button></div>
  </section>
  <section class="card">
    <h2>Other topics <span>refused here</span></h2>
    <div class="windows">
      <button data-testid="read-todos">Read the todos</button>
      <button data-testid="write-todos">Add a todo</button>
    </div>
  </section>
  <ul class="errors" data-testid="errors"></ul>
</main>`

const $ = (selector: string) => document.querySelector<HTMLElement>(selector)!
const errors: string[] = []
function report(error: unknown) {
  errors.push(isStateSyncError(error) ? `${error.code}: ${error.message}` : String(error))
  $('[data-testid=errors]').innerHTML = errors
    .slice(-3)
    .map((e) => `<li>${e.replace(/</g, '&lt;')}</li>`)
    .join('')
}

/** Every change this page heard about, and how: its channel, or a plain event listener. */
const heard: (Invalidation & { via: 'channel' | 'event' })[] = []
void onInvalidate('settings', (e) => heard.push({ ...e, via: 'channel' })).catch(report)
// A plain listener (target "any"), as any page may add: with scopes in use
// the plugin broadcasts nothing, so this hears nothing.
void listen<Invalidation>(INVALIDATION_EVENT, ({ payload }) => heard.push({ ...payload, via: 'event' })).catch(report)

const settings = topic('settings', { onError: ({ error }) => report(error) })
settings.subscribe(({ revision, data }) => {
  $('[data-testid=rev-settings]').textContent = revision
  $('[data-testid=settings-json]').textContent = JSON.stringify(data, null, 2)
})

$('[data-testid=toggle-theme]').onclick = () =>
  void settings.patch({ theme: settings.get()?.data.theme === 'dark' ? 'light' : 'dark' }).catch(() => {})
$('[data-testid=read-todos]').onclick = () => void getSnapshot('todos').catch(report)
$('[data-testid=write-todos]').onclick = () =>
  void write('todos', 'patch', { [`restricted-${Date.now()}`]: { title: 'from the restricted window', done: false } }).catch(report)

// What the end-to-end tests read: the same as the other windows' `__demo`
// (see ../shared/model), for the one topic it holds, plus what it heard.
;(window as unknown as { __demo: unknown }).__demo = {
  label,
  ready: settings.ready,
  state: () => ({ settings: settings.get() }),
  errors,
  heard,
}
