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
 * - In the contention runs (src-tauri/src/bench/scenarios/contention.rs),
 *   receiving windows also add one to `bench-counter` many times at once,
 *   with an action or with `update()`, and count the conflicts they meet.
 *
 * Snapshot fetches (full or since a revision) are counted by wrapping the
 * binding's Tauri transport; a pushed change applied on arrival is no fetch.
 */
import { invoke } from '@tauri-apps/api/core'
import { listen } from '@tauri-apps/api/event'
import { getCurrentWebviewWindow } from '@tauri-apps/api/webviewWindow'
import { isStateSyncError, tauri, topic, type TopicActions, type TopicHandle, type Transport } from 'tauri-plugin-state-sync-api'

interface Small {
  seq: number
}

/** An instruction from the Rust driver (`window.__bench.run`). */
type Instruction =
  | { op: 'open' | 'close' | 'reset' | 'report' | 'contend-open' | 'contend-close' }
  | { op: 'contend'; strategy: Strategy; times: number }
  | { op: 'write'; seq: number }
  | { op: 'invoke' | 'invoke-large'; count: number }

declare global {
  interface Window {
    __bench: { run(instruction: Instruction): void }
  }
}

// The benchmark mode's own topics and action (src-tauri/src/bench/), beside
// the demo's that src/shared/topics.ts declares from the Rust types.
declare module 'tauri-plugin-state-sync-api' {
  interface Topics {
    bench: Small
    'bench-large': unknown
    'bench-large-list': unknown
    'bench-counter': Counter
  }
  interface TopicActions {
    'bench-counter': { increment: { by: number } }
  }
}

const SMALL = 'bench'
const LARGE = 'bench-large'
const LARGE_LIST = 'bench-large-list'
const label = getCurrentWebviewWindow().label
const status = document.getElementById('status')!

/** Snapshot fetches per topic since the last `reset`. */
let fetches: Record<string, number> = {}
const counting: Transport = {
  ...tauri,
  snapshot<T>(name: string, since?: string) {
    fetches[name] = (fetches[name] ?? 0) + 1
    return tauri.snapshot<T>(name, since)
  },
}

const fail = (error: unknown) => {
  status.textContent = `error: ${String(error)}`
  console.error(error)
}

/**
 * Holds `name` and acknowledges the revisions it applies. Nothing is
 * rendered per change, as nothing is for the floor's ping.
 *
 * One acknowledgement is in flight at a time; revisions applied meanwhile
 * are acknowledged as one, the newest, once it returns. With one write at a
 * time that is every revision, as before; in a burst, where a window now
 * applies every pushed change instead of a few pulled snapshots, it keeps
 * the window from spending the burst on 1,000 invokes of the bench's own.
 */
async function receive(name: typeof SMALL | typeof LARGE | typeof LARGE_LIST): Promise<void> {
  const handle = topic(name, { transport: counting, onError: ({ error }) => fail(error) })
  await handle.ready
  let sending = false
  let next: string | undefined
  const ack = (revision: string) => {
    sending = true
    invoke('bench_ack', { topic: name, revision })
      .catch(fail)
      .finally(() => {
        sending = false
        const queued = next
        next = undefined
        if (queued) ack(queued)
      })
  }
  handle.subscribe(({ revision }) => (sending ? (next = revision) : ack(revision)))
}

/**
 * How a contender adds one: the `increment` action; `update()`, whose
 * conflicts carry the current state; or the compare-and-set loop `update()`
 * ran before that, which refetches after each conflict.
 */
type Strategy = 'act' | 'update' | 'update-refetch'

interface Counter {
  value: number
}

/** REVISION_CONFLICT answers to the contender's writes, the current run of them in a row, and the longest. */
let conflicts = 0
let run = 0
let longest = 0
const contending: Transport = {
  ...counting,
  async write(name, kind, value, expectedRevision) {
    try {
      const outcome = await counting.write(name, kind, value, expectedRevision)
      run = 0
      return outcome
    } catch (e) {
      if (isStateSyncError(e, 'REVISION_CONFLICT')) {
        conflicts++
        longest = Math.max(longest, ++run)
      }
      throw e
    }
  },
}
/** The handle of `bench-counter`, held during a contention run. */
let contender: TopicHandle<Counter, TopicActions['bench-counter']> | undefined

/** Adds one to the contended counter `times` times in a row, the `strategy` way. */
async function contend(handle: NonNullable<typeof contender>, strategy: Strategy, times: number) {
  conflicts = run = longest = 0
  const add = (c: Counter) => ({ value: c.value + 1 })
  for (let i = 0; i < times; i++) {
    if (strategy === 'act') await handle.act('increment', { by: 1 })
    // Unbounded attempts: the runs measure how long a window can keep losing.
    else if (strategy === 'update') await handle.update(add, { attempts: Infinity })
    else
      for (;;) {
        const { revision, data } = handle.get()!
        try {
          await handle.set(add(data), { expectedRevision: revision })
          break
        } catch (e) {
          if (!isStateSyncError(e, 'REVISION_CONFLICT')) throw e
          await handle.refresh()
        }
      }
  }
  return { conflicts, longest }
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
    case 'contend-open':
      contender = topic('bench-counter', { transport: contending, onError: () => {} })
      return contender.ready
    case 'contend':
      if (!contender) throw new Error('the contender is not open')
      return contend(contender, instruction.strategy, instruction.times)
    case 'contend-close':
      contender?.stop()
      contender = undefined
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
    await Promise.all([receive(SMALL), receive(LARGE), receive(LARGE_LIST)])
    await listen<{ seq: number }>('bench://ping', ({ payload }) => {
      invoke('bench_ack', { topic: 'ping', revision: String(payload.seq) }).catch(fail)
    })
  }
  status.textContent = `${label}: ready`
  await invoke('bench_done', { op: 'ready', result: null })
}

start().catch(fail)
