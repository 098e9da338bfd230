//! [`Topic<T>`]: a typed handle to a topic registered with a Rust type, and
//! [`TopicKey<T>`], the name and type that declare one and find it again.

use std::{marker::PhantomData, sync::Arc};

use serde::{de::DeserializeOwned, Serialize};
use tauri::Runtime;
use tokio::sync::watch;

use crate::{
    actions, depth,
    models::{ActionOutcome, Snapshot, Source},
    state_sync::{Change, StateSync},
    topic::Proposal,
    ActionError, Result, Revision, WriteOutcome,
};

/// What the Rust type of a topic declared with [`crate::Builder::typed_topic`]
/// implements: serde's traits, and with the `typescript` feature also
/// `ts_rs::TS`, so that the generated TypeScript file holds every typed
/// topic.
///
/// It is implemented for every type that has those traits; never implement it
/// by hand.
#[cfg(not(feature = "typescript"))]
pub trait TopicType: Serialize + DeserializeOwned + 'static {}

#[cfg(not(feature = "typescript"))]
impl<T: Serialize + DeserializeOwned + 'static> TopicType for T {}

/// What the Rust type of a topic declared with [`crate::Builder::typed_topic`]
/// implements: serde's traits, and with the `typescript` feature also
/// `ts_rs::TS`, so that the generated TypeScript file holds every typed
/// topic.
///
/// It is implemented for every type that has those traits; never implement it
/// by hand.
#[cfg(feature = "typescript")]
pub trait TopicType: Serialize + DeserializeOwned + ts_rs::TS + 'static {}

#[cfg(feature = "typescript")]
impl<T: Serialize + DeserializeOwned + ts_rs::TS + 'static> TopicType for T {}

/// What the argument type of an action declared with
/// [`crate::Builder::typed_action`] implements: serde's `Deserialize`, and
/// with the `typescript` feature also `ts_rs::TS`, so that the generated
/// TypeScript file types the action's argument.
///
/// It is implemented for every type that has those traits; never implement it
/// by hand.
#[cfg(not(feature = "typescript"))]
pub trait ArgumentType: DeserializeOwned + 'static {}

#[cfg(not(feature = "typescript"))]
impl<A: DeserializeOwned + 'static> ArgumentType for A {}

/// What the argument type of an action declared with
/// [`crate::Builder::typed_action`] implements: serde's `Deserialize`, and
/// with the `typescript` feature also `ts_rs::TS`, so that the generated
/// TypeScript file types the action's argument.
///
/// It is implemented for every type that has those traits; never implement it
/// by hand.
#[cfg(feature = "typescript")]
pub trait ArgumentType: DeserializeOwned + ts_rs::TS + 'static {}

#[cfg(feature = "typescript")]
impl<A: DeserializeOwned + ts_rs::TS + 'static> ArgumentType for A {}

/// A topic's name together with its Rust type, declared once as a constant.
///
/// Give it to [`crate::Builder::persisted_topic`] to declare the topic, and
/// to [`StateSync::handle`] to reach it from Rust: the name is written once,
/// and the type is checked by the compiler rather than by a lookup that could
/// name the wrong type. `TopicKey<serde_json::Value>` names an untyped topic.
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tauri_plugin_state_sync::{Builder, Persistence, StateSyncExt, TopicKey};
///
/// #[derive(Serialize, Deserialize, Default)]
/// struct Settings { theme: String, zoom: u8 }
///
/// const SETTINGS: TopicKey<Settings> = TopicKey::new("settings");
///
/// # fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
/// builder
///     .plugin(
///         Builder::new()
///             .persisted_topic(SETTINGS, Settings::default(), Persistence::new())
///             .build(),
///     )
///     .setup(|app| {
///         app.state_sync().handle(SETTINGS)?.update(|s| s.zoom = 2)?;
///         Ok(())
///     })
/// # }
/// ```
pub struct TopicKey<T> {
    name: &'static str,
    _type: PhantomData<fn() -> T>,
}

impl<T> TopicKey<T> {
    /// The key of the topic `name` holding a `T`. The name is checked when the
    /// topic is declared.
    pub const fn new(name: &'static str) -> Self {
        TopicKey {
            name,
            _type: PhantomData,
        }
    }

    /// The topic's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T> Clone for TopicKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for TopicKey<T> {}

impl<T> std::fmt::Debug for TopicKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicKey")
            .field("name", &self.name)
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

/// A topic's data as a `T`, with its revision.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedSnapshot<T> {
    /// The revision of `data`.
    pub revision: Revision,
    /// The data.
    pub data: T,
}

/// A handle to a topic whose data is always a valid `T`.
///
/// Writes from windows to the topic are deserialized into `T` and rejected
/// with [`crate::Error::Validation`], naming the failing field, when they do
/// not fit, or carry a key `T` has no field for. Obtain a handle with
/// [`StateSync::handle`] for a [`TopicKey`], with [`StateSync::register_typed`]
/// or [`StateSync::register_persisted`] at run time, or with
/// [`StateSync::typed`] by name.
///
/// The handle holds the topic's name, not the topic: once the topic is
/// removed, its methods fail with [`crate::Error::UnknownTopic`].
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tauri_plugin_state_sync::StateSyncExt;
///
/// #[derive(Serialize, Deserialize, Clone, Default)]
/// struct Settings { theme: String, zoom: u8 }
///
/// # fn zoom_in<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri_plugin_state_sync::Result<()> {
/// let settings = app.state_sync().typed::<Settings>("settings")?;
/// settings.update(|s| s.zoom += 1)?;
/// println!("zoom is {}", settings.get()?.data.zoom);
/// # Ok(()) }
/// ```
pub struct Topic<T, R: Runtime> {
    sync: StateSync<R>,
    name: Arc<str>,
    _type: PhantomData<fn() -> T>,
}

impl<T, R: Runtime> Clone for Topic<T, R> {
    fn clone(&self) -> Self {
        Self {
            sync: self.sync.clone(),
            name: self.name.clone(),
            _type: PhantomData,
        }
    }
}

impl<T, R: Runtime> std::fmt::Debug for Topic<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topic")
            .field("name", &self.name)
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T, R> Topic<T, R>
where
    T: Serialize + DeserializeOwned + 'static,
    R: Runtime,
{
    pub(crate) fn new(sync: StateSync<R>, name: Arc<str>) -> Self {
        Self {
            sync,
            name,
            _type: PhantomData,
        }
    }

    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current data as a `T`, with its revision.
    pub fn get(&self) -> Result<TypedSnapshot<T>> {
        let snapshot = self.sync.typed_cell::<T>(&self.name)?.snapshot();
        Ok(TypedSnapshot {
            revision: snapshot.revision,
            data: T::deserialize(&*snapshot.data)?,
        })
    }

    /// Replaces the data. A value equal to the current one changes nothing.
    pub fn set(&self, data: &T) -> Result<WriteOutcome> {
        let cell = self.sync.typed_cell::<T>(&self.name)?;
        let data = depth::to_value(data)?;
        self.sync
            .write_to(&cell, Change::Replace(data), None, Source::Rust)
    }

    /// Changes the data with a closure, as a compare-and-set loop.
    ///
    /// As with [`StateSync::update`], the closure may run more than once and
    /// must not have side effects.
    pub fn update(&self, mut change: impl FnMut(&mut T)) -> Result<WriteOutcome> {
        let cell = self.sync.typed_cell::<T>(&self.name)?;
        self.sync.commit(&cell, None, Source::Rust, |current| {
            let mut value = T::deserialize(&*current.data)?;
            change(&mut value);
            Ok(Proposal::new(Arc::new(depth::to_value(value)?), true))
        })
    }

    /// Registers the typed action `action`: a closure that changes the data as
    /// a `T`, given an argument of type `A`.
    ///
    /// An argument that does not deserialize into `A`, or that carries a key
    /// `A` has no field for, is refused with [`crate::Error::Validation`]
    /// naming the field, before the closure runs.
    /// As with [`update`](Self::update), the closure may run more than once
    /// and must not have side effects; returning an [`ActionError`] leaves the
    /// topic unchanged. See [`StateSync::register_action`].
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tauri_plugin_state_sync::StateSyncExt;
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct Counter { value: i64 }
    /// #[derive(Deserialize)]
    /// struct Increment { by: i64 }
    ///
    /// # fn setup<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri_plugin_state_sync::Result<()> {
    /// let counter = app.state_sync().register_typed("counter", Counter { value: 0 })?;
    /// counter.register_action("increment", |counter: &mut Counter, Increment { by }| {
    ///     counter.value = counter.value.checked_add(by).ok_or("the counter would overflow")?;
    ///     Ok(())
    /// })?;
    /// counter.act("increment", serde_json::json!({ "by": 2 }))?;
    /// # Ok(()) }
    /// ```
    pub fn register_action<A: DeserializeOwned + 'static>(
        &self,
        action: &str,
        run: impl Fn(&mut T, A) -> Result<(), ActionError> + Send + Sync + 'static,
    ) -> Result<()> {
        let cell = self.sync.typed_cell::<T>(&self.name)?;
        cell.actions().add(&self.name, action, actions::typed(run))
    }

    /// Runs the action `action` with the argument `args`; see [`StateSync::act`].
    pub fn act(&self, action: &str, args: impl Serialize) -> Result<ActionOutcome> {
        self.sync.typed_cell::<T>(&self.name)?;
        self.sync.act(&self.name, action, args)
    }

    /// A watch receiver that always holds the latest snapshot, as JSON.
    pub fn subscribe(&self) -> Result<watch::Receiver<Snapshot>> {
        Ok(self.sync.typed_cell::<T>(&self.name)?.subscribe())
    }
}
