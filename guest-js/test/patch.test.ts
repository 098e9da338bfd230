// The JSON Patch applier: the RFC 6902 test suite (json-patch-test-suite),
// then what the suite does not check: the input is never modified, untouched
// subtrees are shared, and "__proto__" is a plain key.
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { isStateSyncError, type StateSyncError } from '../src/errors'
import { applyPatch } from '../src/patch'

interface Case {
  comment?: string
  doc: unknown
  patch: { op: string }[]
  expected?: unknown
  error?: string
  disabled?: boolean
}

const require = createRequire(import.meta.url)
// The plugin sends add, remove and replace (it checks a test at the commit
// and leaves it out). test, move and copy are refused, so every case that
// uses them must throw.
const SUPPORTED = new Set(['add', 'remove', 'replace'])

/** A deep copy of `value` with every object and array frozen, so that a write to it throws. */
const frozen = <T>(value: T): T => {
  const copy = structuredClone(value)
  const freeze = (v: unknown) => {
    if (v && typeof v == 'object') {
      Object.values(v).forEach(freeze)
      Object.freeze(v)
    }
  }
  freeze(copy)
  return copy
}

const refused = (run: () => unknown) => {
  let error: unknown
  try {
    run()
  } catch (e) {
    error = e
  }
  expect(isStateSyncError(error, 'PROTOCOL'), String(error)).toBe(true)
  return error as Error
}

for (const file of ['tests.json', 'spec_tests.json']) {
  const cases = require(`json-patch-test-suite/${file}`) as Case[]
  // The suite marks 3 cases of tests.json and 1 of spec_tests.json disabled:
  // two can only be written in JSON with an "op" given twice, which a JSON
  // parser does not keep; those are the only cases left out.
  const enabled = cases.filter((c) => !c.disabled)
  describe(`RFC 6902 suite: ${file}`, () => {
    it('leaves out only the cases the suite disables', () => {
      expect(cases.length - enabled.length).toBe(file == 'tests.json' ? 3 : 1)
    })
    it('has cases that apply with add, remove and replace only, and passing cases with a test, which are refused', () => {
      const applying = enabled.filter((c) => c.error === undefined && c.patch.every((op) => SUPPORTED.has(op.op)))
      const withTest = enabled.filter((c) => c.error === undefined && c.patch.some((op) => op.op == 'test'))
      expect([applying.length, withTest.length]).toEqual(file == 'tests.json' ? [42, 8] : [8, 2])
    })
    it.each(enabled.map((c, i) => [`${i}: ${c.comment ?? JSON.stringify(c.patch)}`, c] as const))('%s', (_, c) => {
      // Every case runs on a frozen document: applying never writes to it.
      const doc = frozen(c.doc)
      // A case using test, move or copy is refused as a whole, like a case
      // the suite expects to fail, and the caller keeps its document as it was.
      if (!c.patch.every((op) => SUPPORTED.has(op.op)) || c.error !== undefined) {
        refused(() => applyPatch(doc, c.patch))
        return void expect(doc).toEqual(c.doc)
      }
      const out = applyPatch(doc, c.patch)
      // A case without `expected` is one whose tests must pass: the document is unchanged.
      expect(out).toEqual('expected' in c ? c.expected : c.doc)
      expect(doc).toEqual(c.doc)
    })
  })
}

describe('applyPatch beyond the suite', () => {
  it('never modifies its input: a deep-frozen document patched by every op', () => {
    const doc = frozen({ a: { b: [1, 2, 3] }, c: { d: 'x' }, e: 1 })
    const out = applyPatch(doc, [
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'remove', path: '/a/b/0' },
      { op: 'replace', path: '/c/d', value: 'y' },
      { op: 'remove', path: '/e' },
      { op: 'add', path: '/f', value: { g: [1] } },
      { op: 'add', path: '/f/g/-', value: 2 },
    ])
    expect(out).toEqual({ a: { b: [9, 2, 3] }, c: { d: 'y' }, f: { g: [1, 2] } })
    expect(doc).toEqual({ a: { b: [1, 2, 3] }, c: { d: 'x' }, e: 1 })
  })

  it('refuses test, move and copy, whatever their arguments, with the document unchanged', () => {
    const doc = frozen({ a: 1 })
    for (const op of ['move', 'copy'])
      expect(refused(() => applyPatch(doc, [{ op, from: '/a', path: '/b' }])).message).toBe(`JSON Patch ${op} at "/b" does not apply`)
    // Even a test that would pass, and after an operation that applied.
    expect(refused(() => applyPatch(doc, [{ op: 'add', path: '/b', value: 2 }, { op: 'test', path: '/a', value: 1 }])).message).toBe(
      'JSON Patch test at "/a" does not apply',
    )
    expect(doc).toEqual({ a: 1 })
  })

  it('a failed operation after applied ones throws, and the caller keeps its document as it was', () => {
    const doc = frozen({ a: 1, b: { c: 2 } })
    refused(() => applyPatch(doc, [{ op: 'replace', path: '/a', value: 5 }, { op: 'remove', path: '/b/x' }]))
    expect(doc).toEqual({ a: 1, b: { c: 2 } })
  })

  it('shares every subtree the patch does not touch with the old document', () => {
    const doc = { list: [{ id: 1 }, { id: 2 }], deep: { x: { y: 1 }, z: { w: 2 } }, other: { k: 1 } }
    const out = applyPatch(doc, [{ op: 'replace', path: '/deep/x/y', value: 5 }])
    expect(out.other).toBe(doc.other)
    expect(out.list).toBe(doc.list)
    expect(out.deep.z).toBe(doc.deep.z)
    expect(out.deep).not.toBe(doc.deep)
    expect(out.deep.x).toEqual({ y: 5 })
    const pushed = applyPatch(doc, [{ op: 'add', path: '/list/-', value: { id: 3 } }])
    expect(pushed.list[0]).toBe(doc.list[0])
    expect(pushed.list[1]).toBe(doc.list[1])
    expect(pushed.deep).toBe(doc.deep)
  })

  it('an empty patch returns the document itself', () => {
    const doc = { a: 1 }
    expect(applyPatch(doc, [])).toBe(doc)
  })

  it('treats "__proto__" as a plain key: added, replaced, read and removed as data, with no prototype changed', () => {
    const doc = frozen({ a: 1 })
    const added = applyPatch(doc, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as Record<string, unknown>
    expect(Object.getPrototypeOf(added)).toBe(Object.prototype)
    expect(Object.hasOwn(added, '__proto__')).toBe(true)
    expect(added.polluted).toBeUndefined()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(JSON.stringify(added)).toBe('{"a":1,"__proto__":{"polluted":true}}')
    const nested = applyPatch(added, [
      { op: 'add', path: '/__proto__/more', value: 1 },
      { op: 'replace', path: '/__proto__/polluted', value: false },
    ]) as Record<string, unknown>
    expect(JSON.stringify(nested)).toBe('{"a":1,"__proto__":{"polluted":false,"more":1}}')
    const removed = applyPatch(nested, [{ op: 'remove', path: '/__proto__' }])
    expect(JSON.stringify(removed)).toBe('{"a":1}')
    expect(Object.getPrototypeOf(removed)).toBe(Object.prototype)
  })

  it('does not find inherited members: "__proto__", "constructor" and "toString" are missing unless own', () => {
    for (const key of ['__proto__', 'constructor', 'toString']) {
      refused(() => applyPatch({ a: 1 }, [{ op: 'remove', path: '/' + key }]))
      refused(() => applyPatch({ a: 1 }, [{ op: 'replace', path: '/' + key, value: 1 }]))
      refused(() => applyPatch({ a: 1 }, [{ op: 'add', path: `/${key}/x`, value: 1 }]))
    }
  })

  it('refuses array indices with a leading zero, a sign, or past the end, and "-" except as the last token of add', () => {
    for (const path of ['/a/01', '/a/+1', '/a/-1', '/a/2', '/a/-']) refused(() => applyPatch({ a: [1, 2] }, [{ op: 'replace', path, value: 0 }]))
    refused(() => applyPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/3', value: 0 }]))
    refused(() => applyPatch({ a: [[1]] }, [{ op: 'add', path: '/a/-/0', value: 0 }]))
    expect(applyPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/2', value: 3 }])).toEqual({ a: [1, 2, 3] })
  })

  it('unescapes ~1 to "/" and ~0 to "~", and refuses any other "~"', () => {
    expect(applyPatch({ 'a/b': 1, 'c~d': 2, '~1': 3 }, [
      { op: 'replace', path: '/a~1b', value: 10 },
      { op: 'replace', path: '/c~0d', value: 20 },
      { op: 'replace', path: '/~01', value: 30 },
    ])).toEqual({ 'a/b': 10, 'c~d': 20, '~1': 30 })
    for (const path of ['/a~2b', '/a~', 'a']) refused(() => applyPatch({ 'a~2b': 1, 'a~': 1, a: 1 }, [{ op: 'remove', path }]))
  })

  it('regression: a path that does not start with "/" is refused, not applied to nothing (found by fuzzing)', () => {
    for (const path of [' ', 'a', 'a/b', undefined, 1])
      expect(refused(() => applyPatch({ a: 1 }, [{ op: 'add', path, value: 2 }])).message).toBe(`JSON Patch add at "${path}" does not apply`)
  })

  it('refuses a patch that is not an array, an op that is not an object, and removing the whole document', () => {
    expect(refused(() => applyPatch({}, {} as never)).message).toBe('JSON Patch is not an array')
    refused(() => applyPatch({}, [null]))
    refused(() => applyPatch({}, [{ op: 'remove', path: '' }]))
  })

  it('names the operation and its path in the error, and carries the operation', () => {
    for (const [doc, op] of [
      [{ a: 1 }, { op: 'spam', path: '/a' }], // an unsupported op
      [{ a: [] }, { op: 'remove', path: '/a/0' }], // no such element
      [{ a: [] }, { op: 'add', path: '/a/01', value: 1 }], // an index that is not canonical
      [{ a: 1 }, { op: 'remove', path: '' }], // removing the whole document
      [{ a: 1 }, { op: 'add', path: '/b' }], // no value
      [{ a: 1 }, { op: 'replace', path: '/a~2' }], // "~" not followed by 0 or 1
    ] as const) {
      const error = refused(() => applyPatch(doc, [{ op: 'add', path: '/ok', value: 0 }, op]))
      expect(error.message).toBe(`JSON Patch ${op.op} at "${op.path}" does not apply`)
      expect((error as StateSyncError).details).toEqual({ value: op })
    }
  })
})
