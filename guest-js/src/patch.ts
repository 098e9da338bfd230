/**
 * The RFC 6902 JSON Patch applier behind pushed and pulled deltas.
 *
 * It never modifies the document it is given: each operation copies only the
 * objects and arrays on the way to the member it changes, so every untouched
 * subtree of the result is the same object (`===`) as in the old document,
 * and a framework that compares by identity re-renders only what changed.
 * Every key is data, `"__proto__"` too, as in {@link mergePatch}: the copies
 * are edited as objects without a prototype (where assigning `"__proto__"`
 * sets that key and `in` sees own keys only), then spread into plain objects.
 *
 * @module
 */
import { invalid } from './errors'

// A copy being edited: an array, or an object without a prototype.
type Container = Record<string, unknown> & unknown[]

/**
 * Applies the RFC 6902 JSON Patch `patch` to `doc`, operation by operation,
 * and returns the new document; `doc` is never modified, and what the patch
 * does not touch is shared with it. Supports `add`, `remove` and `replace`,
 * the operations the plugin sends (it checks a `test` when the change is
 * committed and leaves it out of what it sends: at the revision before, the
 * window holds the data it was checked on), and refuses `test`, `move`, `copy`
 * and any other. An operation that does not apply (an unsupported op, a path
 * that is not a JSON Pointer or names no member, an array index that is not
 * canonical or is out of range, a missing `value`) throws a `PROTOCOL`
 * {@link StateSyncError} whose message names the operation and its path,
 * and whose `details.value` is the operation; as nothing is modified, the
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
    const fail = (): never => {
      throw invalid(op, `JSON Patch ${name} at "${path}" does not apply`)
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
      const key = keys[i]!.replace(/~(.?)/g, (_, e: string) => (e == '0' ? '~' : e == '1' ? '/' : fail()))
      const c = (
        array ? [...node] : node && typeof node == 'object' ? Object.assign(Object.create(null), node) : fail()
      ) as Container
      const k = !array ? key : key == '-' ? '' + c.length : /^(0|[1-9]\d*)$/.test(key) ? key : 'x'
      const has = () => (k in c ? c[k] : fail())
      const v = () => (value === undefined ? fail() : value) // JSON has no undefined: `value` is missing
      if (++i < keys.length) c[k] = step(has(), i)
      else if (name == 'add') array ? (+k <= c.length ? c.splice(+k, 0, v()) : fail()) : (i > 1 || has(), (c[k] = v()))
      else if (name == 'replace') has(), (c[k] = v())
      else if (name == 'remove' && i > 1) has(), array ? c.splice(+k, 1) : delete c[k]
      else fail() // test, move, copy, any other op, and removing the whole document
      return array ? c : { ...c }
    }
    return (step({ '': out }, 0) as Record<string, unknown>)['']
  }, doc) as T
}
