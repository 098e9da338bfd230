//! The set of topics, by name.
//!
//! Lock order: the registry lock is held only to look up, insert or remove a
//! topic, and is released before any topic is read or written, except that
//! `remove` closes the topic's cell (taking its lock briefly) inside it. No
//! code path takes the registry lock while holding a topic's lock.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use serde_json::Value;

use crate::{
    models::{Snapshot, TopicInfo},
    history::HistoryLimits,
    persistence::saver::PersistedTopic,
    topic::{Schema, TopicCell},
    Error, Result, Revision,
};

/// The longest topic name accepted, in bytes.
pub const MAX_TOPIC_LEN: usize = 128;

/// Checks that `name` is a valid topic name: 1 to 128 characters from `[A-Za-z0-9_.:/-]`.
pub fn validate_topic_name(name: &str) -> Result<()> {
    let invalid = |reason| {
        Err(Error::InvalidTopic {
            topic: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return invalid("a topic name must not be empty");
    }
    if name.len() > MAX_TOPIC_LEN {
        return invalid("a topic name must be at most 128 bytes long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.:/-".contains(&b))
    {
        return invalid("a topic name may contain only A-Z, a-z, 0-9 and _ . : / -");
    }
    Ok(())
}

/// The error for a name that is not a live topic: malformed, or unknown.
fn missing(name: &str) -> Error {
    match validate_topic_name(name) {
        Err(invalid) => invalid,
        Ok(()) => Error::UnknownTopic {
            topic: name.to_owned(),
        },
    }
}

#[derive(Default)]
struct Topics {
    live: HashMap<Arc<str>, Arc<TopicCell>>,
    /// The last revision of each removed topic, so that a topic registered
    /// again under the same name continues after it instead of reusing it.
    retired: HashMap<Arc<str>, Revision>,
}

#[derive(Default)]
pub(crate) struct Registry {
    topics: RwLock<Topics>,
}

impl Registry {
    fn read(&self) -> RwLockReadGuard<'_, Topics> {
        // A panic while holding this lock cannot leave the maps half-updated:
        // every mutation is a single insert or remove.
        self.topics.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Topics> {
        self.topics.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn get(&self, name: &str) -> Result<Arc<TopicCell>> {
        match self.read().live.get(name) {
            Some(cell) => Ok(cell.clone()),
            None => Err(missing(name)),
        }
    }

    /// Registers a topic whose first revision is at least `revision`, saved
    /// to `persisted` when given, with a fresh history within `history`, and
    /// returns its first snapshot and its cell.
    ///
    /// A name that was removed before continues after its last revision.
    pub(crate) fn insert(
        &self,
        name: &str,
        data: Value,
        revision: Revision,
        schema: Option<Schema>,
        persisted: Option<Arc<PersistedTopic>>,
        history: HistoryLimits,
    ) -> Result<(Snapshot, Arc<TopicCell>)> {
        validate_topic_name(name)?;
        let mut topics = self.write();
        if topics.live.contains_key(name) {
            return Err(Error::TopicExists {
                topic: name.to_owned(),
            });
        }
        let revision = match topics.retired.get(name) {
            Some(last) => {
                let after = last.next().ok_or_else(|| Error::RevisionExhausted {
                    topic: name.to_owned(),
                })?;
                revision.max(after)
            }
            None => revision,
        };
        let name: Arc<str> = name.into();
        let cell = TopicCell::new(name.clone(), data, revision, schema)
            .persisted_to(persisted)
            .with_history(history);
        let cell = Arc::new(cell);
        let first = cell.snapshot();
        topics.retired.remove(&name);
        topics.live.insert(name, cell.clone());
        Ok((first, cell))
    }

    /// Removes a topic and returns its last snapshot and its cell.
    pub(crate) fn remove(&self, name: &str) -> Result<(Snapshot, Arc<TopicCell>)> {
        let mut topics = self.write();
        let Some((name, cell)) = topics.live.remove_entry(name) else {
            return Err(missing(name));
        };
        // Closing under the registry lock: a writer still holding the cell
        // cannot commit past `last`, and the name is retired at `last`
        // before anyone can register it again.
        let last = cell.close();
        topics.retired.insert(name, last.revision);
        Ok((last, cell))
    }

    /// Every live topic.
    pub(crate) fn cells(&self) -> Vec<Arc<TopicCell>> {
        self.read().live.values().cloned().collect()
    }

    /// Every live topic with its revision, sorted by name.
    pub(crate) fn list(&self) -> Vec<TopicInfo> {
        let cells = self.cells();
        let mut infos: Vec<TopicInfo> = cells
            .iter()
            .map(|cell| TopicInfo {
                topic: cell.name().to_owned(),
                revision: cell.snapshot().revision,
            })
            .collect();
        infos.sort_by(|a, b| a.topic.cmp(&b.topic));
        infos
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::topic::Proposal;

    #[test]
    fn topic_names_are_checked() {
        for good in ["settings", "app.todos", "user/42:prefs", "a-b_c"] {
            validate_topic_name(good).unwrap();
        }
        for bad in ["", " ", "with space", "emoji🙂", &"x".repeat(129)] {
            assert_eq!(validate_topic_name(bad).unwrap_err().code(), "INVALID_TOPIC", "{bad:?}");
        }
    }

    #[test]
    fn unknown_and_malformed_names_get_distinct_errors() {
        let registry = Registry::default();
        assert_eq!(registry.get("missing").unwrap_err().code(), "UNKNOWN_TOPIC");
        assert_eq!(registry.get("").unwrap_err().code(), "INVALID_TOPIC");
        assert_eq!(registry.remove("missing").unwrap_err().code(), "UNKNOWN_TOPIC");
        assert_eq!(registry.remove("a b").unwrap_err().code(), "INVALID_TOPIC");
    }

    #[test]
    fn registering_a_taken_name_fails_and_keeps_the_first_topic() {
        let registry = Registry::default();
        registry.insert("t", json!(1), Revision::ZERO, None, None, HistoryLimits::new()).unwrap();
        assert_eq!(
            registry.insert("t", json!(2), Revision::ZERO, None, None, HistoryLimits::new()).unwrap_err().code(),
            "TOPIC_EXISTS"
        );
        assert_eq!(*registry.get("t").unwrap().snapshot().data, json!(1));
    }

    #[test]
    fn a_topic_registered_again_after_removal_never_reuses_a_revision() {
        let registry = Registry::default();
        registry.insert("t", json!("old"), Revision::new(7), None, None, HistoryLimits::new()).unwrap();
        let (last, _) = registry.remove("t").unwrap();
        assert_eq!(last.revision, Revision::new(7));
        assert_eq!(registry.get("t").unwrap_err().code(), "UNKNOWN_TOPIC");
        let again = registry.insert("t", json!("new"), Revision::ZERO, None, None, HistoryLimits::new()).unwrap();
        assert_eq!(again.0.revision, Revision::new(8));
    }

    /// Issue 11, item 2: a write that looked the topic up before `remove`
    /// committed after it, and the topic registered again then started at
    /// the revision that write had used for other data.
    #[test]
    fn a_write_that_looked_the_topic_up_before_remove_cannot_commit_after_it() {
        let registry = Registry::default();
        registry.insert("t", json!("old"), Revision::new(3), None, None, HistoryLimits::new()).unwrap();
        let stale = registry.get("t").unwrap();
        let (last, _) = registry.remove("t").unwrap();
        let late = Arc::new(json!("late"));
        let err = stale
            .write(None, "test", 0, |_| Ok(Proposal::new(late.clone(), true)))
            .unwrap_err();
        assert_eq!(err.code(), "UNKNOWN_TOPIC");
        assert_eq!(stale.snapshot(), last, "the removed cell kept its last snapshot");
        let again = registry.insert("t", json!("new"), Revision::ZERO, None, None, HistoryLimits::new()).unwrap();
        assert_eq!(again.0.revision, Revision::new(4));
    }

    #[test]
    fn list_is_sorted_by_name() {
        let registry = Registry::default();
        for name in ["b", "c", "a"] {
            registry.insert(name, json!(null), Revision::ZERO, None, None, HistoryLimits::new()).unwrap();
        }
        let names: Vec<_> = registry.list().into_iter().map(|i| i.topic).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }
}
