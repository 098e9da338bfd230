/**
 * A window of the benchmark mode (bench.html), opened by the app when it runs
 * with STATE_SYNC_BENCH=1 (src-tauri/src/bench/). Rust drives it and takes
 * every time; this page only reacts.
 *
 * - A receiving window (`bench-1`, `bench-2`, ...) holds the bench topics
 *   through the real binding, `topic()`, on default options, and acknowledges
 *   each revision it applies with the `bench_ack` invoke. It also
 *   acknowledges the bare `bench://ping` event: the floor.
 * - The writer window (`bench-writer`) writes when told to, and runs the
 *   bare-invoke floor.
 *
 * Snapshot fetches are counted by wrapping the binding's Tauri transport.
 */
import { invoke } from '@tauri-apps/api/core'
import { listen } from '@tauri-apps/api/event'
import { getCurrentWebviewWindow } from '@tauri-apps/api/webviewWindow'
import { tauri, topic, type TopicHandle, type Transport } from 'tauri-plugin-state-sync-api'

interface Small {
  seq: number
}

/** An instruction from the Rust driver (`window.__bench.run`). */
type Instruction =
  | { op: 'open' | 'close' | 'reset' | 'report' }
  | { op: 'write'; seq: number }
  | { op: 'invoke' | 'invoke-large'; count: number }

declare global {
  interface Window {
    __bench: { run(instruction: Instruction): void }
  }
}

// The benchmark mode's own topics (src-tauri/src/bench/), beside the demo's
// topics that src/shared/topics.ts declares from the Rust types.
declare module 'tauri-plugin-state-sync-api' {
  interface Topics {
    bench: Small
    'bench-large': unknown
  }
}

const SMALL = 'bench'
const LARGE = 'bench-large'
const label = getCurrentWebviewWindow().label
const status = document.getElementById('status')!

/** Snapshot fetches per topic since the last `reset`. */
let fetches: Record<string, number> = {}
const counting: Transport = {
  ...tauri,
  snapshot<T>(name: string) {
    fetches[name] = (fetches[name] ?? 0) + 1
    return tauri.snapshot<T>(name)
  },
}

const fail = (error: unknown) => {
  status.textContent = `error: ${String(error)}`
  console.error(error)
}

/**
 * Holds `name` and acknowledges every revision applied. Nothing is rendered
 * per change, as nothing is for the floor's ping.
 */
async function receive(name: typeof SMALL | typeof LARGE): Promise<void> {
  const handle = topic(name, { transport: counting, onError: ({ error }) => fail(error) })
  await handle.ready
  handle.subscribe(({ revision }) => {
    invoke('bench_ack', { topic: name, revision }).catch(fail)
  })
}

/** The writer's handle, held only while it writes (see `open` and `close`). */
let writer: TopicHandle<Small> | undefined

/** The mean of `count` sequential invokes of `command`, in ms. */
async function meanInvoke(command: string, count: number): Promise<number> {
  const start = performance.now()
  for (let i = 0; i < count; i++) await invoke(command)
  return (performance.now() - start) / count
}

async function perform(instruction: Instruction): Promise<unknown> {
  switch (instruction.op) {
    case 'open':
      writer = topic(SMALL, { transport: counting })
      return writer.ready
    case 'close':
      writer?.stop()
      writer = undefined
      return null
    case 'write': {
      if (!writer) throw new Error('the writer is not open')
      // Rust starts the clock when this mark arrives.
      await invoke('bench_mark')
      return writer.set({ seq: instruction.seq })
    }
    case 'invoke':
      return meanInvoke('bench_noop', instruction.count)
    case 'invoke-large':
      return meanInvoke('bench_large', instruction.count)
    case 'reset':
      fetches = {}
      return null
    case 'report':
      return fetches
  }
}

window.__bench = {
  run(instruction) {
    perform(instruction).then(
      (result) => invoke('bench_done', { op: instruction.op, result: result ?? null }),
      (e: unknown) => invoke('bench_done', { op: instruction.op, error: String(e) }),
    ).catch(fail)
  },
}

async function start(): Promise<void> {
  if (label !== 'bench-writer') {
    await Promise.all([receive(SMALL), receive(LARGE)])
    await listen<{ seq: number }>('bench://ping', ({ payload }) => {
      invoke('bench_ack', { topic: 'ping', revision: String(payload.seq) }).catch(fail)
    })
  }
  status.textContent = `${label}: ready`
  await invoke('bench_done', { op: 'ready', result: null })
}

start().catch(fail)
