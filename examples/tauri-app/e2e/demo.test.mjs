// End-to-end tests of the demo app in a real WebKitGTK WebView.
// Run with `bash .ci/e2e` (builds the app, starts Xvfb and tauri-driver).

import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { dataDir, startApp, startDriver, stopDriver, waitUntil } from './support.mjs'

const windows = ['main', 'zustand', 'svelte']
let app

before(startDriver)
after(stopDriver)
afterEach(async (t) => {
  if (app) {
    await app.screenshots(t.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase())
    await app.quit()
    app = undefined
  }
})

/** Waits until every window in `labels` holds `topic` at the same revision, and returns it. */
async function converged(labels, topic, predicate = () => true) {
  let seen
  try {
    return await waitUntil(`${topic} to converge in ${labels.join(', ')}`, 30_000, async () => {
      const states = await Promise.all(labels.map(async (l) => (await app.state(l))[topic]))
      seen = states
      const revisions = new Set(states.map((s) => s?.revision))
      return revisions.size === 1 && states.every((s) => s && predicate(s.data)) ? states[0] : undefined
    })
  } catch (e) {
    const errors = await Promise.all(labels.map((l) => app.run(l, 'return demo.errors').catch(() => '?')))
    throw new Error(`${e.message}; windows held ${JSON.stringify(seen)}; their errors: ${JSON.stringify(errors)}`)
  }
}

/** Clicks `open-<kind>` in window `from`, waits until the new window has hydrated, and returns its label. */
async function openWindow(from, kind) {
  await app.click(from, `open-${kind}`)
  const label = await waitUntil(`the new ${kind} window`, 20_000, async () => {
    await app.refreshHandles()
    return app.labels().find((l) => l.startsWith(`${kind}-`))
  })
  await app.waitHydrated(label)
  return label
}

/** The revision a window shows on screen for `topic`. */
const shownRevision = (label, topic) => app.text(label, `rev-${topic}`)

describe('the demo app', () => {
  test('a write in one window appears in the others at the same revision', async () => {
    app = await startApp(dataDir())
    await app.select('main', 'theme', 'dark')
    await app.select('main', 'language', 'de')
    const settings = await converged(windows, 'settings', (s) => s.theme === 'dark' && s.language === 'de')
    for (const label of windows) {
      assert.equal(await shownRevision(label, 'settings'), settings.revision, `${label} shows the revision`)
    }
  })

  test('two windows hammering 200 increments each through the increment action reach the exact total', async () => {
    app = await startApp(dataDir())
    await app.click('zustand', 'hammer')
    await app.click('svelte', 'hammer')
    const counter = await converged(windows, 'counter', (c) => c.value === 400)
    assert.equal(counter.data.value, 400)
    assert.equal(counter.revision, '400', 'one revision per increment, none wasted')
    for (const label of windows) assert.equal(await app.text(label, 'counter'), '400')
    for (const label of windows) assert.deepEqual(await app.run(label, 'return demo.errors'), [], `${label} met no error`)
  })

  test('todos added and toggled through actions from two windows are all kept', async () => {
    app = await startApp(dataDir())
    // Each window fires its three actions at once, so they race in Rust.
    for (const label of ['zustand', 'svelte'])
      await app.run(label, `await Promise.all([1, 2, 3].map((i) => demo.addTodo('${label} ' + i))); return true`)
    const todos = await converged(windows, 'todos', (t) => Object.keys(t).length === 6)
    const ids = JSON.stringify(Object.keys(todos.data))
    for (const label of ['zustand', 'svelte'])
      await app.run(label, `await Promise.all(${ids}.filter((_, i) => i % 2 === ${label === 'zustand' ? 0 : 1}).map((id) => demo.toggleTodo(id))); return true`)
    const toggled = await converged(windows, 'todos', (t) => Object.values(t).every((todo) => todo.done))
    assert.equal(toggled.revision, String(BigInt(todos.revision) + 6n), 'one revision per toggle, none lost')
  })

  test('a window opened later starts hydrated at the current state and revision', async () => {
    app = await startApp(dataDir())
    await app.type('main', 'new-todo', 'water the plants')
    await app.click('main', 'add-todo')
    await app.run('zustand', 'await demo.hammer(5)')
    // Wait for every window to hold the writes before taking the reference.
    const todos = await converged(windows, 'todos', (t) => Object.values(t).some((x) => x.title === 'water the plants'))
    const counter = await converged(windows, 'counter', (c) => c.value === 5)
    const settings = (await app.state('main')).settings
    const opened = await openWindow('svelte', 'zustand')
    const state = await app.state(opened)
    assert.deepEqual(state.counter, counter, 'the counter at its current revision')
    assert.deepEqual(state.settings, settings, 'the settings at their current revision')
    assert.deepEqual(state.todos, todos, 'the todos at their current revision')
  })

  test('a window reloaded in the middle of a stream of writes converges', async () => {
    app = await startApp(dataDir())
    const stream = app.run('main', 'await demo.hammer(150); return demo.state().counter')
    await waitUntil('the stream to start', 10_000, async () => (await app.state('main')).counter.data.value > 10)
    await app.in('svelte')
    await app.driver.navigate().refresh()
    await app.waitHydrated('svelte')
    const finished = await stream
    assert.equal(finished.data.value, 150)
    const counter = await converged(windows, 'counter', (c) => c.value === 150)
    assert.equal(counter.revision, '150')
  })

  test('a window that missed changes converges, whether the history still holds them or not', async () => {
    app = await startApp(dataDir())
    let total = 0
    // The demo's todos keep their last 8 changes: 3 missed are pulled as a
    // delta since the window's revision, 12 as the whole list.
    for (const missed of [3, 12]) {
      await app.run('main', 'demo.deafen(true); return true')
      for (let i = 0; i < missed; i++) await app.run('zustand', `await demo.addTodo('missed ${missed}.${i}'); return true`)
      total += missed
      await converged(['zustand', 'svelte'], 'todos', (t) => Object.keys(t).length === total)
      const behind = (await app.state('main')).todos
      assert.ok(Object.keys(behind.data).length < total, `main heard none of the ${missed} changes`)
      await app.run('main', 'demo.deafen(false); return true')
      // The next change reaches main at a revision it is not at: it pulls since its own.
      await app.run('svelte', `await demo.addTodo('heard ${missed}'); return true`)
      total += 1
      await converged(windows, 'todos', (t) => Object.keys(t).length === total)
    }
    for (const label of windows) assert.deepEqual(await app.run(label, 'return demo.errors'), [], `${label} met no error`)
  })

  test('a key deleted in one window disappears everywhere', async () => {
    app = await startApp(dataDir())
    await app.type('zustand', 'new-todo', 'buy milk')
    await app.click('zustand', 'add-todo')
    const added = await converged(windows, 'todos', (t) => Object.keys(t).length === 1)
    const [id] = Object.keys(added.data)
    await app.click('svelte', 'delete-todo')
    const removed = await converged(windows, 'todos', (t) => !(id in t))
    assert.deepEqual(removed.data, {})
    assert.ok(BigInt(removed.revision) > BigInt(added.revision))
  })

  test('after a restart the persisted topic is back with its revision', async () => {
    const dir = dataDir()
    app = await startApp(dir)
    await app.select('svelte', 'language', 'fr')
    await app.select('svelte', 'theme', 'dark')
    const saved = await converged(windows, 'settings', (s) => s.language === 'fr' && s.theme === 'dark')
    // Quit through the app's own exit path, and wait until it is gone before
    // ending the session: tauri-driver would otherwise kill it first.
    await app.run('main', 'setTimeout(() => demo.quit(), 50); return true')
    await waitUntil('the app to exit', 20_000, async () => {
      try {
        await app.driver.getAllWindowHandles()
        return false
      } catch {
        return true
      }
    })
    await app.quit()

    app = await startApp(dir)
    for (const label of windows) {
      const { settings } = await app.state(label)
      assert.deepEqual(settings, saved, `${label} starts from the saved settings and revision`)
    }
  })

  test('a read-only window shows the topics and its writes are refused with a clear error', async () => {
    app = await startApp(dataDir())
    const viewer = await openWindow('main', 'viewer')
    const before = await converged([...windows, viewer], 'settings')
    await app.click(viewer, 'try-theme')
    const error = await waitUntil('the refusal to show', 10_000, async () => {
      const text = await app.text(viewer, 'errors')
      return text.includes('FORBIDDEN') ? text : undefined
    })
    assert.match(error, /not allowed/)
    const after = await app.state('main')
    assert.deepEqual(after.settings, before, 'the refused write changed nothing')
  })

  test('a window restricted to the settings shows them, is refused the other topics, and hears nothing about them', async () => {
    app = await startApp(dataDir())
    const restricted = await openWindow('main', 'restricted')
    const todosBefore = (await app.state('main')).todos

    // It is refused what its capability does not allow, with the plugin's typed error.
    await app.click(restricted, 'read-todos')
    await waitUntil('the read refusal to show', 10_000, async () =>
      (await app.text(restricted, 'errors')).includes('TOPIC_FORBIDDEN: reading of topic `todos`'),
    )
    await app.click(restricted, 'write-todos')
    await waitUntil('the write refusal to show', 10_000, async () =>
      (await app.text(restricted, 'errors')).includes('TOPIC_FORBIDDEN: writing of topic `todos`'),
    )
    assert.deepEqual((await app.state('main')).todos, todosBefore, 'the refused write changed nothing')

    // The other windows keep writing every topic; it follows the settings only.
    await app.type('main', 'new-todo', 'feed the cat')
    await app.click('main', 'add-todo')
    await app.run('zustand', 'await demo.hammer(3)')
    await app.select('svelte', 'theme', 'dark')
    await converged(windows, 'todos', (t) => Object.values(t).some((x) => x.title === 'feed the cat'))
    await converged(windows, 'counter', (c) => c.value === 3)
    const settings = await converged([...windows, restricted], 'settings', (s) => s.theme === 'dark')
    assert.equal(await shownRevision(restricted, 'settings'), settings.revision)
    // And its own write to the settings goes through to everyone.
    await app.click(restricted, 'toggle-theme')
    await converged([...windows, restricted], 'settings', (s) => s.theme === 'light')

    const heard = await app.run(restricted, 'return demo.heard')
    assert.ok(heard.length > 0, 'it heard the settings changes')
    assert.deepEqual(
      heard.filter((e) => e.via !== 'channel' || e.topic !== 'settings'),
      [],
      'nothing but the settings, and only on its own channel (no broadcast event)',
    )
  })
})

