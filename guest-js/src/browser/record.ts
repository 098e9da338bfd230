/**
 * The stored record of one topic in the browser backend, and its
 * compression. The same shape lives in IndexedDB (as an object, compressed
 * data as bytes) and in localStorage (as JSON text, compressed data as base64).
 *
 * @module
 */
import { isRevision, type Revision } from '../protocol'

/**
 * What is stored for a topic. The data is kept as JSON text, so both
 * storages hold exactly the JSON the topic had, and a record from one can be
 * read by the other.
 *
 * @example
 * const r: StoredRecord = { revision: '3', version: 1, savedAt: 1764030000000, json: '{"theme":"dark"}' }
 */
export interface StoredRecord {
  /** The topic's revision. */
  revision: Revision
  /** The schema version the data was written with. */
  version: number
  /**
   * When the data was written, in ms since the epoch, for TTL. Absent when the
   * data is the topic's initial value put back (after expiry or corruption),
   * which never expires.
   */
  savedAt?: number
  /** The data's JSON text, when not compressed. */
  json?: string
  /** The data's JSON text, gzipped: bytes in IndexedDB, base64 in localStorage. */
  gzip?: Uint8Array | string
}

/**
 * JSON text above this many characters is compressed, for topics that ask for
 * compression (`compress: true`). Picked by measurement in Chromium
 * (`npm run bench:browser`, table in the README): gzip saves 74 to 87 % of the
 * space from 1 KB up, but it never saves time: each write through the
 * backend costs about 4 ms more (gzip, plus reading the stored value back
 * through DecompressionStream), flat up to 64 KB. From 4 KB on a write saves
 * more than 3 KB and over 80 % for that cost; below it, a few hundred bytes.
 *
 * @example
 * browser({ topics: { log: { initial: [], compress: { minBytes: COMPRESS_MIN_BYTES * 4 } } } })
 */
export const COMPRESS_MIN_BYTES = 4096

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The record in `raw` (an object from IndexedDB, or text from localStorage),
 * or `undefined` when it does not have the record's shape.
 *
 * @example
 * parse('{"revision":"1","version":1,"savedAt":0,"json":"1"}')?.revision // '1'
 */
export function parse(raw: unknown): StoredRecord | undefined {
  let r = raw
  if (typeof raw === 'string')
    try {
      r = JSON.parse(raw)
    } catch {
      return undefined
    }
  if (
    isObject(r) &&
    isRevision(r.revision) &&
    Number.isSafeInteger(r.version) &&
    (r.version as number) >= 0 &&
    (r.savedAt === undefined || Number.isFinite(r.savedAt)) &&
    (typeof r.json === 'string') !== (typeof r.gzip === 'string' || r.gzip instanceof Uint8Array)
  )
    return r as unknown as StoredRecord
}

const stream = (bytes: BlobPart, transform: CompressionStream | DecompressionStream) =>
  new Response(new Blob([bytes]).stream().pipeThrough(transform))

const toBase64 = (bytes: Uint8Array) => {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

/**
 * The record's data as JSON text; decompresses it if it was compressed.
 * Rejects when the compressed bytes are damaged.
 *
 * @example
 * await text({ revision: '1', version: 1, savedAt: 0, json: '1' }) // '1'
 */
export async function text(record: StoredRecord): Promise<string> {
  const { json, gzip } = record
  if (json !== undefined) return json
  const bytes = typeof gzip === 'string' ? Uint8Array.from(atob(gzip), (c) => c.charCodeAt(0)) : gzip!
  return stream(bytes as BlobPart, new DecompressionStream('gzip')).text()
}

/**
 * Builds the record for `json` (the data's JSON text), gzipped when
 * `minBytes` is set, the text is longer than it and gzip makes it smaller.
 * With `textual` (localStorage) the result is JSON text with base64 bytes.
 *
 * @example
 * await pack({ revision: '2', version: 1, savedAt: Date.now() }, '{"a":1}', undefined, true)
 */
export async function pack(
  head: Omit<StoredRecord, 'json' | 'gzip'>,
  json: string,
  minBytes: number | undefined,
  textual: boolean,
): Promise<StoredRecord | string> {
  let record: StoredRecord = { ...head, json }
  if (minBytes !== undefined && json.length > minBytes && typeof CompressionStream === 'function') {
    const bytes = new Uint8Array(await stream(json, new CompressionStream('gzip')).arrayBuffer())
    const gzip = textual ? toBase64(bytes) : bytes
    if (gzip.length < json.length) record = { ...head, gzip }
  }
  return textual ? JSON.stringify(record) : record
}
