//! The size of a value as compact JSON, counted without building the text.

use std::io;

use serde::Serialize;

/// Counts bytes, and stops the serializer once `limit` is reached.
struct Counter {
    count: usize,
    limit: usize,
}

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.count += buf.len();
        if self.count >= self.limit {
            // Ends the serialization early: the answer is known.
            return Err(io::Error::other("limit reached"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn count(value: &impl Serialize, limit: usize) -> usize {
    let mut counter = Counter { count: 0, limit };
    // The only error is the counter's own stop: a `Value` always serializes.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.count
}

/// The length of `value` serialized as compact JSON.
pub(crate) fn len(value: &impl Serialize) -> usize {
    count(value, usize::MAX)
}

/// Whether `value` serializes to at least `bytes` bytes of compact JSON.
/// Costs O(`bytes`), not O(size of `value`).
pub(crate) fn at_least(value: &impl Serialize, bytes: usize) -> bool {
    bytes == 0 || count(value, bytes) >= bytes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn len_matches_compact_json() {
        let value = json!({"a": [1, "two", null], "é": true});
        assert_eq!(len(&value), serde_json::to_vec(&value).unwrap().len());
    }

    #[test]
    fn at_least_is_exact_at_the_boundary() {
        let value = json!({"a": [1, "two", null], "é": true});
        let size = serde_json::to_vec(&value).unwrap().len();
        assert!(at_least(&value, 0));
        assert!(at_least(&value, size));
        assert!(!at_least(&value, size + 1));
    }
}
