/**
 * The IndexedDB storage of the browser backend: one database per backend
 * name, with an object store of records keyed by topic and one of records
 * kept aside. The compare-and-set runs in one `readwrite` transaction.
 *
 * @module
 */
import { StateSyncError } from '../errors'
import { stamp } from './schema'
import { failure, unavailable, type Store } from './store'

const TOPICS = 'topics'
const ASIDE = 'aside'

const done = (tx: IDBTransaction, topic: string) =>
  new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onabort = tx.onerror = () => reject(failure('indexeddb', topic, tx.error))
  })

/**
 * The {@link Store} over the IndexedDB database `name` of `factory`.
 *
 * @example
 * const store = indexedDbStore(indexedDB, 'state-sync')
 */
export function indexedDbStore(factory: IDBFactory | undefined, name: string): Store {
  let connection: Promise<IDBDatabase> | undefined

  const open = () =>
    (connection ??= new Promise<IDBDatabase>((resolve, reject) => {
      if (!factory) throw unavailable('indexeddb', 'this browser has no indexedDB')
      const request = factory.open(name, 1)
      request.onupgradeneeded = () => {
        request.result.createObjectStore(TOPICS)
        request.result.createObjectStore(ASIDE)
      }
      request.onsuccess = () => {
        const db = request.result
        // Let another tab upgrade or delete the database; reopen on next use.
        db.onversionchange = () => (db.close(), (connection = undefined))
        db.onclose = () => (connection = undefined)
        resolve(db)
      }
      request.onerror = () => reject(unavailable('indexeddb', request.error))
    }).catch((e: unknown) => {
      connection = undefined
      throw e instanceof StateSyncError ? e : unavailable('indexeddb', e)
    }))

  const transaction = async (topic: string, mode: IDBTransactionMode) => {
    const db = await open()
    try {
      return db.transaction([TOPICS, ASIDE], mode)
    } catch (e) {
      connection = undefined // closing: the next call opens it again
      throw failure('indexeddb', topic, e)
    }
  }

  const store: Store = {
    kind: 'indexeddb',
    textual: false,
    async read(topic) {
      const tx = await transaction(topic, 'readonly')
      const request = tx.objectStore(TOPICS).get(topic)
      await done(tx, topic)
      return request.result as unknown
    },
    async commit(topic, seen, next, aside) {
      const tx = await transaction(topic, 'readwrite')
      const topics = tx.objectStore(TOPICS)
      let ok = false
      const request = topics.get(topic)
      request.onsuccess = () => {
        if (stamp(request.result) !== seen) return
        if (aside) tx.objectStore(ASIDE).put(request.result, aside)
        topics.put(next, topic)
        ok = true
      }
      await done(tx, topic)
      return ok
    },
    asideKey: (topic) => `${topic}@${Date.now()}`,
    close() {
      void connection?.then((db) => db.close(), () => {})
      connection = undefined
    },
  }
  return store
}
