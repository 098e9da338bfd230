//! The one place where events leave the plugin.
//!
//! Every change to every topic is announced through [`Delivery::announce`],
//! and every persistence problem through [`Delivery::announce_problem`]. Both
//! follow one rule: a message about a topic reaches a webview only if the
//! webview subscribed to that topic with the `subscribe` command, which checks
//! its read scope, and its read scope still permits the topic. It travels on
//! the [`Channel`](tauri::ipc::Channel) that the webview handed over, which
//! reaches that webview alone.
//!
//! Tauri events are not private: a page listening with the plain `listen()`
//! hears every event, whatever its target. So the broadcast events
//! ([`INVALIDATION_EVENT`], [`PERSISTENCE_ERROR_EVENT`]), which clients written
//! for `@statesync/core` listen to, are emitted only as [`Broadcast`] says: by
//! default, until the plugin first sees a state-sync scope in any capability.
//!
//! What each webview may read is cached here (see `subscribers`), so a
//! delivery costs one map lookup and no ACL or glob work. The cache is
//! refreshed when a webview is created or loads a page, whenever one of its
//! read commands finds a scope other than the cached one, and on
//! [`StateSync::refresh_scopes`](crate::StateSync::refresh_scopes); it is
//! dropped when the window is destroyed.

pub(crate) mod subscribers;

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use tauri::{ipc::InvokeResponseBody, AppHandle, Emitter, Runtime, Webview};

use crate::{
    history,
    models::{ChannelMessage, Invalidation, JsonPatch, PushedChange, PushedInvalidation, INVALIDATION_EVENT},
    topic::Committed,
    persistence::{PersistenceError, PERSISTENCE_ERROR_EVENT},
    scope::TopicScope,
};

use subscribers::Subscribers;

/// When the plugin emits the broadcast events ([`INVALIDATION_EVENT`] and
/// [`PERSISTENCE_ERROR_EVENT`]) besides delivering to subscribed windows.
///
/// A broadcast event reaches every window that may listen to events
/// (`core:default` grants that), whatever its state-sync scopes: it tells
/// them the names and revisions of every topic that changes, though never
/// the data. Set it with [`crate::Builder::broadcast`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Broadcast {
    /// Emit while no capability the plugin has seen uses a state-sync scope,
    /// and stop for good at the first one. The default.
    #[default]
    WhileUnscoped,
    /// Always emit, even with scopes in use. This leaks topic names and
    /// revisions to windows that may not read those topics.
    Always,
    /// Never emit: windows hear about changes only through `subscribe`.
    Never,
}

/// The default [`crate::Builder::push_limit`]: 8 KiB.
pub const DEFAULT_PUSH_LIMIT: usize = 8 * 1024;

/// The default [`crate::Builder::push_interval`]: zero, a change is sent at
/// once unless the topic's previous message is still in the event loop.
pub const DEFAULT_PUSH_INTERVAL: Duration = Duration::ZERO;

/// The patch of a batch of consecutive changes, from the revision before
/// the first to the last, if every change has one and together they are at
/// most `limit` bytes. A patch that replaces the whole value makes the ones
/// before it moot, so the batch's patch starts at the last such one.
fn batch_patch(batch: &[Committed], limit: usize) -> Option<JsonPatch> {
    let patches: Option<Vec<&JsonPatch>> = batch.iter().map(|change| change.patch.as_ref()).collect();
    let patches = patches?;
    let start = patches.iter().rposition(|patch| patch.replaces_whole()).unwrap_or(0);
    let patches: Vec<JsonPatch> = patches[start..].iter().map(|patch| (*patch).clone()).collect();
    if patches.iter().map(JsonPatch::len).sum::<usize>() > limit {
        return None;
    }
    Some(history::concatenate(&patches))
}

/// Where announcements go: the subscribed webviews, and the broadcast.
pub(crate) struct Delivery {
    broadcast: Broadcast,
    /// The largest patch, in bytes, that a channel message carries inline.
    push_limit: usize,
    /// The shortest time between two messages about one topic.
    push_interval: Duration,
    /// Set, never cleared, once any webview is found to have a scope.
    scoped: AtomicBool,
    pub(crate) subscribers: Subscribers,
}

impl Delivery {
    pub(crate) fn new(broadcast: Broadcast, push_limit: usize, push_interval: Duration) -> Self {
        Delivery {
            broadcast,
            push_limit,
            push_interval,
            scoped: AtomicBool::new(false),
            subscribers: Subscribers::default(),
        }
    }

    /// The largest patch, in bytes, that a channel message carries inline.
    pub(crate) fn push_limit(&self) -> usize {
        self.push_limit
    }

    /// The shortest time between two messages about one topic.
    pub(crate) fn push_interval(&self) -> Duration {
        self.push_interval
    }

    /// Whether the broadcast events are emitted now.
    pub(crate) fn broadcasting(&self) -> bool {
        match self.broadcast {
            Broadcast::WhileUnscoped => !self.scoped.load(Ordering::Acquire),
            Broadcast::Always => true,
            Broadcast::Never => false,
        }
    }

    /// Notes a scope seen for some webview; a restricted one ends the
    /// default broadcast.
    pub(crate) fn note(&self, scope: &TopicScope) {
        if scope.is_restricted() {
            self.scoped.store(true, Ordering::Release);
        }
    }

    /// Re-reads from the app's capabilities what `webview` may read (the
    /// scope of its `subscribe` command), and records it.
    pub(crate) fn refresh<R: Runtime>(&self, webview: &Webview<R>) {
        let scope = match TopicScope::of_command(webview, "subscribe") {
            Ok(scope) => scope,
            Err(err) => {
                log::warn!("state-sync: cannot resolve the scope of `{}`: {err}", webview.label());
                None
            }
        };
        if let Some(scope) = &scope {
            self.note(scope);
        }
        self.subscribers
            .set_scope(webview.label(), webview.window().label(), scope);
    }

    /// Called by every read command with the scope Tauri resolved for it:
    /// when that differs from the cached one, the capabilities may have
    /// changed, so the cache is refreshed.
    pub(crate) fn observe<R: Runtime>(&self, webview: &Webview<R>, scope: &TopicScope) {
        self.note(scope);
        let cached = self.subscribers.scope_of(webview.label());
        if !cached.is_some_and(|cached| cached.same_as(scope)) {
            self.refresh(webview);
        }
    }

    /// Delivers a batch of consecutive changes of `topic`, oldest first, to
    /// the subscribed webviews allowed to read it, as one message: the last
    /// revision and its writer, and the patch from the revision before the
    /// first when every change has one and together they fit the push limit
    /// (see [`batch_patch`]). Broadcasts the last revision, without a patch,
    /// if [`Broadcast`] says so.
    ///
    /// The changes are already committed when this runs, so failures are
    /// logged and not returned: windows that miss them heal on their next
    /// resync. Returns whether anything was sent to a window, which goes
    /// through the event loop.
    pub(crate) fn announce<R: Runtime>(&self, app: &AppHandle<R>, topic: &str, batch: Vec<Committed>) -> bool {
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return false;
        };
        let event = Invalidation::new(topic, last.revision, &*last.source_id);
        let from = first.revision.previous();
        let mut sent = self.deliver(topic, || {
            let change = batch_patch(&batch, self.push_limit)
                .zip(from)
                .map(|(patch, from)| PushedChange { from, patch });
            ChannelMessage::Invalidate(PushedInvalidation {
                invalidation: event.clone(),
                change,
            })
        });
        if self.broadcasting() {
            match app.emit(INVALIDATION_EVENT, &event) {
                Ok(()) => sent = true,
                Err(err) => log::warn!(
                    "state-sync: could not announce `{topic}` at revision {}: {err}",
                    event.revision
                ),
            }
        }
        sent
    }

    /// Delivers a persistence problem by the same rule as a change of the
    /// topic it names.
    pub(crate) fn announce_problem<R: Runtime>(&self, app: &AppHandle<R>, problem: &PersistenceError) {
        let _ = self.deliver(&problem.topic, || ChannelMessage::PersistenceError(problem.clone()));
        if self.broadcasting() {
            if let Err(err) = app.emit(PERSISTENCE_ERROR_EVENT, problem) {
                log::warn!("state-sync: could not emit {PERSISTENCE_ERROR_EVENT}: {err}");
            }
        }
    }

    /// Sends `message` to every recipient of `topic`, serialized once, and
    /// returns whether any send succeeded. A subscription whose channel
    /// fails is dropped.
    fn deliver(&self, topic: &str, message: impl FnOnce() -> ChannelMessage) -> bool {
        let recipients = self.subscribers.recipients(topic);
        if recipients.is_empty() {
            return false;
        }
        let json = match serde_json::to_string(&message()) {
            Ok(json) => json,
            Err(err) => {
                log::warn!("state-sync: could not serialize a message for `{topic}`: {err}");
                return false;
            }
        };
        let mut sent = false;
        for recipient in recipients {
            match recipient.channel.send(InvokeResponseBody::Json(json.clone())) {
                Ok(()) => sent = true,
                Err(err) => {
                    log::warn!("state-sync: dropping a subscription of `{}` to `{topic}`: {err}", recipient.webview);
                    self.subscribers.unsubscribe(&recipient.webview, recipient.id);
                }
            }
        }
        sent
    }
}
