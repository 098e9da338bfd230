//! The one limit on how deeply topic data may nest, and the ways of enforcing
//! it that never recurse into an over-deep value.
//!
//! Depth counts containers: a scalar has depth 0, and an array or object is
//! one deeper than its deepest element, so `[]` has depth 1 and
//! `{"a": [1]}` depth 2. Every way in refuses data deeper than [`MAX_DEPTH`]
//! with [`Error::TooDeep`]: command arguments, the Rust API, initial values
//! and persisted files. The limit leaves room below `serde_json`'s parser
//! limit of 127 nested containers for the object that wraps the data in a
//! file or in a command's arguments, so whatever is accepted can always be
//! saved and read back.
//!
//! Cloning, comparing, serializing and dropping a `Value` all recurse, so an
//! over-deep value is measured iteratively before any of them runs, and a
//! refused value is dropped iteratively too.

use std::cell::Cell;

use serde::{ser, Serialize, Serializer};
use serde_json::Value;

use crate::{Error, Result};

/// The deepest nesting of arrays and objects accepted in topic data.
pub const MAX_DEPTH: usize = 100;

/// Whether `value` nests deeper than `limit`, found without recursion and
/// without looking further than `limit + 1` levels down.
pub(crate) fn exceeds(value: &Value, limit: usize) -> bool {
    let mut pending: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((value, above)) = pending.pop() {
        let depth = above + 1;
        match value {
            Value::Array(items) => {
                if depth > limit {
                    return true;
                }
                pending.extend(items.iter().map(|item| (item, depth)));
            }
            Value::Object(entries) => {
                if depth > limit {
                    return true;
                }
                pending.extend(entries.values().map(|item| (item, depth)));
            }
            _ => {}
        }
    }
    false
}

/// Fails with [`Error::TooDeep`] if `value` nests deeper than [`MAX_DEPTH`].
pub(crate) fn check(value: &Value) -> Result<()> {
    if exceeds(value, MAX_DEPTH) {
        return Err(Error::TooDeep { limit: MAX_DEPTH });
    }
    Ok(())
}

/// [`check`], consuming `value` and dropping it without recursion when it is
/// refused.
pub(crate) fn accept(value: Value) -> Result<Value> {
    match check(&value) {
        Ok(()) => Ok(value),
        Err(err) => {
            discard(value);
            Err(err)
        }
    }
}

/// Drops `value` level by level, so that dropping an over-deep value cannot
/// overflow the stack.
pub(crate) fn discard(value: Value) {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Array(items) => pending.extend(items),
            Value::Object(entries) => pending.extend(entries.into_iter().map(|(_, item)| item)),
            _ => {}
        }
    }
}

/// `serde_json::to_value`, stopped with [`Error::TooDeep`] as soon as the
/// value would nest deeper than [`MAX_DEPTH`], so that serializing a deep
/// Rust value never recurses further than the limit.
pub(crate) fn to_value(data: impl Serialize) -> Result<Value> {
    let tripped = Cell::new(false);
    let serializer = Limited {
        inner: serde_json::value::Serializer,
        depth: 0,
        tripped: &tripped,
    };
    match data.serialize(serializer) {
        Ok(value) => Ok(value),
        Err(_) if tripped.get() => Err(Error::TooDeep { limit: MAX_DEPTH }),
        Err(err) => Err(Error::Serialization(err)),
    }
}

/// A serializer that forwards to `inner` and fails when containers nest
/// deeper than [`MAX_DEPTH`].
struct Limited<'a, S> {
    inner: S,
    /// The number of containers around what this serializer writes.
    depth: usize,
    tripped: &'a Cell<bool>,
}

/// A value to serialize at `depth`, through [`Limited`].
struct At<'a, T: ?Sized> {
    value: &'a T,
    depth: usize,
    tripped: &'a Cell<bool>,
}

impl<T: ?Sized + Serialize> Serialize for At<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Limited {
            inner: serializer,
            depth: self.depth,
            tripped: self.tripped,
        })
    }
}

impl<'a, S> Limited<'a, S> {
    fn at<'v, T: ?Sized>(&self, value: &'v T, depth: usize) -> At<'v, T>
    where
        'a: 'v,
    {
        At {
            value,
            depth,
            tripped: self.tripped,
        }
    }

    /// Opens a container one level deeper, or fails past the limit.
    fn open<C, E: ser::Error>(self, open: impl FnOnce(S) -> Result<C, E>) -> Result<Limited<'a, C>, E> {
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            self.tripped.set(true);
            return Err(E::custom(format!("data nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(Limited {
            inner: open(self.inner)?,
            depth,
            tripped: self.tripped,
        })
    }
}

macro_rules! forward_scalars {
    ($($method:ident($type:ty)),* $(,)?) => {
        $(fn $method(self, v: $type) -> Result<S::Ok, S::Error> {
            self.inner.$method(v)
        })*
    };
}

impl<'a, S: Serializer> Serializer for Limited<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Limited<'a, S::SerializeSeq>;
    type SerializeTuple = Limited<'a, S::SerializeTuple>;
    type SerializeTupleStruct = Limited<'a, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Limited<'a, S::SerializeTupleVariant>;
    type SerializeMap = Limited<'a, S::SerializeMap>;
    type SerializeStruct = Limited<'a, S::SerializeStruct>;
    type SerializeStructVariant = Limited<'a, S::SerializeStructVariant>;

    forward_scalars!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_unit_struct(&'static str),
    );

    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        // `serde_json` writes bytes as an array of numbers: one level.
        let inside = self.open(Ok::<_, S::Error>)?;
        inside.inner.serialize_bytes(v)
    }

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_none()
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<S::Ok, S::Error> {
        let value = self.at(value, self.depth);
        self.inner.serialize_some(&value)
    }

    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_variant(name, index, variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let value = self.at(value, self.depth);
        self.inner.serialize_newtype_struct(name, &value)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        // `{ "Variant": value }`: the value sits inside one object.
        let inside = self.open(Ok::<_, S::Error>)?;
        let value = inside.at(value, inside.depth);
        inside.inner.serialize_newtype_variant(name, index, variant, &value)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.open(|inner| inner.serialize_seq(len))
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.open(|inner| inner.serialize_tuple(len))
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.open(|inner| inner.serialize_tuple_struct(name, len))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        // `{ "Variant": [...] }`: two levels.
        let outer = self.open(Ok::<_, S::Error>)?;
        outer.open(|inner| inner.serialize_tuple_variant(name, index, variant, len))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.open(|inner| inner.serialize_map(len))
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct, S::Error> {
        self.open(|inner| inner.serialize_struct(name, len))
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        // `{ "Variant": {...} }`: two levels.
        let outer = self.open(Ok::<_, S::Error>)?;
        outer.open(|inner| inner.serialize_struct_variant(name, index, variant, len))
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Implements a compound serializer trait for [`Limited`]: every element is
/// serialized at the container's depth.
macro_rules! forward_compound {
    ($trait:ident, $($method:ident($($name:ident: $type:ty),*)),*) => {
        impl<S: ser::$trait> ser::$trait for Limited<'_, S> {
            type Ok = S::Ok;
            type Error = S::Error;
            $(fn $method<T: ?Sized + Serialize>(&mut self, $($name: $type,)* value: &T) -> Result<(), S::Error> {
                let value = At { value, depth: self.depth, tripped: self.tripped };
                self.inner.$method($($name,)* &value)
            })*
            fn end(self) -> Result<S::Ok, S::Error> {
                self.inner.end()
            }
        }
    };
}

forward_compound!(SerializeSeq, serialize_element());
forward_compound!(SerializeTuple, serialize_element());
forward_compound!(SerializeTupleStruct, serialize_field());
forward_compound!(SerializeTupleVariant, serialize_field());
forward_compound!(SerializeMap, serialize_key(), serialize_value());
forward_compound!(SerializeStruct, serialize_field(key: &'static str));
forward_compound!(SerializeStructVariant, serialize_field(key: &'static str));

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    /// An array nested `depth` levels, built and measured without recursion.
    fn nested(depth: usize) -> Value {
        let mut value = json!(0);
        for _ in 0..depth {
            value = Value::Array(vec![value]);
        }
        value
    }

    #[test]
    fn depth_counts_containers_not_scalars() {
        assert!(!exceeds(&json!(1), 0));
        assert!(exceeds(&json!([]), 0));
        assert!(!exceeds(&json!({"a": [1]}), 2));
        assert!(exceeds(&json!({"a": [1]}), 1));
        assert!(exceeds(&json!([1, {"b": {"c": null}}]), 2));
    }

    #[test]
    fn data_at_the_limit_is_accepted_and_one_deeper_is_too_deep() {
        check(&nested(MAX_DEPTH)).unwrap();
        let deeper = nested(MAX_DEPTH + 1);
        assert_eq!(check(&deeper).unwrap_err().code(), "TOO_DEEP");
        discard(deeper);
    }

    #[test]
    fn a_million_levels_are_measured_and_dropped_without_overflowing_the_stack() {
        let deep = nested(1_000_000);
        let err = accept(deep).unwrap_err();
        assert!(matches!(err, Error::TooDeep { limit: MAX_DEPTH }), "{err}");
    }

    #[test]
    fn limited_serialization_matches_serde_json() {
        #[derive(Serialize)]
        enum Shape {
            Unit,
            New(u8),
            Tuple(u8, String),
            Struct { sides: Vec<u8> },
        }
        #[derive(Serialize)]
        struct All {
            shapes: Vec<Shape>,
            map: BTreeMap<String, Option<(u8, bool)>>,
            nothing: (),
        }
        let all = All {
            shapes: vec![Shape::Unit, Shape::New(1), Shape::Tuple(2, "x".into()), Shape::Struct { sides: vec![3] }],
            map: BTreeMap::from([("a".into(), Some((1, true))), ("b".into(), None)]),
            nothing: (),
        };
        assert_eq!(to_value(&all).unwrap(), serde_json::to_value(&all).unwrap());
    }

    #[test]
    fn enum_variants_count_their_wrapping_object() {
        #[derive(Serialize)]
        enum Wrap {
            New(Vec<u8>),
            Tuple(u8, u8),
            Struct { a: u8 },
        }
        for (value, depth) in [
            (to_value(Wrap::New(vec![1])).unwrap(), 2),
            (to_value(Wrap::Tuple(1, 2)).unwrap(), 2),
            (to_value(Wrap::Struct { a: 1 }).unwrap(), 2),
        ] {
            assert!(!exceeds(&value, depth) && exceeds(&value, depth - 1), "{value}");
        }
    }
}
