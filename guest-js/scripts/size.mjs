// Size check: bundles what a typical app ships (engine + Tauri transport +
// write API, i.e. `topic()`), minifies it, gzips it, prints the byte count and
// fails if it is over the budget. Also prints each package entry's figure.
// `@tauri-apps/api` is a peer dependency the app already has, so it is left out.
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
import { entries, external } from '../entries.mjs'

const BUDGET = 2400
const src = new URL('../src/', import.meta.url).pathname

async function gzipSize(contents, resolveDir) {
  const out = await build({
    stdin: { contents, resolveDir, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    external: ['@tauri-apps/api', '@tauri-apps/api/*'],
  })
  const code = out.outputFiles[0].contents
  return { min: code.length, gz: gzipSync(code, { level: 9 }).length }
}

const rows = []
const budgeted = await gzipSize(`export { topic } from './index'`, src)
rows.push(['topic() (engine + Tauri transport + writes)', budgeted])
rows.push(['createRevisionSync + Tauri subscriber/provider', await gzipSize(
  `export { createRevisionSync, createTauriSubscriber, createTauriProvider } from './index'`, src)])
for (const [name, file] of Object.entries(entries))
  rows.push([`entry ${name} (everything it exports)`, await gzipSize(`export * from ${JSON.stringify(file)}`, src)])

for (const [label, { min, gz }] of rows)
  console.log(`${String(gz).padStart(6)} B gzip  ${String(min).padStart(6)} B min  ${label}`)
void external

if (budgeted.gz > BUDGET) {
  console.error(`size: FAIL: topic() is ${budgeted.gz} B gzipped, over the budget of ${BUDGET} B`)
  process.exit(1)
}
console.log(`size: ok: topic() is ${budgeted.gz} B of ${BUDGET} B gzipped`)
