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

/**
 * The actions each topic has in Rust, each action's name mapped to the type
 * of its argument. Empty here: the generated file fills it, from the actions
 * declared on the plugin's `Builder` (a typed action's argument is its Rust
 * type, an untyped one's `unknown`). Actions registered at run time can be
 * added by hand, as for {@link Topics}:
 *
 * @example
 * declare module 'tauri-plugin-state-sync-api' {
 *   interface TopicActions {
 *     counter: { increment: { by: number }; reset: undefined }
 *   }
 * }
 */
export interface TopicActions {}

/**
 * Whether {@link TopicActions} has been filled; until then the action map is
 * given as a type argument.
 *
 * @example
 * const typed: ActionsDeclared = false // before the generated file declares an action
 */
export type ActionsDeclared = [keyof TopicActions] extends [never] ? false : true

/**
 * The action map of topic `K` opened as `topic<T, K, A>(name: K)`: its entry
 * in {@link TopicActions} once that is filled (`A` is then ignored, and a
 * topic with no entry has no actions), else `A`.
 *
 * @example
 * type Actions = ActionsFor<{}, 'counter'> // TopicActions['counter'] once filled
 */
export type ActionsFor<A extends object, K> = ActionsDeclared extends true
  ? K extends keyof TopicActions
    ? Extract<TopicActions[K], object>
    : Record<never, never>
  : A
