//! The bounded change history of one topic, and the limits that bound it.
//!
//! For each revision `r` it keeps, a topic's history holds the RFC 6902 JSON
//! Patch that takes the data at `r - 1` to the data at `r`. The cell appends
//! to it in the same critical section that bumps the revision (see
//! `topic`), so the history always ends at the topic's current revision and
//! its entries form one unbroken chain. A change that is not kept (its patch
//! is too large, see [`HistoryLimits`]) empties the history: an older
//! revision can no longer be reached through it.
//!
//! A `since` pull (see [`crate::StateSync::get_since`]) reads the entries after
//! `since` and concatenates their patches; a revision the chain does not reach
//! is answered with the full snapshot.

use std::collections::VecDeque;

use serde_json::value::RawValue;

use crate::{models::JsonPatch, Revision};

/// How much change history a topic keeps for `since` pulls: at most
/// [`max_changes`](Self::max_changes) changes whose patches serialize to at
/// most [`max_bytes`](Self::max_bytes) in all, the oldest dropped first, and
/// only changes whose patch is at most
/// [`max_patch_percent`](Self::max_patch_percent) of the data's size.
///
/// The defaults ([`HistoryLimits::new`]) keep up to 256 changes and 256 KiB
/// of patches per topic, and patches up to half the size of the data. A
/// window that reloads or wakes up has usually missed a handful of changes,
/// and a burst of 1,000 writes a second fills 256 in a quarter of a second;
/// a chain of patches longer than the data itself is answered with the data
/// anyway. Set the limits for every topic with
/// [`crate::Builder::history_limits`], for one topic with
/// [`crate::Builder::topic_history_limits`] or at run time with
/// [`crate::StateSync::set_history_limits`].
///
/// # Examples
///
/// ```
/// use tauri_plugin_state_sync::HistoryLimits;
///
/// // A topic that changes often in small steps: keep more, and smaller, patches.
/// let chatty = HistoryLimits::new().max_changes(1_000).max_bytes(64 * 1024).max_patch_percent(10);
/// assert_eq!(chatty.changes(), 1_000);
/// // No history at all: every `since` pull gets the full snapshot.
/// assert_eq!(HistoryLimits::off().changes(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryLimits {
    changes: usize,
    bytes: usize,
    patch_percent: u8,
}

impl Default for HistoryLimits {
    fn default() -> Self {
        Self::new()
    }
}

impl HistoryLimits {
    /// The default limits: 256 changes, 256 KiB of patches, patches up to 50 % of the data.
    pub const fn new() -> Self {
        HistoryLimits {
            changes: 256,
            bytes: 256 * 1024,
            patch_percent: 50,
        }
    }

    /// No history: every `since` pull older than the current revision gets the full snapshot.
    pub const fn off() -> Self {
        HistoryLimits {
            changes: 0,
            bytes: 0,
            patch_percent: 0,
        }
    }

    /// Keeps at most `changes` changes; 0 keeps none.
    #[must_use]
    pub const fn max_changes(mut self, changes: usize) -> Self {
        self.changes = changes;
        self
    }

    /// Keeps at most `bytes` bytes of patches (compact JSON) in all. A single
    /// change larger than that is not kept.
    #[must_use]
    pub const fn max_bytes(mut self, bytes: usize) -> Self {
        self.bytes = bytes;
        self
    }

    /// Keeps a change only if its patch serializes to at most `percent` % of
    /// the size of the data it produces; a larger one is cheaper to send as
    /// the data itself. 0 keeps none; above 100, patches larger than the data
    /// are kept too.
    #[must_use]
    pub const fn max_patch_percent(mut self, percent: u8) -> Self {
        self.patch_percent = percent;
        self
    }

    /// The most changes kept.
    pub const fn changes(&self) -> usize {
        self.changes
    }

    /// The most bytes of patches kept.
    pub const fn bytes(&self) -> usize {
        self.bytes
    }

    /// The largest patch kept, in percent of the data's size.
    pub const fn patch_percent(&self) -> u8 {
        self.patch_percent
    }

    /// Whether a patch of `size` bytes that produces `data` may be kept.
    pub(crate) fn admits(&self, size: usize, data: &serde_json::Value) -> bool {
        if self.changes == 0 || size > self.bytes || self.patch_percent == 0 {
            return false;
        }
        // size <= percent/100 * len(data)  <=>  len(data) >= ceil(size * 100 / percent)
        let needed = size.saturating_mul(100).div_ceil(usize::from(self.patch_percent));
        crate::json_size::at_least(data, needed)
    }
}

/// The history limits of every topic: the builder's default, and those set
/// for topics by name.
#[derive(Clone, Debug, Default)]
pub(crate) struct HistoryConfig {
    pub(crate) default: HistoryLimits,
    pub(crate) topics: std::collections::HashMap<String, HistoryLimits>,
}

impl HistoryConfig {
    /// The limits a topic named `topic` starts with.
    pub(crate) fn limits_of(&self, topic: &str) -> HistoryLimits {
        self.topics.get(topic).copied().unwrap_or(self.default)
    }
}

/// One change kept in a history: the patch from revision `to - 1` to `to`.
#[derive(Clone, Debug)]
struct Entry {
    to: Revision,
    patch: JsonPatch,
}

impl Entry {
    fn from(&self) -> Revision {
        Revision::new(self.to.get() - 1)
    }
}

/// What a history can say about a pull since some revision.
#[derive(Debug, PartialEq)]
pub(crate) enum Reach {
    /// `since` is the current revision: nothing changed.
    Current,
    /// The patches from `since` to the current revision, oldest first.
    Patches(Vec<JsonPatch>),
    /// The history does not reach `since` (older, newer, or never a revision of this topic).
    Unreachable,
}

/// The bounded change history of one topic. See the module documentation.
#[derive(Debug)]
pub(crate) struct History {
    limits: HistoryLimits,
    /// The topic's current revision: the `to` of the last entry, when there is one.
    head: Revision,
    entries: VecDeque<Entry>,
    /// The sum of the entries' patch sizes.
    bytes: usize,
}

impl History {
    /// An empty history of a topic at revision `head`.
    pub(crate) fn new(limits: HistoryLimits, head: Revision) -> Self {
        History {
            limits,
            head,
            entries: VecDeque::new(),
            bytes: 0,
        }
    }

    pub(crate) fn limits(&self) -> HistoryLimits {
        self.limits
    }

    /// Applies new limits, dropping the oldest entries that no longer fit.
    pub(crate) fn set_limits(&mut self, limits: HistoryLimits) {
        self.limits = limits;
        self.trim();
    }

    /// Records the change from the current revision to `to`: its patch when
    /// it is kept, or a break in the chain when it is `None`.
    ///
    /// Called by the cell inside its write lock; this only moves pointers.
    pub(crate) fn record(&mut self, to: Revision, patch: Option<JsonPatch>) {
        debug_assert_eq!(self.head.next(), Some(to), "a history records consecutive revisions");
        self.head = to;
        match patch {
            Some(patch) if patch.len() <= self.limits.bytes && self.limits.changes > 0 => {
                self.bytes += patch.len();
                self.entries.push_back(Entry { to, patch });
                self.trim();
            }
            _ => {
                self.entries.clear();
                self.bytes = 0;
            }
        }
    }

    fn trim(&mut self) {
        while self.entries.len() > self.limits.changes || self.bytes > self.limits.bytes {
            let Some(oldest) = self.entries.pop_front() else { break };
            self.bytes -= oldest.patch.len();
        }
    }

    /// What the history holds from `since` to the current revision.
    pub(crate) fn reach(&self, since: Revision) -> Reach {
        if since == self.head {
            return Reach::Current;
        }
        let Some(oldest) = self.entries.front() else {
            return Reach::Unreachable;
        };
        if since < oldest.from() || since > self.head {
            return Reach::Unreachable;
        }
        let skip = usize::try_from(since.get() - oldest.from().get()).expect("within the entries");
        Reach::Patches(self.entries.iter().skip(skip).map(|entry| entry.patch.clone()).collect())
    }

    /// The number of changes kept and their total size in bytes.
    #[cfg(test)]
    pub(crate) fn usage(&self) -> (usize, usize) {
        (self.entries.len(), self.bytes)
    }
}

/// The patches `patches` as one, their operations in order.
pub(crate) fn concatenate(patches: &[JsonPatch]) -> JsonPatch {
    if let [one] = patches {
        return one.clone();
    }
    let mut text = String::with_capacity(patches.iter().map(JsonPatch::len).sum::<usize>() + 2);
    text.push('[');
    for patch in patches {
        // Compact JSON of a non-empty array: `[` operations `]`.
        let inner = &patch.as_str()[1..patch.len() - 1];
        if inner.is_empty() {
            continue;
        }
        if text.len() > 1 {
            text.push(',');
        }
        text.push_str(inner);
    }
    text.push(']');
    let raw = RawValue::from_string(text).expect("joining JSON arrays' elements with commas is a JSON array");
    JsonPatch::from_raw(raw)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn patch(ops: serde_json::Value) -> JsonPatch {
        JsonPatch::from_raw(serde_json::value::to_raw_value(&ops).unwrap())
    }

    fn op(n: u64) -> JsonPatch {
        patch(json!([{"op": "replace", "path": "/n", "value": n}]))
    }

    fn history(limits: HistoryLimits, changes: u64) -> History {
        let mut history = History::new(limits, Revision::ZERO);
        for n in 1..=changes {
            history.record(Revision::new(n), Some(op(n)));
        }
        history
    }

    fn reached(history: &History, since: u64) -> Option<Vec<u64>> {
        match history.reach(Revision::new(since)) {
            Reach::Current => Some(Vec::new()),
            Reach::Patches(patches) => Some(
                patches
                    .iter()
                    .map(|p| serde_json::from_str::<serde_json::Value>(p.as_str()).unwrap()[0]["value"].as_u64().unwrap())
                    .collect(),
            ),
            Reach::Unreachable => None,
        }
    }

    #[test]
    fn the_count_bound_drops_the_oldest_changes() {
        let history = history(HistoryLimits::new().max_changes(3), 10);
        assert_eq!(history.usage().0, 3);
        assert_eq!(reached(&history, 7), Some(vec![8, 9, 10]));
        assert_eq!(reached(&history, 6), None, "revision 7's patch was dropped");
        assert_eq!(reached(&history, 10), Some(vec![]));
    }

    #[test]
    fn the_byte_bound_drops_the_oldest_changes() {
        let last_four: usize = (7..=10).map(|n| op(n).len()).sum();
        let history = history(HistoryLimits::new().max_bytes(last_four + op(6).len() - 1), 10);
        assert_eq!(history.usage(), (4, last_four));
        assert_eq!(reached(&history, 6), Some(vec![7, 8, 9, 10]));
        assert_eq!(reached(&history, 5), None);
    }

    #[test]
    fn a_change_that_is_not_kept_breaks_the_chain_for_older_revisions() {
        let mut history = history(HistoryLimits::new(), 5);
        history.record(Revision::new(6), None);
        assert_eq!(history.usage(), (0, 0));
        assert_eq!(reached(&history, 5), None);
        assert_eq!(reached(&history, 6), Some(vec![]));
        history.record(Revision::new(7), Some(op(7)));
        assert_eq!(reached(&history, 6), Some(vec![7]));
        assert_eq!(reached(&history, 5), None);
    }

    #[test]
    fn a_patch_larger_than_the_byte_bound_is_not_kept() {
        let mut history = history(HistoryLimits::new().max_bytes(op(1).len() * 2), 2);
        history.record(Revision::new(3), Some(patch(json!([{"op": "add", "path": "/big", "value": "x".repeat(100)}]))));
        assert_eq!(history.usage(), (0, 0));
        assert_eq!(reached(&history, 2), None);
    }

    #[test]
    fn future_revisions_are_unreachable() {
        let history = history(HistoryLimits::new(), 3);
        assert_eq!(reached(&history, 4), None);
        assert_eq!(reached(&history, u64::MAX), None);
        assert_eq!(reached(&history, 0), Some(vec![1, 2, 3]));
    }

    #[test]
    fn narrower_limits_apply_at_once() {
        let mut history = history(HistoryLimits::new(), 10);
        history.set_limits(HistoryLimits::new().max_changes(2));
        assert_eq!(reached(&history, 8), Some(vec![9, 10]));
        history.set_limits(HistoryLimits::off());
        assert_eq!(history.usage(), (0, 0));
        assert_eq!(reached(&history, 10), Some(vec![]));
    }

    #[test]
    fn a_history_that_is_off_keeps_nothing() {
        let history = history(HistoryLimits::off(), 3);
        assert_eq!(history.usage(), (0, 0));
        assert_eq!(reached(&history, 2), None);
    }

    #[test]
    fn the_patch_ratio_compares_with_the_data_size() {
        let data = json!({"text": "x".repeat(90)}); // 101 bytes of JSON
        let limits = HistoryLimits::new().max_patch_percent(50);
        assert!(limits.admits(50, &data));
        assert!(!limits.admits(51, &data));
        assert!(HistoryLimits::new().max_patch_percent(200).admits(202, &data));
        assert!(!HistoryLimits::new().max_patch_percent(0).admits(1, &data));
        assert!(!HistoryLimits::new().max_bytes(10).admits(11, &data));
    }

    #[test]
    fn concatenated_patches_keep_every_operation_in_order() {
        let joined = concatenate(&[op(1), op(2), op(3)]);
        let ops: serde_json::Value = serde_json::from_str(joined.as_str()).unwrap();
        assert_eq!(ops.as_array().unwrap().iter().map(|o| o["value"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(concatenate(&[]).as_str(), "[]");
    }
}
