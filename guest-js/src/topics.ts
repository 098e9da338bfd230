/**
 * The app's topics by name, with the types of their data: the interface the
 * file generated from the Rust types fills by module augmentation, and what
 * {@link topic} derives from it.
 *
 * @module
 */

/**
 * The app's topics, each with the type of its data. Empty here: the file the
 * plugin generates from the Rust types (`Builder::export_types`, cargo
 * feature `typescript`) fills it by module augmentation. An app can also
 * augment it by hand, for example for topics registered at run time:
 *
 * @example
 * declare module 'tauri-plugin-state-sync-api' {
 *   interface Topics {
 *     settings: { theme: 'light' | 'dark' }
 *     [room: `room:${string}`]: { members: string[] }
 *   }
 * }
 */
export interface Topics {}

/**
 * Whether {@link Topics} has been filled; until then any name is accepted and
 * the data type is given as a type argument.
 *
 * @example
 * const typed: TopicsDeclared = false // before the generated file is included
 */
export type TopicsDeclared = [keyof Topics] extends [never] ? false : true

/**
 * The names {@link topic} accepts: the keys of {@link Topics} once it is
 * filled, any name before.
 *
 * @example
 * const name: TopicName = 'settings'
 */
export type TopicName = TopicsDeclared extends true ? keyof Topics & string : string

/**
 * The data type of topic `K` opened as `topic<T>(name: K)`: its entry in
 * {@link Topics} once that is filled (`T` is then ignored), else `T`.
 *
 * @example
 * type Data = DataFor<unknown, 'settings'> // Topics['settings'] once filled
 */
export type DataFor<T, K> = TopicsDeclared extends true ? (K extends keyof Topics ? Topics[K] : unknown) : T
