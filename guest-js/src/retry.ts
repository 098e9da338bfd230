/**
 * How a fetch is attempted: by default once, with a time-out; `backoff`, an
 * opt-in that a bundle without it does not contain, retries with exponential
 * backoff and jitter.
 *
 * @module
 */
import { StateSyncError, toStateSyncError } from './errors'

/**
 * What the `retry` option of {@link topic} takes: runs `attempt` (one fetch)
 * as often as it decides, and settles like the last attempt. When `signal`
 * aborts (`stop()`), it rejects at once with `signal.reason`, abandoning the
 * attempt in flight or the backoff, with every timer it set cleared.
 * Without one, a fetch is tried once, and fails with `TIMEOUT` if it takes
 * longer than 10 s, so that a hung call cannot hold up the one fetch in flight
 * (the next event, focus or interval fetches again). {@link backoff} makes one.
 *
 * @example
 * const settings = topic<Settings>('settings', { retry: backoff({ attempts: 6 }) })
 */
export type Retry = <R>(attempt: () => Promise<R>, signal: AbortSignal) => Promise<R>

/**
 * The options of {@link backoff}. Only `IPC` and `TIMEOUT` failures are
 * retried; the plugin's own error codes are deterministic and fail at once.
 *
 * - `attempts`: tries in all, including the first (default 4).
 * - `baseDelayMs`: bound of the delay before the second try; doubles after each failure (default 100).
 * - `maxDelayMs`: upper bound of one delay (default 5000). Each delay is
 *   multiplied by a random factor in [0, 1) ("full jitter"), so that windows
 *   that failed together do not retry together.
 * - `timeoutMs`: one try that takes longer fails with `TIMEOUT` (default 10000).
 *
 * @example
 * const retry: RetryOptions = { attempts: 6, timeoutMs: 2000 }
 */
export interface RetryOptions {
  attempts?: number
  baseDelayMs?: number
  maxDelayMs?: number
  timeoutMs?: number
}

/**
 * The default {@link Retry}: one attempt, which fails with `TIMEOUT` after 10 s.
 *
 * @example
 * const snapshot = await once(() => getSnapshot('settings'), new AbortController().signal)
 */
export const once: Retry = (attempt) => {
  let timer: ReturnType<typeof setTimeout> | undefined
  // The attempt starts first: one that throws at once leaves no timer behind.
  return Promise.race([
    attempt(),
    new Promise<never>((_, reject) => (timer = setTimeout(reject, 1e4, new StateSyncError('TIMEOUT', 'timeout')))),
  ]).finally(() => clearTimeout(timer))
}

/**
 * A {@link Retry} that tries up to `attempts` times, with exponential backoff,
 * full jitter and a per-attempt timeout, and rejects with a {@link StateSyncError}.
 * `backoff()` with no options: 4 attempts, 100 ms to 5 s between them,
 * 10 s per attempt.
 *
 * @example
 * const settings = topic<Settings>('settings', { retry: backoff() })
 * const counter = topic<number>('counter', { retry: backoff({ attempts: 6, timeoutMs: 2000 }) })
 */
export const backoff =
  ({ attempts = 4, baseDelayMs = 100, maxDelayMs = 5000, timeoutMs = 1e4 }: RetryOptions = {}): Retry =>
  async (attempt, signal) => {
    for (let i = 1; ; i++) {
      try {
        return await wait(signal, timeoutMs, attempt())
      } catch (e) {
        const error = toStateSyncError(e)
        if (i >= attempts || !/^(IPC|TIMEOUT)$/.test(error.code) || signal.aborted) throw error
        await wait(signal, Math.min(maxDelayMs, baseDelayMs * 2 ** (i - 1)) * Math.random())
      }
    }
  }

// Settles like `task`, or rejects with TIMEOUT after `ms`; without a task,
// resolves after `ms`. Rejects with `signal.reason` when it aborts first.
// Once settled, its timer and its abort listener are gone.
const wait = <R>(signal: AbortSignal, ms: number, task?: Promise<R>) =>
  new Promise<R>((resolve, reject) => {
    const settle = (how: (value: never) => void) => (value: unknown) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', stop)
      how(value as never)
    }
    const stop = () => settle(reject)(signal.reason)
    const timer = setTimeout(settle(task ? reject : resolve), ms, new StateSyncError('TIMEOUT', 'timeout'))
    signal.addEventListener('abort', stop)
    task?.then(settle(resolve), settle(reject))
  })
