//! The types that cross IPC. `guest-js/src/protocol.ts` mirrors them one for
//! one, and both sides test against `docs/protocol-vectors.json`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{value::RawValue, Value};

use crate::{PersistenceError, Revision};

/// The name of the event emitted after every change to a topic.
pub const INVALIDATION_EVENT: &str = "state-sync://invalidate";

/// The `sourceId` of changes made from Rust.
///
/// Webview labels cannot contain `@`, so this never collides with a window.
pub const RUST_SOURCE_ID: &str = "@rust";

/// A topic's data together with the revision it has at that data.
///
/// Serialized as `{ "revision": "42", "data": ... }`, the shape of
/// `@statesync/core`'s `SnapshotEnvelope`.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    /// The revision of `data`.
    pub revision: Revision,
    /// The topic's data, shared rather than copied.
    #[cfg_attr(feature = "typescript", ts(type = "unknown"))]
    pub data: Arc<Value>,
}

/// An RFC 6902 JSON Patch, kept as its compact JSON text: an array of
/// operations, each `{ "op": "add" | "replace", "path", "value" }` or
/// `{ "op": "remove", "path" }`, where `path` is a JSON Pointer (`""` is the
/// whole value).
///
/// Serialized as that array. The text is shared, not copied, between the
/// topic's history and every answer that carries it. To work on the
/// operations, parse [`as_str`](Self::as_str) (for example into
/// `json_patch::Patch`).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[cfg_attr(
    feature = "typescript",
    ts(type = "Array<{ op: \"add\" | \"replace\", path: string, value: unknown } | { op: \"remove\", path: string }>")
)]
#[derive(Clone, Debug, Serialize)]
pub struct JsonPatch(Arc<RawValue>);

impl JsonPatch {
    pub(crate) fn from_raw(raw: Box<RawValue>) -> Self {
        JsonPatch(raw.into())
    }

    /// The patch as compact JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The length of that text in bytes.
    pub fn len(&self) -> usize {
        self.as_str().len()
    }

    /// Whether the patch has no operations: the data did not change.
    pub fn is_empty(&self) -> bool {
        self.as_str() == "[]"
    }

    /// Whether the patch is one operation that replaces the whole value, as
    /// the plugin writes it (compact JSON, members in this order).
    pub(crate) fn replaces_whole(&self) -> bool {
        self.as_str().starts_with(r#"[{"op":"replace","path":"","value":"#) && !self.as_str().contains(r#"},{"op":"#)
    }
}

impl PartialEq for JsonPatch {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for JsonPatch {}

/// The change of a topic from revision `from` to `revision`: applying
/// `patch` to the data at `from` gives the data at `revision`.
///
/// Serialized as `{ "revision": "42", "from": "40", "patch": [...] }`.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delta {
    /// The revision the patch leads to: the topic's current revision when read.
    pub revision: Revision,
    /// The revision the patch applies to.
    pub from: Revision,
    /// The operations, in order. Empty when `from` equals `revision`.
    pub patch: JsonPatch,
}

/// The answer to a pull with `since`: the change from `since` when the
/// topic's history reaches back to it, otherwise the full snapshot.
///
/// Serialized as a [`Delta`] or as a [`Snapshot`]; the one with `data` is the
/// snapshot. See [`crate::StateSync::get_since`].
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum CatchUp {
    /// The change since the revision asked for.
    Delta(Delta),
    /// The data, when no delta from the revision asked for can be given.
    Snapshot(Snapshot),
}

impl CatchUp {
    /// The revision the answer brings its reader to.
    pub fn revision(&self) -> Revision {
        match self {
            CatchUp::Delta(delta) => delta.revision,
            CatchUp::Snapshot(snapshot) => snapshot.revision,
        }
    }
}

/// One entry of the `snapshots` command with `since`: a [`CatchUp`] tagged
/// with its topic.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopicCatchUp {
    /// The topic's name.
    pub topic: String,
    /// Its delta or its snapshot.
    #[serde(flatten)]
    pub catch_up: CatchUp,
}

/// One entry of the `snapshots` command: a snapshot tagged with its topic.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopicSnapshot {
    /// The topic's name.
    pub topic: String,
    /// The topic's revision and data, read together.
    #[serde(flatten)]
    pub snapshot: Snapshot,
}

/// A topic's name and current revision, as listed by the `topics` command.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicInfo {
    /// The topic's name.
    pub topic: String,
    /// Its current revision.
    pub revision: Revision,
}

/// The payload of [`INVALIDATION_EVENT`]: "topic changed, pull if you are behind".
///
/// It carries no data: its shape is `@statesync/core`'s `InvalidationEvent`.
/// On a subscription channel the same announcement may also carry the change
/// itself; see [`PushedInvalidation`].
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invalidation {
    /// The topic that changed.
    pub topic: String,
    /// The revision it changed to.
    pub revision: Revision,
    /// Who made the change: the label of the writing webview, or [`RUST_SOURCE_ID`].
    pub source_id: String,
}

impl Invalidation {
    /// The invalidation of `topic` at `revision` by `source_id`.
    pub fn new(topic: impl Into<String>, revision: Revision, source_id: impl Into<String>) -> Self {
        Invalidation {
            topic: topic.into(),
            revision,
            source_id: source_id.into(),
        }
    }
}

/// A change pushed with its announcement: applying `patch` to the topic's
/// data at `from` gives its data at the announced revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PushedChange {
    /// The revision the patch applies to: the one before the announced one.
    pub from: Revision,
    /// The change, an RFC 6902 JSON Patch.
    pub patch: JsonPatch,
}

/// An [`Invalidation`] as a subscription channel carries it: for a small
/// change (see [`crate::Builder::push_limit`]) also the change itself.
///
/// Serialized as the invalidation's fields, plus `from` and `patch` when
/// [`change`](Self::change) is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PushedInvalidation {
    /// The announcement.
    #[serde(flatten)]
    pub invalidation: Invalidation,
    /// The change, when it was pushed.
    #[serde(flatten)]
    pub change: Option<PushedChange>,
}

/// One message on a webview's subscription channel (see the `subscribe`
/// command), tagged by `type`.
///
/// `{ "type": "invalidate", "topic": ..., "revision": ..., "sourceId": ... }`
/// (with `from` and `patch` for a pushed change) or
/// `{ "type": "persistenceError", "topic": ..., "kind": ..., ... }`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ChannelMessage {
    /// The subscribed topic changed: the payload of [`INVALIDATION_EVENT`],
    /// and the change itself when it is small.
    Invalidate(PushedInvalidation),
    /// The subscribed topic could not be loaded or saved.
    PersistenceError(PersistenceError),
}

/// What a write did.
///
/// A window that knows the data at `previous_revision` and sent a write with
/// `exact == true` can compute the new data itself and skip the fetch.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteOutcome {
    /// The topic's revision after the write. Equal to `previous_revision`
    /// when the write changed nothing.
    pub revision: Revision,
    /// The revision the write was applied on top of.
    pub previous_revision: Revision,
    /// `true` when the stored data is exactly what the writer sent (for
    /// `set`) or the RFC 7396 merge of the patch onto the data at
    /// `previous_revision` (for `patch`). `false` when a typed topic
    /// normalized it, for example by filling in defaults.
    pub exact: bool,
}

impl WriteOutcome {
    /// Whether the write changed the topic.
    pub fn changed(&self) -> bool {
        self.revision != self.previous_revision
    }
}

/// What an action did: the usual [`WriteOutcome`], plus the data it left.
///
/// The caller cannot compute the result of an action, so the outcome carries
/// it: the topic's data at `revision`, read together with it. A window
/// applies it as a snapshot, through its revision gate, instead of fetching.
///
/// Serialized as `{ "revision", "previousRevision", "exact", "data" }`;
/// `data` is left out for a window that may not read the topic.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActionOutcome {
    /// The revisions before and after. `exact` is `false` when a typed topic
    /// normalized what an untyped action returned.
    #[serde(flatten)]
    pub outcome: WriteOutcome,
    /// The topic's data at `outcome.revision`. Always present from the Rust
    /// API; `None` only in an answer to a window that may not read the topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional, type = "unknown"))]
    pub data: Option<Arc<Value>>,
}

/// What a `patch` from a window did: the usual [`WriteOutcome`], plus the
/// change as windows are sent it.
///
/// Serialized as `{ "revision", "previousRevision", "exact", "patch" }`.
/// `patch` is exactly what the change's channel message carries: applying it
/// to the data at `previous_revision` yields the data at `revision`. So the
/// writing window, at `previous_revision`, applies it as it would the pushed
/// change, and needs neither a fetch nor a merge of its own. It is left out
/// when the message carries none (a change past the push limit, or a write
/// that changed nothing); the window then fetches.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct PatchOutcome {
    /// The revisions before and after, as for every write.
    #[serde(flatten)]
    pub outcome: WriteOutcome,
    /// The change's RFC 6902 patch, as pushed to windows.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub patch: Option<JsonPatch>,
}

/// Who makes a change, as reported in [`Invalidation::source_id`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Rust,
    Webview(String),
}

impl Source {
    pub(crate) fn id(&self) -> &str {
        match self {
            Source::Rust => RUST_SOURCE_ID,
            Source::Webview(label) => label,
        }
    }
}
