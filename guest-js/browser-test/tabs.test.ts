// The browser backend in real tabs of Debian's Chromium (see chromium.ts;
// nothing is downloaded), with a fresh profile per run. Every test uses its own backend name, so
// tests in the one browser share nothing. Run with `npm run test:browser`.
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Snapshot } from '../src/protocol'
import { launch } from './chromium'
import { serve } from './server'

let context: BrowserContext
let server: Awaited<ReturnType<typeof serve>>
let browser: Awaited<ReturnType<typeof launch>>
/** What the tabs reported through window.report, by kind. */
const reports = new Map<string, unknown[]>()
const reported = (kind: string) => reports.get(kind) ?? []

beforeAll(async () => {
  server = await serve()
  browser = await launch()
  context = browser.context
  await context.exposeBinding('report', (_source, kind: string, value: unknown) => {
    reports.set(kind, [...reported(kind), value])
  })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

let names = 0
type Params = Record<string, string>

/** Opens `count` tabs of the page on one backend, all at once. */
async function tabs(count: number, params: Params): Promise<Page[]> {
  const url = server.url + '?' + new URLSearchParams(params)
  return Promise.all(
    Array.from({ length: count }, async () => {
      const page = await context.newPage()
      await page.goto(url)
      await page.waitForFunction(() => document.title === 'ready')
      return page
    }),
  )
}

const ready = (page: Page, name: string) => page.evaluate((n) => window.harness.ready(n), name) as Promise<Snapshot>
const state = (page: Page, name: string) => page.evaluate((n) => window.harness.state(n), name) as Promise<Snapshot | undefined>

/** Waits until every page holds the same state of `name`, and returns it. */
async function converged(pages: Page[], name: string, check: (s: Snapshot) => boolean = () => true): Promise<Snapshot> {
  for (let i = 0; ; i++) {
    const states = await Promise.all(pages.map((p) => state(p, name)))
    const first = JSON.stringify(states[0])
    if (states[0] && check(states[0]) && states.every((s) => JSON.stringify(s) === first)) return states[0]
    if (i > 400) expect(states).toEqual(Array(states.length).fill(states[0]))
    await new Promise((r) => setTimeout(r, 10))
  }
}

const closeAll = (pages: Page[]) => Promise.all(pages.map((p) => p.close()))

describe.each(['indexeddb', 'localstorage'])('in Chromium tabs, on %s', (storage) => {
  const params = () => ({ name: `t${++names}`, storage })

  it('a write in one tab appears in the others at the same revision', async () => {
    const pages = await tabs(3, params())
    await Promise.all(pages.map((p) => ready(p, 'settings')))
    const outcome = await pages[0]!.evaluate(() => window.harness.patch('settings', { theme: 'dark' }))
    // A patch is answered with its change: here one replace of the whole value.
    expect(outcome).toEqual({ revision: '1', previousRevision: '0', exact: true, patch: [{ op: 'replace', path: '', value: { theme: 'dark', n: 0 } }] })
    const s = await converged(pages, 'settings', (s) => s.revision === outcome.revision)
    expect(s).toEqual({ revision: '1', data: { theme: 'dark', n: 0 } })
    await closeAll(pages)
  })

  it('a tab closed in the middle of its writes loses nothing that was acknowledged', async () => {
    // The writer may be closed after a commit and before it tells the other
    // tabs: the reader then heals on its interval, as a window would.
    const p = { ...params(), resync: '250' }
    const [writer, reader] = await tabs(2, p)
    await ready(reader!, 'acks')
    const prefix = `${p.name}-`
    const acked = () => reported('ack').filter((a) => String(a).startsWith(prefix))
    void writer!.evaluate((x) => window.harness.acknowledge(x, 100_000), prefix).catch(() => {})
    while (acked().length < 40) await new Promise((r) => setTimeout(r, 5))
    await writer!.close()
    const seen = acked()
    // A fresh tab reads storage itself, with nothing held in memory.
    const [fresh] = await tabs(1, p)
    const stored = (await ready(fresh!, 'acks')).data as Record<string, true>
    for (const key of seen) expect(stored).toHaveProperty([key as string], true)
    expect(Object.keys(stored).length).toBeGreaterThanOrEqual(seen.length)
    // A tab that stayed open converges too, on both storages.
    expect(await converged([reader!, fresh!], 'acks', (s) => s.revision === String(Object.keys(stored).length))).toBeTruthy()
    await closeAll([reader!, fresh!])
  })

  it('a tab reloaded while another writes converges to the same state', async () => {
    const [writer, reloaded] = await tabs(2, params())
    await Promise.all([ready(writer!, 'settings'), ready(reloaded!, 'settings')])
    const writes = writer!.evaluate(async () => {
      for (let n = 1; n <= 50; n++) await window.harness.patch('settings', { n })
    })
    await reloaded!.reload()
    await reloaded!.waitForFunction(() => document.title === 'ready')
    await ready(reloaded!, 'settings')
    await writes
    expect(await converged([writer!, reloaded!], 'settings', (s) => s.revision === '50')).toEqual({ revision: '50', data: { theme: 'light', n: 50 } })
    await closeAll([writer!, reloaded!])
  })

  it('a migration runs once across tabs opened together', async () => {
    const p = params()
    const [old] = await tabs(1, { ...p, v: '1' })
    await old!.evaluate(() => window.harness.set('migrated', { dark: true }))
    await old!.close()
    const before = reported('migration').length
    const pages = await tabs(4, p)
    const states = await Promise.all(pages.map((page) => ready(page, 'migrated')))
    expect(states).toEqual(Array(4).fill({ revision: '2', data: { theme: 'dark' } }))
    expect(reported('migration').length - before).toBe(1)
    await closeAll(pages)
  })

  it('four tabs each incrementing 200 times through update() end at exactly 800', async () => {
    const pages = await tabs(4, params())
    await Promise.all(pages.map((p) => ready(p, 'counter')))
    await Promise.all(pages.map((p) => p.evaluate(() => window.harness.increment('counter', 200))))
    expect(await converged(pages, 'counter', (s) => s.revision === '800')).toEqual({ revision: '800', data: 800 })
    await closeAll(pages)
  })

  it('a record past its TTL reads as the initial value, in open tabs and new ones', async () => {
    const p = { ...params(), ttl: '600' }
    const pages = await tabs(2, p)
    await Promise.all(pages.map((page) => ready(page, 'draft')))
    await pages[0]!.evaluate(() => window.harness.set('draft', { text: 'typed' }))
    expect(await converged(pages, 'draft', (s) => s.revision === '1')).toEqual({ revision: '1', data: { text: 'typed' } })
    expect(await converged(pages, 'draft', (s) => s.revision === '2')).toEqual({ revision: '2', data: { text: '' } })
    const expired = reported('problem').filter((x) => (x as { kind: string }).kind === 'expired')
    expect(expired.length).toBeGreaterThanOrEqual(1)
    const [late] = await tabs(1, p)
    expect(await ready(late!, 'draft')).toEqual({ revision: '2', data: { text: '' } })
    await closeAll([...pages, late!])
  })
})

// The single writer of localStorage (src/browser/writer.ts): its hand-over.
describe('in Chromium tabs, on localstorage', () => {
  it('the writer tab closed in the middle of the others\' writes: the total is still exact', async () => {
    const p = { name: `t${++names}`, storage: 'localstorage' }
    // The first tab to write is the writer; a write that changes nothing elects it too.
    const [writer] = await tabs(1, p)
    await writer!.evaluate(() => window.harness.set('counter', 0))
    // With no other tab open, the writer lock held is this tab's.
    expect(await writer!.evaluate(() => navigator.locks.query().then((q) => q.held!.map((l) => l.name)))).toContain(`state-sync:${p.name}:writer`)
    const others = await tabs(3, p)
    await Promise.all(others.map((page) => ready(page, 'counter')))
    const writes = Promise.all(others.map((page) => page.evaluate(() => window.harness.increment('counter', 100))))
    while (((await state(others[0]!, 'counter'))?.data as number) < 60) await new Promise((r) => setTimeout(r, 5))
    await writer!.close()
    await writes
    expect(await converged(others, 'counter', (s) => s.revision === '300')).toEqual({ revision: '300', data: 300 })
    const [fresh] = await tabs(1, p)
    expect(await ready(fresh!, 'counter')).toEqual({ revision: '300', data: 300 })
    await closeAll([...others, fresh!])
  })
})
