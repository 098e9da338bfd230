//! Per-topic read and write scopes, in Tauri's capability form.
//!
//! A capability attaches a scope to `state-sync:read` or `state-sync:write`:
//!
//! ```json
//! { "identifier": "state-sync:read", "allow": [{ "topic": "todos/*" }], "deny": [{ "topic": "todos/private" }] }
//! ```
//!
//! Each entry is a [`TopicPattern`]: an exact topic name or a glob. Tauri
//! gathers, for the calling webview, the entries of every capability that
//! grants the command, and hands them to the command as a [`CommandScope`].
//! [`TopicScope`] decides from them:
//!
//! * a topic matched by any `deny` entry is refused, whatever allows it;
//! * otherwise a topic matched by any `allow` entry is permitted;
//! * when no capability gives any `allow` entry, every topic is permitted, so
//!   a permission granted without a scope keeps meaning "all topics".
//!
//! Rust code is never scoped; scopes apply to windows only.

use std::sync::Arc;

use glob::{MatchOptions, Pattern};
use serde::{Deserialize, Deserializer};
use tauri::{ipc::CommandScope, Runtime, Webview};

use crate::{Error, Result};

/// `*` and `?` stay inside one `/`-separated segment; `**` crosses segments.
const MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// What a window asks to do with a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Reading: snapshots, listings, and receiving its invalidations.
    Read,
    /// Writing: `set` and `patch`.
    Write,
}

impl Access {
    /// `"read"` or `"write"`, as sent in [`Error::TopicForbidden`].
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// One `allow` or `deny` entry of a state-sync scope: `{ "topic": "<name or glob>" }`.
///
/// The glob is compiled once, when Tauri first reads the capability. An entry
/// that is not of this form is kept with its problem, and every check that
/// meets it fails with [`Error::InvalidScope`], so a typo in a capability file
/// is reported rather than silently widening or narrowing access.
#[derive(Debug)]
pub(crate) struct TopicPattern {
    source: String,
    compiled: std::result::Result<Pattern, String>,
}

impl TopicPattern {
    /// Compiles `pattern`: an exact topic name or a glob.
    pub fn new(pattern: &str) -> Self {
        let compiled = if pattern.is_empty() {
            Err("a topic pattern must not be empty".to_owned())
        } else {
            Pattern::new(pattern).map_err(|err| err.to_string())
        };
        TopicPattern {
            source: pattern.to_owned(),
            compiled,
        }
    }

    /// The pattern as written in the capability.
    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    fn matches(&self, topic: &str) -> Result<bool> {
        match &self.compiled {
            Ok(pattern) => Ok(pattern.matches_with(topic, MATCH)),
            Err(reason) => Err(Error::InvalidScope {
                pattern: self.source.clone(),
                reason: reason.clone(),
            }),
        }
    }
}

impl<'de> Deserialize<'de> for TopicPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            topic: String,
        }
        let raw = serde_json::Value::deserialize(deserializer)?;
        Ok(match Entry::deserialize(&raw) {
            Ok(entry) => TopicPattern::new(&entry.topic),
            Err(err) => TopicPattern {
                source: raw.to_string(),
                compiled: Err(format!("expected {{ \"topic\": \"<name or glob>\" }}: {err}")),
            },
        })
    }
}

/// What one webview may do for one kind of [`Access`]: the `allow` and `deny`
/// entries of all its capabilities for the permission.
#[derive(Debug, Clone, Default)]
pub(crate) struct TopicScope {
    allow: Vec<Arc<TopicPattern>>,
    deny: Vec<Arc<TopicPattern>>,
}

impl TopicScope {
    /// The scope of every topic: what a permission granted without a scope means.
    #[cfg(test)]
    pub fn unrestricted() -> Self {
        Self::default()
    }

    /// A scope from explicit `allow` and `deny` patterns.
    #[cfg(test)]
    pub fn new<'a>(
        allow: impl IntoIterator<Item = &'a str>,
        deny: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        TopicScope {
            allow: allow.into_iter().map(|p| Arc::new(TopicPattern::new(p))).collect(),
            deny: deny.into_iter().map(|p| Arc::new(TopicPattern::new(p))).collect(),
        }
    }

    /// Whether any capability restricts this webview at all.
    pub fn is_restricted(&self) -> bool {
        !self.allow.is_empty() || !self.deny.is_empty()
    }

    /// Whether `topic` is permitted. Fails only for a malformed pattern.
    pub fn permits(&self, topic: &str) -> Result<bool> {
        // Every pattern is tried, so a malformed one fails every check.
        let any = |patterns: &[Arc<TopicPattern>]| -> Result<bool> {
            let mut hit = false;
            for pattern in patterns {
                hit |= pattern.matches(topic)?;
            }
            Ok(hit)
        };
        let denied = any(&self.deny[..])?;
        let allowed = any(&self.allow[..])?;
        Ok(!denied && (allowed || self.allow.is_empty()))
    }

    /// Fails with [`Error::TopicForbidden`] unless `topic` is permitted.
    ///
    /// Call it before looking the topic up, so that the answer is the same
    /// whether or not the topic exists.
    pub fn check(&self, topic: &str, access: Access) -> Result<()> {
        if self.permits(topic)? {
            Ok(())
        } else {
            Err(Error::TopicForbidden {
                topic: topic.to_owned(),
                access,
            })
        }
    }

    /// Keeps the items whose topic this scope permits, in order.
    pub(crate) fn filter<T>(&self, items: Vec<T>, topic: impl Fn(&T) -> &str) -> Result<Vec<T>> {
        let mut kept = Vec::with_capacity(items.len());
        for item in items {
            if self.permits(topic(&item))? {
                kept.push(item);
            }
        }
        Ok(kept)
    }

    /// Whether two scopes hold the same patterns in the same order.
    pub(crate) fn same_as(&self, other: &TopicScope) -> bool {
        fn same(a: &[Arc<TopicPattern>], b: &[Arc<TopicPattern>]) -> bool {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| Arc::ptr_eq(x, y) || x.source == y.source)
        }
        same(&self.allow, &other.allow) && same(&self.deny, &other.deny)
    }
}

impl TopicScope {
    /// What the capabilities let `webview` do through the plugin's `command`:
    /// `None` when they do not grant the command at all. Resolved from the
    /// app's capabilities on every call, so a capability added at run time
    /// counts at once.
    pub(crate) fn of_command<R: Runtime>(
        webview: &Webview<R>,
        command: &str,
    ) -> tauri::Result<Option<TopicScope>> {
        let resolved = webview.resolve_command_scope::<TopicPattern>("state-sync", command)?;
        Ok(resolved.map(|r| TopicScope::from(r.command_scope())))
    }
}

impl From<&CommandScope<TopicPattern>> for TopicScope {
    fn from(scope: &CommandScope<TopicPattern>) -> Self {
        TopicScope {
            allow: scope.allows().clone(),
            deny: scope.denies().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(allow: &[&str], deny: &[&str]) -> TopicScope {
        TopicScope::new(allow.iter().copied(), deny.iter().copied())
    }

    fn permitted(scope: &TopicScope, topics: &[&str]) -> Vec<bool> {
        topics.iter().map(|t| scope.permits(t).unwrap()).collect()
    }

    #[test]
    fn no_allow_entry_permits_every_topic() {
        assert_eq!(permitted(&TopicScope::unrestricted(), &["settings", "a/b/c"]), [true, true]);
        assert!(!TopicScope::unrestricted().is_restricted());
    }

    #[test]
    fn an_exact_name_permits_only_that_topic() {
        let s = scope(&["settings"], &[]);
        assert_eq!(permitted(&s, &["settings", "settings2", "app/settings"]), [true, false, false]);
    }

    #[test]
    fn a_single_star_stays_inside_one_segment() {
        let s = scope(&["todos/*"], &[]);
        assert_eq!(
            permitted(&s, &["todos/a", "todos/private", "todos/a/b", "todos", "other/a"]),
            [true, true, false, false, false]
        );
        assert_eq!(permitted(&scope(&["*"], &[]), &["settings", "todos/a"]), [true, false]);
    }

    #[test]
    fn a_double_star_crosses_segments() {
        let s = scope(&["todos/**"], &[]);
        assert_eq!(permitted(&s, &["todos/a", "todos/a/b/c", "other/a"]), [true, true, false]);
        assert_eq!(permitted(&scope(&["**"], &[]), &["settings", "a/b/c"]), [true, true]);
    }

    #[test]
    fn deny_wins_over_allow() {
        let s = scope(&["todos/*"], &["todos/private"]);
        assert_eq!(permitted(&s, &["todos/public", "todos/private"]), [true, false]);
        // A deny without any allow refuses only what it names.
        let s = scope(&[], &["secrets/**"]);
        assert!(s.is_restricted());
        assert_eq!(permitted(&s, &["settings", "secrets/key", "secrets/a/b"]), [true, false, false]);
    }

    #[test]
    fn allows_of_several_capabilities_add_up() {
        let s = scope(&["settings", "todos/*"], &[]);
        assert_eq!(permitted(&s, &["settings", "todos/x", "counter"]), [true, true, false]);
    }

    #[test]
    fn a_refusal_names_the_topic_and_the_access() {
        let err = scope(&["settings"], &[]).check("todos/x", Access::Write).unwrap_err();
        assert_eq!(err.code(), "TOPIC_FORBIDDEN");
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["topic"], "todos/x");
        assert_eq!(json["access"], "write");
    }

    #[test]
    fn a_malformed_pattern_is_an_error_naming_it_and_not_a_match() {
        for bad in ["todos**", "[unclosed", ""] {
            let err = scope(&[bad], &[]).permits("todos").unwrap_err();
            assert_eq!(err.code(), "INVALID_SCOPE", "{bad:?}");
            assert_eq!(serde_json::to_value(&err).unwrap()["pattern"], bad);
        }
        // A bad deny fails even when an allow would have matched first.
        let err = scope(&["*"], &["**x"]).permits("settings").unwrap_err();
        assert_eq!(err.code(), "INVALID_SCOPE");
    }

    #[test]
    fn entries_deserialize_from_the_capability_form() {
        let ok: TopicPattern = serde_json::from_value(serde_json::json!({"topic": "todos/*"})).unwrap();
        assert_eq!(ok.as_str(), "todos/*");
        assert!(ok.matches("todos/a").unwrap());
        for bad in [serde_json::json!({"topics": "x"}), serde_json::json!("todos"), serde_json::json!({"topic": 1})] {
            let entry: TopicPattern = serde_json::from_value(bad.clone()).unwrap();
            let err = entry.matches("todos").unwrap_err();
            assert_eq!(err.code(), "INVALID_SCOPE", "{bad}");
            assert!(err.to_string().contains("topic"), "{err}");
        }
    }
}
