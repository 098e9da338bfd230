//! Actions: named changes registered in Rust on a topic, called by name.
//!
//! An action is a closure that receives the topic's current data and a JSON
//! argument, and returns the new data or an [`ActionError`]. Windows call it
//! with the `act` command; Rust with [`crate::StateSync::act`]. It runs inside
//! the topic's optimistic commit loop, like [`crate::StateSync::update`]: on
//! the latest data, outside every lock, and again if another writer commits
//! first. So an action never fails with a revision conflict, and its closure
//! may run more than once and must not have side effects.
//!
//! A typed action works on the topic's Rust type `T` and takes a typed
//! argument `A`: an argument that does not deserialize into `A`, or that
//! carries a key `A` has no field for, is refused with [`Error::Validation`]
//! naming the field or the key, before the closure runs. This is the check a
//! typed topic's writes go through; an argument type that should accept extra
//! keys keeps them in a `#[serde(flatten)]` map.
//!
//! A closure that panics is caught: the call answers [`Error::ActionPanicked`],
//! the topic is unchanged, and no lock is poisoned, because no lock is held
//! while user code runs.

use std::{
    collections::HashMap,
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{Arc, RwLock},
};

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use crate::{
    depth,
    topic::{deserialize_checked, Unknown},
    ActionError, Error, Result,
};

/// The common form of every action, untyped or typed: from the current data
/// and the argument to the new data. Errors name neither topic nor action;
/// [`call`] adds them.
pub(crate) type Run = Arc<dyn Fn(&Value, &Value) -> Result<Value, Refusal> + Send + Sync>;

/// Why one run of an action produced no data.
pub(crate) enum Refusal {
    /// The closure returned an error.
    Failed(ActionError),
    /// The argument does not fit the typed argument struct, or carries a key
    /// it has no field for: the type, the path and the reason.
    Argument(&'static str, String, String),
    /// The data does not deserialize into the topic's type, or the result
    /// does not serialize or nests deeper than [`crate::MAX_DEPTH`].
    Invalid(Error),
}

/// Wraps an untyped closure.
pub(crate) fn untyped(
    action: impl Fn(&Value, &Value) -> Result<Value, ActionError> + Send + Sync + 'static,
) -> Run {
    Arc::new(move |data, args| action(data, args).map_err(Refusal::Failed))
}

/// Wraps a typed closure: the data as a `T`, the argument as an `A`.
pub(crate) fn typed<T, A>(
    action: impl Fn(&mut T, A) -> Result<(), ActionError> + Send + Sync + 'static,
) -> Run
where
    T: Serialize + DeserializeOwned + 'static,
    A: DeserializeOwned + 'static,
{
    Arc::new(move |data, args| {
        let args: A = deserialize_checked(args, Unknown::Refuse)
            .map_err(|(path, reason)| Refusal::Argument(std::any::type_name::<A>(), path, reason))?;
        let mut value = T::deserialize(data).map_err(|err| Refusal::Invalid(err.into()))?;
        action(&mut value, args).map_err(Refusal::Failed)?;
        depth::to_value(value).map_err(Refusal::Invalid)
    })
}

/// Runs `run` on `data` for `action` of `topic`, catching a panic.
pub(crate) fn call(
    run: &Run,
    topic: &str,
    action: &str,
    data: &Value,
    args: &Value,
) -> Result<Value> {
    // The closure sees only shared references and owns nothing of ours, so
    // nothing it could leave half-changed outlives the unwind.
    let outcome = catch_unwind(AssertUnwindSafe(|| run(data, args)));
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(Refusal::Failed(err))) => Err(Error::ActionFailed {
            topic: topic.to_owned(),
            action: action.to_owned(),
            reason: err.reason().to_owned(),
        }),
        Ok(Err(Refusal::Argument(type_name, path, reason))) => Err(Error::Validation {
            topic: topic.to_owned(),
            type_name,
            path,
            reason,
        }),
        Ok(Err(Refusal::Invalid(err))) => Err(err),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(Error::ActionPanicked {
                topic: topic.to_owned(),
                action: action.to_owned(),
                reason,
            })
        }
    }
}

/// The actions of one topic, by name. Owned by the topic's cell.
///
/// The lock is held only to look up or insert a name; the closure is cloned
/// out and called after the lock is released.
#[derive(Default)]
pub(crate) struct Actions {
    by_name: RwLock<HashMap<Arc<str>, Run>>,
}

impl Actions {
    /// Adds `run` as `action` of `topic`, unless the name is taken.
    pub(crate) fn add(&self, topic: &str, action: &str, run: Run) -> Result<()> {
        // A panic cannot happen while this lock is held: the map is only
        // read, or changed by one insert.
        let mut by_name = self
            .by_name
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if by_name.contains_key(action) {
            return Err(Error::ActionExists {
                topic: topic.to_owned(),
                action: action.to_owned(),
            });
        }
        by_name.insert(action.into(), run);
        Ok(())
    }

    /// The action `action` of `topic`.
    pub(crate) fn get(&self, topic: &str, action: &str) -> Result<Run> {
        let by_name = self
            .by_name
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        by_name
            .get(action)
            .cloned()
            .ok_or_else(|| Error::UnknownAction {
                topic: topic.to_owned(),
                action: action.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Counter {
        value: i64,
    }

    #[derive(Deserialize)]
    struct Increment {
        by: i64,
    }

    fn increment() -> Run {
        typed(|counter: &mut Counter, Increment { by }| {
            counter.value += by;
            Ok(())
        })
    }

    #[test]
    fn a_typed_action_works_on_the_type_and_its_argument_struct() {
        let next = call(
            &increment(),
            "c",
            "increment",
            &json!({"value": 1}),
            &json!({"by": 2}),
        )
        .unwrap();
        assert_eq!(next, json!({"value": 3}));
    }

    #[test]
    fn a_typed_argument_that_does_not_fit_names_the_field() {
        let err = call(
            &increment(),
            "c",
            "increment",
            &json!({"value": 1}),
            &json!({"by": "two"}),
        )
        .unwrap_err();
        assert_eq!(err.code(), "VALIDATION_FAILED");
        match &err {
            Error::Validation {
                path, type_name, ..
            } => {
                assert_eq!(path, "by");
                assert!(type_name.ends_with("Increment"), "{type_name}");
            }
            other => panic!("expected a validation error, got {other}"),
        }
    }

    #[test]
    fn a_typed_argument_with_an_unknown_key_names_the_key() {
        let err = call(
            &increment(),
            "c",
            "increment",
            &json!({"value": 1}),
            &json!({"by": 1, "bye": 2}),
        )
        .unwrap_err();
        match &err {
            Error::Validation { path, reason, .. } => {
                assert_eq!(path, "bye");
                assert_eq!(reason, "unknown key `bye`: the type has no such field");
            }
            other => panic!("expected a validation error, got {other}"),
        }
    }

    #[test]
    fn a_refusal_names_topic_action_and_reason() {
        let run = untyped(|_, _| Err("the list is full".into()));
        let err = call(&run, "todos", "add", &json!({}), &json!({})).unwrap_err();
        assert_eq!(err.code(), "ACTION_FAILED");
        assert_eq!(
            err.to_string(),
            "action `add` on `todos` failed: the list is full"
        );
    }

    #[test]
    fn a_panic_is_caught_with_its_message() {
        let run = untyped(|_, _| panic!("boom {}", 42));
        let err = call(&run, "t", "explode", &json!(null), &json!(null)).unwrap_err();
        assert_eq!(err.code(), "ACTION_PANICKED");
        assert!(err.to_string().ends_with("panicked: boom 42"), "{err}");
    }

    #[test]
    fn names_are_unique_per_topic_and_unknown_names_are_refused() {
        let actions = Actions::default();
        actions.add("c", "increment", increment()).unwrap();
        assert_eq!(
            actions
                .add("c", "increment", increment())
                .unwrap_err()
                .code(),
            "ACTION_EXISTS"
        );
        assert!(actions.get("c", "increment").is_ok());
        assert_eq!(
            actions.get("c", "decrement").err().unwrap().code(),
            "UNKNOWN_ACTION"
        );
    }
}
