/**
 * tauri-plugin-state-sync-api: Rust-owned state, kept in sync in every window.
 *
 * @example
 * import { topic } from 'tauri-plugin-state-sync-api'
 * const settings = topic<{ theme: string }>('settings')
 * await settings.ready
 * await settings.patch({ theme: 'dark' })
 *
 * @module
 */
import type { InvalidationSubscriber, SnapshotProvider } from './engine'
import { getSnapshot, onInvalidate } from './tauri'

export { topic } from './topic'
export type { ActionArgs, ActionMap, TopicHandle, TopicOptions, WriteOptions } from './topic'
export type { ActionsDeclared, ActionsFor, DataFor, TopicActions, TopicName, Topics, TopicsDeclared } from './topics'
export { createEngine } from './engine'
export type {
  Action,
  Engine,
  EngineOptions,
  InvalidationSubscriber,
  SnapshotProvider,
  SyncErrorContext,
  SyncPhase,
} from './engine'
export { createRevisionSync } from './compat'
export type { Logger, RevisionSyncHandle, RevisionSyncOptions, SnapshotApplier } from './compat'
export { StateSyncError, isStateSyncError, toStateSyncError } from './errors'
export type { ErrorDetails, StateSyncErrorCode } from './errors'
export { INVALIDATION_EVENT, RUST_SOURCE_ID, isNewer, isRevision, mergePatch } from './protocol'
export { applyPatch } from './patch'
export type {
  ActionOutcome,
  CatchUp,
  ChannelMessage,
  Delta,
  Invalidation,
  PushedInvalidation,
  JsonPatch,
  MergePatch,
  PatchOperation,
  PatchOutcome,
  Revision,
  Snapshot,
  TopicCatchUp,
  TopicInfo,
  TopicSnapshot,
  WriteOutcome,
} from './protocol'
export { act, command, getSnapshot, getSnapshots, listTopics, onInvalidate, subscribeTopic, tauri, write } from './tauri'
export type { Transport } from './tauri'
export { PERSISTENCE_ERROR_EVENT, flush, onPersistenceError, persistenceErrors } from './persistence'
export type { PersistenceError } from './persistence'
export { backoff } from './retry'
export type { Retry, RetryOptions } from './retry'
export { throttle } from './throttle'
export type { Limiter, Throttling } from './throttle'

/**
 * An {@link InvalidationSubscriber} for one topic over the plugin's
 * subscription channel (the counterpart of `@statesync/tauri`'s subscriber).
 *
 * @example
 * const subscriber = createTauriSubscriber('settings')
 */
export const createTauriSubscriber = (topic: string): InvalidationSubscriber => ({
  subscribe: (handler) => onInvalidate(topic, handler),
})

/**
 * A {@link SnapshotProvider} for one topic over the plugin's `snapshot`
 * command; it passes on the engine's `since`, so a window that is behind by
 * a few changes pulls only those.
 *
 * @example
 * const provider = createTauriProvider<Settings>('settings')
 */
export const createTauriProvider = <T>(topic: string): SnapshotProvider<T> => ({
  getSnapshot: (since) => getSnapshot<T>(topic, since),
})
