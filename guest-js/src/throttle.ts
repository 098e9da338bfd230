/**
 * Debounce and throttle for invalidation-triggered fetches.
 *
 * @module
 */

/**
 * How invalidation events are turned into fetches. With no option set, every
 * event that is newer than the local state requests a fetch at once (the
 * fetches are still coalesced: at most one in flight and one queued).
 *
 * - `debounceMs`: fetch once events have been quiet for this long.
 * - `throttleMs`: fetch at most once per this period (wins over `debounceMs`).
 * - `leading`: fire on the first event of a burst (default: `true` when
 *   throttling, `false` when debouncing).
 * - `trailing`: fire once more at the end of a burst that had further events (default `true`).
 * - `maxWaitMs`: with `debounceMs`, fire at the latest this long after a burst began.
 *
 * @example
 * const options: Throttling = { debounceMs: 50, maxWaitMs: 500 }
 */
export interface Throttling {
  debounceMs?: number
  throttleMs?: number
  leading?: boolean
  trailing?: boolean
  maxWaitMs?: number
}

/**
 * Wraps `fn` so that calls to the result are debounced or throttled as
 * `options` say; returns `fn` itself when no delay is configured. When
 * `signal` aborts, the pending call is dropped with its timer.
 *
 * @example
 * const fetchSoon = limit(() => void fetchNow(), { throttleMs: 100 })
 * fetchSoon(); fetchSoon(); fetchSoon() // fetchNow runs at once, then once more after 100 ms
 */
export function limit(
  fn: () => void,
  { debounceMs, throttleMs, maxWaitMs = Infinity, leading = !!throttleMs, trailing = true }: Throttling = {},
  signal?: AbortSignal,
): () => void {
  const wait = throttleMs ?? debounceMs
  if (!wait) return fn
  let timer: ReturnType<typeof setTimeout> | undefined
  let start = 0 // when the current window (throttle) or burst (debounce) began
  let pending = false // a call arrived that has not fired yet
  const arm = () => {
    timer = setTimeout(tick, Math.min(wait, start + (throttleMs ?? maxWaitMs) - Date.now()))
  }
  const tick = () => {
    timer = undefined
    if (pending && trailing) {
      start = Date.now()
      fn()
      arm() // a new window: calls during it fire at its end, not at once
    }
    pending = false
  }
  signal?.addEventListener('abort', () => clearTimeout(timer))
  return () => {
    if (timer) {
      pending = true
      if (!throttleMs) {
        clearTimeout(timer)
        arm()
      }
    } else {
      start = Date.now()
      if (leading) fn()
      else pending = true
      arm()
    }
  }
}
