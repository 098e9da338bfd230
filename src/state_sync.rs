//! The Rust API: [`StateSync`], reached with [`crate::StateSyncExt::state_sync`].

use std::sync::Arc;

use json_patch::PatchOperation;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::watch;

use crate::{
    actions::{self, Run},
    delta, depth,
    history::{HistoryConfig, HistoryLimits},
    json_size,
    invalidation::Delivery,
    persistence::{
        saver::{PersistedTopic, Persister},
        Persistence, PersistenceError,
    },
    models::{
        ActionOutcome, CatchUp, Snapshot, Source, TopicCatchUp, TopicInfo, TopicSnapshot, WriteOutcome, RUST_SOURCE_ID,
    },
    registry::{validate_topic_name, Registry},
    topic::{edit_failed, expect_type, Committed, InPlace, Pending, Proposal, Schema, TopicCell, Unknown, Written},
    typed::{Topic, TopicKey},
    ActionError, Error, Result, Revision,
};

/// The default limit on the serialized size of one write from a window: 8 MiB.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 8 * 1024 * 1024;

/// How a write derives the new data from the current data.
pub(crate) enum Change {
    /// Store this value.
    Replace(Value),
    /// Apply this RFC 7396 merge patch, which must be a JSON object.
    Merge(Value),
    /// Apply this RFC 6902 JSON Patch, which must be an array of operations.
    Edit(Value),
}

/// A batch of a topic's changes on its way through the event loop. Dropping
/// it (when the event loop runs the task that holds it, or drops the task)
/// publishes the changes that waited for it, from the async runtime, so that
/// a task on the main thread never delivers.
struct Landing<R: Runtime> {
    sync: StateSync<R>,
    cell: Arc<TopicCell>,
}

impl<R: Runtime> Drop for Landing<R> {
    fn drop(&mut self) {
        if self.cell.landed() {
            let (sync, cell) = (self.sync.clone(), self.cell.clone());
            tauri::async_runtime::spawn(async move { sync.publish(&cell, false) });
        }
    }
}

/// The shared state of every topic in the app.
///
/// Obtain it with [`crate::StateSyncExt::state_sync`]. Cloning is cheap and
/// yields a handle to the same topics.
///
/// Every write that changes a topic bumps its revision by one and announces
/// `{ topic, revision, sourceId }`, with `sourceId` [`crate::RUST_SOURCE_ID`]
/// (or the writing window's label, for writes that come through commands),
/// to the windows subscribed to the topic that may read it, and as
/// [`crate::INVALIDATION_EVENT`] while [`crate::Broadcast`] says so.
///
/// Rust code reads and writes every topic: scopes apply to windows only.
pub struct StateSync<R: Runtime> {
    inner: Arc<Inner<R>>,
}

struct Inner<R: Runtime> {
    app: AppHandle<R>,
    registry: Registry,
    persister: Arc<Persister>,
    delivery: Arc<Delivery>,
    max_payload_bytes: usize,
    histories: HistoryConfig,
}

impl<R: Runtime> Clone for StateSync<R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<R: Runtime> std::fmt::Debug for StateSync<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateSync")
            .field("topics", &self.topics())
            .field("max_payload_bytes", &self.inner.max_payload_bytes)
            .finish()
    }
}

impl<R: Runtime> StateSync<R> {
    pub(crate) fn new(
        app: AppHandle<R>,
        max_payload_bytes: usize,
        persister: Persister,
        delivery: Arc<Delivery>,
        histories: HistoryConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                app,
                registry: Registry::default(),
                persister: Arc::new(persister),
                delivery,
                max_payload_bytes,
                histories,
            }),
        }
    }

    /// The current data and revision of `topic`, read together.
    ///
    /// # Examples
    ///
    /// ```
    /// use tauri_plugin_state_sync::StateSyncExt;
    /// # fn show<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri_plugin_state_sync::Result<()> {
    /// let snapshot = app.state_sync().get("settings")?;
    /// println!("settings at revision {}: {}", snapshot.revision, snapshot.data);
    /// # Ok(()) }
    /// ```
    pub fn get(&self, topic: &str) -> Result<Snapshot> {
        Ok(self.cell(topic)?.snapshot())
    }

    /// The snapshots of several topics, in the order asked. Each one is
    /// consistent in itself; together they are not one atomic read.
    pub fn get_many<S: AsRef<str>>(&self, topics: &[S]) -> Result<Vec<TopicSnapshot>> {
        topics
            .iter()
            .map(|topic| {
                let cell = self.cell(topic.as_ref())?;
                Ok(TopicSnapshot {
                    topic: cell.name().to_owned(),
                    snapshot: cell.snapshot(),
                })
            })
            .collect()
    }

    /// What changed in `topic` since revision `since`, read together with
    /// the current revision.
    ///
    /// A [`CatchUp::Delta`] when the topic's history reaches back to `since`:
    /// its patch, applied to the data at `since`, gives the data at its
    /// `revision`, and it is empty when `since` is the current revision.
    /// Otherwise, and also when that patch would be larger than the data, the
    /// full [`CatchUp::Snapshot`], as [`get`](Self::get) returns it: for a
    /// `since` older than the history, newer than the topic, or from before
    /// the topic was removed and registered again. A delta is never given
    /// from a revision it does not start at.
    ///
    /// # Examples
    ///
    /// ```
    /// use tauri_plugin_state_sync::{CatchUp, Revision, StateSyncExt};
    /// # fn catch_up<R: tauri::Runtime>(app: &tauri::AppHandle<R>, mine: Revision) -> tauri_plugin_state_sync::Result<()> {
    /// match app.state_sync().get_since("todos", mine)? {
    ///     CatchUp::Delta(delta) => println!("{} → {}: {}", delta.from, delta.revision, delta.patch.as_str()),
    ///     CatchUp::Snapshot(snapshot) => println!("all of it at {}: {}", snapshot.revision, snapshot.data),
    ///     _ => {}
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get_since(&self, topic: &str, since: Revision) -> Result<CatchUp> {
        Ok(self.cell(topic)?.since(since))
    }

    /// [`get_since`](Self::get_since) for several topics, in the order
    /// asked; a topic without a `since` gets its snapshot. Each answer is
    /// consistent in itself; together they are not one atomic read.
    pub fn get_many_since<S: AsRef<str>>(&self, topics: &[(S, Option<Revision>)]) -> Result<Vec<TopicCatchUp>> {
        topics
            .iter()
            .map(|(topic, since)| {
                let cell = self.cell(topic.as_ref())?;
                Ok(TopicCatchUp {
                    topic: cell.name().to_owned(),
                    catch_up: match since {
                        Some(since) => cell.since(*since),
                        None => CatchUp::Snapshot(cell.snapshot()),
                    },
                })
            })
            .collect()
    }

    /// Sets how much history the live topic `topic` keeps, dropping at once
    /// what no longer fits. A topic registered again under this name later
    /// starts with the limits of the [`crate::Builder`] again.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use tauri_plugin_state_sync::{HistoryLimits, StateSyncExt};
    /// # fn open<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri_plugin_state_sync::Result<()> {
    /// app.state_sync().register("project/7", json!({ "files": [] }))?;
    /// app.state_sync().set_history_limits("project/7", HistoryLimits::new().max_changes(32))?;
    /// # Ok(()) }
    /// ```
    pub fn set_history_limits(&self, topic: &str, limits: HistoryLimits) -> Result<()> {
        self.cell(topic)?.set_history_limits(limits);
        Ok(())
    }

    /// Every topic with its current revision, sorted by name.
    pub fn topics(&self) -> Vec<TopicInfo> {
        self.inner.registry.list()
    }

    /// Registers a new untyped topic at run time, at revision 0.
    ///
    /// A name that was [removed](Self::remove) before continues after its
    /// last revision, so a revision never names two contents. Windows are
    /// told about the new topic with an invalidation event.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTopic`] for a malformed name, [`Error::TopicExists`]
    /// if the name is taken.
    pub fn register(&self, topic: &str, initial: impl Serialize) -> Result<Snapshot> {
        let data = depth::to_value(initial)?;
        self.insert(topic, data, Revision::ZERO, None, None, true)
    }

    /// Registers a new typed topic at run time and returns its handle.
    ///
    /// Writes to this topic must deserialize into `T` and carry no key `T`
    /// has no field for. With `T = serde_json::Value` the topic is untyped.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tauri_plugin_state_sync::StateSyncExt;
    ///
    /// #[derive(Serialize, Deserialize, Default)]
    /// struct Session { user: Option<String> }
    ///
    /// # fn setup<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri_plugin_state_sync::Result<()> {
    /// let session = app.state_sync().register_typed("session", Session::default())?;
    /// session.update(|s| s.user = Some("ada".into()))?;
    /// # Ok(()) }
    /// ```
    pub fn register_typed<T>(&self, topic: &str, initial: T) -> Result<Topic<T, R>>
    where
        T: Serialize + DeserializeOwned + 'static,
    {
        let data = depth::to_value(initial)?;
        self.insert(topic, data, Revision::ZERO, Schema::of::<T>(), None, true)?;
        Ok(Topic::new(self.clone(), topic.into()))
    }

    /// Registers a persisted topic at run time and returns its handle.
    ///
    /// Like a topic declared with [`crate::Builder::persisted_topic`]: its
    /// file in the persist directory is loaded (or, if unusable, reported and
    /// kept aside), its revision continues from the file and after any earlier
    /// topic of the same name, it is saved once now to take this run's
    /// revision lease, and from then on after every change. With
    /// `T = serde_json::Value` the topic is untyped. This does blocking file
    /// I/O: call it from setup or a blocking context.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTopic`], [`Error::TopicExists`], or
    /// [`Error::Persistence`] if the persist directory could not be resolved.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use tauri_plugin_state_sync::{Persistence, StateSyncExt};
    ///
    /// # fn open_project<R: tauri::Runtime>(app: &tauri::AppHandle<R>, id: u32) -> tauri_plugin_state_sync::Result<()> {
    /// let project = app.state_sync().register_persisted::<Value>(
    ///     &format!("project/{id}"),
    ///     json!({ "open": [] }),
    ///     Persistence::new(),
    /// )?;
    /// println!("project {id} at revision {}", project.get()?.revision);
    /// # Ok(()) }
    /// ```
    pub fn register_persisted<T>(&self, topic: &str, initial: T, options: Persistence) -> Result<Topic<T, R>>
    where
        T: Serialize + DeserializeOwned + 'static,
    {
        let initial = depth::to_value(initial)?;
        self.declare(topic, initial, Schema::of::<T>(), Some(options), true)?;
        Ok(Topic::new(self.clone(), topic.into()))
    }

    /// The typed handle of the topic named by `key`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownTopic`] if no such topic is registered, or
    /// [`Error::TypeMismatch`] if it was registered with another type.
    pub fn handle<T>(&self, key: TopicKey<T>) -> Result<Topic<T, R>>
    where
        T: Serialize + DeserializeOwned + 'static,
    {
        self.typed(key.name())
    }

    /// A typed handle to a topic registered with type `T`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownTopic`], or [`Error::TypeMismatch`] if the topic was
    /// registered untyped or with another type.
    pub fn typed<T>(&self, topic: &str) -> Result<Topic<T, R>>
    where
        T: Serialize + DeserializeOwned + 'static,
    {
        self.typed_cell::<T>(topic)?;
        Ok(Topic::new(self.clone(), topic.into()))
    }

    /// Removes a topic and returns its last snapshot.
    ///
    /// Rust subscribers see their channel close. Windows that ask for the
    /// topic afterwards get [`Error::UnknownTopic`], and so does a write
    /// that looked the topic up before the removal and commits after it:
    /// the returned snapshot is the topic's last.
    /// A persisted topic's last
    /// state is saved before this returns, with its revision as the lease, so
    /// registering it again continues right after it; its saver then ends.
    /// That save is blocking file I/O; a failure is reported as a
    /// [`PersistenceError`], and the topic is removed all the same.
    pub fn remove(&self, topic: &str) -> Result<Snapshot> {
        let (last, cell) = self.inner.registry.remove(topic)?;
        // Failures are reported by the persister; the removal itself stands.
        let _ = self.inner.persister.save_cell(&self.inner.app, &cell, true);
        Ok(last)
    }

    /// Replaces the data of `topic`.
    ///
    /// Writing a value equal to the current one changes nothing: the revision
    /// stays and no event is emitted.
    ///
    /// # Errors
    ///
    /// [`Error::TooDeep`] if `data` nests deeper than [`crate::MAX_DEPTH`];
    /// it is not serialized past the limit.
    pub fn set(&self, topic: &str, data: impl Serialize) -> Result<WriteOutcome> {
        let data = depth::to_value(data)?;
        self.write(topic, Change::Replace(data), None, Source::Rust)
    }

    /// Replaces the data of `topic` only if it is still at revision `expected`.
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`], carrying the current revision, if the topic has
    /// moved on.
    pub fn compare_and_set(
        &self,
        topic: &str,
        expected: Revision,
        data: impl Serialize,
    ) -> Result<WriteOutcome> {
        let data = depth::to_value(data)?;
        self.write(topic, Change::Replace(data), Some(expected), Source::Rust)
    }

    /// Applies an RFC 7396 JSON merge patch to `topic`: keys in `patch`
    /// replace those in the data, nested objects merge, and `null` deletes.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPatch`] if `patch` is not a JSON object (use
    /// [`set`](Self::set) to replace the whole value).
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use tauri_plugin_state_sync::StateSyncExt;
    /// # fn dark<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri_plugin_state_sync::Result<()> {
    /// app.state_sync().patch("settings", json!({ "theme": "dark", "beta": null }))?;
    /// # Ok(()) }
    /// ```
    pub fn patch(&self, topic: &str, patch: Value) -> Result<WriteOutcome> {
        self.write(topic, Change::Merge(patch), None, Source::Rust)
    }

    /// Applies an RFC 6902 JSON Patch to `topic`: the operations run in
    /// order, and either all of them apply or none does.
    ///
    /// This is the way to change one element of a large array, or one
    /// member deep inside a large value, in O(change): `add`, `remove`,
    /// `replace` and `test` operations that touch places apart (none reads
    /// or writes where one before it wrote, an insertion or removal writing
    /// its whole array) are applied where the data lies, and are themselves
    /// what windows receive (see
    /// [`Builder::push_limit`](crate::Builder::push_limit)). Any other patch
    /// (one with `move` or `copy`, which windows are not sent, or with
    /// operations that meet) is applied to a copy of the data and diffed,
    /// which costs O(size). A typed topic validates the whole result against
    /// its type, so there every patch costs O(size).
    ///
    /// Like every write, a patch that leaves the data equal changes nothing:
    /// the revision stays and nothing is announced.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPatch`] if `patch` is not an array of RFC 6902
    /// operations, or if an operation cannot apply (a missing path, an index
    /// out of bounds, a failed `test`): the message names the operation and
    /// its path, and the topic is left as it was. [`Error::TooDeep`] if the
    /// result would nest deeper than [`crate::MAX_DEPTH`].
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use tauri_plugin_state_sync::StateSyncExt;
    /// # fn done<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri_plugin_state_sync::Result<()> {
    /// app.state_sync().apply_patch("todos", json!([
    ///     { "op": "test", "path": "/items/4512/id", "value": 4512 },
    ///     { "op": "replace", "path": "/items/4512/done", "value": true },
    /// ]))?;
    /// # Ok(()) }
    /// ```
    pub fn apply_patch(&self, topic: &str, patch: Value) -> Result<WriteOutcome> {
        self.write(topic, Change::Edit(patch), None, Source::Rust)
    }

    /// Changes `topic` with a closure, as a compare-and-set loop.
    ///
    /// The closure runs outside every lock on a copy of the current data, and
    /// runs again if another writer commits in between, so it must not have
    /// side effects. The revision changes only if the data does.
    ///
    /// # Examples
    ///
    /// ```
    /// use tauri_plugin_state_sync::StateSyncExt;
    /// # fn bump<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri_plugin_state_sync::Result<()> {
    /// app.state_sync().update("counter", |value| {
    ///     *value = (value.as_i64().unwrap_or(0) + 1).into();
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn update(&self, topic: &str, mut change: impl FnMut(&mut Value)) -> Result<WriteOutcome> {
        let cell = self.cell(topic)?;
        self.commit(&cell, None, Source::Rust, |current| {
            let mut next = Value::clone(&current.data);
            change(&mut next);
            let (data, exact) = cell.validate(depth::accept(next)?)?;
            Ok(Proposal::new(Arc::new(data), exact))
        })
    }

    /// Registers the action `action` on `topic`: a closure from the current
    /// data and a JSON argument to the new data.
    ///
    /// Windows call it with the `act` command, Rust with [`act`](Self::act).
    /// It runs like [`update`](Self::update): on the latest data, outside
    /// every lock, and again if another writer commits first, so it must not
    /// have side effects. What it returns is validated against the topic's
    /// type, if it has one. The action lives as long as the topic: removing
    /// the topic removes it.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownTopic`], or [`Error::ActionExists`] if the topic
    /// already has an action of that name.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use tauri_plugin_state_sync::{ActionError, StateSyncExt};
    /// # fn setup<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri_plugin_state_sync::Result<()> {
    /// app.state_sync().register_action("todos", "clear-done", |todos, _args| {
    ///     let items = todos.as_object().ok_or_else(|| ActionError::new("todos must be an object"))?;
    ///     let open = items.iter().filter(|(_, todo)| todo["done"] != json!(true));
    ///     Ok(json!(open.map(|(id, todo)| (id.clone(), todo.clone())).collect::<serde_json::Map<_, _>>()))
    /// })?;
    /// app.state_sync().act("todos", "clear-done", json!(null))?;
    /// # Ok(()) }
    /// ```
    pub fn register_action(
        &self,
        topic: &str,
        action: &str,
        run: impl Fn(&Value, &Value) -> Result<Value, ActionError> + Send + Sync + 'static,
    ) -> Result<()> {
        self.add_action(topic, action, None, actions::untyped(run))
    }

    /// Runs the action `action` of `topic` with the argument `args`, and
    /// returns the outcome with the resulting data.
    ///
    /// The action applies to the latest data and never fails with a revision
    /// conflict. An action that returns data equal to the current data changes
    /// nothing.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAction`]; [`Error::Validation`] for an argument of a
    /// typed action that does not fit its type, or a result that does not fit
    /// the topic's; [`Error::ActionFailed`] or [`Error::ActionPanicked`] when
    /// the closure refuses or panics; [`Error::TooDeep`] for an argument or a
    /// result nested deeper than [`crate::MAX_DEPTH`]. In every case the
    /// topic is unchanged.
    pub fn act(&self, topic: &str, action: &str, args: impl Serialize) -> Result<ActionOutcome> {
        let args = depth::to_value(args)?;
        self.act_as(topic, action, &args, Source::Rust)
    }

    /// A watch receiver that always holds the latest snapshot of `topic`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tauri_plugin_state_sync::StateSyncExt;
    /// # fn follow<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri_plugin_state_sync::Result<()> {
    /// let mut settings = app.state_sync().subscribe("settings")?;
    /// tauri::async_runtime::spawn(async move {
    ///     while settings.changed().await.is_ok() {
    ///         let snapshot = settings.borrow_and_update().clone();
    ///         println!("settings are now at revision {}", snapshot.revision);
    ///     }
    /// });
    /// # Ok(()) }
    /// ```
    pub fn subscribe(&self, topic: &str) -> Result<watch::Receiver<Snapshot>> {
        Ok(self.cell(topic)?.subscribe())
    }

    /// Saves every persisted topic that changed since its last save, and
    /// returns once the files are durable.
    ///
    /// Saves also happen on their own, debounced after changes, and at exit.
    /// This does blocking file I/O: call it from a blocking context (the
    /// `flush` command runs it on a blocking thread).
    ///
    /// # Errors
    ///
    /// [`Error::Persistence`] for the first topic that could not be saved;
    /// every failure is also reported as a [`PersistenceError`].
    pub fn flush(&self) -> Result<()> {
        self.inner
            .persister
            .flush(&self.inner.app, false, self.inner.registry.cells())
    }

    /// The problems met so far loading or saving persisted topics: the
    /// latest of each topic and kind, at most 64, oldest first. Every problem
    /// is also logged and emitted as it happens.
    pub fn persistence_errors(&self) -> Vec<PersistenceError> {
        self.inner.persister.problems()
    }

    /// The labels of the webviews that receive the changes of `topic`: those
    /// subscribed to it whose read scope permits it. Sorted.
    pub fn readers_of(&self, topic: &str) -> Vec<String> {
        self.inner.delivery.subscribers.readers_of(topic)
    }

    /// Re-reads, for every open webview window, which topics it may read, and
    /// applies that to delivery at once.
    ///
    /// Tauri tells plugins nothing when capabilities change at run time.
    /// Every read command a window makes compares the scope Tauri resolves for
    /// it with the cached one and refreshes on a difference; call this right
    /// after `Manager::add_capability` (Tauri's `dynamic-acl` feature) so that a
    /// narrowed scope stops delivery before the window's next command.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use tauri::{ipc::CapabilityBuilder, Manager};
    /// use tauri_plugin_state_sync::StateSyncExt;
    /// # fn restrict<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    /// // From now on the window `side` may no longer read `todos/private`.
    /// app.add_capability(
    ///     CapabilityBuilder::new("side-no-private")
    ///         .window("side")
    ///         .permission_scoped("state-sync:read", vec![], vec![json!({ "topic": "todos/private" })]),
    /// )?;
    /// app.state_sync().refresh_scopes();
    /// # Ok(()) }
    /// ```
    pub fn refresh_scopes(&self) {
        for window in self.inner.app.webview_windows().into_values() {
            self.inner.delivery.refresh(window.as_ref());
        }
    }

    pub(crate) fn delivery(&self) -> &Delivery {
        &self.inner.delivery
    }

    /// The configured limit on one write from a window, in bytes.
    pub fn max_payload_bytes(&self) -> usize {
        self.inner.max_payload_bytes
    }

    /// Adds an action to `topic`; a typed one (`typed` names its topic type)
    /// only to a topic of that type.
    pub(crate) fn add_action(
        &self,
        topic: &str,
        action: &str,
        typed: Option<(std::any::TypeId, &'static str)>,
        run: Run,
    ) -> Result<()> {
        let cell = match typed {
            Some((type_id, type_name)) => self.cell_of_type(topic, type_id, type_name)?,
            None => self.cell(topic)?,
        };
        cell.actions().add(cell.name(), action, run)
    }

    /// The one path of every action call, from Rust or from a window.
    pub(crate) fn act_as(
        &self,
        topic: &str,
        action: &str,
        args: &Value,
        source: Source,
    ) -> Result<ActionOutcome> {
        let cell = self.cell(topic)?;
        let run = cell.actions().get(cell.name(), action)?;
        let mut result = None;
        let outcome = self.commit(&cell, None, source, |current| {
            let next = actions::call(&run, cell.name(), action, &current.data, args)?;
            let (data, exact) = cell.validate(depth::accept(next)?)?;
            let data = Arc::new(data);
            // The last proposal is what was committed, or equals the data kept.
            result = Some(data.clone());
            Ok(Proposal::new(data, exact))
        })?;
        Ok(ActionOutcome {
            outcome,
            data: result,
        })
    }


    /// Registers a topic declared in the builder or at run time, loading it
    /// first from its file when it is persisted.
    pub(crate) fn declare(
        &self,
        topic: &str,
        initial: Value,
        schema: Option<Schema>,
        persistence: Option<Persistence>,
        announce: bool,
    ) -> Result<Snapshot> {
        let Some(options) = persistence else {
            return self.insert(topic, initial, Revision::ZERO, schema, None, announce);
        };
        validate_topic_name(topic)?;
        // Checked before loading, which may move an unusable file aside.
        if self.inner.registry.get(topic).is_ok() {
            return Err(Error::TopicExists {
                topic: topic.to_owned(),
            });
        }
        let start = self
            .inner
            .persister
            .load(&self.inner.app, topic, options, initial, schema.as_ref())?;
        self.insert(topic, start.data, start.revision, schema, Some(start.file), announce)
    }

    /// Registers a topic, and starts saving it when it has a file.
    pub(crate) fn insert(
        &self,
        topic: &str,
        data: Value,
        revision: Revision,
        schema: Option<Schema>,
        persisted: Option<Arc<PersistedTopic>>,
        announce: bool,
    ) -> Result<Snapshot> {
        let data = depth::accept(data)?;
        let data = match &schema {
            Some(schema) => schema.validate(topic, data, Unknown::Refuse)?.0,
            None => data,
        };
        let history = self.inner.histories.limits_of(topic);
        let (snapshot, cell) = self
            .inner
            .registry
            .insert(topic, data, revision, schema, persisted, history)?;
        // Subscribe before the first save, so no change falls between them.
        let changes = cell.subscribe();
        if let Some(file) = cell.persisted() {
            self.inner.persister.watch(&self.inner.app, file.clone(), changes);
        }
        if announce {
            self.announce_new(topic, snapshot.revision);
        }
        Ok(snapshot)
    }

    /// The one write path shared by the Rust API and the commands.
    pub(crate) fn write(
        &self,
        topic: &str,
        change: Change,
        expected: Option<Revision>,
        source: Source,
    ) -> Result<WriteOutcome> {
        let cell = self.cell(topic)?;
        self.write_to(&cell, change, expected, source)
    }

    /// [`write`](Self::write) to a topic already looked up.
    pub(crate) fn write_to(
        &self,
        cell: &Arc<TopicCell>,
        change: Change,
        expected: Option<Revision>,
        source: Source,
    ) -> Result<WriteOutcome> {
        self.write_pushed(cell, change, expected, source)
            .map(|written| written.outcome)
    }

    /// [`write_to`](Self::write_to), also returning the patch the change is
    /// pushed with: what a window's `patch` is answered with.
    pub(crate) fn write_pushed(
        &self,
        cell: &Arc<TopicCell>,
        change: Change,
        expected: Option<Revision>,
        source: Source,
    ) -> Result<Written> {
        match change {
            Change::Replace(data) => {
                let (data, exact) = cell.validate(depth::accept(data)?)?;
                let data = Arc::new(data);
                self.commit_written(cell, expected, source, |_| Ok(Proposal::new(data.clone(), exact)))
            }
            Change::Merge(patch) => {
                let patch = depth::accept(patch)?;
                if !patch.is_object() {
                    return Err(Error::InvalidPatch {
                        topic: cell.name().to_owned(),
                        reason: "a merge patch must be a JSON object; use set to replace the whole value".into(),
                    });
                }
                // Merging keeps the result within the deeper of the data and
                // the patch, both within the limit, so it needs no check.
                // The patch's operations are found from the members it names,
                // in O(patch): none means the merge changes nothing. An
                // untyped topic then merges in place; a typed one validates
                // the whole result against its type.
                let patch = Arc::new(patch);
                self.commit_written(cell, expected, source, |current| {
                    let ops = delta::from_merge(&current.data, &patch);
                    if ops.is_empty() || cell.schema().is_none() {
                        return Ok(Proposal::in_place(InPlace::Merge(patch.clone()), ops));
                    }
                    let mut next = Value::clone(&current.data);
                    json_patch::merge(&mut next, &patch);
                    let (data, exact) = cell.validate(next)?;
                    // What a typed topic normalized differs from the merge: diff it.
                    Ok(match exact {
                        true => Proposal::with_ops(Arc::new(data), exact, ops),
                        false => Proposal::new(Arc::new(data), exact),
                    })
                })
            }
            Change::Edit(patch) => {
                let ops = delta::parse_edit(depth::accept(patch)?).map_err(|reason| Error::InvalidPatch {
                    topic: cell.name().to_owned(),
                    reason,
                })?;
                // Windows apply only add, remove, replace and test, and an
                // untyped topic stores the result as it is: then operations
                // that touch places apart are the change, applied in place,
                // and whether they change anything is known without a diff.
                // Otherwise they apply to a copy, which is checked and diffed.
                let direct = cell.schema().is_none() && delta::pushable(&ops);
                if direct && delta::nests_deeper(&ops, depth::MAX_DEPTH) {
                    return Err(Error::TooDeep { limit: depth::MAX_DEPTH });
                }
                let ops = Arc::new(ops);
                self.commit_written(cell, expected, source, |current| {
                    if direct && delta::independent(&current.data, &ops) {
                        // The change is the operations as written, without
                        // their `test`s: checked here, they change nothing,
                        // and a window at the revision before holds the same data.
                        let change = match delta::unchanged_by(&current.data, &ops) {
                            true => Vec::new(),
                            false => ops.iter().filter(|op| !matches!(op, PatchOperation::Test(_))).cloned().collect(),
                        };
                        return Ok(Proposal::in_place(InPlace::Edit(ops.clone()), change));
                    }
                    // A failure drops the copy, so no undo is needed; and
                    // json-patch's undo of a `move` onto an ancestor of its
                    // source panics (see tests/edits.rs).
                    let mut next = Value::clone(&current.data);
                    json_patch::patch_unsafe(&mut next, &ops).map_err(|err| edit_failed(cell.name(), err))?;
                    let (data, exact) = cell.validate(depth::accept(next)?)?;
                    Ok(Proposal::new(Arc::new(data), exact))
                })
            }
        }
    }

    /// Fails with [`Error::PayloadTooLarge`] if `payload` serializes to more
    /// than the configured limit.
    pub(crate) fn check_payload(&self, payload: &Value) -> Result<()> {
        let limit = self.inner.max_payload_bytes;
        let size = json_size::len(payload);
        if size > limit {
            return Err(Error::PayloadTooLarge { size, limit });
        }
        Ok(())
    }

    pub(crate) fn typed_cell<T: 'static>(&self, topic: &str) -> Result<Arc<TopicCell>> {
        self.cell_of_type(topic, std::any::TypeId::of::<T>(), std::any::type_name::<T>())
    }

    /// The cell of `topic`, if it was registered with the type `type_id`.
    fn cell_of_type(
        &self,
        topic: &str,
        type_id: std::any::TypeId,
        type_name: &'static str,
    ) -> Result<Arc<TopicCell>> {
        let cell = self.cell(topic)?;
        expect_type(topic, cell.schema(), type_id, type_name)?;
        Ok(cell)
    }

    pub(crate) fn commit(
        &self,
        cell: &Arc<TopicCell>,
        expected: Option<Revision>,
        source: Source,
        propose: impl FnMut(&Snapshot) -> Result<Proposal>,
    ) -> Result<WriteOutcome> {
        self.commit_written(cell, expected, source, propose)
            .map(|written| written.outcome)
    }

    /// [`commit`](Self::commit), also returning the patch the change is pushed with.
    fn commit_written(
        &self,
        cell: &Arc<TopicCell>,
        expected: Option<Revision>,
        source: Source,
        propose: impl FnMut(&Snapshot) -> Result<Proposal>,
    ) -> Result<Written> {
        let delivery = &self.inner.delivery;
        let written = cell.write(expected, source.id(), delivery.push_limit(), propose)?;
        if written.outcome.changed() {
            self.publish(cell, false);
        }
        Ok(written)
    }

    /// Publishes what waits in `cell`'s outbox (after the push interval, with
    /// `flush`), and arranges for what has to wait to leave later: after the
    /// interval, or once the batch just sent is through the event loop.
    fn publish(&self, cell: &Arc<TopicCell>, flush: bool) {
        let delivery = &self.inner.delivery;
        let deliver = |batch| delivery.announce(&self.inner.app, cell.name(), batch);
        let pending = match flush {
            true => cell.flush(delivery.push_interval(), deliver),
            false => cell.publish(delivery.push_interval(), deliver),
        };
        match pending {
            Pending::Nothing => {}
            Pending::Interval(wait) => {
                let (sync, cell) = (self.clone(), cell.clone());
                tauri::async_runtime::spawn(async move {
                    tokio::time::sleep(wait).await;
                    sync.publish(&cell, true);
                });
            }
            Pending::EventLoop => {
                // The event loop runs what it is sent in order, so this task
                // runs once the batch's messages are through it. Sent or not,
                // the landing is dropped, which publishes what waits.
                let landing = Landing {
                    sync: self.clone(),
                    cell: cell.clone(),
                };
                let _ = self.inner.app.run_on_main_thread(move || drop(landing));
            }
        }
    }

    /// Announces a topic that was just registered, at `revision`.
    fn announce_new(&self, topic: &str, revision: Revision) {
        let change = Committed {
            revision,
            source_id: RUST_SOURCE_ID.into(),
            patch: None,
        };
        let _ = self.inner.delivery.announce(&self.inner.app, topic, vec![change]);
    }

    pub(crate) fn cell(&self, topic: &str) -> Result<Arc<TopicCell>> {
        self.inner.registry.get(topic)
    }

    /// Writes every persisted topic with a lease ending at its revision, so
    /// the next start resumes exactly there.
    pub(crate) fn flush_on_exit(&self) {
        // Failures are reported by the persister; there is no caller to tell.
        let _ = self
            .inner
            .persister
            .flush(&self.inner.app, true, self.inner.registry.cells());
    }
}
