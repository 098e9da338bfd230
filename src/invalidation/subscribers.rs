//! Who reads what: each webview's read scope, as last resolved, and the
//! topics it subscribed to, each with the channel that reaches it.
//!
//! Lock order: the one mutex here is never held while sending on a channel,
//! resolving a scope with Tauri, or touching a topic.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use tauri::ipc::Channel;

use crate::scope::TopicScope;

/// One subscription's channel, with what is needed to drop it if it fails.
pub(crate) struct Recipient {
    pub(crate) webview: Arc<str>,
    pub(crate) id: u64,
    pub(crate) channel: Channel,
}

struct Subscription {
    webview: Arc<str>,
    id: u64,
    /// Whether the webview's current read scope permits the topic. Kept up to
    /// date when the scope changes, so delivery never matches a glob.
    permitted: bool,
    channel: Channel,
}

struct Reader {
    window: String,
    scope: Arc<TopicScope>,
}

#[derive(Default)]
struct State {
    readers: HashMap<Arc<str>, Reader>,
    by_topic: HashMap<Arc<str>, Vec<Subscription>>,
    next_id: u64,
}

#[derive(Default)]
pub(crate) struct Subscribers {
    state: Mutex<State>,
}

impl Subscribers {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation below leaves the maps consistent at each step.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The read scope last recorded for `webview`.
    pub(crate) fn scope_of(&self, webview: &str) -> Option<Arc<TopicScope>> {
        self.lock().readers.get(webview).map(|reader| reader.scope.clone())
    }

    /// Records what `webview` may read, and re-decides each of its
    /// subscriptions when that changed. `None` means it may read nothing.
    pub(crate) fn set_scope(&self, webview: &str, window: &str, scope: Option<TopicScope>) {
        let mut state = self.lock();
        let unchanged = match (state.readers.get(webview), &scope) {
            (Some(reader), Some(scope)) => reader.scope.same_as(scope) && reader.window == window,
            (None, None) => true,
            _ => false,
        };
        if unchanged {
            return;
        }
        match scope {
            Some(scope) => {
                state.readers.insert(
                    webview.into(),
                    Reader {
                        window: window.to_owned(),
                        scope: Arc::new(scope),
                    },
                );
            }
            None => {
                state.readers.remove(webview);
            }
        }
        let scope = state.readers.get(webview).map(|reader| reader.scope.clone());
        for (topic, subscriptions) in state.by_topic.iter_mut() {
            for subscription in subscriptions.iter_mut().filter(|s| &*s.webview == webview) {
                subscription.permitted = scope
                    .as_ref()
                    .is_some_and(|scope| scope.permits(topic).unwrap_or(false));
            }
        }
    }

    /// Adds a subscription of `webview` to `topic`, which its `scope` has
    /// just been checked to permit, and returns its id.
    pub(crate) fn subscribe(
        &self,
        webview: &str,
        window: &str,
        scope: TopicScope,
        topic: &str,
        channel: Channel,
    ) -> u64 {
        self.set_scope(webview, window, Some(scope));
        let mut state = self.lock();
        state.next_id += 1;
        let id = state.next_id;
        let webview: Arc<str> = match state.readers.get_key_value(webview) {
            Some((label, _)) => label.clone(),
            None => webview.into(),
        };
        let permitted = state
            .readers
            .get(&webview)
            .is_some_and(|reader| reader.scope.permits(topic).unwrap_or(false));
        state.by_topic.entry(topic.into()).or_default().push(Subscription {
            webview,
            id,
            permitted,
            channel,
        });
        id
    }

    /// Removes the subscription `id` of `webview`. Returns whether it existed.
    pub(crate) fn unsubscribe(&self, webview: &str, id: u64) -> bool {
        let mut state = self.lock();
        let mut found = false;
        state.by_topic.retain(|_, subscriptions| {
            subscriptions.retain(|s| {
                let hit = s.id == id && &*s.webview == webview;
                found |= hit;
                !hit
            });
            !subscriptions.is_empty()
        });
        found
    }

    /// Forgets everything about `webview`: its scope and its subscriptions.
    pub(crate) fn forget_webview(&self, webview: &str) {
        let mut state = self.lock();
        state.readers.remove(webview);
        state.by_topic.retain(|_, subscriptions| {
            subscriptions.retain(|s| &*s.webview != webview);
            !subscriptions.is_empty()
        });
    }

    /// Forgets every webview of the window labelled `window`.
    pub(crate) fn forget_window(&self, window: &str) {
        let webviews: Vec<Arc<str>> = self
            .lock()
            .readers
            .iter()
            .filter(|(_, reader)| reader.window == window)
            .map(|(label, _)| label.clone())
            .collect();
        for webview in webviews {
            self.forget_webview(&webview);
        }
    }

    /// The channels of the subscriptions to `topic` that may receive it.
    pub(crate) fn recipients(&self, topic: &str) -> Vec<Recipient> {
        let state = self.lock();
        let Some(subscriptions) = state.by_topic.get(topic) else {
            return Vec::new();
        };
        subscriptions
            .iter()
            .filter(|s| s.permitted)
            .map(|s| Recipient {
                webview: s.webview.clone(),
                id: s.id,
                channel: s.channel.clone(),
            })
            .collect()
    }

    /// The labels of the webviews that receive `topic`, sorted, once each.
    pub(crate) fn readers_of(&self, topic: &str) -> Vec<String> {
        let mut labels: Vec<String> = self
            .recipients(topic)
            .into_iter()
            .map(|r| r.webview.to_string())
            .collect();
        labels.sort();
        labels.dedup();
        labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel() -> Channel {
        Channel::new(|_| Ok(()))
    }

    fn todos_minus_private() -> TopicScope {
        TopicScope::new(["todos/*"], ["todos/private"])
    }

    #[test]
    fn only_permitted_subscriptions_receive() {
        let subscribers = Subscribers::default();
        subscribers.subscribe("a", "a", todos_minus_private(), "todos/list", channel());
        subscribers.subscribe("b", "b", TopicScope::unrestricted(), "todos/list", channel());
        assert_eq!(subscribers.readers_of("todos/list"), ["a", "b"]);
        assert!(subscribers.recipients("settings").is_empty());
    }

    #[test]
    fn a_narrowed_scope_stops_delivery_and_a_widened_one_resumes_it() {
        let subscribers = Subscribers::default();
        subscribers.subscribe("a", "a", TopicScope::unrestricted(), "todos/private", channel());
        subscribers.set_scope("a", "a", Some(todos_minus_private()));
        assert!(subscribers.readers_of("todos/private").is_empty());
        subscribers.set_scope("a", "a", Some(TopicScope::unrestricted()));
        assert_eq!(subscribers.readers_of("todos/private"), ["a"]);
        subscribers.set_scope("a", "a", None);
        assert!(subscribers.readers_of("todos/private").is_empty());
    }

    #[test]
    fn unsubscribe_removes_only_that_subscription_of_that_webview() {
        let subscribers = Subscribers::default();
        let first = subscribers.subscribe("a", "a", TopicScope::unrestricted(), "t", channel());
        subscribers.subscribe("a", "a", TopicScope::unrestricted(), "t", channel());
        assert!(!subscribers.unsubscribe("b", first), "another webview cannot remove it");
        assert!(subscribers.unsubscribe("a", first));
        assert!(!subscribers.unsubscribe("a", first));
        assert_eq!(subscribers.recipients("t").len(), 1);
    }

    #[test]
    fn a_destroyed_window_leaves_no_bookkeeping_behind() {
        let subscribers = Subscribers::default();
        subscribers.subscribe("main", "main", TopicScope::unrestricted(), "t", channel());
        subscribers.subscribe("side", "side", TopicScope::unrestricted(), "t", channel());
        subscribers.forget_window("main");
        assert_eq!(subscribers.readers_of("t"), ["side"]);
        assert!(subscribers.scope_of("main").is_none());
        subscribers.forget_webview("side");
        let state = subscribers.lock();
        assert!(state.by_topic.is_empty() && state.readers.is_empty());
    }
}
