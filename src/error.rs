//! The one error type of the plugin, and its stable JSON form for windows.
//!
//! Every error reaches JavaScript as `{ code, message, ...details }`. `code` is
//! one of the strings returned by [`Error::code`] and never changes meaning;
//! `message` is for people; the details are named per variant below.

use std::sync::Arc;

use serde::{ser::SerializeMap, Serialize, Serializer};
use serde_json::Value;

use crate::{scope::Access, Revision};

/// A `Result` whose error defaults to the plugin's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a state-sync operation.
///
/// A failed operation never changes a topic's data or revision.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No topic with this name is registered. Windows cannot create topics.
    #[error("unknown topic `{topic}`")]
    UnknownTopic {
        /// The name that was asked for.
        topic: String,
    },
    /// The topic name is empty, too long or contains characters outside `[A-Za-z0-9_.:/-]`.
    #[error("invalid topic name {topic:?}: {reason}")]
    InvalidTopic {
        /// The rejected name.
        topic: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A topic with this name is already registered.
    #[error("topic `{topic}` is already registered")]
    TopicExists {
        /// The name that is taken.
        topic: String,
    },
    /// A compare-and-set write expected a revision the topic is no longer at.
    ///
    /// It carries the topic's data at `current`, so that the writer can
    /// recompute its change and retry at once without fetching. Windows
    /// receive that data only if they are allowed to read the topic.
    #[error(
        "revision conflict on `{topic}`: expected revision {expected}, the topic is at {current}"
    )]
    Conflict {
        /// The topic written to.
        topic: String,
        /// The revision the writer based its change on.
        expected: Revision,
        /// The topic's revision when the write was refused.
        current: Revision,
        /// The topic's data at `current`, read together with it; `None` once
        /// withheld from a window that may not read the topic.
        data: Option<Arc<Value>>,
    },
    /// A revision argument is not a canonical decimal `u64` string.
    #[error("invalid revision {value}: {reason}")]
    InvalidRevision {
        /// The rejected value, as JSON.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A command argument is missing, unknown or of the wrong type.
    #[error("invalid argument{}: {reason}", argument.as_deref().map(|a| format!(" `{a}`")).unwrap_or_default())]
    InvalidArgument {
        /// The path of the offending argument, when known.
        argument: Option<String>,
        /// What is wrong with it.
        reason: String,
    },
    /// A merge patch or a JSON Patch cannot be applied to the topic.
    #[error("invalid patch for `{topic}`: {reason}")]
    InvalidPatch {
        /// The topic patched.
        topic: String,
        /// Why the patch cannot apply: for a JSON Patch, which operation
        /// failed and why.
        reason: String,
    },
    /// Data written to a typed topic does not deserialize into its type.
    #[error("data for `{topic}` does not fit `{type_name}` at `{path}`: {reason}")]
    Validation {
        /// The topic written to.
        topic: String,
        /// The Rust type of the topic.
        type_name: &'static str,
        /// Where in the data the mismatch is, such as `theme` or `items[2].done` (`.` for the root).
        path: String,
        /// The deserializer's description of the mismatch.
        reason: String,
    },
    /// A write from a window is larger than the configured limit.
    #[error("payload of {size} bytes exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The serialized size of the payload.
        size: usize,
        /// The configured limit, see [`crate::Builder::max_payload_bytes`].
        limit: usize,
    },
    /// Data nests arrays and objects deeper than [`crate::MAX_DEPTH`] levels.
    /// Refused at every way in, so that what is stored can always be saved
    /// and parsed back.
    #[error("data nests deeper than the limit of {limit} levels of arrays and objects")]
    TooDeep {
        /// The limit, [`crate::MAX_DEPTH`].
        limit: usize,
    },
    /// The topic has reached revision `u64::MAX` and cannot change any more.
    #[error("topic `{topic}` has exhausted its revisions")]
    RevisionExhausted {
        /// The topic concerned.
        topic: String,
    },
    /// The topic has no action of this name.
    #[error("topic `{topic}` has no action `{action}`")]
    UnknownAction {
        /// The topic concerned.
        topic: String,
        /// The action asked for.
        action: String,
    },
    /// An action of this name is already registered on the topic.
    #[error("topic `{topic}` already has an action `{action}`")]
    ActionExists {
        /// The topic concerned.
        topic: String,
        /// The name that is taken.
        action: String,
    },
    /// An action refused to change its topic: its closure returned an [`ActionError`].
    #[error("action `{action}` on `{topic}` failed: {reason}")]
    ActionFailed {
        /// The topic concerned.
        topic: String,
        /// The action that failed.
        action: String,
        /// The reason the closure gave.
        reason: String,
    },
    /// An action's closure panicked. The panic was caught; the topic is
    /// unchanged and stays usable.
    #[error("action `{action}` on `{topic}` panicked: {reason}")]
    ActionPanicked {
        /// The topic concerned.
        topic: String,
        /// The action that panicked.
        action: String,
        /// The panic message, when it was a string.
        reason: String,
    },
    /// A typed handle was requested with a type other than the topic's.
    #[error("topic `{topic}` holds `{actual}`, not `{requested}`")]
    TypeMismatch {
        /// The topic concerned.
        topic: String,
        /// The type the topic was registered with, or `serde_json::Value` for an untyped topic.
        actual: &'static str,
        /// The type that was asked for.
        requested: &'static str,
    },
    /// The calling window's capabilities do not let it read (or write) this
    /// topic. The answer is the same whether or not the topic exists.
    #[error("{} of topic `{topic}` is not allowed for this window", match access { Access::Read => "reading", Access::Write => "writing" })]
    TopicForbidden {
        /// The topic that was refused.
        topic: String,
        /// What was refused.
        access: Access,
    },
    /// An `allow` or `deny` entry of a state-sync scope in a capability is
    /// malformed, so no access can be decided from it.
    #[error("invalid state-sync scope entry {pattern}: {reason}")]
    InvalidScope {
        /// The entry as written in the capability.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A persisted topic could not be saved, or persistence could not be
    /// set up. Data in memory is intact; a failed save is retried on the next
    /// change and at exit.
    #[error("persistence failed{}: {message}", topic.as_deref().map(|t| format!(" for `{t}`")).unwrap_or_default())]
    Persistence {
        /// The topic concerned, when the failure is about one topic.
        topic: Option<String>,
        /// What went wrong.
        message: String,
    },
    /// The TypeScript declarations of the topics could not be generated or
    /// written (`typescript` feature only; windows never see it).
    #[error("cannot export the TypeScript types: {message}")]
    TypeExport {
        /// What went wrong.
        message: String,
    },
    /// A Rust value could not be turned into JSON or back.
    #[error("serialization failed: {0}")]
    Serialization(#[from] serde_json::Error),
}

impl Error {
    /// The stable, machine-readable code of this error, as sent to windows.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnknownTopic { .. } => "UNKNOWN_TOPIC",
            Error::InvalidTopic { .. } => "INVALID_TOPIC",
            Error::TopicExists { .. } => "TOPIC_EXISTS",
            Error::Conflict { .. } => "REVISION_CONFLICT",
            Error::InvalidRevision { .. } => "INVALID_REVISION",
            Error::InvalidArgument { .. } => "INVALID_ARGUMENT",
            Error::InvalidPatch { .. } => "INVALID_PATCH",
            Error::Validation { .. } => "VALIDATION_FAILED",
            Error::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Error::TooDeep { .. } => "TOO_DEEP",
            Error::RevisionExhausted { .. } => "REVISION_EXHAUSTED",
            Error::TypeMismatch { .. } => "TYPE_MISMATCH",
            Error::TopicForbidden { .. } => "TOPIC_FORBIDDEN",
            Error::InvalidScope { .. } => "INVALID_SCOPE",
            Error::UnknownAction { .. } => "UNKNOWN_ACTION",
            Error::ActionExists { .. } => "ACTION_EXISTS",
            Error::ActionFailed { .. } => "ACTION_FAILED",
            Error::ActionPanicked { .. } => "ACTION_PANICKED",
            Error::Persistence { .. } => "PERSISTENCE_FAILED",
            Error::TypeExport { .. } => "TYPE_EXPORT_FAILED",
            Error::Serialization(_) => "SERIALIZATION",
        }
    }

    /// This error without the topic data a conflict carries, for a window
    /// that may not read the topic.
    pub(crate) fn without_data(self) -> Self {
        match self {
            Error::Conflict {
                topic,
                expected,
                current,
                ..
            } => Error::Conflict {
                topic,
                expected,
                current,
                data: None,
            },
            other => other,
        }
    }

    /// One error of every variant, in declaration order: the source of the
    /// error codes listed in the generated TypeScript (`typescript` feature)
    /// and of the test that codes are distinct.
    #[cfg_attr(not(any(test, feature = "typescript")), allow(dead_code))]
    pub(crate) fn samples() -> Vec<Error> {
        let topic = String::new;
        let samples = vec![
            Error::UnknownTopic { topic: topic() },
            Error::InvalidTopic {
                topic: topic(),
                reason: "",
            },
            Error::TopicExists { topic: topic() },
            Error::Conflict {
                topic: topic(),
                expected: Revision::ZERO,
                current: Revision::ZERO,
                data: None,
            },
            Error::InvalidRevision {
                value: String::new(),
                reason: "",
            },
            Error::InvalidArgument {
                argument: None,
                reason: String::new(),
            },
            Error::InvalidPatch {
                topic: topic(),
                reason: String::new(),
            },
            Error::Validation {
                topic: topic(),
                type_name: "",
                path: String::new(),
                reason: String::new(),
            },
            Error::PayloadTooLarge { size: 0, limit: 0 },
            Error::TooDeep { limit: 0 },
            Error::RevisionExhausted { topic: topic() },
            Error::UnknownAction {
                topic: topic(),
                action: String::new(),
            },
            Error::ActionExists {
                topic: topic(),
                action: String::new(),
            },
            Error::ActionFailed {
                topic: topic(),
                action: String::new(),
                reason: String::new(),
            },
            Error::ActionPanicked {
                topic: topic(),
                action: String::new(),
                reason: String::new(),
            },
            Error::TypeMismatch {
                topic: topic(),
                actual: "",
                requested: "",
            },
            Error::TopicForbidden {
                topic: topic(),
                access: Access::Read,
            },
            Error::InvalidScope {
                pattern: String::new(),
                reason: String::new(),
            },
            Error::Persistence {
                topic: None,
                message: String::new(),
            },
            Error::TypeExport {
                message: String::new(),
            },
            Error::Serialization(serde_json::from_str::<()>("").unwrap_err()),
        ];
        // A new variant makes this match fail to compile: add a sample of it
        // to the list above, then name it here.
        for sample in &samples {
            match sample {
                Error::UnknownTopic { .. }
                | Error::InvalidTopic { .. }
                | Error::TopicExists { .. }
                | Error::Conflict { .. }
                | Error::InvalidRevision { .. }
                | Error::InvalidArgument { .. }
                | Error::InvalidPatch { .. }
                | Error::Validation { .. }
                | Error::PayloadTooLarge { .. }
                | Error::TooDeep { .. }
                | Error::RevisionExhausted { .. }
                | Error::UnknownAction { .. }
                | Error::ActionExists { .. }
                | Error::ActionFailed { .. }
                | Error::ActionPanicked { .. }
                | Error::TypeMismatch { .. }
                | Error::Persistence { .. }
                | Error::TopicForbidden { .. }
                | Error::InvalidScope { .. }
                | Error::TypeExport { .. }
                | Error::Serialization(_) => {}
            }
        }
        samples
    }

    pub(crate) fn invalid_argument(argument: Option<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            argument,
            reason: reason.into(),
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("code", self.code())?;
        map.serialize_entry("message", &self.to_string())?;
        match self {
            Error::UnknownTopic { topic }
            | Error::InvalidTopic { topic, .. }
            | Error::TopicExists { topic }
            | Error::InvalidPatch { topic, .. }
            | Error::RevisionExhausted { topic }
            | Error::TypeMismatch { topic, .. } => map.serialize_entry("topic", topic)?,
            Error::Conflict {
                topic,
                expected,
                current,
                data,
            } => {
                map.serialize_entry("topic", topic)?;
                map.serialize_entry("expectedRevision", expected)?;
                map.serialize_entry("currentRevision", current)?;
                if let Some(data) = data {
                    map.serialize_entry("currentData", data)?;
                }
            }
            Error::UnknownAction { topic, action }
            | Error::ActionExists { topic, action }
            | Error::ActionFailed { topic, action, .. }
            | Error::ActionPanicked { topic, action, .. } => {
                map.serialize_entry("topic", topic)?;
                map.serialize_entry("action", action)?;
            }
            Error::InvalidRevision { value, .. } => map.serialize_entry("value", value)?,
            Error::InvalidArgument { argument, .. } => {
                if let Some(argument) = argument {
                    map.serialize_entry("argument", argument)?;
                }
            }
            Error::Validation { topic, path, .. } => {
                map.serialize_entry("topic", topic)?;
                map.serialize_entry("path", path)?;
            }
            Error::PayloadTooLarge { size, limit } => {
                map.serialize_entry("size", size)?;
                map.serialize_entry("limit", limit)?;
            }
            Error::TooDeep { limit } => map.serialize_entry("limit", limit)?,
            Error::TopicForbidden { topic, access } => {
                map.serialize_entry("topic", topic)?;
                map.serialize_entry("access", access.as_str())?;
            }
            Error::InvalidScope { pattern, .. } => map.serialize_entry("pattern", pattern)?,
            Error::Persistence { topic, .. } => {
                if let Some(topic) = topic {
                    map.serialize_entry("topic", topic)?;
                }
            }
            Error::TypeExport { .. } | Error::Serialization(_) => {}
        }
        map.end()
    }
}

/// Why an action refused to change its topic.
///
/// An action's closure returns it to leave the topic unchanged; the caller
/// receives [`Error::ActionFailed`] (code `ACTION_FAILED`) with this reason.
///
/// # Examples
///
/// ```
/// use tauri_plugin_state_sync::ActionError;
///
/// fn take(stock: u32, wanted: u32) -> Result<u32, ActionError> {
///     stock.checked_sub(wanted).ok_or_else(|| ActionError::new(format!("only {stock} left")))
/// }
/// assert_eq!(take(1, 2).unwrap_err().reason(), "only 1 left");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionError {
    reason: String,
}

impl ActionError {
    /// A refusal with this reason, meant for people.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// The reason given.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl std::fmt::Display for ActionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ActionError {}

impl From<&str> for ActionError {
    fn from(reason: &str) -> Self {
        Self::new(reason)
    }
}

impl From<String> for ActionError {
    fn from(reason: String) -> Self {
        Self::new(reason)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_variant_has_its_own_code() {
        let samples = Error::samples();
        let codes: BTreeSet<_> = samples.iter().map(Error::code).collect();
        assert_eq!(
            codes.len(),
            samples.len(),
            "two variants share a code: {codes:?}"
        );
    }

    #[test]
    fn every_code_is_screaming_snake_case() {
        for error in Error::samples() {
            let code = error.code();
            assert!(
                code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{code} is not SCREAMING_SNAKE_CASE"
            );
        }
    }
}
