// Drives the real demo app in WebKitGTK through tauri-driver and
// WebKitWebDriver. Used by demo.test.mjs; run it under Xvfb (see .ci/e2e).

import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Builder, By } from 'selenium-webdriver'

const root = resolve(import.meta.dirname, '../../..')
const targetDir = resolve(root, process.env.CARGO_TARGET_DIR ?? 'target')
export const appBinary = process.env.STATE_SYNC_DEMO_BINARY ?? join(targetDir, 'debug/state-sync-demo')
export const screenshotDir = process.env.STATE_SYNC_SCREENSHOTS ?? join(targetDir, 'e2e-screenshots')
const driverPort = 4444

let driverProcess

/** Starts tauri-driver once for the whole run. */
export async function startDriver() {
  if (!existsSync(appBinary)) throw new Error(`the demo binary is missing: ${appBinary} (build it first)`)
  rmSync(screenshotDir, { recursive: true, force: true })
  mkdirSync(screenshotDir, { recursive: true })
  console.log(`screenshots: ${screenshotDir}`)
  // In a process group of its own, so that stopDriver can end the driver,
  // WebKitWebDriver and every app they started, even one that outlived its
  // session (it would hold the stderr pipe open and keep this file running).
  driverProcess = spawn('tauri-driver', ['--port', String(driverPort), '--native-driver', '/usr/bin/WebKitWebDriver'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  })
  let stderr = ''
  driverProcess.stderr.on('data', (d) => (stderr += d))
  await waitUntil('tauri-driver to listen', 20_000, async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${driverPort}/status`)
      return res.ok
    } catch {
      if (driverProcess.exitCode !== null) throw new Error(`tauri-driver exited: ${stderr}`)
      return false
    }
  })
}

/** Ends tauri-driver's process group: the driver, WebKitWebDriver and any app left. */
export async function stopDriver() {
  if (!driverProcess) return
  const group = -driverProcess.pid
  const signal = (name) => {
    try {
      process.kill(group, name)
    } catch {
      // the group is gone
    }
  }
  signal('SIGTERM')
  await exited(driverProcess, 5_000).catch(() => {})
  signal('SIGKILL')
  driverProcess.stderr.destroy()
  driverProcess = undefined
}

/**
 * Resolves with the exit code (or signal name) of `child` once it exits;
 * rejects after `timeoutMs`, after killing it, so no test waits forever.
 */
export function exited(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms; killed it`))
    }, timeoutMs)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal })
    })
  })
}

/** A fresh directory for the persisted topics of one app run (or several, for restarts). */
export function dataDir() {
  return mkdtempSync(join(tmpdir(), 'state-sync-e2e-'))
}

/**
 * Starts the app with its persisted topics in `dir`. The app runs without
 * CAP_SYS_NICE, as an ordinary user's would: as root, WebKitGTK moves its IPC
 * threads to real-time scheduling and can stall the machine.
 */
export async function startApp(dir) {
  const launcher = join(dir, 'launch.sh')
  writeFileSync(
    launcher,
    `#!/bin/sh\nexport STATE_SYNC_DEMO_DIR='${dir}/topics'\nexec setpriv --bounding-set=-sys_nice '${appBinary}' "$@"\n`,
  )
  chmodSync(launcher, 0o755)
  const driver = await new Builder()
    .usingServer(`http://127.0.0.1:${driverPort}/`)
    .withCapabilities({ browserName: 'wry', 'tauri:options': { application: launcher } })
    .build()
  const app = new App(driver)
  await app.waitForWindows(['main', 'zustand', 'svelte'])
  return app
}

/** Polls `check` until it returns a truthy value, failing with what it waited for. */
export async function waitUntil(what, timeoutMs, check) {
  const deadline = Date.now() + timeoutMs
  let last
  for (;;) {
    try {
      last = await check()
      if (last) return last
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${format(last)}`)
    }
    await sleep(50)
  }
}

function format(value) {
  if (value instanceof Error) return value.message
  try {
    return JSON.stringify(value)
  } catch {
    return String(value)
  }
}

export class App {
  constructor(driver) {
    this.driver = driver
    /** label -> window handle */
    this.handles = new Map()
    this.current = undefined
  }

  /** Finds the windows with these labels, waiting until they exist and have hydrated. */
  async waitForWindows(labels) {
    await waitUntil(`windows ${labels.join(', ')}`, 30_000, async () => {
      await this.refreshHandles()
      return labels.every((l) => this.handles.has(l))
    })
    for (const label of labels) await this.waitHydrated(label)
  }

  async refreshHandles() {
    for (const handle of await this.driver.getAllWindowHandles()) {
      if ([...this.handles.values()].includes(handle)) continue
      await this.driver.switchTo().window(handle)
      this.current = undefined
      const label = await this.driver.executeScript('return window.__demo ? window.__demo.label : null')
      if (label) this.handles.set(label, handle)
    }
  }

  labels() {
    return [...this.handles.keys()]
  }

  async in(label) {
    if (this.current === label) return
    const handle = this.handles.get(label)
    if (!handle) throw new Error(`no window labelled ${label}`)
    await this.driver.switchTo().window(handle)
    this.current = label
  }

  /** Runs `script` (a function body using `demo`, may `await`) in window `label` and returns its result. */
  async run(label, script, ...args) {
    await this.in(label)
    return this.driver.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       const demo = window.__demo;
       (async (...args) => { ${script} })(...Array.from(arguments).slice(0, -1))
         .then((value) => done({ ok: value }), (error) => done({ error: String(error && error.message || error) }));`,
      ...args,
    ).then((result) => {
      if (result && 'error' in result) throw new Error(`in ${label}: ${result.error}`)
      return result?.ok
    })
  }

  async waitHydrated(label) {
    await waitUntil(`${label} to hydrate`, 20_000, () => this.run(label, 'await demo.ready; return true'))
  }

  /** `{ settings, todos, counter }`, each `{ revision, data }`, as window `label` holds it. */
  state(label) {
    return this.run(label, 'return demo.state()')
  }

  async text(label, testId) {
    await this.in(label)
    return this.driver.findElement(By.css(`[data-testid="${testId}"]`)).getText()
  }

  async click(label, testId) {
    await this.in(label)
    await this.driver.findElement(By.css(`[data-testid="${testId}"]`)).click()
  }

  async select(label, testId, value) {
    await this.in(label)
    await this.driver.findElement(By.css(`[data-testid="${testId}"] option[value="${value}"]`)).click()
  }

  async type(label, testId, text) {
    await this.in(label)
    const input = this.driver.findElement(By.css(`[data-testid="${testId}"]`))
    await input.clear()
    await input.sendKeys(text)
  }

  async screenshots(prefix) {
    for (const label of this.labels()) {
      try {
        await this.in(label)
        const png = await this.driver.takeScreenshot()
        writeFileSync(join(screenshotDir, `${prefix}-${label}.png`), png, 'base64')
      } catch (e) {
        console.log(`no screenshot of ${label}: ${e.message}`)
      }
    }
  }

  async quit() {
    try {
      await this.driver.quit()
    } catch {
      // the app may already have exited
    }
  }
}
