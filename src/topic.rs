//! One topic: its data, its revision, and the rule by which both change.
//!
//! # Semantics
//!
//! A topic holds a JSON value and a [`Revision`]. The pair lives in one
//! [`tokio::sync::watch`] channel, so every read returns a data and a revision
//! that belong together, and Rust subscribers see the latest pair.
//!
//! * **A revision names exactly one content.** The revision rises by exactly
//!   one on every write that changes the data, and never on a write that
//!   leaves it equal (a no-op). It is bumped inside the channel's write lock,
//!   in the same critical section that replaces the data.
//! * **Writes are optimistic.** A write reads the current snapshot, computes
//!   the new data *outside* any lock (merging, validating, comparing, running
//!   user closures), and then commits only if the topic is still at the
//!   revision it read. The lock is held for a revision comparison and a
//!   pointer swap, never for I/O, emits or user code. A blind write that loses
//!   the race recomputes on the new snapshot; a compare-and-set write fails
//!   with [`Error::Conflict`].
//! * **Notification follows the lock, in revision order.** Watch receivers
//!   are woken after the lock is released. The commit also queues the change
//!   (its revision, writer and patch) in the cell's outbox; after the lock,
//!   the writer [publishes](TopicCell::publish) the queue, and only one
//!   thread at a time does, so announcements leave in revision order even
//!   under concurrent writers. Changes committed while the last batch is
//!   still in the event loop wait for it and leave together.
//! * **A patch merges in place.** A merge patch of an untyped topic touches
//!   only the members it names: its operations are derived from the patch,
//!   and the commit merges it into the stored value in place when no reader
//!   holds that value (a copy otherwise), so it costs O(patch), not O(data).
//! * **Actions live with their topic.** The named actions registered on a
//!   topic ([`Actions`]) belong to its cell: removing the topic removes them,
//!   and a topic registered again under the same name starts with none.
//! * **A removed topic takes no more commits.** Removal closes the cell in
//!   the channel's write lock; a writer that looked the topic up before then
//!   fails with [`Error::UnknownTopic`] instead of committing a revision that
//!   the topic registered again under the same name would reuse.
//! * **Every change is kept as a patch, while it fits.** The write computes
//!   the RFC 6902 patch of its change outside the lock, once (from the merge
//!   patch for `patch`, by diffing otherwise), and the commit appends it to
//!   the topic's bounded history in the same critical section that bumps the
//!   revision, so the history always ends at the current revision (see
//!   `history`). A `since` pull reads the snapshot and the history together.
//! * **Topics are independent.** Each topic has its own channel; nothing
//!   locks two topics at once.
//!
//! Lock order: the channel's lock, then the history's mutex or the outbox's.
//! The history is locked alone only to read or change its limits, and the
//! outbox alone only by a publisher, never across a delivery.

use std::{
    any::TypeId,
    collections::VecDeque,
    time::{Duration, Instant},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, MutexGuard,
    },
};

use json_patch::PatchOperation;

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use tokio::sync::watch;

use crate::{
    actions::Actions,
    delta, depth,
    history::{self, History, HistoryLimits, Reach},
    json_size,
    models::{CatchUp, Delta, JsonPatch, Snapshot},
    persistence::saver::PersistedTopic,
    Error, Result, Revision, WriteOutcome,
};

/// The Rust type behind a typed topic, and how to validate JSON against it.
///
/// Data is checked by deserializing it into the type and serializing it back.
/// A key the type would ignore is refused: serde drops unknown fields
/// silently, so a misspelt key written by a window would otherwise succeed
/// and change nothing. A type that should accept extra keys says so itself,
/// with a `#[serde(flatten)]` map that keeps them.
#[derive(Clone, Copy)]
pub(crate) struct Schema {
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
    normalize: Normalize,
}

/// Turns JSON into what a typed topic stores, or names the failing path and why.
type Normalize = fn(&Value, Unknown) -> Result<Value, (String, String)>;

/// What validation does with keys the type does not know.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unknown {
    /// Refuse the data, naming the first such key: every write.
    Refuse,
    /// Drop them, as serde does: loading a file saved by an older version
    /// of the app, whose type had fields it no longer has.
    Drop,
}

impl Schema {
    /// The schema of `T`, or `None` for `serde_json::Value`: a topic typed
    /// as any JSON value is an untyped topic.
    pub(crate) fn of<T: Serialize + DeserializeOwned + 'static>() -> Option<Self> {
        (TypeId::of::<T>() != TypeId::of::<Value>()).then(|| Schema {
            type_id: TypeId::of::<T>(),
            type_name: std::any::type_name::<T>(),
            normalize: normalize_through::<T>,
        })
    }

    /// Checks `data` for `topic` against the type and returns what to store,
    /// and whether that is exactly `data`.
    ///
    /// `data` must be within [`crate::MAX_DEPTH`]. What the type makes of it
    /// is serialized within the limit too, since filled-in defaults can nest
    /// deeper; past it, the data does not fit.
    pub(crate) fn validate(&self, topic: &str, data: Value, unknown: Unknown) -> Result<(Value, bool)> {
        let stored = (self.normalize)(&data, unknown).map_err(|(path, reason)| Error::Validation {
            topic: topic.to_owned(),
            type_name: self.type_name,
            path,
            reason,
        })?;
        let exact = stored == data;
        Ok((stored, exact))
    }
}

/// Checks that the topic `topic`, whose schema is `actual` (`None` when
/// untyped), holds the type `type_id`; `serde_json::Value` asks for an
/// untyped topic.
pub(crate) fn expect_type(
    topic: &str,
    actual: Option<&Schema>,
    type_id: TypeId,
    type_name: &'static str,
) -> Result<()> {
    let untyped = type_id == TypeId::of::<Value>();
    if actual.map(|schema| schema.type_id) != (!untyped).then_some(type_id) {
        return Err(Error::TypeMismatch {
            topic: topic.to_owned(),
            actual: actual.map_or("serde_json::Value", |schema| schema.type_name),
            requested: type_name,
        });
    }
    Ok(())
}

/// Deserializes `value` into `T` and serializes it back, naming the failing
/// field, or the first key `T` would ignore when those are refused.
fn normalize_through<T: Serialize + DeserializeOwned>(
    value: &Value,
    unknown: Unknown,
) -> Result<Value, (String, String)> {
    let typed: T = deserialize_checked(value, unknown)?;
    depth::to_value(typed).map_err(|err| (".".to_owned(), err.to_string()))
}

/// Deserializes `value` into `T`, or names the failing path and why: the
/// field that does not fit, or the first key `T` would ignore when those are
/// refused. The one check of JSON against a Rust type, for a typed topic's
/// data and a typed action's argument alike.
pub(crate) fn deserialize_checked<T: DeserializeOwned>(
    value: &Value,
    unknown: Unknown,
) -> Result<T, (String, String)> {
    let mut ignored = None;
    let mut note = |path: serde_ignored::Path<'_>| {
        ignored.get_or_insert_with(|| {
            let key = match &path {
                serde_ignored::Path::Map { key, .. } => key.clone(),
                other => other.to_string(),
            };
            (path_string(&path), key)
        });
    };
    let typed: T = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(value, &mut note))
        .map_err(|err| (err.path().to_string(), err.inner().to_string()))?;
    if let (Some((path, key)), Unknown::Refuse) = (ignored, unknown) {
        return Err((path, format!("unknown key `{key}`: the type has no such field")));
    }
    Ok(typed)
}

/// `path` written as `serde_path_to_error` writes paths: `items[2].done`.
fn path_string(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", path_string(parent)),
        Path::Map { parent, key } => match path_string(parent) {
            parent if parent.is_empty() => key.clone(),
            parent => format!("{parent}.{key}"),
        },
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            path_string(parent)
        }
    }
}

/// What a write proposes, computed from the snapshot it read.
pub(crate) struct Proposal {
    next: Next,
    /// Whether the result is what the writer itself would compute; see [`WriteOutcome::exact`].
    pub(crate) exact: bool,
    /// When the writer knows them, exactly the operations that take the
    /// snapshot it read to the result: empty when nothing changes. Otherwise
    /// the cell compares the two and diffs them.
    ops: Option<Vec<PatchOperation>>,
}

/// The new data of a [`Proposal`].
enum Next {
    /// Store this data.
    Data(Arc<Value>),
    /// Make this change to the data that was read: in place, in O(change),
    /// when no reader holds that data; otherwise to a copy.
    InPlace(InPlace),
}

/// A change a commit can make to the stored data where it lies.
#[derive(Clone)]
pub(crate) enum InPlace {
    /// Merge this RFC 7396 patch, an object.
    Merge(Arc<Value>),
    /// Apply these RFC 6902 operations, which may fail and then change
    /// nothing. Only `add`, `remove`, `replace` and `test`, whose undo
    /// json-patch does right.
    Edit(Arc<Vec<PatchOperation>>),
}

impl InPlace {
    /// Makes the change to `data`. A failed edit leaves `data` as it was.
    fn apply(&self, topic: &str, data: &mut Value) -> Result<()> {
        match self {
            InPlace::Merge(patch) => json_patch::merge(data, patch),
            InPlace::Edit(ops) => json_patch::patch(data, ops).map_err(|err| edit_failed(topic, err))?,
        }
        Ok(())
    }
}

/// The error of a JSON Patch that did not apply to `topic`.
pub(crate) fn edit_failed(topic: &str, err: json_patch::PatchError) -> Error {
    Error::InvalidPatch {
        topic: topic.to_owned(),
        reason: format!("operation {} at `{}`: {}", err.operation, err.path, err.kind),
    }
}

impl Proposal {
    /// A proposal of `data`, whose change from the snapshot read the cell works out.
    pub(crate) fn new(data: Arc<Value>, exact: bool) -> Self {
        Proposal {
            next: Next::Data(data),
            exact,
            ops: None,
        }
    }

    /// A proposal of `data`, which `ops` make from the snapshot read.
    pub(crate) fn with_ops(data: Arc<Value>, exact: bool, ops: Vec<PatchOperation>) -> Self {
        Proposal {
            next: Next::Data(data),
            exact,
            ops: Some(ops),
        }
    }

    /// The change `change` to the snapshot read, whose operations are `ops`
    /// (empty when it changes nothing). The data is not copied unless some
    /// reader holds it.
    pub(crate) fn in_place(change: InPlace, ops: Vec<PatchOperation>) -> Self {
        Proposal {
            next: Next::InPlace(change),
            exact: true,
            ops: Some(ops),
        }
    }
}

/// A committed change, waiting to be published (see [`TopicCell::publish`]).
#[derive(Clone, Debug)]
pub(crate) struct Committed {
    /// The revision it made; it applies to the one before.
    pub(crate) revision: Revision,
    /// Who made it: a webview's label, or [`crate::RUST_SOURCE_ID`].
    pub(crate) source_id: Arc<str>,
    /// The patch a window at the revision before may apply, at most the
    /// writer's push limit: the change's own patch, when it is no larger
    /// than the data; when the data is smaller, one that replaces the whole
    /// value with the new data. `None` when neither fits.
    pub(crate) patch: Option<JsonPatch>,
}

/// What [`TopicCell::write`] did: its outcome, and the patch its change is
/// pushed with (`None` when nothing changed or the change is pushed without one).
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) outcome: WriteOutcome,
    pub(crate) pushed: Option<JsonPatch>,
}

/// What a publisher leaves for its caller to arrange (see [`TopicCell::publish`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pending {
    /// Nothing waits for this caller.
    Nothing,
    /// Changes wait for the push interval: call [`TopicCell::flush`] after this long.
    Interval(Duration),
    /// The batch just delivered is on its way through the event loop, and
    /// later changes wait for it: call [`TopicCell::landed`] once it is through.
    EventLoop,
}

/// The changes committed and not yet published, and whether some thread is
/// publishing them.
#[derive(Default)]
struct Outbox {
    queue: VecDeque<Committed>,
    publishing: bool,
    /// Whether the last batch is still on its way through the event loop.
    in_flight: bool,
    /// When the last batch left.
    last_sent: Option<Instant>,
    /// When a flush is due, if one is scheduled.
    flush_due: Option<Instant>,
}

/// Why a commit did not happen, when that is not an error.
enum Refused {
    /// Another write got there first.
    Moved,
    /// The data is held by a reader, so it cannot be changed in place: the
    /// change, to make to a copy.
    Shared(InPlace),
}

/// The state of one topic. See the module documentation for the rules.
pub(crate) struct TopicCell {
    name: Arc<str>,
    schema: Option<Schema>,
    /// The topic's file, when it is persisted. It lives and dies with the
    /// cell; see `persistence::saver`.
    persisted: Option<Arc<PersistedTopic>>,
    state: watch::Sender<Snapshot>,
    actions: Actions,
    /// The recent changes, each as a patch. Locked inside `state`'s write
    /// lock by a commit, and inside its read lock by a `since` pull.
    history: Mutex<History>,
    /// The committed changes to publish, in revision order. Appended to
    /// inside `state`'s write lock, drained by [`publish`](Self::publish)
    /// outside it.
    outbox: Mutex<Outbox>,
    /// Set by [`close`](Self::close) when the topic is removed. Read and
    /// written only inside `state`'s write lock, so a commit either lands
    /// before the removal reads the last revision or fails.
    closed: AtomicBool,
}

impl std::fmt::Debug for TopicCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicCell")
            .field("name", &self.name)
            .field("type", &self.schema.map(|schema| schema.type_name))
            .field("revision", &self.state.borrow().revision)
            .finish()
    }
}

impl TopicCell {
    pub(crate) fn new(name: Arc<str>, data: Value, revision: Revision, schema: Option<Schema>) -> Self {
        let state = watch::Sender::new(Snapshot {
            revision,
            data: Arc::new(data),
        });
        TopicCell {
            name,
            schema,
            persisted: None,
            state,
            actions: Actions::default(),
            history: Mutex::new(History::new(HistoryLimits::new(), revision)),
            outbox: Mutex::default(),
            closed: AtomicBool::new(false),
        }
    }

    /// This cell, keeping its history within `limits`.
    pub(crate) fn with_history(self, limits: HistoryLimits) -> Self {
        self.set_history_limits(limits);
        self
    }

    fn history(&self) -> MutexGuard<'_, History> {
        lock(&self.history)
    }

    fn outbox(&self) -> MutexGuard<'_, Outbox> {
        lock(&self.outbox)
    }

    /// Hands the committed changes not yet published to `deliver`, in
    /// revision order, all that are queued as one batch, and returns when
    /// none is left, when they have to wait (see [`Pending`]), or when
    /// another thread is publishing this topic (which then delivers this
    /// thread's change too).
    ///
    /// `deliver` returns whether it sent the batch through the event loop.
    /// Then the changes that come after it wait until [`landed`](Self::landed)
    /// says it is through, and leave together as the next batch: while the
    /// event loop keeps up, every change leaves at once on its own; while it
    /// falls behind, the batches grow, so the messages never pile up in it.
    ///
    /// With a nonzero `interval`, besides, batches leave at most one per
    /// `interval`: a change that comes when the last batch left longer ago
    /// than that leaves at once; one that comes sooner waits in the queue,
    /// with every change after it, until the interval has passed. Then this
    /// returns how long to wait, and the caller calls [`flush`](Self::flush)
    /// after that long (no flush is asked for while one is already due).
    ///
    /// Only one thread at a time delivers a topic's changes, so they leave
    /// in the order the commits made them; a commit never waits for a
    /// delivery, and a `deliver` that writes to the same topic does not
    /// deadlock: its change is delivered after the current batch.
    pub(crate) fn publish(&self, interval: Duration, mut deliver: impl FnMut(Vec<Committed>) -> bool) -> Pending {
        /// This thread's turn to publish. Ending it by unwinding out of
        /// `deliver` frees the turn, so a panic does not stop delivery.
        struct Turn<'a>(Option<&'a TopicCell>);
        impl Drop for Turn<'_> {
            fn drop(&mut self) {
                if let Some(cell) = self.0 {
                    cell.outbox().publishing = false;
                }
            }
        }
        let mut turn = Turn(None);
        loop {
            let batch = {
                let mut outbox = self.outbox();
                let mine = turn.0.take().is_some();
                // Checked and released under one lock: a change queued after
                // this finds no publisher, or finds the batch in flight and
                // is published when it lands.
                if !mine && outbox.publishing || outbox.queue.is_empty() || outbox.in_flight {
                    if mine {
                        outbox.publishing = false;
                    }
                    return Pending::Nothing;
                }
                let now = Instant::now();
                let due = outbox.last_sent.map_or(now, |last| last + interval);
                if now < due {
                    if mine {
                        outbox.publishing = false;
                    }
                    return match outbox.flush_due {
                        Some(_) => Pending::Nothing,
                        None => {
                            outbox.flush_due = Some(due);
                            Pending::Interval(due - now)
                        }
                    };
                }
                outbox.publishing = true;
                turn.0 = Some(self);
                outbox.last_sent = Some(now);
                outbox.queue.drain(..).collect()
            };
            if deliver(batch) {
                let mut outbox = self.outbox();
                outbox.in_flight = true;
                outbox.publishing = false;
                turn.0 = None;
                return Pending::EventLoop;
            }
        }
    }

    /// Publishes what waited for the interval (see [`publish`](Self::publish)),
    /// once its time has come.
    pub(crate) fn flush(&self, interval: Duration, deliver: impl FnMut(Vec<Committed>) -> bool) -> Pending {
        self.outbox().flush_due = None;
        self.publish(interval, deliver)
    }

    /// Notes that the batch in flight is through the event loop; returns
    /// whether changes wait to be published, which the caller then does.
    pub(crate) fn landed(&self) -> bool {
        let mut outbox = self.outbox();
        outbox.in_flight = false;
        !outbox.queue.is_empty()
    }

    /// Applies new history limits, dropping what no longer fits.
    pub(crate) fn set_history_limits(&self, limits: HistoryLimits) {
        self.history().set_limits(limits);
    }

    /// The change from `since` to the current revision, when the history
    /// reaches back to it and its patch is no larger than the data;
    /// otherwise the current snapshot.
    pub(crate) fn since(&self, since: Revision) -> CatchUp {
        let (snapshot, reach) = {
            // The read lock keeps commits out, so the history ends at the
            // snapshot's revision.
            let state = self.state.borrow();
            (state.clone(), self.history().reach(since))
        };
        let patch = match reach {
            Reach::Current => delta::serialize(&[]),
            Reach::Patches(patches) => history::concatenate(&patches),
            Reach::Unreachable => return CatchUp::Snapshot(snapshot),
        };
        if !patch.is_empty() && !json_size::at_least(&*snapshot.data, patch.len()) {
            return CatchUp::Snapshot(snapshot);
        }
        CatchUp::Delta(Delta {
            revision: snapshot.revision,
            from: since,
            patch,
        })
    }

    /// This cell, saved to `file`.
    pub(crate) fn persisted_to(mut self, file: Option<Arc<PersistedTopic>>) -> Self {
        self.persisted = file;
        self
    }

    /// The topic's file, when it is persisted.
    pub(crate) fn persisted(&self) -> Option<&Arc<PersistedTopic>> {
        self.persisted.as_ref()
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }

    /// The named actions registered on this topic.
    pub(crate) fn actions(&self) -> &Actions {
        &self.actions
    }

    /// The current data and revision, read together.
    pub(crate) fn snapshot(&self) -> Snapshot {
        self.state.borrow().clone()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.state.subscribe()
    }

    /// Refuses every later commit and returns the last snapshot, atomically:
    /// no write can commit a revision after the one returned here.
    ///
    /// A writer that looked the topic up before its removal then fails with
    /// [`Error::UnknownTopic`], so a topic registered again under the same
    /// name, which starts after the returned revision, never shares a
    /// revision with this one.
    pub(crate) fn close(&self) -> Snapshot {
        let mut last = None;
        self.state.send_if_modified(|snapshot| {
            self.closed.store(true, Ordering::Relaxed);
            last = Some(snapshot.clone());
            false
        });
        last.expect("send_if_modified runs its closure")
    }

    /// Checks `data` against the topic's type and returns what to store, and
    /// whether that is exactly `data`. Untyped topics store `data` unchanged.
    pub(crate) fn validate(&self, data: Value) -> Result<(Value, bool)> {
        match &self.schema {
            Some(schema) => schema.validate(&self.name, data, Unknown::Refuse),
            None => Ok((data, true)),
        }
    }

    /// Runs one write: read, propose outside the lock, commit if unchanged.
    /// `source_id` names the writer in the change it publishes, and
    /// `push_limit` is the largest patch that change may carry to windows
    /// (see [`Committed::patch`]).
    ///
    /// `propose` may run more than once when a blind write (`expected` is
    /// `None`) races with another writer, like `AtomicU64::fetch_update`.
    pub(crate) fn write(
        &self,
        expected: Option<Revision>,
        source_id: &str,
        push_limit: usize,
        mut propose: impl FnMut(&Snapshot) -> Result<Proposal>,
    ) -> Result<Written> {
        loop {
            let current = self.snapshot();
            if let Some(expected) = expected {
                if expected != current.revision {
                    return Err(self.conflict(expected, current));
                }
            }
            let Proposal { next, exact, ops } = propose(&current)?;
            let base = current.revision;
            let unchanged = Written {
                outcome: WriteOutcome {
                    revision: base,
                    previous_revision: base,
                    exact,
                },
                pushed: None,
            };
            let limits = self.history().limits();
            // The operations, when the history may keep them: a diff that
            // finds none is the no-op check, so the values are walked once.
            let (ops, mut next) = match (ops, next) {
                (Some(ops), _) if ops.is_empty() => return Ok(unchanged),
                (Some(ops), next) => (Some(ops), next),
                (None, Next::Data(data)) if Arc::ptr_eq(&data, &current.data) => return Ok(unchanged),
                (None, Next::Data(data)) if limits.changes() > 0 => match delta::from_diff(&current.data, &data) {
                    ops if ops.is_empty() => return Ok(unchanged),
                    ops => (Some(ops), Next::Data(data)),
                },
                (None, Next::Data(data)) if *data == *current.data => return Ok(unchanged),
                (None, next @ Next::Data(_)) => (None, next),
                (None, Next::InPlace(_)) => unreachable!("an in-place proposal carries its operations"),
            };
            let Patches { kept, pushed, whole } = Patches::of(ops, limits, push_limit, &next, &current.data);
            let (mut kept, mut pushed) = (kept, pushed);
            if whole {
                // The data is smaller than the change's patch, so a window
                // is better sent all of it; an in-place change is made on a
                // copy, which costs no more than the patch, to have it.
                if let Next::InPlace(change) = &next {
                    let mut data = Value::clone(&current.data);
                    change.apply(&self.name, &mut data)?;
                    next = Next::Data(Arc::new(data));
                }
                if let Next::Data(data) = &next {
                    pushed = delta::whole(data, push_limit);
                }
            }
            // Nothing of this write holds the data read any more, so a merge
            // may change it in place.
            drop(current);
            let echo = pushed.clone();
            loop {
                match self.commit(base, next, (&mut kept, &mut pushed), source_id)? {
                    Ok(revision) => {
                        return Ok(Written {
                            outcome: WriteOutcome {
                                revision,
                                previous_revision: base,
                                exact,
                            },
                            pushed: echo,
                        })
                    }
                    Err(Refused::Shared(change)) => {
                        let again = self.snapshot();
                        if again.revision != base {
                            break;
                        }
                        let mut data = Value::clone(&again.data);
                        change.apply(&self.name, &mut data)?;
                        next = Next::Data(Arc::new(data));
                    }
                    Err(Refused::Moved) => break,
                }
            }
            if let Some(expected) = expected {
                // Read again: the conflict carries a revision with its data.
                return Err(self.conflict(expected, self.snapshot()));
            }
        }
    }

    /// Stores `next` at the next revision if the topic is still at `base`,
    /// records the history's patch `kept` (or, when `None`, a break), and
    /// queues the change with the patch `pushed` for [`publish`](Self::publish).
    ///
    /// The replaced data is dropped after the lock is released. The patches
    /// are taken only when the commit happens.
    fn commit(
        &self,
        base: Revision,
        next: Next,
        (kept, pushed): (&mut Option<JsonPatch>, &mut Option<JsonPatch>),
        source_id: &str,
    ) -> Result<Result<Revision, Refused>> {
        let mut outcome = Ok(Err(Refused::Moved));
        let mut replaced = None;
        self.state.send_if_modified(|snapshot| {
            if self.closed.load(Ordering::Relaxed) {
                outcome = Err(Error::UnknownTopic {
                    topic: self.name.to_string(),
                });
                return false;
            }
            if snapshot.revision != base {
                return false;
            }
            let Some(revision) = snapshot.revision.next() else {
                outcome = Err(Error::RevisionExhausted {
                    topic: self.name.to_string(),
                });
                return false;
            };
            match next {
                Next::Data(data) => replaced = Some(std::mem::replace(&mut snapshot.data, data)),
                Next::InPlace(change) => match Arc::get_mut(&mut snapshot.data) {
                    Some(data) => {
                        if let Err(err) = change.apply(&self.name, data) {
                            outcome = Err(err);
                            return false;
                        }
                    }
                    None => {
                        outcome = Ok(Err(Refused::Shared(change)));
                        return false;
                    }
                },
            }
            snapshot.revision = revision;
            self.history().record(revision, kept.take());
            self.outbox().queue.push_back(Committed {
                revision,
                source_id: source_id.into(),
                patch: pushed.take(),
            });
            outcome = Ok(Ok(revision));
            true
        });
        drop(replaced);
        outcome
    }

    /// The conflict of a compare-and-set that expected `expected`, carrying
    /// the snapshot the topic is at.
    fn conflict(&self, expected: Revision, current: Snapshot) -> Error {
        Error::Conflict {
            topic: self.name.to_string(),
            expected,
            current: current.revision,
            data: Some(current.data),
        }
    }
}

/// Locks `mutex`. Every change under the cell's mutexes completes without
/// panicking or leaves things as they were, so a poisoned one is consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The patches of one change, made once, outside the lock.
struct Patches {
    /// What the history keeps, if its limits admit it.
    kept: Option<JsonPatch>,
    /// What windows get inline, when it is at most the push limit and no
    /// larger than the data.
    pushed: Option<JsonPatch>,
    /// Whether windows should get the whole new data instead: the data is
    /// smaller than the patch, or the patch is not known.
    whole: bool,
}

impl Patches {
    /// The patches of the operations `ops` of the proposal `next` on `before`.
    /// Costs O(patch): the data is measured only up to the patch's size.
    fn of(
        ops: Option<Vec<PatchOperation>>,
        limits: HistoryLimits,
        push_limit: usize,
        next: &Next,
        before: &Value,
    ) -> Self {
        let none = |whole| Patches {
            kept: None,
            pushed: None,
            whole,
        };
        let Some(ops) = ops else { return none(true) };
        // A patch past both bounds is never used: counted, not written out.
        if json_size::at_least(&ops, limits.bytes().max(push_limit).saturating_add(1)) {
            return none(false);
        }
        let patch = delta::serialize(&ops);
        // An in-place change is measured against the data before it, which
        // it changes by a patch's worth.
        let data = match next {
            Next::Data(data) => &**data,
            Next::InPlace(_) => before,
        };
        if !json_size::at_least(data, patch.len()) {
            return none(true);
        }
        Patches {
            kept: limits.admits(patch.len(), data).then(|| patch.clone()),
            pushed: (patch.len() <= push_limit).then_some(patch),
            whole: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    fn cell(data: Value) -> TopicCell {
        TopicCell::new("t".into(), data, Revision::ZERO, None)
    }

    fn replace(cell: &TopicCell, expected: Option<Revision>, data: Value) -> Result<WriteOutcome> {
        let data = Arc::new(data);
        cell.write(expected, "test", 0, |_| Ok(Proposal::new(data.clone(), true)))
            .map(|written| written.outcome)
    }

    #[test]
    fn a_change_bumps_the_revision_by_exactly_one() {
        let cell = cell(json!(1));
        let outcome = replace(&cell, None, json!(2)).unwrap();
        assert_eq!(outcome.previous_revision, Revision::new(0));
        assert_eq!(outcome.revision, Revision::new(1));
        assert_eq!(cell.snapshot().revision, Revision::new(1));
        assert_eq!(*cell.snapshot().data, json!(2));
    }

    #[test]
    fn writing_an_equal_value_keeps_the_revision() {
        let cell = cell(json!({"a": [1, 2]}));
        let outcome = replace(&cell, None, json!({"a": [1, 2]})).unwrap();
        assert!(!outcome.changed());
        assert_eq!(cell.snapshot().revision, Revision::ZERO);
    }

    #[test]
    fn compare_and_set_on_a_stale_revision_is_a_conflict_and_changes_nothing() {
        let cell = cell(json!(1));
        replace(&cell, None, json!(2)).unwrap();
        let err = replace(&cell, Some(Revision::ZERO), json!(3)).unwrap_err();
        match err {
            Error::Conflict { expected, current, data, .. } => {
                assert_eq!(expected, Revision::ZERO);
                assert_eq!(current, Revision::new(1));
                assert_eq!(data.as_deref(), Some(&json!(2)), "the data at the current revision");
            }
            other => panic!("expected a conflict, got {other}"),
        }
        assert_eq!(*cell.snapshot().data, json!(2));
    }

    #[test]
    fn compare_and_set_with_an_equal_value_on_a_stale_revision_is_still_a_conflict() {
        let cell = cell(json!(1));
        replace(&cell, None, json!(2)).unwrap();
        assert!(matches!(
            replace(&cell, Some(Revision::ZERO), json!(2)),
            Err(Error::Conflict { .. })
        ));
    }

    #[test]
    fn blind_write_that_loses_a_race_recomputes_on_the_new_snapshot() {
        let cell = cell(json!(0));
        let mut calls = 0;
        let outcome = cell
            .write(None, "test", 0, |snapshot| {
                calls += 1;
                if calls == 1 {
                    // Another writer commits between our read and our commit.
                    replace(&cell, None, json!(10)).unwrap();
                }
                let n = snapshot.data.as_i64().unwrap();
                Ok(Proposal::new(Arc::new(json!(n + 1)), true))
            })
            .unwrap()
            .outcome;
        assert_eq!(calls, 2);
        assert_eq!(*cell.snapshot().data, json!(11));
        assert_eq!(outcome.previous_revision, Revision::new(1));
        assert_eq!(outcome.revision, Revision::new(2));
    }

    fn merge(cell: &TopicCell, patch: Value) -> WriteOutcome {
        let patch = Arc::new(patch);
        cell.write(None, "test", 1_024, |current| {
            Ok(Proposal::in_place(InPlace::Merge(patch.clone()), delta::from_merge(&current.data, &patch)))
        })
        .unwrap()
        .outcome
    }

    #[test]
    fn a_merge_changes_data_that_no_reader_holds_in_place() {
        let cell = cell(json!({"big": "x".repeat(1_000), "n": 0}));
        let before = Arc::as_ptr(&cell.snapshot().data);
        merge(&cell, json!({"n": 1}));
        let after = cell.snapshot();
        assert_eq!(Arc::as_ptr(&after.data), before, "the value was not copied");
        assert_eq!(after.data["n"], json!(1));
        assert_eq!(after.revision, Revision::new(1));
    }

    #[test]
    fn a_merge_while_a_reader_holds_the_data_leaves_the_readers_copy_as_it_was() {
        let cell = cell(json!({"n": 0}));
        let held = cell.snapshot();
        let outcome = merge(&cell, json!({"n": 1}));
        assert_eq!(outcome.revision, Revision::new(1));
        assert_eq!((held.revision, &*held.data), (Revision::ZERO, &json!({"n": 0})));
        assert_eq!(*cell.snapshot().data, json!({"n": 1}));
    }

    fn edit(cell: &TopicCell, ops: Value) -> Result<WriteOutcome> {
        let ops: Arc<Vec<PatchOperation>> = Arc::new(serde_json::from_value(ops).unwrap());
        cell.write(None, "test", 1_024, |_| {
            Ok(Proposal::in_place(InPlace::Edit(ops.clone()), Vec::clone(&ops)))
        })
        .map(|written| written.outcome)
    }

    #[test]
    fn an_edit_changes_data_that_no_reader_holds_in_place() {
        let cell = cell(json!({"big": "x".repeat(1_000), "list": [0, 1, 2]}));
        let before = Arc::as_ptr(&cell.snapshot().data);
        edit(&cell, json!([{"op": "replace", "path": "/list/1", "value": 9}])).unwrap();
        let after = cell.snapshot();
        assert_eq!(Arc::as_ptr(&after.data), before, "the value was not copied");
        assert_eq!((after.revision, &after.data["list"]), (Revision::new(1), &json!([0, 9, 2])));
    }

    #[test]
    fn an_edit_that_fails_in_place_leaves_the_data_and_publishes_nothing() {
        let data = json!({"big": "x".repeat(1_000), "list": [0, 1, 2]});
        let cell = cell(data.clone());
        let err = edit(&cell, json!([{"op": "remove", "path": "/list/0"}, {"op": "remove", "path": "/list/5"}]));
        assert_eq!(err.unwrap_err().code(), "INVALID_PATCH");
        let after = cell.snapshot();
        assert_eq!((after.revision, &*after.data), (Revision::ZERO, &data));
        assert!(batches(&cell, Duration::ZERO).is_empty());
    }

    #[test]
    fn a_merge_that_changes_nothing_keeps_the_revision_and_publishes_nothing() {
        let cell = cell(json!({"n": 0}));
        assert!(!merge(&cell, json!({"n": 0, "gone": null})).changed());
        assert!(batches(&cell, Duration::ZERO).is_empty());
    }

    #[test]
    fn published_changes_carry_their_source_and_patch_in_revision_order() {
        // Padded, so that the history keeps a one-key patch.
        let cell = cell(json!({"n": 0, "pad": "p".repeat(200)}));
        merge(&cell, json!({"n": 1}));
        merge(&cell, json!({"n": 2}));
        let mut published = Vec::new();
        cell.publish(Duration::ZERO, |batch| {
            published.extend(batch);
            false
        });
        let seen: Vec<_> = published
            .iter()
            .map(|c| (c.revision.get(), &*c.source_id, c.patch.as_ref().map(JsonPatch::as_str)))
            .collect();
        assert_eq!(
            seen,
            [
                (1, "test", Some(r#"[{"op":"replace","path":"/n","value":1}]"#)),
                (2, "test", Some(r#"[{"op":"replace","path":"/n","value":2}]"#)),
            ]
        );
    }

    /// The revisions of each batch `cell` publishes now, with `interval`,
    /// none of them through an event loop.
    fn batches(cell: &TopicCell, interval: Duration) -> Vec<Vec<u64>> {
        let mut batches = Vec::new();
        cell.publish(interval, |batch| {
            batches.push(batch.iter().map(|c| c.revision.get()).collect());
            false
        });
        batches
    }

    #[test]
    fn changes_queued_before_a_publish_leave_together_once() {
        let cell = cell(json!({"n": 0}));
        merge(&cell, json!({"n": 1}));
        merge(&cell, json!({"n": 2}));
        assert_eq!(batches(&cell, Duration::ZERO), [vec![1, 2]]);
        assert_eq!(batches(&cell, Duration::ZERO), Vec::<Vec<u64>>::new(), "nothing is published twice");
    }

    #[test]
    fn changes_while_a_batch_is_in_the_event_loop_wait_for_it_to_land_and_leave_together() {
        let cell = cell(json!({"n": 0}));
        let mut sent = Vec::new();
        let mut through_the_event_loop = |batch: Vec<Committed>| {
            sent.push(batch.iter().map(|c| c.revision.get()).collect::<Vec<_>>());
            true
        };
        merge(&cell, json!({"n": 1}));
        assert_eq!(cell.publish(Duration::ZERO, &mut through_the_event_loop), Pending::EventLoop);
        merge(&cell, json!({"n": 2}));
        merge(&cell, json!({"n": 3}));
        assert_eq!(cell.publish(Duration::ZERO, |_| panic!("sent while one is in flight")), Pending::Nothing);
        assert!(cell.landed(), "changes wait");
        assert_eq!(cell.publish(Duration::ZERO, &mut through_the_event_loop), Pending::EventLoop);
        assert!(!cell.landed(), "nothing waits");
        merge(&cell, json!({"n": 4}));
        assert_eq!(cell.publish(Duration::ZERO, &mut through_the_event_loop), Pending::EventLoop, "a change after the landing leaves at once");
        assert_eq!(sent, [vec![1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn a_deliver_that_writes_the_same_topic_does_not_deadlock_and_its_change_follows() {
        let cell = cell(json!({"n": 0}));
        merge(&cell, json!({"n": 1}));
        let mut published = Vec::new();
        cell.publish(Duration::ZERO, |batch| {
            if batch[0].revision == Revision::new(1) {
                merge(&cell, json!({"n": 2}));
                // The nested writer finds this thread publishing and leaves its change queued.
                let nested = cell.publish(Duration::ZERO, |_| panic!("a second publisher while the first is delivering"));
                assert_eq!(nested, Pending::Nothing);
            }
            published.push(batch.iter().map(|c| c.revision.get()).collect::<Vec<_>>());
            false
        });
        assert_eq!(published, [vec![1], vec![2]]);
    }

    #[test]
    fn a_panicking_deliver_frees_the_turn_to_publish() {
        let cell = cell(json!({"n": 0}));
        merge(&cell, json!({"n": 1}));
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cell.publish(Duration::ZERO, |_| panic!("deliver failed"));
        }));
        assert!(unwound.is_err());
        merge(&cell, json!({"n": 2}));
        assert_eq!(batches(&cell, Duration::ZERO), [vec![2]], "the change after the batch whose delivery panicked");
    }

    #[test]
    fn a_change_within_the_interval_waits_for_a_flush_and_leaves_with_those_after_it() {
        let cell = cell(json!({"n": 0}));
        let interval = Duration::from_secs(3_600);
        let mut published = Vec::new();
        merge(&cell, json!({"n": 1}));
        let first = cell.publish(interval, |batch| {
            published.push(batch.len());
            false
        });
        assert_eq!(first, Pending::Nothing, "the first leaves at once");
        merge(&cell, json!({"n": 2}));
        let wait = cell.publish(interval, |_| panic!("sent within the interval"));
        assert!(matches!(wait, Pending::Interval(wait) if wait > Duration::from_secs(3_000)), "{wait:?}");
        merge(&cell, json!({"n": 3}));
        assert_eq!(cell.publish(interval, |_| panic!("sent within the interval")), Pending::Nothing, "a flush is already due");
        // The flush, once its time has come (here: with the interval all but gone).
        cell.flush(Duration::from_nanos(1), |batch| {
            published.push(batch.len());
            false
        });
        assert_eq!(published, [1, 2]);
    }

    #[test]
    fn an_exhausted_revision_refuses_changes_and_keeps_the_data() {
        let cell = TopicCell::new("t".into(), json!(1), Revision::new(u64::MAX), None);
        let err = replace(&cell, None, json!(2)).unwrap_err();
        assert_eq!(err.code(), "REVISION_EXHAUSTED");
        assert_eq!(*cell.snapshot().data, json!(1));
    }

    #[test]
    fn watch_subscribers_see_the_committed_pair() {
        let cell = cell(json!("a"));
        let mut rx = cell.subscribe();
        replace(&cell, None, json!("b")).unwrap();
        assert!(rx.has_changed().unwrap());
        let seen = rx.borrow_and_update().clone();
        assert_eq!((seen.revision, &*seen.data), (Revision::new(1), &json!("b")));
    }

    #[derive(Serialize, Deserialize)]
    struct Settings {
        theme: String,
        #[serde(default)]
        zoom: u8,
    }

    #[test]
    fn typed_validation_names_the_failing_field() {
        let cell = TopicCell::new("s".into(), json!({"theme": "x"}), Revision::ZERO, Schema::of::<Settings>());
        let err = cell.validate(json!({"theme": "dark", "zoom": "big"})).unwrap_err();
        match &err {
            Error::Validation { path, .. } => assert_eq!(path, "zoom"),
            other => panic!("expected validation error, got {other}"),
        }
        assert!(err.to_string().contains("zoom"), "{err}");
    }

    #[derive(Serialize, Deserialize)]
    struct List {
        items: Vec<Settings>,
    }

    #[test]
    fn an_unknown_key_inside_a_list_is_named_like_other_paths() {
        let cell = TopicCell::new("l".into(), json!({"items": []}), Revision::ZERO, Schema::of::<List>());
        let err = cell
            .validate(json!({"items": [{"theme": "a"}, {"theme": "b", "colour": "red"}]}))
            .unwrap_err();
        match &err {
            Error::Validation { path, reason, .. } => {
                assert_eq!(path, "items[1].colour");
                assert_eq!(reason, "unknown key `colour`: the type has no such field");
            }
            other => panic!("expected validation error, got {other}"),
        }
    }

    #[test]
    fn loading_drops_keys_the_type_no_longer_has() {
        let schema = Schema::of::<Settings>().unwrap();
        let (stored, exact) = schema
            .validate("s", json!({"theme": "dark", "zoom": 1, "retired": true}), Unknown::Drop)
            .unwrap();
        assert_eq!(stored, json!({"theme": "dark", "zoom": 1}));
        assert!(!exact);
    }

    #[test]
    fn typed_validation_normalizes_through_the_type() {
        let cell = TopicCell::new("s".into(), json!({"theme": "x"}), Revision::ZERO, Schema::of::<Settings>());
        let (stored, exact) = cell.validate(json!({"theme": "dark"})).unwrap();
        assert_eq!(stored, json!({"theme": "dark", "zoom": 0}));
        assert!(!exact);
        let (_, exact) = cell.validate(json!({"theme": "dark", "zoom": 2})).unwrap();
        assert!(exact);
    }
}
