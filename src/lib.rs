//! Revisioned application state shared by every window of a Tauri v2 app.
//!
//! Rust owns each piece of state as a *topic*: a JSON value with a `u64`
//! revision that rises by one on every change. Every change emits a small
//! [`INVALIDATION_EVENT`] carrying `{ topic, revision, sourceId }` and no
//! data; windows pull a snapshot and apply it only if it is newer than what
//! they have, and write back with compare-and-set on the revision.
//!
//! * [`Builder`] declares topics and limits; [`init`] is the empty default.
//! * [`StateSyncExt::state_sync`] reaches the Rust API, [`StateSync`], from
//!   any [`Manager`].
//! * [`Topic`] is a typed handle whose data always deserializes into `T`.
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

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use tauri::{
    plugin::{Builder as PluginBuilder, TauriPlugin},
    Manager, Runtime,
};

mod commands;
mod error;
mod invalidation;
mod models;
mod registry;
mod revision;
mod state_sync;
mod topic;
mod typed;

pub use error::{Error, Result};
pub use models::{
    Invalidation, Snapshot, TopicInfo, TopicSnapshot, WriteOutcome, INVALIDATION_EVENT,
    RUST_SOURCE_ID,
};
pub use registry::{validate_topic_name, MAX_TOPIC_LEN};
pub use revision::Revision;
pub use state_sync::{StateSync, DEFAULT_MAX_PAYLOAD_BYTES};
pub use typed::{Topic, TypedSnapshot};

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
    initial: serde_json::Result<Value>,
    schema: Option<Schema>,
}

/// Configures the plugin: the topics that exist from the start, and limits.
///
/// Mistakes found while building (a malformed or duplicate topic name, an
/// initial value that does not serialize) make the app's setup fail with the
/// corresponding [`Error`].
#[derive(Default)]
pub struct Builder {
    topics: Vec<Declared>,
    max_payload_bytes: Option<usize>,
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
            initial: serde_json::to_value(initial),
            schema: None,
        });
        self
    }

    /// Declares a typed topic: writes from windows must deserialize into `T`.
    ///
    /// Reach it later with [`StateSync::typed`].
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
    pub fn typed_topic<T>(mut self, name: impl Into<String>, initial: T) -> Self
    where
        T: Serialize + DeserializeOwned + 'static,
    {
        self.topics.push(Declared {
            name: name.into(),
            initial: serde_json::to_value(initial),
            schema: Some(Schema::of::<T>()),
        });
        self
    }

    /// Limits the serialized size of one write from a window (`set` data or
    /// `patch` body). Larger writes fail with [`Error::PayloadTooLarge`].
    /// Writes from Rust are not limited. Defaults to
    /// [`DEFAULT_MAX_PAYLOAD_BYTES`] (8 MiB).
    #[must_use]
    pub fn max_payload_bytes(mut self, limit: usize) -> Self {
        self.max_payload_bytes = Some(limit);
        self
    }

    /// Builds the plugin, named `state-sync`.
    pub fn build<R: Runtime>(self) -> TauriPlugin<R> {
        let Builder {
            topics,
            max_payload_bytes,
        } = self;
        PluginBuilder::new("state-sync")
            .invoke_handler(tauri::generate_handler![
                commands::patch,
                commands::set,
                commands::snapshot,
                commands::snapshots,
                commands::topics,
            ])
            .setup(move |app, _api| {
                let sync = StateSync::new(
                    app.clone(),
                    max_payload_bytes.unwrap_or(DEFAULT_MAX_PAYLOAD_BYTES),
                );
                for declared in topics {
                    let initial = declared.initial.map_err(Error::from)?;
                    sync.insert(&declared.name, initial, declared.schema, false)?;
                }
                app.manage(sync);
                Ok(())
            })
            .build()
    }
}
