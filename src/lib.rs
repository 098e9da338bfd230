//! Revisioned application state shared by every window of a Tauri v2 app.
//!
//! Rust owns each piece of state as a *topic*: a JSON value with a `u64`
//! revision that rises by one on every change. Every change is announced as
//! `{ topic, revision, sourceId }`, with no data, to the windows that
//! subscribed to the topic and may read it (and, while no capability uses
//! scopes, as the broadcast [`INVALIDATION_EVENT`]); windows pull a snapshot
//! and apply it only if it is newer than what they have, and write back with
//! compare-and-set on the revision.
//!
//! Which topics a window may read and write is set in its capabilities, with
//! scopes on `state-sync:read` and `state-sync:write` (see [`Access`] and
//! `docs/protocol.md`); Rust code reads and writes every topic.
//!
//! * [`Builder`] declares topics and limits; [`init`] is the empty default.
//! * [`StateSyncExt::state_sync`] reaches the Rust API, [`StateSync`], from
//!   any [`Manager`].
//! * [`Topic`] is a typed handle whose data always deserializes into `T`;
//!   [`TopicKey`] names a topic and its type once, for the builder and for
//!   finding the handle again.
//! * Actions ([`Builder::action`], [`Builder::typed_action`]) are named
//!   changes written in Rust that windows call with `act`: they run on the
//!   latest data and never meet a revision conflict.
//! * The wire format is documented in `docs/protocol.md`.
//!
//! # Examples
//!
//! ```
//! use serde_json::json;
//! use tauri_plugin_state_sync::StateSyncExt;
//!
//! # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
//! builder
//!     .plugin(
//!         tauri_plugin_state_sync::Builder::new()
//!             .topic("settings", json!({ "theme": "light" }))
//!             .build(),
//!     )
//!     .setup(|app| {
//!         app.state_sync().patch("settings", json!({ "theme": "dark" }))?;
//!         Ok(())
//!     })
//! # }
//! ```

#![warn(missing_docs)]

use std::{collections::HashMap, path::PathBuf, sync::Arc, time::Duration};

use serde::Serialize;
use serde_json::Value;
use tauri::{
    plugin::{Builder as PluginBuilder, TauriPlugin},
    Manager, RunEvent, Runtime, WindowEvent,
};

mod actions;
mod commands;
mod delta;
mod depth;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod history;
mod invalidation;
mod json_size;
mod models;
mod persistence;
mod registry;
mod revision;
mod scope;
mod signals;
mod state_sync;
mod topic;
mod typed;
#[cfg(feature = "typescript")]
pub mod typescript;

pub use depth::MAX_DEPTH;
pub use error::{ActionError, Error, Result};
pub use history::HistoryLimits;
pub use invalidation::{Broadcast, DEFAULT_PUSH_INTERVAL, DEFAULT_PUSH_LIMIT};
pub use models::{
    ActionOutcome, CatchUp, ChannelMessage, Delta, Invalidation, JsonPatch, PatchOutcome, PushedChange,
    PushedInvalidation, Snapshot, TopicCatchUp, TopicInfo, TopicSnapshot, WriteOutcome, INVALIDATION_EVENT, RUST_SOURCE_ID,
};
pub use persistence::{Persistence, PersistenceError, ProblemKind, PERSISTENCE_ERROR_EVENT};
pub use registry::{validate_topic_name, MAX_TOPIC_LEN};
pub use revision::Revision;
pub use scope::Access;
pub use state_sync::{StateSync, DEFAULT_MAX_PAYLOAD_BYTES};
pub use typed::{ArgumentType, Topic, TopicKey, TopicType, TypedSnapshot};

use history::HistoryConfig;
use invalidation::Delivery;
use persistence::saver::{Persister, Settings};
use topic::Schema;

/// Access to [`StateSync`] from any [`Manager`]: an `App`, `AppHandle`,
/// `Window` or `Webview`.
pub trait StateSyncExt<R: Runtime> {
    /// The plugin's shared state.
    ///
    /// # Panics
    ///
    /// Panics if the plugin is not registered with the app, or is called
    /// before the plugin's setup has run.
    fn state_sync(&self) -> &StateSync<R>;
}

impl<R: Runtime, M: Manager<R>> StateSyncExt<R> for M {
    fn state_sync(&self) -> &StateSync<R> {
        self.state::<StateSync<R>>().inner()
    }
}

/// Initializes the plugin with no topics declared and default limits.
///
/// Topics can then be registered at run time with [`StateSync::register`].
pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new().build()
}

struct Declared {
    name: String,
    initial: Result<Value>,
    schema: Option<Schema>,
    persistence: Option<Persistence>,
}

/// An action declared on the builder, attached to its topic at setup.
struct DeclaredAction {
    topic: String,
    name: String,
    /// The topic type a typed action works on.
    typed: Option<(std::any::TypeId, &'static str)>,
    run: actions::Run,
}

/// Configures the plugin: the topics that exist from the start, which of
/// them are saved to disk, and limits.
///
/// Mistakes found while building (a malformed or duplicate topic name, an
/// initial value that does not serialize, persistence asked for an undeclared
/// topic) make the app's setup fail with the corresponding [`Error`].
pub struct Builder {
    topics: Vec<Declared>,
    actions: Vec<DeclaredAction>,
    persist: HashMap<String, Persistence>,
    persist_dir: PathBuf,
    save_debounce: Duration,
    save_max_wait: Duration,
    on_persistence_error: Option<persistence::saver::Hook>,
    max_payload_bytes: usize,
    #[cfg(feature = "typescript")]
    typescript: typescript::Registry,
    broadcast: Broadcast,
    stop_on_signals: bool,
    histories: HistoryConfig,
    push_limit: usize,
    push_interval: Duration,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            topics: Vec::new(),
            actions: Vec::new(),
            persist: HashMap::new(),
            persist_dir: PathBuf::from("state-sync"),
            save_debounce: Duration::from_millis(250),
            save_max_wait: Duration::from_secs(2),
            on_persistence_error: None,
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            #[cfg(feature = "typescript")]
            typescript: typescript::Registry::default(),
            broadcast: Broadcast::default(),
            stop_on_signals: true,
            histories: HistoryConfig::default(),
            push_limit: DEFAULT_PUSH_LIMIT,
            push_interval: DEFAULT_PUSH_INTERVAL,
        }
    }
}

impl Builder {
    /// A builder with no topics and default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares an untyped topic with its initial data, at revision 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    /// builder.plugin(
    ///     tauri_plugin_state_sync::Builder::new()
    ///         .topic("todos", json!({ "items": [] }))
    ///         .topic("counter", 0)
    ///         .build(),
    /// )
    /// # }
    /// ```
    #[must_use]
    pub fn topic(mut self, name: impl Into<String>, initial: impl Serialize) -> Self {
        self.topics.push(Declared {
            name: name.into(),
            initial: depth::to_value(initial),
            schema: None,
            persistence: None,
        });
        self
    }

    /// Declares a typed topic: writes must deserialize into `T`.
    ///
    /// A write that does not fit, or that carries a key `T` has no field
    /// for, fails with [`Error::Validation`] naming the field or the key. A
    /// type that should keep extra keys declares a catch-all
    /// `#[serde(flatten)] extra: serde_json::Map<String, serde_json::Value>`
    /// field. Reach the topic later with [`StateSync::typed`], or declare it
    /// with a [`TopicKey`] through [`persisted_topic`](Self::persisted_topic).
    ///
    /// With the `typescript` feature, `T` must also derive `ts_rs::TS`, and
    /// `Builder::export_types` writes its TypeScript declaration.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Default)]
    /// struct Settings { theme: String, zoom: u8 }
    ///
    /// # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    /// builder.plugin(
    ///     tauri_plugin_state_sync::Builder::new()
    ///         .typed_topic("settings", Settings::default())
    ///         .build(),
    /// )
    /// # }
    /// ```
    #[must_use]
    pub fn typed_topic<T: TopicType>(mut self, name: impl Into<String>, initial: T) -> Self {
        let name = name.into();
        #[cfg(feature = "typescript")]
        self.typescript.typed::<T>(&name);
        self.topics.push(Declared {
            name,
            initial: depth::to_value(initial),
            schema: Schema::of::<T>(),
            persistence: None,
        });
        self
    }

    /// Declares a typed topic saved to disk, in one call: the topic of
    /// `key`, holding a `T`, with `options` for its file.
    ///
    /// The same as [`typed_topic`](Self::typed_topic) followed by
    /// [`persist`](Self::persist). Rust code then reaches it with
    /// [`StateSync::handle`] and the same key. A key of
    /// `TopicKey<serde_json::Value>` declares an untyped persisted topic.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tauri_plugin_state_sync::{Builder, Persistence, StateSyncExt, TopicKey};
    ///
    /// #[derive(Serialize, Deserialize, Default)]
    /// struct Settings { theme: String, zoom: u8 }
    ///
    /// const SETTINGS: TopicKey<Settings> = TopicKey::new("settings");
    ///
    /// # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    /// builder
    ///     .plugin(
    ///         Builder::new()
    ///             .persisted_topic(SETTINGS, Settings::default(), Persistence::new())
    ///             .build(),
    ///     )
    ///     .setup(|app| {
    ///         let settings = app.state_sync().handle(SETTINGS)?;
    ///         println!("zoom {} at start", settings.get()?.data.zoom);
    ///         Ok(())
    ///     })
    /// # }
    /// ```
    #[must_use]
    pub fn persisted_topic<T: TopicType>(mut self, key: TopicKey<T>, initial: T, options: Persistence) -> Self {
        #[cfg(feature = "typescript")]
        self.typescript.typed::<T>(key.name());
        self.topics.push(Declared {
            name: key.name().to_owned(),
            initial: depth::to_value(initial),
            schema: Schema::of::<T>(),
            persistence: Some(options),
        });
        self
    }

    /// Declares the action `name` on the topic `topic`: a closure from the
    /// current data and a JSON argument to the new data, or an [`ActionError`].
    ///
    /// Windows call it with `act` (`handle.act(name, args)` in the guest
    /// binding). It runs on the latest data and never fails with a revision
    /// conflict; under contention it may run more than once, so it must not
    /// have side effects. See [`StateSync::register_action`] for the rules,
    /// and [`typed_action`](Self::typed_action) for a typed topic. Setup
    /// fails with [`Error::UnknownTopic`] if `topic` is not declared.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use tauri_plugin_state_sync::ActionError;
    /// # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    /// builder.plugin(
    ///     tauri_plugin_state_sync::Builder::new()
    ///         .topic("counter", 0)
    ///         .action("counter", "increment", |value, args| {
    ///             let by = args["by"].as_i64().ok_or_else(|| ActionError::new("`by` must be an integer"))?;
    ///             Ok(json!(value.as_i64().unwrap_or(0) + by))
    ///         })
    ///         .build(),
    /// )
    /// # }
    /// ```
    #[must_use]
    pub fn action(
        mut self,
        topic: impl Into<String>,
        name: impl Into<String>,
        run: impl Fn(&Value, &Value) -> Result<Value, ActionError> + Send + Sync + 'static,
    ) -> Self {
        self.actions.push(DeclaredAction {
            topic: topic.into(),
            name: name.into(),
            typed: None,
            run: actions::untyped(run),
        });
        self
    }

    /// Declares a typed action on the typed topic `topic`: the closure changes
    /// the data as a `T`, given an argument of type `A`.
    ///
    /// An argument that does not deserialize into `A`, or that carries a key
    /// `A` has no field for, is refused with [`Error::Validation`] naming the
    /// field or the key, and the closure does not run (an argument type that
    /// should keep extra keys declares a `#[serde(flatten)]` map, as a topic's
    /// type does). Setup fails with [`Error::TypeMismatch`] if `topic` was not
    /// declared with [`typed_topic`](Self::typed_topic) of `T`.
    ///
    /// With the `typescript` feature, `A` must also derive `ts_rs::TS`, and
    /// `Builder::export_types` writes it as the action's argument type.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Default)]
    /// struct Counter { value: i64 }
    /// #[derive(Deserialize)]
    /// struct Increment { by: i64 }
    ///
    /// # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    /// builder.plugin(
    ///     tauri_plugin_state_sync::Builder::new()
    ///         .typed_topic("counter", Counter::default())
    ///         .typed_action("counter", "increment", |counter: &mut Counter, Increment { by }| {
    ///             counter.value += by;
    ///             Ok(())
    ///         })
    ///         .build(),
    /// )
    /// # }
    /// ```
    #[must_use]
    pub fn typed_action<T, A>(
        mut self,
        topic: impl Into<String>,
        name: impl Into<String>,
        run: impl Fn(&mut T, A) -> Result<(), ActionError> + Send + Sync + 'static,
    ) -> Self
    where
        T: TopicType,
        A: ArgumentType,
    {
        let (topic, name) = (topic.into(), name.into());
        #[cfg(feature = "typescript")]
        self.typescript.argument::<A>(&topic, &name);
        self.actions.push(DeclaredAction {
            topic,
            name,
            typed: Some((std::any::TypeId::of::<T>(), std::any::type_name::<T>())),
            run: actions::typed(run),
        });
        self
    }

    /// Saves the declared topic `name` to disk and restores it at start.
    ///
    /// The topic is loaded during setup, before any window can fetch it, and
    /// its revision continues from the saved one. See [`Persistence`] for
    /// schema versions, migrations and omitted keys. For a topic declared with
    /// [`persisted_topic`](Self::persisted_topic), these options replace the
    /// ones given there. Topics registered at run time are persisted with
    /// [`StateSync::register_persisted`].
    #[must_use]
    pub fn persist(mut self, name: impl Into<String>, options: Persistence) -> Self {
        self.persist.insert(name.into(), options);
        self
    }

    /// The directory of the persisted topics' files, one `<topic>.json` each.
    ///
    /// A relative path is resolved as `tauri-plugin-store` resolves store
    /// paths: against the app data directory. Defaults to `state-sync`.
    #[must_use]
    pub fn persist_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.persist_dir = dir.into();
        self
    }

    /// How long a persisted topic must stay unchanged before it is saved.
    /// Defaults to 250 ms.
    #[must_use]
    pub fn save_debounce(mut self, quiet: Duration) -> Self {
        self.save_debounce = quiet;
        self
    }

    /// The longest a changed persisted topic waits for its save while changes
    /// keep coming. Defaults to 2 s.
    #[must_use]
    pub fn save_max_wait(mut self, limit: Duration) -> Self {
        self.save_max_wait = limit;
        self
    }

    /// Calls `hook` with every problem loading or saving a persisted topic,
    /// in addition to logging it and emitting [`PERSISTENCE_ERROR_EVENT`].
    ///
    /// Load problems are reported during setup, before windows exist; windows
    /// can ask for them with the `persistence_errors` command.
    #[must_use]
    pub fn on_persistence_error(
        mut self,
        hook: impl Fn(&PersistenceError) + Send + Sync + 'static,
    ) -> Self {
        self.on_persistence_error = Some(Arc::new(hook));
        self
    }

    /// Limits the serialized size of one write from a window (`set` data or
    /// `patch` body). Larger writes fail with [`Error::PayloadTooLarge`].
    /// Writes from Rust are not limited. Defaults to
    /// [`DEFAULT_MAX_PAYLOAD_BYTES`] (8 MiB).
    #[must_use]
    pub fn max_payload_bytes(mut self, limit: usize) -> Self {
        self.max_payload_bytes = limit;
        self
    }

    /// How much change history every topic keeps for `since` pulls, unless
    /// set for the topic by name with
    /// [`topic_history_limits`](Self::topic_history_limits). Defaults to
    /// [`HistoryLimits::new`]: 256 changes and 256 KiB of patches per topic,
    /// patches up to half the data's size.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use tauri_plugin_state_sync::HistoryLimits;
    /// # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    /// builder.plugin(
    ///     tauri_plugin_state_sync::Builder::new()
    ///         .topic("todos", json!({ "items": [] }))
    ///         .topic("cursor", json!({ "x": 0, "y": 0 }))
    ///         // At most 64 changes and 64 KiB per topic...
    ///         .history_limits(HistoryLimits::new().max_changes(64).max_bytes(64 * 1024))
    ///         // ...and none for a topic whose every change replaces it.
    ///         .topic_history_limits("cursor", HistoryLimits::off())
    ///         .build(),
    /// )
    /// # }
    /// ```
    #[must_use]
    pub fn history_limits(mut self, limits: HistoryLimits) -> Self {
        self.histories.default = limits;
        self
    }

    /// How much change history the topic `name` keeps, whenever a topic of
    /// that name is registered: declared on this builder or registered at
    /// run time. See [`history_limits`](Self::history_limits) for an example;
    /// setup fails with [`Error::InvalidTopic`] for a malformed name.
    #[must_use]
    pub fn topic_history_limits(mut self, name: impl Into<String>, limits: HistoryLimits) -> Self {
        self.histories.topics.insert(name.into(), limits);
        self
    }

    /// When to emit the broadcast events besides delivering to subscribed
    /// windows. Defaults to [`Broadcast::WhileUnscoped`]: clients written for
    /// `@statesync/core`, which listen to [`INVALIDATION_EVENT`], keep
    /// working until a capability uses a state-sync scope.
    ///
    /// [`Broadcast::Always`] keeps the event on with scopes in use, for such
    /// clients; it tells every window that may listen to events the name and
    /// revision of every topic that changes (never its data).
    ///
    /// # Examples
    ///
    /// ```
    /// use tauri_plugin_state_sync::Broadcast;
    /// # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    /// builder.plugin(
    ///     tauri_plugin_state_sync::Builder::new()
    ///         .topic("settings", serde_json::json!({}))
    ///         .broadcast(Broadcast::Always)
    ///         .build(),
    /// )
    /// # }
    /// ```
    #[must_use]
    pub fn broadcast(mut self, broadcast: Broadcast) -> Self {
        self.broadcast = broadcast;
        self
    }

    /// The largest change, in bytes of its JSON Patch, that reaches a
    /// subscribed window inline, in the channel message that announces it.
    /// Defaults to [`DEFAULT_PUSH_LIMIT`], 8 KiB.
    ///
    /// A window at the revision before applies an inline patch at once, with
    /// no pull. A change whose patch is larger than the data is sent as the
    /// whole new data instead, when that fits; a larger change is announced
    /// without a patch, and windows pull it with `since`. A `set`, `update`
    /// or action on a topic whose history is off ([`HistoryLimits::off`]) is
    /// not diffed, so it is pushed only as the whole data. 0 sends no patch
    /// inline. The broadcast event never carries one.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    /// builder.plugin(
    ///     tauri_plugin_state_sync::Builder::new()
    ///         .topic("editor", serde_json::json!({ "text": "" }))
    ///         // Keystrokes are small; a pasted chapter is pulled.
    ///         .push_limit(2 * 1024)
    ///         .build(),
    /// )
    /// # }
    /// ```
    #[must_use]
    pub fn push_limit(mut self, bytes: usize) -> Self {
        self.push_limit = bytes;
        self
    }

    /// The shortest time between two messages about one topic to a window.
    /// Defaults to [`DEFAULT_PUSH_INTERVAL`], zero: a change is sent as soon
    /// as it is committed, unless the topic's previous message is still on
    /// its way through the event loop. Then it waits for that one and leaves
    /// together with the changes that came meanwhile, so that when changes
    /// come faster than the event loop delivers them, messages grow instead
    /// of piling up; when it keeps up, every change is a message of its own.
    ///
    /// With an interval, a change that comes when the topic's last message
    /// left longer ago than that is still sent at once, so an isolated write
    /// is not delayed; changes that come sooner wait until the interval has
    /// passed and are sent together, as one message that names the last of
    /// them, with their joined patch (or, past the push limit, without one).
    /// The revisions in between are then not announced on their own, on the
    /// channels or as the broadcast event, and a write that follows the last
    /// message within the interval reaches windows up to the interval later.
    /// With 4 ms, a burst of 1,000 writes a second reaches each window as at
    /// most 250 messages. The default already adapts to the event loop, so
    /// an interval is for changes that are worth thinning out even when the
    /// app keeps up (see the README's benchmark).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    /// builder.plugin(
    ///     tauri_plugin_state_sync::Builder::new()
    ///         .topic("cursor", serde_json::json!({ "x": 0, "y": 0 }))
    ///         // A cursor moves in bursts: at most one message every 4 ms.
    ///         .push_interval(Duration::from_millis(4))
    ///         .build(),
    /// )
    /// # }
    /// ```
    #[must_use]
    pub fn push_interval(mut self, interval: Duration) -> Self {
        self.push_interval = interval;
        self
    }

    /// Whether SIGINT (Ctrl+C) and SIGTERM stop the app as a clean exit.
    /// Defaults to `true`; only Unix has these signals.
    ///
    /// Without a handler, these signals end the process on the spot: Tauri's
    /// exit event does not run, so persisted topics keep their crash lease
    /// and the next start resumes about a million revisions higher. With it,
    /// the first signal saves every persisted topic (so nothing is lost even
    /// if the exit is then cut short) and asks the app to exit through
    /// [`tauri::AppHandle::exit`] with code 128 + the signal number, the way
    /// a shell reports a signal. The exit runs the usual `ExitRequested` and
    /// `Exit` events, so the plugin's exit flush writes a clean lease and the
    /// next start continues at the same revision. A second signal ends the
    /// process at once, as if no handler were installed, and so does an exit
    /// that has not finished 10 seconds after the first signal (a window or
    /// an exit handler that hangs), since the topics were already saved.
    ///
    /// The handler is registered through `signal-hook`, which chains
    /// handlers: others registered the same way (such as `tokio::signal`)
    /// still run. An app that handles these signals itself should turn this
    /// off, and call [`tauri::AppHandle::exit`] from its handler so that the
    /// plugin still flushes at exit.
    #[must_use]
    pub fn stop_on_signals(mut self, enabled: bool) -> Self {
        self.stop_on_signals = enabled;
        self
    }

    /// Builds the plugin, named `state-sync`.
    pub fn build<R: Runtime>(self) -> TauriPlugin<R> {
        PluginBuilder::new("state-sync")
            .invoke_handler(tauri::generate_handler![
                commands::act,
                commands::flush,
                commands::patch,
                commands::persistence_errors,
                commands::set,
                commands::snapshot,
                commands::snapshots,
                commands::subscribe,
                commands::topics,
                commands::unsubscribe,
            ])
            .setup(move |app, _api| {
                let stop_on_signals = self.stop_on_signals;
                let sync = self.into_state(app)?;
                app.manage(sync);
                if stop_on_signals {
                    signals::stop_on_signals(app);
                }
                Ok(())
            })
            .on_webview_ready(|webview| {
                if let Some(sync) = webview.try_state::<StateSync<R>>() {
                    sync.delivery().refresh(&webview);
                }
            })
            .on_page_load(|webview, payload| {
                // A page that starts loading (a reload or a navigation) holds
                // none of the old page's channels, and may have another origin.
                if payload.event() == tauri::webview::PageLoadEvent::Started {
                    if let Some(sync) = webview.try_state::<StateSync<R>>() {
                        sync.delivery().subscribers.forget_webview(webview.label());
                        sync.delivery().refresh(webview);
                    }
                }
            })
            .on_event(|app, event| match event {
                RunEvent::Exit => {
                    if let Some(sync) = app.try_state::<StateSync<R>>() {
                        sync.flush_on_exit();
                    }
                }
                RunEvent::WindowEvent {
                    label,
                    event: WindowEvent::Destroyed,
                    ..
                } => {
                    if let Some(sync) = app.try_state::<StateSync<R>>() {
                        sync.delivery().subscribers.forget_window(label);
                    }
                }
                _ => {}
            })
            .build()
    }

    /// Loads persisted topics and registers every declared topic.
    fn into_state<R: Runtime>(self, app: &tauri::AppHandle<R>) -> Result<StateSync<R>> {
        let Builder {
            mut topics,
            actions,
            mut persist,
            persist_dir,
            save_debounce,
            save_max_wait,
            on_persistence_error,
            max_payload_bytes,
            #[cfg(feature = "typescript")]
            typescript: _,
            broadcast,
            stop_on_signals: _,
            histories,
            push_limit,
            push_interval,
        } = self;
        let delivery = Arc::new(Delivery::new(broadcast, push_limit, push_interval));
        for declared in &mut topics {
            validate_topic_name(&declared.name)?;
            if let Some(options) = persist.remove(&declared.name) {
                declared.persistence = Some(options);
            }
        }
        if let Some(name) = persist.into_keys().next() {
            return Err(Error::UnknownTopic { topic: name });
        }
        for name in histories.topics.keys() {
            validate_topic_name(name)?;
        }
        let dir = tauri_plugin_store::resolve_store_path(app, &persist_dir)
            .map_err(|err| format!("cannot resolve {}: {err}", persist_dir.display()));
        if let (Err(message), true) = (&dir, topics.iter().any(|t| t.persistence.is_some())) {
            return Err(Error::Persistence {
                topic: None,
                message: message.clone(),
            });
        }
        let persister = Persister::new(Settings {
            dir,
            debounce: save_debounce,
            max_wait: save_max_wait,
            hook: on_persistence_error,
            delivery: delivery.clone(),
        });
        let sync = StateSync::new(app.clone(), max_payload_bytes, persister, delivery, histories);
        for declared in topics {
            sync.declare(&declared.name, declared.initial?, declared.schema, declared.persistence, false)?;
        }
        for action in actions {
            sync.add_action(&action.topic, &action.name, action.typed, action.run)?;
        }
        Ok(sync)
    }
}
