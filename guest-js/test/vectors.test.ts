// Replays docs/protocol-vectors.json, the vectors the Rust tests replay too.
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { StateSyncError, toStateSyncError } from '../src/errors'
import { createEngine } from '../src/engine'
import { applyPatch } from '../src/patch'
import { INVALIDATION_EVENT, RUST_SOURCE_ID, isNewer, isRevision, mergePatch } from '../src/protocol'
import type { CatchUp, PatchOutcome, PushedInvalidation, Revision, TopicCatchUp, TopicInfo } from '../src/protocol'
import { Backend } from './support/backend'

/** The keys a `snapshot` answer must have: a snapshot's when it has `data`, a delta's otherwise. */
const catchUpKeys = (answer: CatchUp): string[] => ('data' in answer ? ['data', 'revision'] : ['from', 'patch', 'revision'])

/** The revisions of a `snapshot` answer; a delta's patch is an array and never leads back. */
const catchUpRevisions = (answer: CatchUp): unknown[] => {
  if ('data' in answer) return [answer.revision]
  expect(Array.isArray(answer.patch)).toBe(true)
  expect(isNewer(answer.from, answer.revision)).toBe(false)
  return [answer.revision, answer.from]
}

interface Step {
  command: string
  args: Record<string, unknown>
  ok?: unknown
  error?: { code: string } & Record<string, unknown>
  events: unknown[]
}
const vectors = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/protocol-vectors.json'), 'utf8')) as {
  eventName: string
  rustSourceId: string
  revisions: { canonical: string[]; invalid: unknown[]; ordered: string[] }
  mergePatches: { target: unknown; patch: unknown; result: unknown }[]
  pushedChanges: { name: string; data: unknown; message: { type: string } & PushedInvalidation; result: unknown }[]
  fixture: { webviewLabel: string; topics: Record<string, unknown> }
  scenarios: { name: string; steps: Step[] }[]
}

describe('protocol vectors', () => {
  it('the event name and Rust source id match', () => {
    expect(INVALIDATION_EVENT).toBe(vectors.eventName)
    expect(RUST_SOURCE_ID).toBe(vectors.rustSourceId)
  })

  it.each(vectors.revisions.canonical)('canonical revision %j is accepted', (r) => {
    expect(isRevision(r)).toBe(true)
  })

  it.each(vectors.revisions.invalid.map((v) => [JSON.stringify(v), v]))('invalid revision %s is refused', (_, v) => {
    expect(isRevision(v)).toBe(false)
  })

  it('ordered revisions compare as u64, each strictly newer than all before it', () => {
    const ordered = vectors.revisions.ordered
    for (let i = 0; i < ordered.length; i++)
      for (let j = 0; j < ordered.length; j++) expect(isNewer(ordered[j]!, ordered[i]), `${ordered[j]} > ${ordered[i]}`).toBe(j > i)
  })

  it.each(vectors.mergePatches.map((v) => [JSON.stringify(v.patch), JSON.stringify(v.target), v]))(
    'merge patch %s onto %s',
    (_p, _t, { target, patch, result }) => {
      const before = structuredClone(target)
      expect(mergePatch(target, patch)).toEqual(result)
      expect(target).toEqual(before) // the target is not modified
    },
  )

  it('regression: a "__proto__" key in a merge patch is stored as a key, as Rust does', () => {
    const json = (text: string) => JSON.parse(text) as unknown // JSON.parse makes "__proto__" an own key, as the wire does
    const added = mergePatch(json('{"a":1}'), json('{"__proto__":{"x":1}}'))
    expect(JSON.stringify(added)).toBe('{"a":1,"__proto__":{"x":1}}')
    expect(Object.getPrototypeOf(added)).toBe(Object.prototype)
    expect((added as { x?: number }).x).toBeUndefined()
    expect(JSON.stringify(mergePatch(json('{"__proto__":{"x":1,"y":2}}'), json('{"__proto__":{"y":null,"z":3}}')))).toBe(
      '{"__proto__":{"x":1,"z":3}}',
    )
    expect(JSON.stringify(mergePatch(json('{"__proto__":1,"b":2}'), json('{"__proto__":null}')))).toBe('{"b":2}')
    expect(JSON.stringify(mergePatch(json('{"__proto__":{"x":1}}'), json('{"b":2}')))).toBe('{"__proto__":{"x":1},"b":2}')
    expect(({} as { x?: number }).x).toBeUndefined() // nothing leaked into Object.prototype
  })

  it.each(vectors.pushedChanges.map((v) => [v.name, v] as const))(
    'pushed change: %s applies at its from, with no fetch',
    async (_, { data, message, result }) => {
      expect(message.type).toBe('invalidate')
      const before = structuredClone(data)
      expect(applyPatch(data, message.patch!)).toEqual(result)
      expect(data).toEqual(before) // the document is not modified
      let deliver: ((event: PushedInvalidation) => void) | undefined
      let fetches = 0
      const engine = createEngine<unknown>({
        topic: message.topic,
        subscriber: { subscribe: async (handler) => ((deliver = handler), () => {}) },
        provider: { getSnapshot: async () => (fetches++, { revision: message.from!, data }) },
        resyncOnFocus: false,
      })
      await engine.start()
      deliver!(message)
      expect(engine.get()).toEqual({ revision: message.revision, data: result })
      expect(fetches).toBe(1) // the hydration only
      engine.stop()
    },
  )

  const steps = vectors.scenarios.flatMap((s) => s.steps.map((step, i) => [`${s.name} #${i + 1} ${step.command}`, step] as const))

  it.each(steps.filter(([, s]) => s.error))('%s: the error decodes into a StateSyncError with its code and details', (_, step) => {
    const wire = { message: 'from the plugin', ...step.error }
    const error = toStateSyncError(wire)
    expect(error).toBeInstanceOf(StateSyncError)
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe(step.error!.code)
    expect(error.message).toBe('from the plugin')
    const { code: _code, ...details } = step.error!
    expect(error.details).toEqual(details)
  })

  it.each(steps.filter(([, s]) => s.ok !== undefined))('%s: the answer has the typed shape and canonical revisions', (_, step) => {
    const revisions: unknown[] = []
    switch (step.command) {
      case 'snapshot': {
        const s = step.ok as CatchUp
        expect(Object.keys(s).sort()).toEqual(catchUpKeys(s))
        revisions.push(...catchUpRevisions(s))
        break
      }
      case 'snapshots':
        for (const s of step.ok as TopicCatchUp[]) {
          expect(Object.keys(s).sort()).toEqual([...catchUpKeys(s), 'topic'].sort())
          revisions.push(...catchUpRevisions(s))
        }
        break
      case 'topics':
        for (const t of step.ok as TopicInfo[]) {
          expect(Object.keys(t).sort()).toEqual(['revision', 'topic'])
          revisions.push(t.revision)
        }
        break
      default: {
        const o = step.ok as PatchOutcome
        // A patch that changed the data is answered with the change, as pushed.
        const carries = step.command === 'patch' && o.revision !== o.previousRevision
        expect(Object.keys(o).sort()).toEqual(['exact', ...(carries ? ['patch'] : []), 'previousRevision', 'revision'])
        if (carries) expect(o.patch!.every((op) => ['add', 'remove', 'replace'].includes(op.op))).toBe(true)
        expect(typeof o.exact).toBe('boolean')
        revisions.push(o.revision, o.previousRevision)
        expect(isNewer(o.previousRevision, o.revision)).toBe(false)
      }
    }
    for (const r of revisions) expect(isRevision(r)).toBe(true)
    for (const e of step.events as { revision: string }[]) expect(isRevision(e.revision)).toBe(true)
  })

  // The model of the plugin the other tests run against answers as the plugin
  // does: the same outcomes, and a `patch` carries what its change's message
  // carries (with the plugin's default push limit).
  it.each(vectors.scenarios.map((s) => [s.name, s] as const))(
    '%s: the test backend answers each set and patch as the plugin, and pushes what a patch answers',
    (_, { steps }) => {
      const { prefs, ...plain } = vectors.fixture.topics
      const backend = new Backend(plain)
      backend.typed('prefs', prefs, (d) => ({ muted: false, ...(d as object) })) // as the fixture describes it
      backend.pushLimit = 8 * 1024
      const pushed: PushedInvalidation[] = []
      backend.emit = (event) => void pushed.push(event as PushedInvalidation)
      // Steps that fail change nothing, in the plugin as here, so only those that succeed are replayed.
      for (const step of steps.filter((s) => (s.command === 'set' || s.command === 'patch') && s.ok !== undefined)) {
        const { topic, data, patch, expectedRevision } = step.args as { topic: string; data?: unknown; patch?: unknown; expectedRevision?: Revision }
        pushed.length = 0
        const kind = step.command as 'set' | 'patch'
        const outcome = backend.write(vectors.fixture.webviewLabel, topic, kind, kind === 'set' ? data : patch, expectedRevision)
        expect(outcome).toEqual(step.ok)
        expect(pushed.map(({ topic, revision, sourceId }) => ({ topic, revision, sourceId }))).toEqual(step.events)
        if (!outcome.patch) continue
        expect(pushed[0]!.patch).toEqual(outcome.patch)
        expect(pushed[0]!.from).toBe(outcome.previousRevision)
        const before = backend.states.get(`${topic}/${outcome.previousRevision}`)
        expect(applyPatch(before, outcome.patch)).toEqual(backend.states.get(`${topic}/${outcome.revision}`))
      }
    },
  )
})
