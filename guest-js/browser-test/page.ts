// The page the real-browser tests open in several tabs (served by server.ts,
// bundled with esbuild). Its query string chooses the backend name, the
// storage, the schema version of `migrated` and the TTL of `draft`; the tests
// drive it through `window.harness` and hear it through `window.report`.
import { browser, type TopicDeclaration } from '../src/browser/index'
import { topic, type TopicHandle } from '../src/topic'

declare global {
  interface Window {
    harness: typeof harness
    /** Exposed by the test (playwright's exposeBinding): what a tab tells the test. */
    report?: (kind: string, value: unknown) => Promise<void>
  }
}

const query = new URLSearchParams(location.search)
const send = (kind: string, value: unknown) => void window.report?.(kind, value)

const topics: Record<string, TopicDeclaration> = {
  counter: { initial: 0 },
  settings: { initial: { theme: 'light', n: 0 } },
  acks: { initial: {} },
  draft: { initial: { text: '' }, ttlMs: Number(query.get('ttl') ?? 60_000) },
  // For bench.ts: the same data stored as JSON text, and always gzipped.
  plain: { initial: null },
  packed: { initial: null, compress: { minBytes: 0 } },
  migrated:
    query.get('v') === '1'
      ? { initial: { dark: false } }
      : {
          initial: { theme: 'light' },
          version: 2,
          migrations: {
            1: (old: { dark: boolean }) => {
              send('migration', location.href)
              return { theme: old.dark ? 'dark' : 'light' }
            },
          },
        },
}

const backend = browser({
  name: query.get('name') ?? 'page',
  storage: query.get('storage') === 'localstorage' ? 'localstorage' : 'indexeddb',
  topics,
  onProblem: (p) => send('problem', p),
})

// `resync` (ms): the handles' resyncIntervalMs, for tests where a tab must
// heal from a message that was never sent.
const resyncIntervalMs = Number(query.get('resync') ?? 0) || undefined
const handles = new Map<string, TopicHandle<unknown>>()
const open = <T>(name: string) => {
  let h = handles.get(name)
  if (!h) {
    const onError = (e: { phase: string; error: { code: string } }) => send('error', { phase: e.phase, code: e.error.code })
    handles.set(name, (h = topic(name, { transport: backend, onError, resyncIntervalMs })))
  }
  return h as TopicHandle<T>
}

const harness = {
  async ready(name: string) {
    const h = open(name)
    await h.ready
    return h.get()
  },
  state: (name: string) => open(name).get(),
  set: (name: string, data: unknown) => open(name).set(data),
  patch: (name: string, patch: Record<string, unknown>) => open(name).patch(patch as never),
  async increment(name: string, times: number) {
    const h = open<number>(name)
    await h.ready
    for (let i = 0; i < times; i++) await h.update((n) => n + 1, { attempts: 1000 })
    return h.get()
  },
  /** Patches `acks` with `prefix + i` for i < count, reporting each once it is acknowledged. */
  async acknowledge(prefix: string, count: number) {
    const h = open<Record<string, true>>('acks')
    await h.ready
    for (let i = 0; i < count; i++) {
      await h.patch({ [prefix + i]: true })
      send('ack', prefix + i)
    }
  },
  problems: () => backend.problems(),
  /**
   * For bench.ts: per size of JSON text, the gzipped size and the median time
   * of `rounds` writes of such data, stored plain and gzipped.
   */
  async measure(sizes: number[], rounds: number) {
    const rows = []
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!
    for (const size of sizes) {
      // Settings-like records: repeated keys, varied values, as app state is.
      const data: unknown[] = []
      for (let i = 0; JSON.stringify(data).length < size; i++)
        data.push({ id: i, name: 'item ' + i, done: i % 3 === 0, tags: ['a' + (i % 7), 'b' + (i % 5)], score: (i * 7919) % 1000 })
      const json = JSON.stringify(data)
      const gzip = new Uint8Array(await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer())
      const time: Record<string, number[]> = { plain: [], packed: [] }
      for (let r = 0; r < rounds; r++)
        for (const name of ['plain', 'packed']) {
          const value = [r, ...data]
          const t = performance.now()
          await backend.write(name, 'set', value)
          time[name]!.push(performance.now() - t)
        }
      rows.push({ size: json.length, gzip: gzip.length, plainMs: median(time.plain!), packedMs: median(time.packed!) })
    }
    return rows
  },
}
window.harness = harness
document.title = 'ready'
