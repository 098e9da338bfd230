/**
 * Topic declarations of the browser backend (there is no Rust side to own
 * them), and what a stored record reads as under its declaration: the
 * initial value, migrations, TTL and corruption.
 *
 * @module
 */
import { StateSyncError } from '../errors'
import { isRevision, type Revision } from '../protocol'
import { COMPRESS_MIN_BYTES as COMPRESS_MIN, parse, text, type StoredRecord } from './record'

/**
 * One topic of the browser backend.
 *
 * - `initial`: the data of a topic that has never been written (revision
 *   `"0"`), and what it reads as after its record expired or was found corrupt;
 * - `version` (default 1): the schema version of the data this code writes;
 * - `migrations`: `migrations[n]` turns data of version `n` into version
 *   `n + 1` (as `Persistence::migration(n, ...)` on the Rust side); a stored
 *   record of an older version is migrated once, in order, and written back;
 * - `ttlMs`: a record not written for this long reads as `initial`;
 * - `compress`: gzip the stored JSON when it is longer than `minBytes`
 *   characters (`true`: `COMPRESS_MIN_BYTES`, 4096).
 *
 * @example
 * const settings: TopicDeclaration<{ theme: string }> = {
 *   initial: { theme: 'light' },
 *   version: 2,
 *   migrations: { 1: (v1: { dark: boolean }) => ({ theme: v1.dark ? 'dark' : 'light' }) },
 * }
 */
export interface TopicDeclaration<T = unknown> {
  initial: T
  version?: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  migrations?: Record<number, (data: any) => unknown>
  ttlMs?: number
  compress?: boolean | { minBytes: number }
}

/** A validated declaration. */
export interface Declared {
  initial: string
  version: number
  migrations: Record<number, (data: unknown) => unknown>
  ttlMs?: number
  minBytes?: number
}

/**
 * What a topic's stored record reads as.
 * `stamp` names the stored value it was read from, for compare-and-set.
 * `rewrite` says the record must be replaced by this state (a migrated,
 * expired or corrupt record); `problem` is then what to report.
 */
export interface Reading {
  revision: Revision
  data: unknown
  json: string
  savedAt?: number
  stamp: string
  rewrite?: boolean
  problem?: { kind: 'corrupt' | 'expired'; message: string }
  aside?: boolean
}

const invalidArgument = (argument: string, message: string) =>
  new StateSyncError('INVALID_ARGUMENT', message, { argument })

/**
 * Whether `name` is a valid topic name (the plugin's rule: 1 to 128
 * characters from `A-Z a-z 0-9 _ . : / -`).
 *
 * @example
 * isTopicName('settings') // true
 */
export const isTopicName = (name: string): boolean => /^[\w.:/-]{1,128}$/.test(name)

const isCount = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min

/**
 * Validates the declaration of topic `name`; throws `INVALID_TOPIC` or
 * `INVALID_ARGUMENT` naming the field.
 *
 * @example
 * declare('settings', { initial: { theme: 'light' } }).version // 1
 */
export function declare(name: string, d: TopicDeclaration): Declared {
  const at = `topics.${name}.`
  if (!isTopicName(name)) throw new StateSyncError('INVALID_TOPIC', `invalid topic name \`${name}\``, { topic: name })
  if (typeof d !== 'object' || d === null) throw invalidArgument(`topics.${name}`, `the declaration of \`${name}\` must be an object`)
  let initial: string | undefined
  try {
    initial = JSON.stringify(d.initial)
  } catch {
    // reported below
  }
  if (initial === undefined) throw invalidArgument(at + 'initial', `\`${name}\`: initial must be a JSON value`)
  const { version = 1, migrations = {}, ttlMs, compress } = d
  if (!isCount(version, 1)) throw invalidArgument(at + 'version', `\`${name}\`: version must be an integer of at least 1`)
  for (const key of Object.keys(migrations))
    if (!(isCount(Number(key), 0) && Number(key) < version && typeof migrations[Number(key)] === 'function'))
      throw invalidArgument(at + 'migrations', `\`${name}\`: migrations[${key}] must be a function, keyed by a version below ${version}`)
  if (ttlMs !== undefined && !(ttlMs > 0 && Number.isFinite(ttlMs)))
    throw invalidArgument(at + 'ttlMs', `\`${name}\`: ttlMs must be a positive number of milliseconds`)
  const minBytes = compress === true ? COMPRESS_MIN : compress ? compress.minBytes : undefined
  if (minBytes !== undefined && !isCount(minBytes, 0))
    throw invalidArgument(at + 'compress', `\`${name}\`: compress.minBytes must be a non-negative integer`)
  return { initial, version, migrations, ttlMs, minBytes }
}

const U64_MAX = 18446744073709551615n

/**
 * The revision after `revision`; throws `REVISION_EXHAUSTED` at `u64::MAX`.
 *
 * @example
 * next('t', '41') // '42'
 */
export function next(topic: string, revision: Revision): Revision {
  const n = BigInt(revision)
  if (n >= U64_MAX) throw new StateSyncError('REVISION_EXHAUSTED', `topic \`${topic}\` reached the last revision`, { topic })
  return String(n + 1n)
}

/**
 * The stamp of a stored value: its revision, or for a value that is not a
 * record, its text. Two reads with the same stamp saw the same record.
 *
 * @example
 * stamp(undefined) // ''
 */
export function stamp(raw: unknown): string {
  if (raw === undefined) return ''
  const record = parse(raw)
  if (record) return record.revision
  try {
    return '!' + (typeof raw === 'string' ? raw : JSON.stringify(raw))
  } catch {
    return '!' + String(raw)
  }
}

/**
 * Reads the stored value `raw` of topic `name` as of `now`.
 *
 * A record that must be rewritten (an older schema to migrate, an expired or a
 * corrupt record) is only dealt with when `exclusive` is set (the caller holds
 * the topic's lock); otherwise the result is `undefined` and the caller comes
 * back with the lock, so that a migration runs once across tabs.
 *
 * Throws `NEWER_SCHEMA` for a record of a newer version and `MIGRATION_FAILED`
 * when a migration is missing or throws; the record is left as it is.
 *
 * @example
 * const reading = await read('settings', declared, undefined, Date.now(), false) // revision '0', the initial value
 */
export async function read(
  name: string,
  d: Declared,
  raw: unknown,
  now: number,
  exclusive: boolean,
): Promise<Reading | undefined> {
  const seen = stamp(raw)
  const initial = (revision: Revision, kind: 'corrupt' | 'expired', message: string): Reading | undefined =>
    exclusive
      ? { revision, data: JSON.parse(d.initial), json: d.initial, stamp: seen, rewrite: true, problem: { kind, message }, aside: kind === 'corrupt' }
      : undefined
  if (raw === undefined) return { revision: '0', data: JSON.parse(d.initial), json: d.initial, stamp: seen }
  const record: StoredRecord | undefined = parse(raw)
  if (!record) {
    const r = typeof raw === 'object' && raw !== null ? (raw as { revision?: unknown }).revision : undefined
    // With no revision to go on, restart above any revision that counting could have reached: the clock.
    return initial(isRevision(r) ? next(name, r) : String(Date.now()), 'corrupt', 'the stored value is not a state-sync record')
  }
  const { revision, version, savedAt } = record
  if (version > d.version)
    throw new StateSyncError('NEWER_SCHEMA', `topic \`${name}\` was stored by schema version ${version}; this code reads up to ${d.version}`, {
      topic: name,
      version,
      supported: d.version,
    })
  if (d.ttlMs !== undefined && savedAt !== undefined && savedAt + d.ttlMs <= now)
    return initial(next(name, revision), 'expired', `not written for ${d.ttlMs} ms`)
  let json: string
  let data: unknown
  try {
    json = await text(record)
    data = JSON.parse(json)
  } catch {
    return initial(next(name, revision), 'corrupt', 'the stored data cannot be decoded')
  }
  if (version === d.version) return { revision, data, json, savedAt, stamp: seen }
  if (!exclusive) return undefined
  for (let v = version; v < d.version; v++) {
    const migrate = d.migrations[v]
    const fail = (cause?: unknown) =>
      new StateSyncError('MIGRATION_FAILED', `topic \`${name}\`: ${migrate ? 'the migration from' : 'no migration from'} version ${v} ${migrate ? 'threw' : 'is declared'}`, {
        topic: name,
        version: v,
        cause,
      })
    if (!migrate) throw fail()
    try {
      data = migrate(data)
      json = JSON.stringify(data)
    } catch (e) {
      throw fail(e)
    }
    if (json === undefined) throw fail('the migration returned no JSON value')
  }
  return { revision: next(name, revision), data: JSON.parse(json), json, savedAt, stamp: seen, rewrite: true }
}
