/**
 * Retries with exponential backoff, jitter and a per-attempt timeout.
 *
 * @module
 */
import { StateSyncError, toStateSyncError } from './errors'

/**
 * How a failed fetch is retried. Only `IPC` and `TIMEOUT` failures are retried;
 * the plugin's own error codes are deterministic and fail at once.
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
 * Runs `fn` until it succeeds, it fails with an error that is not retryable,
 * or the attempts are used up; rejects with a {@link StateSyncError}. When
 * `signal` aborts, it rejects at once with `signal.reason`, abandoning the
 * attempt in flight or the backoff; every timer it set is cleared by then.
 *
 * @example
 * const snapshot = await retry(() => invoke('plugin:state-sync|snapshot', { topic: 'a' }), new AbortController().signal, { attempts: 3 })
 */
export async function retry<R>(
  fn: () => Promise<R>,
  signal: AbortSignal,
  { attempts = 4, baseDelayMs = 100, maxDelayMs = 5000, timeoutMs = 1e4 }: RetryOptions = {},
): Promise<R> {
  for (let i = 1; ; i++) {
    try {
      return await wait(signal, timeoutMs, fn())
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
