import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { throttle, type Throttling } from '../src/throttle'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** Calls the limited function at each of the given times (ms) and returns when `fn` fired. */
function run(options: Throttling, calls: number[], until = 2000) {
  const fired: number[] = []
  const start = Date.now()
  const limited = throttle(options)(() => void fired.push(Date.now() - start), new AbortController().signal)
  for (const t of calls) setTimeout(limited, t)
  vi.advanceTimersByTime(until)
  return fired
}

describe('throttle', () => {
  it('without a delay hands back the function itself', () => {
    const fn = () => {}
    const { signal } = new AbortController()
    expect(throttle({})(fn, signal)).toBe(fn)
    expect(throttle({ leading: true })(fn, signal)).toBe(fn)
  })

  it('drops the pending call and its timer when the signal aborts', () => {
    const fired: number[] = []
    const abort = new AbortController()
    const limited = throttle({ debounceMs: 100 })(() => void fired.push(Date.now()), abort.signal)
    limited()
    expect(vi.getTimerCount()).toBe(1)
    abort.abort()
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(1000)
    expect(fired).toEqual([])
  })

  it('debounce fires once, on the trailing edge, after the calls have been quiet', () => {
    expect(run({ debounceMs: 100 }, [0, 50, 120, 200])).toEqual([300])
  })

  it('debounce with leading fires at the first call and once more at the end of the burst', () => {
    expect(run({ debounceMs: 100, leading: true }, [0, 50, 120])).toEqual([0, 220])
  })

  it('debounce with leading and no trailing fires only at the start of each burst', () => {
    expect(run({ debounceMs: 100, leading: true, trailing: false }, [0, 50, 400, 420])).toEqual([0, 400])
  })

  it('debounce with leading does not fire a trailing call when the burst was a single call', () => {
    expect(run({ debounceMs: 100, leading: true }, [0])).toEqual([0])
  })

  it('maxWait bounds how long a steady stream of calls can postpone the debounce', () => {
    const calls = Array.from({ length: 15 }, (_, i) => 5 + i * 70) // every 70 ms from 5 to 985
    expect(run({ debounceMs: 100, maxWaitMs: 300 }, calls)).toEqual([305, 605, 905, 1085])
  })

  it('throttle fires at the first call, then at most once per period', () => {
    const calls = Array.from({ length: 10 }, (_, i) => i * 30) // 0..270
    expect(run({ throttleMs: 100 }, calls)).toEqual([0, 100, 200, 300])
  })

  it('throttle without leading waits for the end of the first period', () => {
    expect(run({ throttleMs: 100, leading: false }, [0, 10, 20])).toEqual([100])
  })

  it('throttle without trailing drops the calls inside a period', () => {
    expect(run({ throttleMs: 100, trailing: false }, [0, 10, 150, 160])).toEqual([0, 150])
  })
})
