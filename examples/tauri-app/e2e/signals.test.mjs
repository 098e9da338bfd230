// Stopping the demo with a signal (Ctrl+C in its terminal, or `kill`) is a
// clean exit, not a crash: the persisted topics are saved and the next start
// continues at the same revision. Run with `bash .ci/e2e`, under Xvfb.
//
// The app is started directly, without tauri-driver, so the test can signal
// the app process itself, as a terminal would.

import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { appBinary, dataDir, exited, waitUntil } from './support.mjs'

const LEASE_SPAN = 2 ** 20
const signals = { SIGINT: 2, SIGTERM: 15 }

/** Starts the demo on `topics` and resolves once it prints that it is running. */
async function startDemo(topics, env = {}) {
  const child = spawn('setpriv', ['--bounding-set=-sys_nice', appBinary], {
    env: { ...process.env, ...env, STATE_SYNC_DEMO_DIR: topics },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  await waitUntil('the demo to say it is running', 60_000, () => {
    if (child.exitCode !== null) throw new Error(`the demo exited early: ${output}`)
    return output.includes('state-sync demo: running')
  })
  return { child, output: () => output }
}

const readSettings = (topics) => JSON.parse(readFileSync(join(topics, 'settings.json'), 'utf8'))

describe('stopping the demo with a signal', () => {
  for (const [signal, number] of Object.entries(signals)) {
    test(`${signal} saves the persisted topics and exits cleanly, so revisions continue`, async () => {
      const topics = join(dataDir(), 'topics')
      mkdirSync(topics, { recursive: true })
      const data = { theme: 'dark', language: 'fr', accent: '#112233' }
      writeFileSync(join(topics, 'settings.json'), JSON.stringify({ data, revision: '41', lease: '41', schemaVersion: 1 }))

      const demo = await startDemo(topics)
      assert.equal(demo.output().includes('Ctrl+C'), true, 'it says how to stop it')
      assert.equal(readSettings(topics).lease, String(41 + LEASE_SPAN), 'while running, the file holds a lease')

      demo.child.kill(signal)
      const { code } = await exited(demo.child, 30_000)
      assert.equal(code, 128 + number, `it exits with 128 + ${number}, as a shell reports ${signal}; output: ${demo.output()}`)
      const saved = readSettings(topics)
      assert.deepEqual(saved.data, data)
      assert.equal(saved.revision, '41')
      assert.equal(saved.lease, '41', 'the lease is given up, as on any clean exit')

      const again = await startDemo(topics)
      assert.equal(readSettings(topics).revision, '41', 'the next start continues at the same revision')
      again.child.kill('SIGTERM')
      await exited(again.child, 30_000)
    })
  }

  test('an exit that hangs after SIGTERM still ends the process, with the topics saved', async () => {
    const topics = join(dataDir(), 'topics')
    mkdirSync(topics, { recursive: true })
    const data = { theme: 'dark', language: 'de', accent: '#445566' }
    writeFileSync(join(topics, 'settings.json'), JSON.stringify({ data, revision: '7', lease: '7', schemaVersion: 1 }))
    const demo = await startDemo(topics, { STATE_SYNC_DEMO_HANG_ON_EXIT: '1' })

    const sent = Date.now()
    demo.child.kill('SIGTERM')
    const { code, signal } = await exited(demo.child, 30_000)
    const took = Date.now() - sent
    assert.ok(demo.output().includes('hanging as asked'), `the exit did hang: ${demo.output()}`)
    assert.deepEqual({ code, signal }, { code: null, signal: 'SIGTERM' }, 'it ends as SIGTERM would')
    assert.ok(took >= 9_000, `it gave the exit its 10 s first (${took} ms)`)
    assert.deepEqual(readSettings(topics).data, data, 'the topics were saved before the exit began')
  })
})
