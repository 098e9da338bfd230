// The consumer check's window side, copied over the main.ts of a fresh
// create-tauri-app project by .ci/consumer. Every window loads it and
// reports each step to the app's `report` command (see src-tauri/src/lib.rs).
import { invoke } from '@tauri-apps/api/core'
import { getCurrentWindow } from '@tauri-apps/api/window'
import { topic, type TopicHandle } from 'tauri-plugin-state-sync-api'

interface Check {
  rust?: string
  second?: string
  main?: string
}

const label = getCurrentWindow().label
const report = (line: string) => invoke('report', { line })
const describe = (e: unknown) => (e instanceof Error ? `${e.name} ${(e as { code?: string }).code}: ${e.message}` : JSON.stringify(e))

// Resolves with the first state, current or later, that `accept` takes.
const until = (check: TopicHandle<Check>, accept: (data: Check) => boolean) =>
  new Promise<Check>((resolve) => {
    const seen = (data: Check) => {
      if (accept(data)) resolve(data)
      return accept(data)
    }
    if (seen(check.get()!.data)) return
    const off = check.subscribe(({ data }) => seen(data) && off())
  })

// The capability does not name this window, so it can read nothing.
async function outsider() {
  const check = topic<Check>('check')
  const refused = await check.ready.then(() => undefined, describe)
  await report(refused ? `refused: ${refused}` : `fail: read ${JSON.stringify(check.get())}`)
}

async function member() {
  const check = topic<Check>('check')
  await check.ready
  const { revision, data } = check.get()!
  await report(`hydrated at revision ${revision} with ${JSON.stringify(data)}`)
  if (data.rust !== 'written in setup') throw new Error('the value written in setup is missing')

  if (label === 'second') {
    const answered = until(check, (d) => d.main === 'saw second')
    await check.patch({ second: 'hydrated' })
    await report(`done: saw ${JSON.stringify(await answered)}`)
  } else {
    await until(check, (d) => d.second === 'hydrated')
    const { revision } = await check.patch({ main: 'saw second' })
    await report(`answered at revision ${revision}`)
  }
}

;(label === 'outsider' ? outsider() : member()).catch((e: unknown) => report(`fail: ${describe(e)}`))
