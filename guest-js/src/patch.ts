/**
 * The RFC 6902 JSON Patch applier behind pushed and pulled deltas.
 *
 * It never modifies the document it is given: each operation copies only the
 * objects and arrays on the way to the member it changes (or, for `test`,
 * checks), so every untouched
 * subtree of the result is the same object (`===`) as in the old document,
 * and a framework that compares by identity re-renders only what changed.
 * Every key is data, `"__proto__"` too, as in {@link mergePatch}: the copies
 * are edited as objects without a prototype (where assigning `"__proto__"`
 * sets that key and `in` sees own keys only), then spread into plain objects.
 *
 * @module
 */
import { invalid } from './errors'
import { same } from './protocol'

// A copy being edited: an array, or an object without a prototype.
type Container = Record<string, unknown> & unknown[]

/**
 * Applies the RFC 6902 JSON Patch `patch` to `doc`, operation by operation,
 * and returns the new document; `doc` is never modified, and what the patch
 * does not touch is shared with it. Supports `add`, `remove`, `replace` and
 * `test`, the operations the plugin sends, and refuses `move`, `copy` and any
 * other. Throws a `PROTOCOL` {@link StateSyncError} naming the operation, its
 * path and the problem (an unsupported op, a path that is not a JSON Pointer
 * or names no member, an array index that is not canonical or is out of
 * range, a missing `value`, a failed `test`); as nothing is modified, the
 * caller still holds the document as it was.
 *
 * @example
 * const doc = { a: { b: 1 }, c: [1] }
 * const next = applyPatch(doc, [{ op: 'add', path: '/c/-', value: 2 }])
 * // next is { a: { b: 1 }, c: [1, 2] }, and next.a === doc.a
 */
export function applyPatch<T>(doc: T, patch: readonly unknown[]): T {
  if (!Array.isArray(patch)) throw invalid(patch, 'JSON Patch is not an array')
  return patch.reduce((out: unknown, op) => {
    const { op: name, path, value } = (op ?? {}) as Record<string, unknown>
    const fail = (why: string): never => {
      throw invalid(op, `JSON Patch ${name} at "${path}": ${why}`)
    }
    // The document is wrapped as the member "" of an object, which the
    // pointer's leading "" token names: so the whole document is a member like
    // any other; a path that is not "" and does not start with "/" has another
    // first token, which names no member (even for `add`, checked at i == 1).
    const keys = ('' + path).split('/')
    // A copy of `node` changed at keys[i..]. `in` sees only own members: the
    // copy of an object has no prototype, and an array has only its indices
    // (a key that is not a canonical index becomes "x", which none has).
    const step = (node: unknown, i: number): unknown => {
      const array = Array.isArray(node)
      const key = keys[i]!.replace(/~(.?)/g, (_, e: string) => (e == '0' ? '~' : e == '1' ? '/' : fail('"~" not followed by 0 or 1')))
      const c = (
        array ? [...node] : node && typeof node == 'object' ? Object.assign(Object.create(null), node) : fail(`no member "${key}"`)
      ) as Container
      const k = !array ? key : key == '-' ? '' + c.length : /^(0|[1-9]\d*)$/.test(key) ? key : 'x'
      const has = () => (k in c ? c[k] : fail(`no member "${key}"`))
      const v = () => (value === undefined ? fail('no value') : value) // JSON has no undefined: `value` is missing
      if (++i < keys.length) c[k] = step(has(), i)
      else if (name == 'add') array ? (+k <= c.length ? c.splice(+k, 0, v()) : fail(`no member "${key}"`)) : (i > 1 || has(), (c[k] = v()))
      else if (name == 'test') same(has(), v()) || fail('the value differs')
      else if (name == 'replace') has(), (c[k] = v())
      else if (name == 'remove' && i > 1) has(), array ? c.splice(+k, 1) : delete c[k]
      else fail('unsupported operation') // move, copy, any other op, and removing the whole document
      return array ? c : { ...c }
    }
    return (step({ '': out }, 0) as Record<string, unknown>)['']
  }, doc) as T
}
