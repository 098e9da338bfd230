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
 * the attempts are used up, or `alive()` turns false. Rejects with a
 * {@link StateSyncError}.
 *
 * @example
 * const snapshot = await retry(() => invoke('plugin:state-sync|snapshot', { topic: 'a' }), () => true, { attempts: 3 })
 */
export async function retry<R>(
  fn: () => Promise<R>,
  alive: () => boolean,
  { attempts = 4, baseDelayMs = 100, maxDelayMs = 5000, timeoutMs = 1e4 }: RetryOptions = {},
): Promise<R> {
  for (let i = 1; ; i++) {
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(reject, timeoutMs, new StateSyncError('TIMEOUT', 'timeout'))
        }),
      ])
    } catch (e) {
      const error = toStateSyncError(e)
      if (i >= attempts || !/^(IPC|TIMEOUT)$/.test(error.code) || !alive()) throw error
      await new Promise((r) =>
        setTimeout(r, Math.min(maxDelayMs, baseDelayMs * 2 ** (i - 1)) * Math.random()),
      )
    } finally {
      clearTimeout(timer)
    }
  }
}
