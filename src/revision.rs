//! The revision of a topic and its canonical wire form.
//!
//! A revision is a `u64` that starts at 0 when a topic is created and rises by
//! exactly one on every change that alters the topic's data. On the wire it is
//! a canonical decimal string (`"0"`, `"42"`, never `"042"`), so JavaScript
//! never rounds it through a `number`.

use std::{fmt, str::FromStr};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// The version of a topic's data. Totally ordered; newer is greater.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Revision(u64);

impl Revision {
    /// The revision of a topic that has never changed.
    pub const ZERO: Revision = Revision(0);

    /// Wraps a raw revision number.
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    /// The raw revision number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The revision that follows this one, or `None` once `u64::MAX` is reached.
    pub(crate) fn next(self) -> Option<Revision> {
        self.0.checked_add(1).map(Revision)
    }

    /// The revision before this one, or `None` for [`Revision::ZERO`].
    pub(crate) fn previous(self) -> Option<Revision> {
        self.0.checked_sub(1).map(Revision)
    }

    /// Reads a revision argument from JSON, accepting only a canonical string.
    pub(crate) fn from_json(value: &serde_json::Value) -> Result<Self> {
        match value {
            serde_json::Value::String(text) => text.parse(),
            other => Err(Error::InvalidRevision {
                value: other.to_string(),
                reason: "a revision must be a decimal string such as \"42\", not a JSON number or other type",
            }),
        }
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Revision {
    type Err = Error;

    /// Parses the canonical form: ASCII digits, no sign, no leading zero, at most `u64::MAX`.
    fn from_str(text: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidRevision {
            value: serde_json::Value::from(text).to_string(),
            reason,
        };
        if text.is_empty() {
            return Err(invalid("a revision must not be empty"));
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("a revision may contain only the digits 0-9"));
        }
        if text.len() > 1 && text.starts_with('0') {
            return Err(invalid("a revision must not have a leading zero"));
        }
        text.parse::<u64>()
            .map(Revision)
            .map_err(|_| invalid("a revision must not exceed 18446744073709551615"))
    }
}

impl Serialize for Revision {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Revision {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Revision;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a canonical decimal u64 string such as \"42\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Revision, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_strings_parse() {
        assert_eq!("0".parse::<Revision>().unwrap(), Revision::ZERO);
        assert_eq!("42".parse::<Revision>().unwrap(), Revision::new(42));
        assert_eq!(
            "18446744073709551615".parse::<Revision>().unwrap(),
            Revision::new(u64::MAX)
        );
    }

    #[test]
    fn non_canonical_strings_are_invalid_revisions() {
        for text in ["", "01", "00", "abc", "-1", "+1", " 1", "1.0", "1e3", "18446744073709551616"] {
            let err = text.parse::<Revision>().unwrap_err();
            assert_eq!(err.code(), "INVALID_REVISION", "{text:?} gave {err}");
        }
    }

    /// Issue 11, item 15: the `value` detail used Rust debug formatting,
    /// which is not JSON for strings holding NUL or a BOM.
    #[test]
    fn invalid_revision_value_is_the_json_of_the_rejected_string() {
        for text in ["1\u{0}", "\u{feff}1", "\"7\"", "a\\b", "\u{1b}[0m"] {
            let err = text.parse::<Revision>().unwrap_err();
            let Error::InvalidRevision { value, .. } = &err else {
                panic!("expected INVALID_REVISION, got {err}");
            };
            let parsed: serde_json::Value = serde_json::from_str(value).unwrap_or_else(|e| panic!("{value}: {e}"));
            assert_eq!(parsed, serde_json::json!(text));
        }
    }

    #[test]
    fn json_numbers_are_rejected_even_when_integral() {
        let err = Revision::from_json(&serde_json::json!(42)).unwrap_err();
        assert_eq!(err.code(), "INVALID_REVISION");
        assert!(err.to_string().contains("decimal string"), "{err}");
    }

    #[test]
    fn serializes_as_string_and_round_trips() {
        let json = serde_json::to_string(&Revision::new(u64::MAX)).unwrap();
        assert_eq!(json, "\"18446744073709551615\"");
        assert_eq!(
            serde_json::from_str::<Revision>(&json).unwrap(),
            Revision::new(u64::MAX)
        );
        assert!(serde_json::from_str::<Revision>("7").is_err());
    }

    #[test]
    fn next_stops_at_the_maximum() {
        assert_eq!(Revision::new(1).next(), Some(Revision::new(2)));
        assert_eq!(Revision::new(u64::MAX).next(), None);
    }
}
