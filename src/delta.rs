//! A change as RFC 6902 JSON Patch operations: derived from the merge patch
//! that makes it, or by diffing the data before and after, and serialized
//! once, outside every lock, for the topic's history and its push.
//!
//! The diff is ours rather than `json_patch::diff`, which builds a JSON
//! Pointer for every member it visits: on a 1 MB value that doubled the cost
//! of a `set`. This one builds a pointer only where the values differ.
//!
//! Only `add`, `remove` and `replace` are produced, each at the path of one
//! touched member or element (`""` for the whole value). A JSON Patch written
//! with `apply_patch` is its own change when it has only the operations a
//! window applies (`add`, `remove`, `replace`, `test`); this module parses it
//! and checks, without applying it, whether it changes anything.

use json_patch::{AddOperation, PatchOperation, RemoveOperation, ReplaceOperation};
use json_patch::jsonptr::{Pointer, PointerBuf};
use serde_json::{Map, Value};

use crate::models::JsonPatch;

/// The operations that take `target` to the RFC 7396 merge of the object
/// `patch` onto it, as [`json_patch::merge`] computes it.
///
/// One operation per member the merge changes: it costs the size of the
/// patch and of the values it replaces, never a walk of the whole target.
/// Members the merge would set to their current value produce nothing, so
/// the result is empty exactly when the merge changes nothing.
pub(crate) fn from_merge(target: &Value, patch: &Value) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    merge_into(target, patch, &mut PointerBuf::new(), &mut ops);
    ops
}

fn merge_into(target: &Value, patch: &Value, path: &mut PointerBuf, ops: &mut Vec<PatchOperation>) {
    let Value::Object(members) = patch else {
        if target != patch {
            ops.push(replace(path, patch.clone()));
        }
        return;
    };
    let Value::Object(current) = target else {
        // The merge starts from an empty object, so the result is an object
        // and the target was not: it is replaced whole.
        ops.push(replace(path, without_nulls(members)));
        return;
    };
    for (key, value) in members {
        path.push_back(key);
        match (current.get(key), value) {
            (None, Value::Null) => {}
            (Some(_), Value::Null) => ops.push(PatchOperation::Remove(RemoveOperation { path: path.clone() })),
            (None, Value::Object(nested)) => ops.push(add(path, without_nulls(nested))),
            (None, value) => ops.push(add(path, value.clone())),
            (Some(existing), value) => merge_into(existing, value, path, ops),
        }
        path.pop_back();
    }
}

/// What merging `patch` into an empty object gives: `patch` without the
/// members whose value is `null`, at every level of objects.
fn without_nulls(patch: &Map<String, Value>) -> Value {
    Value::Object(
        patch
            .iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(key, value)| match value {
                Value::Object(nested) => (key.clone(), without_nulls(nested)),
                other => (key.clone(), other.clone()),
            })
            .collect(),
    )
}

fn add(path: &PointerBuf, value: Value) -> PatchOperation {
    PatchOperation::Add(AddOperation {
        path: path.clone(),
        value,
    })
}

fn replace(path: &PointerBuf, value: Value) -> PatchOperation {
    PatchOperation::Replace(ReplaceOperation {
        path: path.clone(),
        value,
    })
}

/// The operations that take `before` to `after`, found by walking both.
///
/// Members and elements that are equal are compared, not descended into, so
/// a path is built only where something changed: one element changed in a
/// large array is one operation at that element. Objects are compared member
/// by member, arrays element by element up to the shorter length, the rest
/// added or removed at the end; anything else that differs is replaced whole.
/// The result is empty exactly when the values are equal.
pub(crate) fn from_diff(before: &Value, after: &Value) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    if before != after {
        diff_into(before, after, &mut PointerBuf::new(), &mut ops);
    }
    ops
}

/// Appends the operations from `before` to `after`, which differ, at `path`.
fn diff_into(before: &Value, after: &Value, path: &mut PointerBuf, ops: &mut Vec<PatchOperation>) {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            for key in old.keys().filter(|key| !new.contains_key(*key)) {
                path.push_back(key);
                ops.push(PatchOperation::Remove(RemoveOperation { path: path.clone() }));
                path.pop_back();
            }
            for (key, value) in new {
                match old.get(key) {
                    Some(existing) if existing == value => continue,
                    existing => {
                        path.push_back(key);
                        match existing {
                            Some(existing) => diff_into(existing, value, path, ops),
                            None => ops.push(add(path, value.clone())),
                        }
                        path.pop_back();
                    }
                }
            }
        }
        (Value::Array(old), Value::Array(new)) => {
            for (index, (existing, value)) in old.iter().zip(new).enumerate() {
                if existing != value {
                    path.push_back(index);
                    diff_into(existing, value, path, ops);
                    path.pop_back();
                }
            }
            for index in new.len()..old.len() {
                // From the end, so each index is still the element it names.
                path.push_back(old.len() - 1 - (index - new.len()));
                ops.push(PatchOperation::Remove(RemoveOperation { path: path.clone() }));
                path.pop_back();
            }
            for (index, value) in new.iter().enumerate().skip(old.len()) {
                path.push_back(index);
                ops.push(add(path, value.clone()));
                path.pop_back();
            }
        }
        _ => ops.push(replace(path, after.clone())),
    }
}

/// `data` as a patch that replaces the whole value, if that patch is at most
/// `limit` bytes of JSON. Costs O(`limit`) when it is not.
pub(crate) fn whole(data: &Value, limit: usize) -> Option<JsonPatch> {
    const WRAPPER: usize = r#"[{"op":"replace","path":"","value":}]"#.len();
    let room = limit.checked_sub(WRAPPER)?;
    if crate::json_size::at_least(data, room + 1) {
        return None;
    }
    Some(serialize(&[replace(&PointerBuf::new(), data.clone())]))
}

/// The operations of the RFC 6902 JSON Patch `patch`, or why it is not one.
pub(crate) fn parse_edit(patch: Value) -> Result<Vec<PatchOperation>, String> {
    if !patch.is_array() {
        return Err("a JSON Patch must be an array of operations; use patch for a merge patch".into());
    }
    match serde_json::from_value::<json_patch::Patch>(patch) {
        Ok(json_patch::Patch(ops)) => Ok(ops),
        Err(err) => Err(format!("not an RFC 6902 JSON Patch: {err}")),
    }
}

/// Whether windows can apply `ops` as they are: only `add`, `remove`,
/// `replace` and `test`.
pub(crate) fn pushable(ops: &[PatchOperation]) -> bool {
    ops.iter().all(|op| {
        matches!(
            op,
            PatchOperation::Add(_) | PatchOperation::Remove(_) | PatchOperation::Replace(_) | PatchOperation::Test(_)
        )
    })
}

/// Whether `ops` would put a value deeper than `limit` levels of arrays and
/// objects: a value's depth counts from the path it is written to.
pub(crate) fn nests_deeper(ops: &[PatchOperation], limit: usize) -> bool {
    ops.iter().any(|op| {
        let (path, value) = match op {
            PatchOperation::Add(op) => (&op.path, &op.value),
            PatchOperation::Replace(op) => (&op.path, &op.value),
            _ => return false,
        };
        let above = path.count();
        above > limit || crate::depth::exceeds(value, limit - above)
    })
}

/// Whether the operations `ops` (`add`, `remove`, `replace`, `test`) touch
/// places apart on `data`: no operation reads or writes where one before it
/// wrote. What an operation writes is its path, or the whole array when it
/// inserts into or removes from one, since that moves the elements after it.
///
/// Then each operation does to `data` what it would do alone, so the patch
/// changes nothing exactly when each of them changes nothing (see
/// [`unchanged_by`]). Operations that do meet, such as two that set a member
/// and set it back, have to be applied to know.
pub(crate) fn independent(data: &Value, ops: &[PatchOperation]) -> bool {
    let mut written: Vec<&Pointer> = Vec::new();
    for op in ops {
        let (path, writes) = match op {
            PatchOperation::Test(op) => (&*op.path, false),
            PatchOperation::Replace(op) => (&*op.path, true),
            PatchOperation::Add(op) => (&*op.path, true),
            PatchOperation::Remove(op) => (&*op.path, true),
            _ => return false,
        };
        let meets = |place: &Pointer| written.iter().any(|w| place.starts_with(w) || w.starts_with(place));
        // An insertion or a removal writes the whole array.
        let place = match op {
            PatchOperation::Add(_) | PatchOperation::Remove(_) => match path.parent() {
                Some(parent) if parent.resolve(data).is_ok_and(Value::is_array) => parent,
                _ => path,
            },
            _ => path,
        };
        if meets(path) || meets(place) {
            return false;
        }
        if writes {
            written.push(place);
        }
    }
    true
}

/// Whether applying `ops` to `data` would leave it exactly as it is, in
/// O(patch), provided the operations are [`independent`]: true when every
/// operation is a `test` that passes, or an `add` or `replace` that writes an
/// object member or a value equal to what it holds. Anything else (a
/// `remove`, an insertion into an array, a path that does not resolve)
/// changes the data or fails, which applying finds out.
///
/// Each operation is checked against `data` itself, which is right because
/// none of those before it changed what it reads.
pub(crate) fn unchanged_by(data: &Value, ops: &[PatchOperation]) -> bool {
    ops.iter().all(|op| match op {
        PatchOperation::Test(op) => op.path.resolve(data).is_ok_and(|found| *found == op.value),
        PatchOperation::Replace(op) => op.path.resolve(data).is_ok_and(|found| *found == op.value),
        // `add` replaces an existing object member (or the whole value), but
        // inserts into an array.
        PatchOperation::Add(op) => {
            let into_object = op.path.parent().is_none_or(|parent| parent.resolve(data).is_ok_and(Value::is_object));
            into_object && op.path.resolve(data).is_ok_and(|found| *found == op.value)
        }
        _ => false,
    })
}

/// `ops` as compact JSON text.
pub(crate) fn serialize(ops: &[PatchOperation]) -> JsonPatch {
    let raw = serde_json::value::to_raw_value(ops).expect("patch operations always serialize");
    JsonPatch::from_raw(raw)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn merged(target: &Value, patch: &Value) -> Value {
        let mut merged = target.clone();
        json_patch::merge(&mut merged, patch);
        merged
    }

    fn ops_json(ops: &[PatchOperation]) -> Value {
        serde_json::to_value(ops).unwrap()
    }

    /// Applies the derived operations and checks they give the merge.
    fn check(target: Value, patch: Value) -> Value {
        let ops = from_merge(&target, &patch);
        let mut patched = target.clone();
        json_patch::patch(&mut patched, &ops).unwrap_or_else(|e| panic!("{e}: {}", ops_json(&ops)));
        assert_eq!(patched, merged(&target, &patch), "ops {}", ops_json(&ops));
        assert_eq!(ops.is_empty(), patched == target);
        ops_json(&ops)
    }

    #[test]
    fn one_operation_per_touched_member() {
        let ops = check(
            json!({"a": 1, "b": {"c": 2, "d": 3}, "gone": true}),
            json!({"a": 2, "b": {"c": null, "e": {"f": null, "g": 1}}, "gone": null, "absent": null}),
        );
        assert_eq!(
            ops,
            json!([
                {"op": "replace", "path": "/a", "value": 2},
                {"op": "remove", "path": "/b/c"},
                {"op": "add", "path": "/b/e", "value": {"g": 1}},
                {"op": "remove", "path": "/gone"},
            ])
        );
    }

    #[test]
    fn unchanged_members_produce_nothing() {
        assert_eq!(check(json!({"a": [1, 2], "b": {"c": 1}}), json!({"a": [1, 2], "b": {"c": 1}, "x": null})), json!([]));
    }

    #[test]
    fn a_non_object_is_replaced_whole() {
        assert_eq!(
            check(json!({"a": 5}), json!({"a": {"b": 1, "c": null}})),
            json!([{"op": "replace", "path": "/a", "value": {"b": 1}}])
        );
        assert_eq!(check(json!([1, 2]), json!({})), json!([{"op": "replace", "path": "", "value": {}}]));
        assert_eq!(check(json!(null), json!({"a": null})), json!([{"op": "replace", "path": "", "value": {}}]));
    }

    #[test]
    fn arrays_in_the_patch_replace_and_keep_their_nulls() {
        assert_eq!(
            check(json!({"a": [1]}), json!({"a": [null, {"b": null}]})),
            json!([{"op": "replace", "path": "/a", "value": [null, {"b": null}]}])
        );
    }

    #[test]
    fn keys_are_escaped_as_json_pointers() {
        assert_eq!(
            check(json!({}), json!({"a/b": 1, "c~d": 2, "": 3})),
            json!([
                {"op": "add", "path": "/", "value": 3},
                {"op": "add", "path": "/a~1b", "value": 1},
                {"op": "add", "path": "/c~0d", "value": 2},
            ])
        );
    }

    #[test]
    fn one_element_changed_in_a_large_array_is_one_small_operation() {
        let before = json!({"items": (0..10_000).map(|i| json!({"id": i, "done": false})).collect::<Vec<_>>()});
        let mut after = before.clone();
        after["items"][4_321]["done"] = json!(true);
        let ops = from_diff(&before, &after);
        assert_eq!(ops_json(&ops), json!([{"op": "replace", "path": "/items/4321/done", "value": true}]));
    }

    /// Checks that the diff of `before` and `after` takes one to the other.
    fn check_diff(before: Value, after: Value) -> Value {
        let ops = from_diff(&before, &after);
        let mut patched = before.clone();
        json_patch::patch(&mut patched, &ops).unwrap_or_else(|e| panic!("{e}: {}", ops_json(&ops)));
        assert_eq!(patched, after, "ops {}", ops_json(&ops));
        assert_eq!(ops.is_empty(), before == after);
        ops_json(&ops)
    }

    #[test]
    fn a_diff_names_only_what_changed() {
        assert_eq!(
            check_diff(json!({"a": {"b": 1, "c": 2}, "d": [1, 2], "gone": 0}), json!({"a": {"b": 1, "c": 3}, "d": [1, 2], "new": null})),
            json!([
                {"op": "remove", "path": "/gone"},
                {"op": "replace", "path": "/a/c", "value": 3},
                {"op": "add", "path": "/new", "value": null},
            ])
        );
        assert_eq!(check_diff(json!({"a": [1]}), json!({"a": [1]})), json!([]));
    }

    #[test]
    fn a_diff_of_arrays_of_other_lengths_adds_or_removes_at_the_end() {
        assert_eq!(
            check_diff(json!([1, 2, 3, 4]), json!([1, 5])),
            json!([
                {"op": "replace", "path": "/1", "value": 5},
                {"op": "remove", "path": "/3"},
                {"op": "remove", "path": "/2"},
            ])
        );
        assert_eq!(
            check_diff(json!([1]), json!([1, [2], {"x": 3}])),
            json!([{"op": "add", "path": "/1", "value": [2]}, {"op": "add", "path": "/2", "value": {"x": 3}}])
        );
    }

    #[test]
    fn a_diff_across_types_replaces_the_value() {
        assert_eq!(check_diff(json!({"a": [1]}), json!({"a": {"0": 1}})), json!([{"op": "replace", "path": "/a", "value": {"0": 1}}]));
        assert_eq!(check_diff(json!(1), json!("1")), json!([{"op": "replace", "path": "", "value": "1"}]));
        check_diff(json!({"a~b/c": 1}), json!({"a~b/c": 2}));
    }

    #[test]
    fn a_whole_value_patch_is_made_only_within_its_limit() {
        let data = json!({"a": 1});
        let patch = whole(&data, 1_000).unwrap();
        assert_eq!(patch.as_str(), r#"[{"op":"replace","path":"","value":{"a":1}}]"#);
        assert_eq!(whole(&data, patch.len()), Some(patch.clone()));
        assert_eq!(whole(&data, patch.len() - 1), None);
        assert_eq!(whole(&data, 0), None);
    }

    #[test]
    fn serialized_patches_are_compact_json_arrays() {
        let patch = serialize(&from_merge(&json!({}), &json!({"a": 1})));
        assert_eq!(patch.as_str(), r#"[{"op":"add","path":"/a","value":1}]"#);
    }
}
