// Measures what compression costs and saves in Chromium, to pick
// COMPRESS_MIN_BYTES (src/browser/record.ts): for JSON texts of growing size,
// the gzipped size and the median time of a write through the IndexedDB
// backend, stored as text and gzipped. Run with `npm run bench:browser`.
import { launch } from './chromium'
import { serve } from './server'

const sizes = [128, 256, 512, 1024, 2048, 4096, 16384, 65536, 262144, 1048576]
const rounds = Number(process.env.ROUNDS ?? 41)

const server = await serve(process.cwd() + '/guest-js/browser-test/page.ts')
const browser = await launch()
try {
  const page = await browser.context.newPage()
  await page.goto(server.url + '?name=bench')
  await page.waitForFunction(() => document.title === 'ready')
  const rows = await page.evaluate(([s, r]) => window.harness.measure(s, r), [sizes, rounds] as const)
  console.log(`IndexedDB write, median of ${rounds}; Chromium ${browser.context.browser()?.version() ?? ''}`)
  console.log('| JSON text | gzipped | saved | write as text | write gzipped | extra time |')
  console.log('|---:|---:|---:|---:|---:|---:|')
  for (const { size, gzip, plainMs, packedMs } of rows)
    console.log(
      `| ${size} B | ${gzip} B | ${Math.round(100 - (100 * gzip) / size)} % | ${plainMs.toFixed(2)} ms | ${packedMs.toFixed(2)} ms | ${(packedMs - plainMs).toFixed(2)} ms |`,
    )
} finally {
  await browser.close()
  await server.close()
}
