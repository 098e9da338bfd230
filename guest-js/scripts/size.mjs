// Size check: bundles what a typical app ships (engine + Tauri transport +
// write API, i.e. `topic()`), minifies it, gzips it, prints the byte count and
// fails if it is over the budget. Also prints each package entry's figure.
// `@tauri-apps/api` is a peer dependency the app already has, so it is left out.
//
// Adapters (issue 4): each `adapters/<name>` entry is measured with the core
// (`src/index.ts`) and every framework marked external. The adapters share one
// binding module (`src/adapters/shared/bind.ts`: options, diffing, debounce,
// hydration and failed-write policies), which an app ships once however many
// adapters it uses. So three figures are printed, and the first two checked:
// - each adapter without the core and without the shared binding: at most
//   ADAPTER_BUDGET (600 B);
// - the shared binding alone: at most SHARED_BUDGET;
// - each adapter with the shared binding (what importing one adapter adds to
//   an app that already has the core): printed only.
//
// The browser backend (issue 15, entry `browser`) is measured on its own, with
// the core modules (the files directly in src/) left out, and checked against
// BROWSER_BUDGET; `topic()` over it, what a web build ships, is printed too.
// The `topic()` figure above is measured without it, so it cannot grow by it.
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
import { resolve } from 'node:path'
import { entries, external } from '../entries.mjs'

// 3,000 B, the goal set by issue 10 (deltas, push and writes), now met with
// 2,987 B. Opt-ins an app ships only when it imports them: debounce and
// throttle (`throttle()`) and the retry loop with backoff and jitter
// (`backoff()`); the second row prints topic() with both, unchecked. Without
// `retry`, a fetch is tried once, raced against a 10 s time-out. What keeps
// it small: one RFC 6902 applier for every change a window adopts (pushed,
// pulled since, and its own `patch`, whose outcome carries the change as the
// windows are sent it, so the window needs no merge of its own), with only
// the operations the plugin sends (add, remove, replace: it checks a `test`
// at commit and leaves it out), and one message for whatever does not apply;
// `logger` and `shouldRefresh`, `@statesync/core` options, live in
// createRevisionSync alone.
const BUDGET = 3000
const ADAPTER_BUDGET = 600
// 1,412 B: main measured 1,301 B, and treating "__proto__" as data (objects
// without a prototype in the diffing, a defined key in `assign`) costs 111 B.
const SHARED_BUDGET = 1420
// 5,350 B: main measured 4,436 B; the single writer of localStorage (issue 15:
// election, requests and answers, the hand-over fence, acknowledging a request
// sent twice, records heard before a tab's copy has them) costs 844 B; running
// again at a hand-over the requests the old writer left unanswered, 26 B more.
const BROWSER_BUDGET = 5350
const src = new URL('../src/', import.meta.url).pathname
const shared = src + 'adapters/shared/bind'
const frameworks = ['vue', 'pinia', 'zustand', 'zustand/*', 'svelte', 'svelte/*', 'valtio', 'valtio/*']

// Marks the core package (src/index.ts), and with `withShared` false the
// shared binding too, external wherever they are imported from.
const externals = (withShared) => ({
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /\/(index|bind)$/ }, ({ path, resolveDir }) => {
      const file = resolve(resolveDir, path)
      if (file === src + 'index' || (!withShared && file === shared)) return { path: file, external: true }
    })
  },
})

// Marks every module directly in src/ (the core) external.
const core = {
  name: 'core',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, ({ path, resolveDir }) => {
      const file = resolve(resolveDir, path)
      if (file.startsWith(src) && !file.slice(src.length).includes('/')) return { path: file, external: true }
    })
  },
}

// adapter: undefined (not an adapter), 'alone' or 'with-shared' (adapters), or 'core-external' (the browser backend).
async function gzipSize(contents, resolveDir, adapter) {
  const out = await build({
    stdin: { contents, resolveDir, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    external: ['@tauri-apps/api', '@tauri-apps/api/*', ...(adapter ? frameworks : [])],
    plugins: adapter === 'core-external' ? [core] : adapter ? [externals(adapter === 'with-shared')] : [],
  })
  const code = out.outputFiles[0].contents
  return { min: code.length, gz: gzipSync(code, { level: 9 }).length }
}

const rows = []
const budgeted = await gzipSize(`export { topic } from './index'`, src)
rows.push(['topic() (engine + Tauri transport + writes)', budgeted])
rows.push(['topic() with the opt-ins throttle() and backoff() (an app that imports both)', await gzipSize(
  `export { topic, throttle, backoff } from './index'`, src)])
rows.push(['createRevisionSync + Tauri subscriber/provider', await gzipSize(
  `export { createRevisionSync, createTauriSubscriber, createTauriProvider } from './index'`, src)])
const adapters = []
let browserSize
for (const [name, file] of Object.entries(entries)) {
  const exports = `export * from ${JSON.stringify(file)}`
  if (name.startsWith('adapters/')) {
    const alone = await gzipSize(exports, src, 'alone')
    adapters.push([name, alone])
    rows.push([`entry ${name} (everything it exports; without the core, the framework and the shared binding)`, alone])
    rows.push([`entry ${name} with the shared binding (without the core and the framework)`, await gzipSize(exports, src, 'with-shared')])
  } else if (name === 'browser') {
    browserSize = await gzipSize(exports, src, 'core-external')
    rows.push([`entry ${name} (the browser backend; without the core)`, browserSize])
    rows.push([`topic() over the browser backend (what a web build ships)`, await gzipSize(
      `export { topic } from './index'; export { browser } from './browser/index'`, src)])
  } else rows.push([`entry ${name} (everything it exports)`, await gzipSize(exports, src)])
}
const sharedSize = adapters.length ? await gzipSize(`export * from ${JSON.stringify(shared + '.ts')}`, src, 'with-shared') : undefined
if (sharedSize) rows.push(['shared binding adapters/shared/bind.ts (without the core), shipped once per app', sharedSize])

for (const [label, { min, gz }] of rows)
  console.log(`${String(gz).padStart(6)} B gzip  ${String(min).padStart(6)} B min  ${label}`)
void external

let failed = false
if (budgeted.gz > BUDGET) {
  console.error(`size: FAIL: topic() is ${budgeted.gz} B gzipped, over the budget of ${BUDGET} B`)
  failed = true
} else console.log(`size: ok: topic() is ${budgeted.gz} B of ${BUDGET} B gzipped`)
for (const [name, { gz }] of adapters) {
  if (gz > ADAPTER_BUDGET) {
    console.error(`size: FAIL: ${name} is ${gz} B gzipped without the core and the shared binding, over the budget of ${ADAPTER_BUDGET} B`)
    failed = true
  } else console.log(`size: ok: ${name} is ${gz} B of ${ADAPTER_BUDGET} B gzipped without the core and the shared binding`)
}
if (sharedSize && sharedSize.gz > SHARED_BUDGET) {
  console.error(`size: FAIL: the shared binding is ${sharedSize.gz} B gzipped, over the budget of ${SHARED_BUDGET} B`)
  failed = true
} else if (sharedSize) console.log(`size: ok: the shared binding is ${sharedSize.gz} B of ${SHARED_BUDGET} B gzipped without the core`)
if (browserSize && browserSize.gz > BROWSER_BUDGET) {
  console.error(`size: FAIL: the browser backend is ${browserSize.gz} B gzipped without the core, over the budget of ${BROWSER_BUDGET} B`)
  failed = true
} else if (browserSize) console.log(`size: ok: the browser backend is ${browserSize.gz} B of ${BROWSER_BUDGET} B gzipped without the core`)
if (failed) process.exit(1)
