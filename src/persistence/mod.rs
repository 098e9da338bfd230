//! Durable topics: saving chosen topics to disk and restoring them at start.
//!
//! * [`Persistence`] is the per-topic configuration given to
//!   [`crate::Builder::persist`]: schema version, migrations, keys to leave
//!   out of the file.
//! * `file` is the on-disk format, atomic saving, and loading with
//!   migrations.
//! * `saver` runs the first save of a new topic, the debounced saves,
//!   `flush`, the last save of a removed topic, and the flush at exit.
//! * `problems` keeps the reported problems, bounded.
//!
//! Files live where `tauri-plugin-store` keeps its stores (relative paths
//! resolve against the app data directory) and use its JSON format, so the
//! official store APIs can read them. This plugin writes them itself, because
//! the store's own save overwrites the file in place and a crash mid-write can
//! leave it torn or empty.

use std::{collections::BTreeMap, fmt, sync::Arc};

use serde::Serialize;
use serde_json::Value;

pub(crate) mod file;
pub(crate) mod problems;
pub(crate) mod saver;

/// The name of the event emitted when a persisted topic cannot be loaded or saved.
pub const PERSISTENCE_ERROR_EVENT: &str = "state-sync://persistence-error";

type Migration =
    Arc<dyn Fn(Value) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> + Send + Sync>;

/// How one topic is saved: its schema version, the migrations that bring
/// older files up to it, and the keys that never reach the disk.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use tauri_plugin_state_sync::{Builder, Persistence};
///
/// # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
/// builder.plugin(
///     Builder::new()
///         .topic("settings", json!({ "theme": "light", "token": null }))
///         .persist(
///             "settings",
///             Persistence::new()
///                 .version(2)
///                 // Version 1 stored `dark: bool`; version 2 stores `theme`.
///                 .migration(1, |mut data| {
///                     let dark = data["dark"].as_bool().unwrap_or(false);
///                     data["theme"] = json!(if dark { "dark" } else { "light" });
///                     Ok(data)
///                 })
///                 .omit_keys(["token"]),
///         )
///         .build(),
/// )
/// # }
/// ```
#[derive(Clone)]
pub struct Persistence {
    pub(crate) version: u32,
    pub(crate) migrations: BTreeMap<u32, Migration>,
    pub(crate) omit_keys: Vec<String>,
}

impl Default for Persistence {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Persistence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Persistence")
            .field("version", &self.version)
            .field("migrations_from", &self.migrations.keys().collect::<Vec<_>>())
            .field("omit_keys", &self.omit_keys)
            .finish()
    }
}

impl Persistence {
    /// Schema version 1, no migrations, every key saved.
    pub fn new() -> Self {
        Persistence {
            version: 1,
            migrations: BTreeMap::new(),
            omit_keys: Vec::new(),
        }
    }

    /// The schema version written to the file. Files with a lower version
    /// are migrated at load; a file with a higher version is left untouched.
    #[must_use]
    pub fn version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }

    /// The migration from schema version `from` to `from + 1`.
    ///
    /// Migrations run at load, in order, on the file's `data`. If one fails,
    /// or one is missing, the error is reported, the file is left as it is
    /// for a later version of the app, and the topic starts from its default
    /// without being saved in this run.
    #[must_use]
    pub fn migration<F>(mut self, from: u32, migrate: F) -> Self
    where
        F: Fn(Value) -> Result<Value, Box<dyn std::error::Error + Send + Sync>>
            + Send
            + Sync
            + 'static,
    {
        self.migrations.insert(from, Arc::new(migrate));
        self
    }

    /// Top-level keys never written to disk, such as secrets. At load they
    /// take their values from the topic's initial data.
    #[must_use]
    pub fn omit_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.omit_keys.extend(keys.into_iter().map(Into::into));
        self
    }

    /// `data` without the omitted keys.
    pub(crate) fn filter<'a>(&self, data: &'a Value) -> std::borrow::Cow<'a, Value> {
        match data {
            Value::Object(map) if self.omit_keys.iter().any(|key| map.contains_key(key)) => {
                let mut map = map.clone();
                for key in &self.omit_keys {
                    map.remove(key);
                }
                std::borrow::Cow::Owned(Value::Object(map))
            }
            _ => std::borrow::Cow::Borrowed(data),
        }
    }

    /// `loaded` with the omitted keys taken from `initial`.
    pub(crate) fn restore(&self, mut loaded: Value, initial: &Value) -> Value {
        if let (Value::Object(map), Value::Object(defaults)) = (&mut loaded, initial) {
            for key in &self.omit_keys {
                match defaults.get(key) {
                    Some(value) => map.insert(key.clone(), value.clone()),
                    None => map.remove(key),
                };
            }
        }
        loaded
    }
}

/// What went wrong with a persisted topic's file.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The file is not valid JSON or lacks the expected fields. It was moved aside.
    Corrupt,
    /// The file could not be read (permissions, I/O). It was moved aside if possible.
    Unreadable,
    /// The topic's path is not a regular file (a FIFO, a directory, a
    /// socket or a device). It is never opened for reading, so it cannot
    /// block setup; it was moved aside.
    NotAFile,
    /// The file's data does not fit the topic's Rust type. It was moved aside.
    InvalidData,
    /// The file's data nests deeper than [`crate::MAX_DEPTH`]. It was moved aside.
    TooDeep,
    /// A migration failed, is missing, or returned data nested deeper than
    /// [`crate::MAX_DEPTH`]. The file was left untouched and the
    /// topic is not saved in this run.
    Migration,
    /// The file has a newer schema version than the app. It was left
    /// untouched and the topic is not saved in this run.
    NewerSchema,
    /// Saving failed. The previous file is intact; the save is retried on the
    /// next change and at exit.
    Save,
}

impl ProblemKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Corrupt => "corrupt",
            ProblemKind::Unreadable => "unreadable",
            ProblemKind::NotAFile => "not-a-file",
            ProblemKind::InvalidData => "invalid-data",
            ProblemKind::TooDeep => "too-deep",
            ProblemKind::Migration => "migration",
            ProblemKind::NewerSchema => "newer-schema",
            ProblemKind::Save => "save",
        }
    }
}

/// A persisted topic that could not be loaded or saved.
///
/// Reported to the log, to the hook set with
/// [`crate::Builder::on_persistence_error`], to windows as the
/// [`PERSISTENCE_ERROR_EVENT`], and kept for the `persistence_errors`
/// command, since load errors happen before any window exists. The kept list
/// is bounded: it holds the latest problem of each topic and kind, at most 64,
/// and drops the oldest first.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistenceError {
    /// The topic concerned.
    pub topic: String,
    /// What went wrong.
    pub kind: ProblemKind,
    /// A description for people.
    pub message: String,
    /// The topic's file.
    pub file: String,
    /// Where the unusable file was moved, when it was moved aside.
    pub moved_to: Option<String>,
}

impl fmt::Display for PersistenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "persisted topic `{}` ({}): {} [{}]", self.topic, self.kind.as_str(), self.message, self.file)?;
        if let Some(moved_to) = &self.moved_to {
            write!(f, "; the file was kept as {moved_to}")?;
        }
        Ok(())
    }
}
