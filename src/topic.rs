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
//! * **Notification follows the lock.** Watch receivers are woken after the
//!   lock is released, and the caller emits the invalidation event after the
//!   commit returns. Under concurrent writers, events of one topic may
//!   therefore be emitted out of revision order; windows apply a snapshot only
//!   when it is newer, so this is harmless.
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
//! Lock order: the channel's lock, then the history's mutex. The history is
//! locked alone only to read or change its limits.

use std::{
    any::TypeId,
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

/// What a write proposes to store, computed from the snapshot it read.
pub(crate) struct Proposal {
    /// The data to store.
    pub(crate) data: Arc<Value>,
    /// Whether `data` is what the writer itself would compute; see [`WriteOutcome::exact`].
    pub(crate) exact: bool,
    /// When the writer knows them, exactly the operations that take the
    /// snapshot it read to `data`: empty when `data` equals it. Otherwise
    /// the cell compares the two and diffs them.
    pub(crate) ops: Option<Vec<PatchOperation>>,
}

impl Proposal {
    /// A proposal of `data`, whose change from the snapshot read the cell works out.
    pub(crate) fn new(data: Arc<Value>, exact: bool) -> Self {
        Proposal { data, exact, ops: None }
    }
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
            closed: AtomicBool::new(false),
        }
    }

    /// This cell, keeping its history within `limits`.
    pub(crate) fn with_history(self, limits: HistoryLimits) -> Self {
        self.set_history_limits(limits);
        self
    }

    fn history(&self) -> MutexGuard<'_, History> {
        // Every change to a history completes without panicking or leaves it
        // as it was, so a poisoned one is still consistent.
        self.history.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
    ///
    /// `propose` may run more than once when a blind write (`expected` is
    /// `None`) races with another writer, like `AtomicU64::fetch_update`.
    pub(crate) fn write(
        &self,
        expected: Option<Revision>,
        mut propose: impl FnMut(&Snapshot) -> Result<Proposal>,
    ) -> Result<WriteOutcome> {
        loop {
            let current = self.snapshot();
            if let Some(expected) = expected {
                if expected != current.revision {
                    return Err(self.conflict(expected, current));
                }
            }
            let Proposal { data, exact, ops } = propose(&current)?;
            let unchanged = WriteOutcome {
                revision: current.revision,
                previous_revision: current.revision,
                exact,
            };
            let limits = self.history().limits();
            // The operations, when the history may keep them: a diff that
            // finds none is the no-op check, so the values are walked once.
            let ops = match ops {
                Some(ops) if ops.is_empty() => return Ok(unchanged),
                None if Arc::ptr_eq(&data, &current.data) => return Ok(unchanged),
                Some(ops) => Some(ops),
                None if limits.changes() > 0 => match delta::from_diff(&current.data, &data) {
                    ops if ops.is_empty() => return Ok(unchanged),
                    ops => Some(ops),
                },
                None if *data == *current.data => return Ok(unchanged),
                None => None,
            };
            let patch = ops.and_then(|ops| patch_to_keep(limits, ops, &data));
            match self.commit(current.revision, data, patch)? {
                Ok(revision) => {
                    return Ok(WriteOutcome {
                        revision,
                        previous_revision: current.revision,
                        exact,
                    })
                }
                Err(_) => {
                    if let Some(expected) = expected {
                        // Read again: the conflict carries a revision with its data.
                        return Err(self.conflict(expected, self.snapshot()));
                    }
                }
            }
        }
    }

    /// Stores `data` at the next revision if the topic is still at `base`,
    /// and records `patch` (or, when `None`, a break) in the history.
    ///
    /// Returns `Ok(Err(current))` when another write got there first. The
    /// replaced data is dropped after the lock is released.
    fn commit(&self, base: Revision, data: Arc<Value>, patch: Option<JsonPatch>) -> Result<Result<Revision, Revision>> {
        let mut outcome = Ok(Err(base));
        let mut replaced = None;
        let mut patch = patch;
        self.state.send_if_modified(|snapshot| {
            if self.closed.load(Ordering::Relaxed) {
                outcome = Err(Error::UnknownTopic {
                    topic: self.name.to_string(),
                });
                return false;
            }
            if snapshot.revision != base {
                outcome = Ok(Err(snapshot.revision));
                return false;
            }
            let Some(next) = snapshot.revision.next() else {
                outcome = Err(Error::RevisionExhausted {
                    topic: self.name.to_string(),
                });
                return false;
            };
            replaced = Some(std::mem::replace(&mut snapshot.data, data));
            snapshot.revision = next;
            self.history().record(next, patch.take());
            outcome = Ok(Ok(next));
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

/// The patch of `ops`, which produce `data`, if `limits` keep it. Runs
/// outside the lock, once per attempt.
fn patch_to_keep(limits: HistoryLimits, ops: Vec<PatchOperation>, data: &Value) -> Option<JsonPatch> {
    // A patch past the byte bound is never kept: counted, not written out.
    if json_size::at_least(&ops, limits.bytes().saturating_add(1)) {
        return None;
    }
    let patch = delta::serialize(&ops);
    limits.admits(patch.len(), data).then_some(patch)
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
        cell.write(expected, |_| Ok(Proposal::new(data.clone(), true)))
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
            .write(None, |snapshot| {
                calls += 1;
                if calls == 1 {
                    // Another writer commits between our read and our commit.
                    replace(&cell, None, json!(10)).unwrap();
                }
                let n = snapshot.data.as_i64().unwrap();
                Ok(Proposal::new(Arc::new(json!(n + 1)), true))
            })
            .unwrap();
        assert_eq!(calls, 2);
        assert_eq!(*cell.snapshot().data, json!(11));
        assert_eq!(outcome.previous_revision, Revision::new(1));
        assert_eq!(outcome.revision, Revision::new(2));
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
