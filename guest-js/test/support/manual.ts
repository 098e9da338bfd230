// A hand-driven subscriber and provider for engine tests: every getSnapshot()
// call is a promise the test settles, and events are emitted by hand.
import { vi } from 'vitest'
import type { CatchUp, JsonPatch, PushedInvalidation } from '../../src/protocol'

export interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

export function manual<T = unknown>() {
  const fetches: Deferred<CatchUp<T>>[] = []
  const log: string[] = []
  let handler: ((event: PushedInvalidation) => void) | undefined
  const unsubscribe = vi.fn(() => {
    log.push('unsubscribe')
    handler = undefined
  })
  const subscribe = vi.fn(async (h: (event: PushedInvalidation) => void) => {
    log.push('subscribe')
    handler = h
    return unsubscribe
  })
  const getSnapshot = vi.fn((_since?: string) => {
    log.push('fetch')
    const d = deferred<CatchUp<T>>()
    fetches.push(d)
    return d.promise
  })
  return {
    fetches,
    log,
    unsubscribe,
    subscriber: { subscribe },
    provider: { getSnapshot },
    /** Emits an invalidation as the plugin would. */
    emit(revision: string, sourceId = '@rust') {
      handler?.({ topic: 't', revision, sourceId })
    },
    /** Hands `event` to the engine as it is. */
    emitRaw(event: PushedInvalidation) {
      handler?.(event)
    },
    /** Emits an invalidation that carries its change, as the plugin pushes a small one. */
    push(from: string, revision: string, patch: JsonPatch, sourceId = '@rust') {
      handler?.({ topic: 't', revision, sourceId, from, patch })
    },
    /** Settles the n-th fetch (default: the last one) with a snapshot. */
    answer(revision: string, data: T, n = fetches.length - 1) {
      fetches[n]!.resolve({ revision, data })
    },
    /** Settles the n-th fetch (default: the last one) with a delta. */
    answerDelta(from: string, revision: string, patch: JsonPatch, n = fetches.length - 1) {
      fetches[n]!.resolve({ revision, from, patch })
    },
    get subscribed() {
      return handler !== undefined
    },
  }
}

/** Lets pending promise callbacks run (fake timers do not advance). */
export const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}
