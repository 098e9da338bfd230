/**
 * Actions typed from Rust: with `topics.gen.ts` in the program, its
 * `TopicActions` types `handle.act(name, args)` by the actions declared on
 * the sample builder (tests/typescript.rs): `profile` has the typed `rename`
 * (argument `Rename`) and `reshape` (argument `Shape`), `log` the untyped
 * `append`, and `theme` and `counter` have none. Every `@ts-expect-error` line
 * must fail, or tsc reports the directive as unused.
 */
import { topic, type ActionArgs, type ActionOutcome, type ActionsDeclared, type TopicActions } from 'tauri-plugin-state-sync-api'
import type { Equal } from './equal'
import type { Rename, Shape } from './topics.gen'

const profile = topic('profile')
const log = topic('log')
const theme = topic('theme')
const counter = topic('counter')

// The generated augmentation maps each action to its Rust argument type, and
// an untyped action's argument to `unknown`.
export const generated: [
  Equal<ActionsDeclared, true>,
  Equal<TopicActions['profile'], { rename: Rename; reshape: Shape }>,
  Equal<TopicActions['log'], { append: unknown }>,
] = [true, true, true]

export async function correctUses(): Promise<void> {
  const outcome: ActionOutcome = await profile.act('rename', { newName: 'grace' })
  await profile.act('reshape', { kind: 'square', side: 2 })
  // An untyped action takes any argument, or none.
  await log.act('append', { line: 'started' })
  await log.act('append')
  // A type argument for the actions is ignored once TopicActions is filled.
  await topic<unknown, 'profile', { rename: { anything: 1 } }>('profile').act('rename', { newName: 'ada' })
  void outcome
}

// A Rust argument of type `()` is generated as `null` and `Option<T>` as
// `T | null`: the plugin reads a missing argument as `null`, so both may be
// left out; a required argument may not.
export const optional: [
  Equal<ActionArgs<{ reset: null }, 'reset'>, [args?: null]>,
  Equal<ActionArgs<{ limit: number | null }, 'limit'>, [args?: number | null]>,
  Equal<ActionArgs<{ rename: Rename }, 'rename'>, [args: Rename]>,
] = [true, true, true]

export async function wrongUses(): Promise<void> {
  // @ts-expect-error a misspelt action name
  await profile.act('renam', { newName: 'grace' })
  // @ts-expect-error an action of another topic
  await profile.act('append', { line: 'x' })
  // @ts-expect-error the argument's field is renamed by serde (new_name is newName)
  await profile.act('rename', { new_name: 'grace' })
  // @ts-expect-error an argument field of the wrong type
  await profile.act('rename', { newName: 7 })
  // @ts-expect-error a typed action needs its argument
  await profile.act('rename')
  // @ts-expect-error an argument outside the Rust enum: circle has a radius, not a side
  await profile.act('reshape', { kind: 'circle', side: 1 })
  // @ts-expect-error a topic with no actions in Rust has none to call
  await theme.act('toggle', {})
  // @ts-expect-error nor does an untyped topic without actions
  await counter.act('increment', { by: 1 })
  // @ts-expect-error a type argument cannot add actions Rust does not declare
  await topic<unknown, 'theme', { toggle: { on: boolean } }>('theme').act('toggle', { on: true })
}
