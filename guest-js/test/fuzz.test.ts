// Fuzzing of what the binding takes from the other side: invalidation events,
// snapshot answers (and failed fetches), merge patches it adopts, JSON Patches
// it applies, and the errors it decodes. Property-based generation with fast-check: no
// coverage-guided fuzzer runs on TypeScript here.
//
// `npm test` runs FUZZ_RUNS inputs per target (default 300, a smoke run);
// `npm run fuzz` runs 1,000,000 per target unless FUZZ_RUNS says otherwise,
// and prints how many inputs ran. A failure prints fast-check's seed and
// shrunk counterexample; each one found becomes a regression test elsewhere.
import fc from 'fast-check'
import { afterAll, afterEach, beforeEach, describe, it, vi } from 'vitest'
import { createEngine, type SyncErrorContext, type SyncPhase } from '../src/engine'
import { StateSyncError, isStateSyncError, toStateSyncError } from '../src/errors'
import { applyPatch } from '../src/patch'
import { isNewer, isRevision, mergePatch, type Invalidation, type Snapshot } from '../src/protocol'
import { deferred, flush, type Deferred } from './support/manual'
import { denied, notGranted, otherWindows, release, unknownPlugin, unregistered } from './support/tauri-refusals'

// Inputs per target: an input is one event, snapshot answer or failed fetch
// (a run delivers up to 16, between refresh() calls, which do not count), one
// merge of a patch onto a target, or one rejection decoded.
const inputs = Number(process.env.FUZZ_RUNS ?? 300)
const timeout = Math.max(20_000, inputs * 5) // a generous bound, about 5 ms per input
const ran: string[] = []
const record = (target: string, runs: number, count: number) =>
  ran.push(`fuzz: ${target}: ${count} inputs in ${runs} runs, no failure`)
// `expect` is slow in a loop of millions; a failed check throws like it does.
const check = (ok: boolean, what: string, value?: unknown) => {
  if (!ok) throw new Error(`${what}: ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`)
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})
afterAll(() => {
  if (process.env.FUZZ_RUNS) for (const line of ran) console.log(line)
})

// Revisions: canonical ones (small, so that they collide and compare, and up
// to u64::MAX), and every malformed kind the wire could carry.
const revision = fc.oneof(
  fc.integer({ min: 0, max: 12 }).map(String),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
  fc.constantFrom('01', '-1', ' 1', '1 ', '1e3', '1.0', '', '18446744073709551616', '99999999999999999999', '٣'),
  fc.string({ maxLength: 4 }),
  fc.oneof(fc.integer(), fc.double(), fc.constant(null), fc.constant(undefined), fc.boolean()),
)
const topicName = fc.oneof(fc.constant('t'), fc.constantFrom('', 'T', 'other'), fc.anything({ maxDepth: 1 }))
// Near-valid pushed changes: JSON Patch operations, sometimes broken.
const pushedOp = fc.record(
  {
    op: fc.constantFrom('add', 'remove', 'replace', 'test', 'move'),
    path: fc.constantFrom('', '/a', '/b', '/a/0', '/a/-', '/x/y', 'a'),
    value: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: ['op', 'path'] },
)
const pushedPatch = fc.oneof(
  // Replacing the whole value first makes the rest apply often.
  { weight: 3, arbitrary: fc.tuple(fc.dictionary(fc.constantFrom('a', 'b'), fc.jsonValue({ maxDepth: 1 })), fc.array(pushedOp, { maxLength: 2 })).map(([value, ops]) => [{ op: 'replace', path: '', value }, ...ops]) },
  fc.array(pushedOp, { maxLength: 3 }),
  fc.anything({ maxDepth: 1 }),
)
// Near-valid invalidations (any key may be missing), pushed changes, and arbitrary payloads.
const event = fc.oneof(
  fc.record({ topic: topicName, revision, sourceId: fc.oneof(fc.string(), fc.anything({ maxDepth: 1 })) }, { requiredKeys: [] }),
  fc.record({
    topic: fc.constant('t'),
    // Small revisions, so that a change often fits the local state, and any revision.
    revision: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 12 }).map(String) }, revision),
    sourceId: fc.constant('@rust'),
    from: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 12 }).map(String) }, revision),
    patch: pushedPatch,
  }),
  fc.anything({ maxDepth: 2 }),
)
// Near-valid snapshots (data may be missing or undefined) and arbitrary answers.
const answer = fc.oneof(
  fc.record({ revision, data: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)) }, { requiredKeys: [] }),
  fc.record({ revision, data: fc.jsonValue({ maxDepth: 2 }) }),
  fc.anything({ maxDepth: 2 }),
)
const failure = fc.oneof(
  fc.anything({ maxDepth: 1 }),
  fc.record({ code: fc.oneof(fc.constantFrom('UNKNOWN_TOPIC', 'IPC', 'X'), fc.anything({ maxDepth: 0 })), message: fc.anything({ maxDepth: 0 }) }, { requiredKeys: [] }),
  fc.constantFrom(notGranted('state-sync', 'snapshot', ['state-sync:allow-snapshot']), denied('state-sync', 'snapshot', 'c'), unregistered('state-sync')),
)
const step = fc.oneof(
  { weight: 4, arbitrary: event.map((payload) => ({ kind: 'event' as const, payload })) },
  { weight: 3, arbitrary: answer.map((value) => ({ kind: 'answer' as const, value })) },
  { weight: 1, arbitrary: failure.map((error) => ({ kind: 'fail' as const, error })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'refresh' as const }) },
)

// The snapshot rule of the engine, as docs/protocol.md states it.
const usable = (s: unknown): s is Snapshot =>
  isRevision((s as Snapshot | undefined)?.revision) && (s as Snapshot).data !== undefined
// The engine reads an event's revision (and change), not its topic: its subscriber is the topic's.
const wellFormed = (e: unknown) => isRevision((e as Invalidation | undefined)?.revision)
const phases: SyncPhase[] = ['subscribe', 'snapshot', 'protocol', 'apply', 'write']
type Step = typeof step extends fc.Arbitrary<infer S> ? S : never

// One engine fed `steps` in order, each followed by a settling of promises;
// then checked, stopped, and checked again.
async function scenario(steps: Step[], hydrate: boolean) {
  const fetches: Deferred<Snapshot<unknown>>[] = []
  let handler!: (event: Invalidation) => void
  const errors: SyncErrorContext[] = []
  const engine = createEngine<unknown>({
    topic: 't',
    subscriber: { subscribe: async (h) => ((handler = h), () => {}) },
    provider: { getSnapshot: () => (fetches.push(deferred()), fetches.at(-1)!.promise) },
    onError: (ctx) => errors.push(ctx),
    resyncOnFocus: false,
  })
  const applied: Snapshot<unknown>[] = []
  engine.subscribe((s) => applied.push(s))
  engine.start().catch(() => {})
  await flush()

  let settled = 0 // fetches answered or failed
  const expected = { protocol: 0, snapshot: 0 }
  let newest: Snapshot<unknown> | undefined // what the gate must hold
  if (hydrate) {
    // Hydrated at a small revision first, so that pushed changes often fit.
    newest = { revision: '3', data: { a: [1], b: { c: 2 } } }
    fetches[settled++]!.resolve(newest)
    await flush()
  }
  for (const s of steps) {
    if (s.kind === 'event') {
      const before = engine.get()
      const { revision: to, from, patch } = (s.payload ?? {}) as { revision?: string; from?: unknown; patch?: unknown }
      // A pushed change applies only at exactly its `from`, newer, and as the applier says.
      const fits = wellFormed(s.payload) && !!patch && !!before && before.revision === from && isNewer(to!, before.revision)
      let result: unknown = 'refused'
      if (fits)
        try {
          result = applyPatch(before!.data, patch as unknown[])
        } catch {
          expected.protocol++ // a patch that does not apply is reported, and a full fetch requested
        }
      handler(s.payload as Invalidation) // a throw fails the property
      if (!wellFormed(s.payload)) expected.protocol++
      const after = engine.get()
      check(after === before || (result !== 'refused' && after?.revision === to && JSON.stringify(after?.data) === JSON.stringify(result)), 'a pushed change applies only where it fits', [before, s.payload, after])
      if (after !== before) newest = after
    } else if (s.kind === 'refresh') {
      engine.refresh().catch(() => {})
    } else if (fetches[settled]) {
      const pending = fetches[settled++]!
      if (s.kind === 'fail') {
        pending.reject(s.error)
        expected.snapshot++
      } else {
        pending.resolve(s.value as Snapshot<unknown>)
        if (!usable(s.value)) expected.protocol++
        else if (!newest || isNewer(s.value.revision, newest.revision)) newest = s.value
      }
    }
    await flush()
  }

  const phasesSeen = errors.map((e) => e.phase)
  check(errors.every((e) => phases.includes(e.phase) && e.error instanceof StateSyncError && typeof e.error.code === 'string'), 'error shapes', errors)
  check(phasesSeen.filter((p) => p === 'protocol').length === expected.protocol, 'protocol reports', [phasesSeen, expected])
  check(errors.every((e) => e.phase !== 'protocol' || e.error.code === 'PROTOCOL'), 'protocol codes', errors)
  check(phasesSeen.filter((p) => p === 'snapshot').length === expected.snapshot, 'snapshot reports', [phasesSeen, expected])
  check(errors.length === expected.protocol + expected.snapshot, 'no other report', phasesSeen)
  // Strictly increasing revisions, each with data; the last one is the newest usable answer.
  for (const [i, s] of applied.entries())
    check(usable(s) && (!i || isNewer(s.revision, applied[i - 1]!.revision)), 'applied in order', applied)
  check(engine.get()?.revision === newest?.revision && engine.get()?.data === newest?.data, 'newest wins', [engine.get(), newest])
  check(fetches.length - settled <= 1, 'at most one fetch in flight', fetches.length - settled)

  engine.stop()
  await flush()
  // The one try in flight keeps its time-out until it settles; nothing else is left.
  check(vi.getTimerCount() === fetches.length - settled, 'no timer after stop() but the time-out of the try in flight', vi.getTimerCount())
  for (const pending of fetches.slice(settled)) pending.resolve({ revision: '18446744073709551615', data: 'late' })
  await flush()
  check(vi.getTimerCount() === 0, 'no timer once it settled', vi.getTimerCount())
  check(engine.get()?.revision === newest?.revision, 'nothing applies after stop()', engine.get())
}

describe('fuzz', () => {
  it(
    'events and snapshot answers: nothing throws, only newer usable snapshots apply, each bad input is reported once, after stop() no timer is left once the try in flight settles',
    async () => {
      let runs = 0
      let count = 0
      // fast-check counts runs, and a run delivers several inputs: run until enough were delivered.
      while (count < inputs)
        await fc.assert(
          fc.asyncProperty(fc.array(step, { maxLength: 16 }), fc.boolean(), async (steps, hydrate) => {
            runs++
            count += steps.filter((s) => s.kind !== 'refresh').length
            await scenario(steps, hydrate)
          }),
          { numRuns: Math.max(1, Math.ceil((inputs - count) / 8)) },
        )
      record('events and snapshot answers', runs, count)
    },
    timeout,
  )

  // An independent model of RFC 7396 over the JSON text: keys are data,
  // `"__proto__"` too, and key order is insertion order.
  type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
  const isObject = (v: Json): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v)
  const reference = (target: Json, patch: Json): Json => {
    if (!isObject(patch)) return patch
    const out = new Map<string, Json>(isObject(target) ? Object.entries(target) : [])
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) out.delete(k)
      else out.set(k, reference(out.get(k) ?? null, v))
    }
    return objectOf([...out])
  }
  // JSON.parse defines every key as data, `"__proto__"` too.
  const objectOf = (entries: [string, Json][]): Json =>
    JSON.parse('{' + entries.map(([k, v]) => JSON.stringify(k) + ':' + JSON.stringify(v)).join(',') + '}') as Json
  // JSON whose objects often use the keys that matter to JavaScript objects.
  const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'a', 'b'), fc.string({ maxLength: 3 }))
  const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 3 })),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(objectOf),
    ),
  })).value

  it(
    'merge patches: the result is the RFC 7396 merge of the JSON text, neither input changes, no prototype is touched',
    () => {
      fc.assert(
        fc.property(json, json, (target, patch) => {
          const before = JSON.stringify([target, patch])
          const result = mergePatch(target, patch)
          check(JSON.stringify(result) === JSON.stringify(reference(target, patch)), 'the RFC 7396 merge', [target, patch, result])
          check(JSON.stringify([target, patch]) === before, 'inputs unchanged', before)
          check(!isObject(result) || Object.getPrototypeOf(result) === Object.prototype, 'a plain object', result)
          check(Object.keys(Object.prototype).length === 0, 'Object.prototype untouched', Object.keys(Object.prototype))
        }),
        { numRuns: inputs },
      )
      record('merge patches', inputs, inputs)
    },
    timeout,
  )

  // An independent model of RFC 6902 restricted to what the plugin sends
  // (add, remove, replace: a test is checked by the plugin and never sent)
  // that edits a deep copy in place: "error" where the patch must be refused,
  // test, move and copy included, whatever their arguments.
  const define = (o: Record<string, Json>, k: string, value: Json) =>
    Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true })
  const patched = (doc: Json, ops: unknown[]): Json | 'error' => {
    const root = { '': JSON.parse(JSON.stringify(doc)) as Json }
    for (const o of ops as { op: unknown; path: unknown; value?: Json }[]) {
      if (!o || typeof o !== 'object' || typeof o.path !== 'string' || !/^(\/([^~]|~[01])*)*$/.test(o.path)) return 'error'
      if (!['add', 'remove', 'replace'].includes(o.op as string) || (o.op !== 'remove' && o.value === undefined)) return 'error'
      if (o.op === 'remove' && o.path === '') return 'error'
      const tokens = ('' + o.path).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
      const last = tokens.pop()!
      let parent: Json = root as unknown as Json
      for (const t of tokens) {
        const next: Json | undefined = Array.isArray(parent)
          ? /^(0|[1-9]\d*)$/.test(t) ? parent[+t] : undefined
          : isObject(parent) && Object.hasOwn(parent, t) ? parent[t] : undefined
        if (next === undefined) return 'error'
        parent = next
      }
      if (Array.isArray(parent)) {
        const i = last === '-' && o.op === 'add' ? parent.length : /^(0|[1-9]\d*)$/.test(last) ? +last : -1
        if (i < 0 || i > parent.length || (o.op !== 'add' && i === parent.length)) return 'error'
        if (o.op === 'add') parent.splice(i, 0, o.value!)
        else if (o.op === 'remove') parent.splice(i, 1)
        else parent[i] = o.value!
      } else if (isObject(parent)) {
        if (o.op !== 'add' && !Object.hasOwn(parent, last)) return 'error'
        if (o.op === 'remove') delete parent[last]
        else define(parent, last, o.value!)
      } else return 'error'
    }
    return root['']
  }
  // The JSON text with every object's keys sorted, to compare whatever the key order.
  const sorted = (v: Json): Json =>
    Array.isArray(v) ? v.map(sorted) : isObject(v) ? objectOf(Object.keys(v).sort().map((k) => [k, sorted(v[k]!)])) : v
  // Paths into documents built from `key`, and near-valid ones.
  const token = fc.oneof(key, fc.constantFrom('0', '1', '2', '-', '01', '~0', '~1', '~2', ''))
  const path = fc.oneof(
    fc.array(token, { maxLength: 3 }).map((t) => t.map((x) => '/' + x).join('')),
    fc.string({ maxLength: 4 }),
  )
  const operation = fc.oneof(
    fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'test'), path, value: json }),
    fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'test', 'move', 'copy', 'spam'), path, value: json, from: path }, { requiredKeys: ['op'] }),
    fc.anything({ maxDepth: 1 }),
  )

  it(
    'JSON Patches: the result is the RFC 6902 model\'s, or a PROTOCOL error where the model refuses; the document never changes',
    () => {
      fc.assert(
        fc.property(json, fc.array(operation, { maxLength: 4 }), (doc, ops) => {
          const before = JSON.stringify([doc, ops])
          let result: unknown
          try {
            result = applyPatch(doc, ops)
          } catch (e) {
            check(isStateSyncError(e, 'PROTOCOL'), 'a PROTOCOL error', String(e))
            result = 'error'
          }
          check(JSON.stringify([doc, ops]) === before, 'document and patch unchanged', before)
          const model = patched(doc, JSON.parse(JSON.stringify(ops ?? null)) as unknown[]) // the model edits what it inserts
          check(JSON.stringify(result === 'error' ? result : sorted(result as Json)) === JSON.stringify(model === 'error' ? model : sorted(model)), 'the model', [doc, ops, result, model])
          check(Object.keys(Object.prototype).length === 0, 'Object.prototype untouched', Object.keys(Object.prototype))
        }),
        { numRuns: inputs },
      )
      record('JSON Patches', inputs, inputs)
    },
    timeout,
  )

  // Tauri's refusal texts cut, padded and mixed with noise, and anything else.
  const tauriText = fc.oneof(
    fc.constantFrom(
      notGranted('state-sync', 'set', ['state-sync:allow-set']),
      otherWindows('event', 'listen', 'w', 'main', 'default'),
      denied('state-sync', 'persistence_errors', 'c'),
      release('state-sync', 'patch'),
      unregistered('state-sync'),
      unknownPlugin('state-sync', 'topics'),
    ),
    fc.string(),
  )
  const rejection = fc.oneof(
    fc.tuple(fc.string({ maxLength: 8 }), tauriText, fc.string({ maxLength: 8 })).map((parts) => parts.join('')),
    tauriText.chain((t) => fc.nat({ max: t.length }).map((n) => t.slice(0, n))),
    fc.anything(),
    fc.record({ code: fc.anything({ maxDepth: 0 }), message: fc.anything({ maxDepth: 0 }) }, { requiredKeys: [] }),
  )

  it(
    'rejections: every value decodes into a StateSyncError with a string code and message, without throwing',
    () => {
      fc.assert(
        fc.property(rejection, (value) => {
          const error = toStateSyncError(value) // a throw fails the property
          check(error instanceof StateSyncError && typeof error.code === 'string' && typeof error.message === 'string', 'a StateSyncError', error)
          if (typeof value === 'string' && error.code === 'FORBIDDEN')
            check(/ not allowed in window ".*": (add|remove) \S+ in src-tauri\/capabilities\/$/.test(error.message), 'says what to do', error.message)
        }),
        { numRuns: inputs },
      )
      record('rejections', inputs, inputs)
    },
    timeout,
  )
})
