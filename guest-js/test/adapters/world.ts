// Simulated windows for the adapter tests: one in-memory backend (the plugin's
// model), a jittered event/IPC network, and per-window transports that record
// every write and can be made to fail or to let the backend move first.
import type { SyncErrorContext } from '../../src/engine'
import { topic, type TopicHandle, type TopicOptions } from '../../src/topic'
import type { Transport } from '../../src/tauri'
import { Backend } from '../support/backend'
import { network, prng } from '../support/network'

export type Data = Record<string, unknown>

export interface Write {
  window: string
  kind: 'set' | 'patch'
  value: unknown
  expectedRevision?: string
}

export function world(
  initial: Data,
  { jitterMs = 0, seed = 1, normalize }: { jitterMs?: number; seed?: number; normalize?: (data: Data) => Data } = {},
) {
  const backend = new Backend({ settings: initial })
  // A typed topic: the backend stores the normalized data (the outcome is then not `exact`).
  if (normalize) backend.typed('settings', initial, normalize as (data: unknown) => unknown)
  const net = network(backend, prng(seed), { jitterMs, drop: 0, duplicate: 0, fail: 0 })
  const writes: Write[] = []
  const errors: SyncErrorContext[] = []
  /** Runs before the next write reaches the backend (once), e.g. a concurrent change. */
  let beforeWrite: (() => void) | undefined
  /** When set, every write fails with this rejection before reaching the backend. */
  let failWith: unknown

  const transport = (label: string): Transport => {
    const inner = net.transport(label)
    return {
      ...inner,
      async write(name, kind, value, expectedRevision) {
        writes.push({ window: label, kind, value, expectedRevision })
        if (failWith !== undefined) throw failWith
        const hook = beforeWrite
        beforeWrite = undefined
        hook?.()
        return inner.write(name, kind, value, expectedRevision)
      },
    }
  }

  return {
    backend,
    writes,
    errors,
    /** Opens the topic `settings` in the window `label`. */
    open(label = 'main', options: TopicOptions<Data> = {}): TopicHandle<Data> {
      return topic<Data>('settings', { transport: transport(label), onError: (e) => errors.push(e), ...options })
    },
    transport,
    /** The backend's current data. */
    data: () => backend.snapshot('settings').data as Data,
    /** A change made from Rust. */
    rust(data: Data) {
      backend.rust('settings', data)
    },
    set beforeWrite(hook: () => void) {
      beforeWrite = hook
    },
    set failWith(error: unknown) {
      failWith = error
    },
  }
}

/** Records a value each time a real reactive observer sees it change. */
export function observed() {
  const seen: unknown[] = []
  return {
    seen,
    see(value: unknown) {
      if (seen.length === 0 || seen[seen.length - 1] !== value) seen.push(value)
    },
  }
}

/** The state without its functions, as plain data. */
export const plain = (state: object): Data => JSON.parse(JSON.stringify(state)) as Data
