//! A change as RFC 6902 JSON Patch operations: derived from the merge patch
//! that makes it, or by diffing the data before and after, and serialized
//! once, outside every lock, for the topic's history.
//!
//! Only `add`, `remove` and `replace` are produced, each at the path of one
//! touched member or element (`""` for the whole value).

use json_patch::{AddOperation, PatchOperation, RemoveOperation, ReplaceOperation};
use json_patch::jsonptr::PointerBuf;
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
pub(crate) fn from_diff(before: &Value, after: &Value) -> Vec<PatchOperation> {
    json_patch::diff(before, after).0
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

    #[test]
    fn serialized_patches_are_compact_json_arrays() {
        let patch = serialize(&from_merge(&json!({}), &json!({"a": 1})));
        assert_eq!(patch.as_str(), r#"[{"op":"add","path":"/a","value":1}]"#);
    }
}
