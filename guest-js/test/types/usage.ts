/**
 * What the generated file gives an app: with `topics.gen.ts` (exported by
 * tests/typescript.rs from sample Rust types) in the program, `topic(name)`
 * is typed from the Rust type, and wrong uses fail to compile. Every
 * `@ts-expect-error` line must fail, or tsc reports the directive as unused.
 */
import { backoff, throttle, topic, type Revision, type TopicActions, type TopicHandle } from 'tauri-plugin-state-sync-api'
import type { Equal } from './equal'
import type { Counter, Profile, Theme } from './topics.gen'

/** The action map of a topic that has no actions in the generated file. */
type NoActions = Record<never, never>

// Correct uses compile, with the data type looked up by name.
const profile = topic('profile')
const theme = topic('theme', { throttling: throttle({ throttleMs: 16 }), retry: backoff({ attempts: 6 }) })
const counter = topic('counter')
const log = topic('log')

// The type the handle is assigned to agrees with the Rust type.
export const annotated: TopicHandle<Theme> = topic('theme')

// The data type and the action map (see actions.ts) are both looked up.
export const lookedUp: [
  Equal<typeof profile, TopicHandle<Profile, TopicActions['profile']>>,
  Equal<typeof theme, TopicHandle<Theme, NoActions>>,
  Equal<typeof counter, TopicHandle<Counter, NoActions>>,
  Equal<typeof log, TopicHandle<unknown, TopicActions['log']>>,
] = [true, true, true, true]

const complete: Profile = {
  userName: 'ada',
  nick: null,
  zoom: 1,
  followers: 0,
  balance: -1,
  shape: { kind: 'circle', radius: 1 },
  id: 'a-1',
  theme: 'light',
  command: { move: { x: 1, y: 2 } },
  tags: { rust: 1 },
  address: { city: 'Paris', zip: null },
  history: [{ kind: 'square', side: 2 }],
  seenAt: '18446744073709551615',
}

export async function correctUses(): Promise<void> {
  await profile.set(complete)
  await profile.patch({ theme: 'dark', address: { zip: '75001' } })
  await profile.patch({ note: null, command: 'stop', shape: { kind: 'square', side: 3 } })
  await profile.update((p) => ({ ...p, zoom: p.zoom + 1 }))
  await theme.set('dark')
  await counter.patch({ value: 2 })
  await log.set(['anything', 1, null])
  const seen: Revision | undefined = profile.get()?.data.seenAt
  const followers: number | undefined = profile.get()?.data.followers
  void [seen, followers]
}

export async function wrongUses(): Promise<void> {
  // @ts-expect-error a misspelt topic name
  topic('profil')
  // @ts-expect-error a name that is not a declared topic
  topic('settings')
  // @ts-expect-error once Topics is filled, the type comes from the Rust type: a type argument cannot override it
  const overridden: TopicHandle<{ zoom: string }> = topic<{ zoom: string }>('profile')
  // @ts-expect-error nor can the type the handle is assigned to
  const annotated: TopicHandle<{ zoom: string }> = topic('profile')
  // @ts-expect-error a patch field the Rust type does not have (renamed to userName)
  await profile.patch({ user_name: 'ada' })
  // @ts-expect-error a patch value of the wrong type
  await profile.patch({ zoom: '2' })
  // @ts-expect-error a patch of a nested field of the wrong type
  await profile.patch({ address: { city: 7 } })
  // @ts-expect-error a value outside the enum
  await theme.set('purple')
  // @ts-expect-error a set missing required fields
  await profile.set({ userName: 'ada' })
  // @ts-expect-error a set of the wrong shape
  await counter.set({ value: '1' })
  // @ts-expect-error an internally tagged variant with the other variant's field
  await profile.patch({ shape: { kind: 'circle', side: 1 } })
  // @ts-expect-error revisions are strings, never numbers
  const revision: number | undefined = profile.get()?.revision
  // @ts-expect-error a u64 field is a number, not a bigint
  const followers: bigint | undefined = profile.get()?.data.followers
  // @ts-expect-error throttling is made by throttle(), no longer a plain options object
  topic('theme', { throttling: { throttleMs: 16 } })
  const debounced = { debounceMs: 50 }
  // @ts-expect-error nor an options object held in a variable
  topic('theme', { throttling: debounced })
  // @ts-expect-error retry is made by backoff(), no longer a plain options object
  topic('theme', { retry: { attempts: 6 } })
  // @ts-expect-error backoff() takes the options, not a number of attempts
  backoff(6)
  void [overridden, annotated, revision, followers]
}
