/**
 * Where the browser backend keeps its records: the interface both storages
 * implement ({@link indexedDbStore}, {@link localStorageStore}).
 *
 * @module
 */
import { StateSyncError } from '../errors'
import type { StoredRecord } from './record'

/**
 * A storage of topic records. Every write is a compare-and-set: it applies
 * only if the stored value still has the stamp the writer read, checked and
 * written in one storage transaction (localStorage: in one task of the tab
 * that writes for all, see writer.ts).
 *
 * @example
 * const ok = await store.commit('settings', '3', record)
 */
export interface Store {
  readonly kind: 'indexeddb' | 'localstorage'
  /** Whether records are stored as text (localStorage). */
  readonly textual: boolean
  /**
   * The value stored for `topic`, as found (not checked), or `undefined`.
   * With `fresh` (the caller holds the topic's lock and may write), one no
   * tab's write can be missing from (localStorage asks its writer tab).
   */
  read(topic: string, fresh?: boolean): Promise<unknown>
  /**
   * If the value stored for `topic` still has `stamp` `seen` (see `stamp` in
   * schema.ts), stores `next` and, with `aside` (a key from {@link Store.asideKey}),
   * keeps the old value under that key; all in one transaction. Resolves whether it did, once it is
   * committed. Rejects with `QUOTA_EXCEEDED`, `STORAGE_UNAVAILABLE` or
   * `PERSISTENCE_FAILED`, having changed nothing.
   */
  commit(topic: string, seen: string, next: StoredRecord | string, aside?: string): Promise<boolean>
  /** A new key to keep an old value of `topic` aside under. */
  asideKey(topic: string): string
  /**
   * Where the storage itself tells of changes made by other tabs (localStorage's
   * `storage` event, and the records its writer tab announces): calls
   * `changed` with the topic and its new revision; returns the function that
   * stops it.
   */
  watch?(changed: (topic: string, revision: string) => void): () => void
  /** Releases the storage (closes the database). */
  close(): void
}

/**
 * The typed error for a storage operation that failed with `cause`.
 *
 * @example
 * throw failure('indexeddb', 'settings', new DOMException('full', 'QuotaExceededError'))
 */
export function failure(storage: Store['kind'], topic: string, cause: unknown): StateSyncError {
  const name = (cause as { name?: string } | null)?.name
  const message = (cause as { message?: string } | null)?.message ?? String(cause)
  if (name === 'QuotaExceededError')
    return new StateSyncError('QUOTA_EXCEEDED', `the browser refused to store \`${topic}\`: storage quota exceeded`, { topic })
  if (name === 'SecurityError' || name === 'InvalidStateError' || name === 'UnknownError')
    return unavailable(storage, cause)
  return new StateSyncError('PERSISTENCE_FAILED', `could not store \`${topic}\` in ${storage}: ${message}`, { topic })
}

/**
 * The `STORAGE_UNAVAILABLE` error of `storage`.
 *
 * @example
 * throw unavailable('localstorage', 'the Web Locks API is missing')
 */
export const unavailable = (storage: Store['kind'], cause?: unknown): StateSyncError =>
  new StateSyncError(
    'STORAGE_UNAVAILABLE',
    `${storage === 'indexeddb' ? 'IndexedDB' : 'localStorage'} is unavailable` +
      (cause === undefined ? '' : ': ' + ((cause as { message?: string } | null)?.message ?? String(cause))),
    { storage, cause },
  )
