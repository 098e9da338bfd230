//! The problems kept for `persistence_errors`, bounded.
//!
//! Load problems happen during setup, before any window can listen for the
//! event, so they are kept for windows to ask for. A save that keeps failing
//! must not make that list grow without end, so it keeps **the latest problem
//! of each topic and kind**, and at most [`MAX_KEPT`] of them: a new problem
//! replaces the earlier one of the same topic and kind, and when the list is
//! full the oldest entry is dropped. Every problem is still logged, passed to
//! the hook and emitted as it happens.

use std::{collections::VecDeque, sync::Mutex};

use super::PersistenceError;

/// The most problems [`Problems`] keeps.
pub(crate) const MAX_KEPT: usize = 64;

#[derive(Default)]
pub(crate) struct Problems {
    kept: Mutex<VecDeque<PersistenceError>>,
}

impl Problems {
    /// Keeps `problem` as the latest of its topic and kind.
    pub(crate) fn keep(&self, problem: PersistenceError) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|old| old.topic != problem.topic || old.kind != problem.kind);
        if kept.len() == MAX_KEPT {
            kept.pop_front();
        }
        kept.push_back(problem);
    }

    /// The kept problems, oldest first.
    pub(crate) fn list(&self) -> Vec<PersistenceError> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProblemKind;

    fn problem(topic: &str, kind: ProblemKind, message: &str) -> PersistenceError {
        PersistenceError {
            topic: topic.into(),
            kind,
            message: message.into(),
            file: format!("{topic}.json"),
            moved_to: None,
        }
    }

    #[test]
    fn a_repeated_problem_replaces_the_earlier_one_of_its_topic_and_kind() {
        let problems = Problems::default();
        problems.keep(problem("a", ProblemKind::Corrupt, "at load"));
        for i in 0..1000 {
            problems.keep(problem("a", ProblemKind::Save, &format!("failure {i}")));
        }
        let kept = problems.list();
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].kind, ProblemKind::Corrupt, "the load problem is kept");
        assert_eq!(kept[1].message, "failure 999", "the latest save problem is kept");
    }

    #[test]
    fn at_most_max_kept_problems_are_kept_and_the_oldest_go_first() {
        let problems = Problems::default();
        for i in 0..MAX_KEPT + 10 {
            problems.keep(problem(&format!("t{i}"), ProblemKind::Save, "full disk"));
        }
        let kept = problems.list();
        assert_eq!(kept.len(), MAX_KEPT);
        assert_eq!(kept[0].topic, "t10");
        assert_eq!(kept[MAX_KEPT - 1].topic, format!("t{}", MAX_KEPT + 9));
    }
}
