/**
 * The hand-written binding against the plugin's wire types and error codes,
 * generated from `src/models.rs` and `src/error.rs` into `wire.gen.ts` by
 * tests/typescript.rs. A drift fails `npm run typecheck`, naming what differs.
 */
import {
  INVALIDATION_EVENT,
  PERSISTENCE_ERROR_EVENT,
  RUST_SOURCE_ID,
  type ActionOutcome,
  type CatchUp,
  type Delta,
  type ErrorDetails,
  type Invalidation,
  type JsonPatch,
  type PersistenceError,
  type Revision,
  type Snapshot,
  type TopicCatchUp,
  type TopicInfo,
  type TopicSnapshot,
  type WriteOutcome,
} from 'tauri-plugin-state-sync-api'
import type { Equal } from './equal'
import type * as Wire from './wire.gen'

export const sameShapes: {
  ActionOutcome: Equal<ActionOutcome, Wire.ActionOutcome>
  CatchUp: Equal<CatchUp, Wire.CatchUp>
  Delta: Equal<Delta, Wire.Delta>
  Invalidation: Equal<Invalidation, Wire.Invalidation>
  JsonPatch: Equal<JsonPatch, Wire.JsonPatch>
  PersistenceError: Equal<PersistenceError, Wire.PersistenceError>
  Revision: Equal<Revision, Wire.Revision>
  Snapshot: Equal<Snapshot, Wire.Snapshot>
  TopicCatchUp: Equal<TopicCatchUp, Wire.TopicCatchUp>
  TopicInfo: Equal<TopicInfo, Wire.TopicInfo>
  TopicSnapshot: Equal<TopicSnapshot, Wire.TopicSnapshot>
  WriteOutcome: Equal<WriteOutcome, Wire.WriteOutcome>
  INVALIDATION_EVENT: Equal<typeof INVALIDATION_EVENT, typeof Wire.INVALIDATION_EVENT>
  PERSISTENCE_ERROR_EVENT: Equal<typeof PERSISTENCE_ERROR_EVENT, typeof Wire.PERSISTENCE_ERROR_EVENT>
  RUST_SOURCE_ID: Equal<typeof RUST_SOURCE_ID, typeof Wire.RUST_SOURCE_ID>
} = {
  ActionOutcome: true,
  CatchUp: true,
  Delta: true,
  Invalidation: true,
  JsonPatch: true,
  PersistenceError: true,
  Revision: true,
  Snapshot: true,
  TopicCatchUp: true,
  TopicInfo: true,
  TopicSnapshot: true,
  WriteOutcome: true,
  INVALIDATION_EVENT: true,
  PERSISTENCE_ERROR_EVENT: true,
  RUST_SOURCE_ID: true,
}

/** The codes the binding raises itself, including its browser backend's (see `ErrorDetails` in src/errors.ts). */
type WindowErrorCode =
  | 'FORBIDDEN'
  | 'PLUGIN_MISSING'
  | 'IPC'
  | 'PROTOCOL'
  | 'TIMEOUT'
  | 'STOPPED'
  | 'STORAGE_UNAVAILABLE'
  | 'QUOTA_EXCEEDED'
  | 'MIGRATION_FAILED'
  | 'NEWER_SCHEMA'

/** Fails with "Type '"SOME_CODE"' is not assignable to type 'never'" for a plugin code ErrorDetails lacks. */
export const pluginCodesMissingFromErrorDetails: never = undefined as unknown as Exclude<
  Wire.PluginErrorCode,
  keyof ErrorDetails
>

/** Fails naming a code of ErrorDetails that neither the plugin nor the binding raises. */
export const errorDetailsCodesNobodyRaises: never = undefined as unknown as Exclude<
  keyof ErrorDetails,
  Wire.PluginErrorCode | WindowErrorCode
>
