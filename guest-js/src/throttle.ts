/**
 * Debounce and throttle for invalidation-triggered fetches: an opt-in, which
 * a bundle without `throttle` does not contain.
 *
 * @module
 */

/**
 * What the `throttling` option of {@link topic} takes: given the engine's
 * `fetch` (which requests a coalesced fetch) and the signal that `stop()`
 * aborts, returns the function each event that is newer than the local state
 * calls instead of `fetch`. Without one, every such event calls `fetch` at
 * once (the fetches are still coalesced: at most one in flight and one
 * queued). {@link throttle} makes one.
 *
 * @example
 * const counter = topic<number>('counter', { throttling: throttle({ throttleMs: 50 }) })
 */
export type Limiter = (fetch: () => void, signal: AbortSignal) => () => void

/**
 * The options of {@link throttle}:
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
 * A {@link Limiter} that debounces or throttles the fetches as `options` say;
 * with no delay configured, it hands back `fetch` itself. When the signal
 * aborts, the pending call is dropped with its timer.
 *
 * @example
 * const settings = topic<Settings>('settings', { throttling: throttle({ debounceMs: 50, maxWaitMs: 500 }) })
 * const counter = topic<number>('counter', { throttling: throttle({ throttleMs: 16 }) })
 */
export const throttle =
  ({ debounceMs, throttleMs, maxWaitMs = Infinity, leading = !!throttleMs, trailing = true }: Throttling): Limiter =>
  (fn, signal) => {
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
    signal.addEventListener('abort', () => clearTimeout(timer))
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
