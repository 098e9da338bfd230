/**
 * Durable topics from the window: flushing them to disk now, and hearing
 * about files that could not be loaded or saved.
 *
 * @module
 */
import { listen } from '@tauri-apps/api/event'
import { toStateSyncError } from './errors'
import { command, subscribeTopic } from './tauri'

/**
 * The event the plugin emits when a persisted topic cannot be loaded or saved.
 *
 * @example
 * import { listen } from '@tauri-apps/api/event'
 * await listen(PERSISTENCE_ERROR_EVENT, (e) => console.warn(e.payload))
 */
export const PERSISTENCE_ERROR_EVENT = 'state-sync://persistence-error'

/**
 * A persisted topic that could not be loaded or saved. `movedTo` is where an
 * unusable file was kept when it was moved aside.
 *
 * @example
 * const problem: PersistenceError = { topic: 'settings', kind: 'corrupt', message: 'not valid JSON', file: '/…/settings.json', movedTo: null }
 */
export interface PersistenceError {
  topic: string
  kind: 'corrupt' | 'unreadable' | 'not-a-file' | 'invalid-data' | 'too-deep' | 'migration' | 'newer-schema' | 'save'
  message: string
  file: string
  movedTo: string | null
}

/**
 * Saves every persisted topic that changed since its last save, and resolves
 * once the files are on disk. Rejects with `PERSISTENCE_FAILED` if one could
 * not be saved.
 *
 * @example
 * await flush() // before the window asks the user to quit
 */
export const flush = (): Promise<void> => command('flush', {})

/**
 * The problems met so far loading or saving persisted topics. Load problems
 * happen before any window exists, so call this once at start.
 *
 * @example
 * for (const p of await persistenceErrors()) showBanner(`${p.topic}: ${p.message}`)
 */
export const persistenceErrors = (): Promise<PersistenceError[]> => command('persistence_errors', {})

/**
 * Calls `handler` with every persistence problem from now on; resolves with
 * the function that stops listening.
 *
 * Without `topics` it listens to the broadcast {@link PERSISTENCE_ERROR_EVENT},
 * which the plugin emits only while no capability uses state-sync scopes.
 * With `topics` it subscribes to each of them (the window must be allowed to
 * read them) and hears their problems on the subscription channels, scopes or
 * not.
 *
 * @example
 * const off = await onPersistenceError((p) => showBanner(p.message))
 * const offSettings = await onPersistenceError((p) => showBanner(p.message), ['settings'])
 */
export function onPersistenceError(
  handler: (problem: PersistenceError) => void,
  topics?: string[],
): Promise<() => void> {
  if (topics) {
    const subscriptions = topics.map((topic) =>
      subscribeTopic(topic, ({ type, ...problem }) => type == 'persistenceError' && handler(problem as PersistenceError)),
    )
    return Promise.all(subscriptions).then(
      (offs) => () => offs.forEach((off) => off()),
      (e: unknown) => {
        for (const s of subscriptions) s.then((off) => off(), () => {})
        throw e
      },
    )
  }
  return listen<PersistenceError>(PERSISTENCE_ERROR_EVENT, ({ payload }) => handler(payload)).catch((e: unknown) => {
    throw toStateSyncError(e)
  })
}
