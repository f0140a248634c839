//! Folding a batch's view changes into as few as possible, with the same end result: a batch of
//! events often touches the same document many times (a login bumps a counter and a date; a
//! registration is followed by changes), and every change saved is a statement saved.
use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use annals_contracts::{Run, ViewOp};

/// What is known about one document at a point in the batch.
enum Base {
    /// Not touched by a replacing op yet: pending ops apply to whatever is stored.
    Stored,
    /// Replaced by an upsert in this batch.
    Known {
        doc: Value,
        owner: Option<String>,
        ord: Option<i64>,
    },
    Deleted,
}

struct Document {
    base: Base,
    /// Ops still to apply after the base, in order (merges, increments and nested changes).
    pending: Vec<ViewOp>,
}

/// Returns ops equivalent to `ops` (applied in order, one document at a time) where every
/// document appears once as an upsert or a delete, or as a short run of merges and increments.
/// Documents are independent, so their order relative to each other does not matter; the
/// relative order of ops on one document is kept. A delete by filter stays where it is: the
/// ops on each side of it are folded apart.
pub fn coalesce(ops: &[ViewOp]) -> Vec<ViewOp> {
    let mut out = Vec::with_capacity(ops.len());
    for run in ViewOp::runs(ops) {
        match run {
            Run::Documents(ops) => out.extend(coalesce_documents(ops)),
            Run::Barrier(op) => out.push(op.clone()),
        }
    }
    out
}

/// [`coalesce`] of ops on one document each.
fn coalesce_documents(ops: &[ViewOp]) -> Vec<ViewOp> {
    let mut order: Vec<(Cow<'static, str>, String)> = Vec::new();
    let mut docs: HashMap<(Cow<'static, str>, String), Document> = HashMap::new();
    for op in ops {
        let Some(key) = key(op) else {
            // A delete by filter: never in a run of document ops.
            continue;
        };
        let doc = docs.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            Document {
                base: Base::Stored,
                pending: Vec::new(),
            }
        });
        fold(doc, op);
    }
    let mut out = Vec::with_capacity(order.len());
    for key in order {
        let doc = docs.remove(&key).expect("every key has a document");
        match doc.base {
            Base::Known { doc, owner, ord } => out.push(ViewOp::Upsert {
                collection: key.0,
                id: key.1,
                doc,
                owner,
                ord,
            }),
            Base::Deleted => out.push(ViewOp::Delete {
                collection: key.0,
                id: key.1,
            }),
            Base::Stored => {}
        }
        out.extend(doc.pending);
    }
    out
}

/// A document's key; cloning a fixed collection's name copies no string.
fn key(op: &ViewOp) -> Option<(Cow<'static, str>, String)> {
    match op {
        ViewOp::Upsert { collection, id, .. }
        | ViewOp::Merge { collection, id, .. }
        | ViewOp::Increment { collection, id, .. }
        | ViewOp::Nested { collection, id, .. }
        | ViewOp::Delete { collection, id } => Some((collection.clone(), id.clone())),
        ViewOp::DeleteMatching { .. } => None,
    }
}

fn fold(doc: &mut Document, op: &ViewOp) {
    match op {
        ViewOp::Upsert {
            doc: value,
            owner,
            ord,
            ..
        } => {
            doc.base = Base::Known {
                doc: value.clone(),
                owner: owner.clone(),
                ord: *ord,
            };
            doc.pending.clear();
        }
        ViewOp::Delete { .. } => {
            doc.base = Base::Deleted;
            doc.pending.clear();
        }
        // Changes to a missing document are no-ops.
        ViewOp::Merge { .. } | ViewOp::Increment { .. } | ViewOp::Nested { .. }
            if matches!(doc.base, Base::Deleted) => {}
        ViewOp::Nested { path, change, .. } => {
            if doc.pending.is_empty()
                && let Base::Known { doc: known, .. } = &mut doc.base
            {
                change.apply(known, path);
                return;
            }
            doc.pending.push(op.clone());
        }
        ViewOp::Merge { patch, .. } => {
            if doc.pending.is_empty()
                && let Base::Known { doc: known, .. } = &mut doc.base
                && merge_into(known, patch)
            {
                return;
            }
            if let Some(ViewOp::Merge { patch: last, .. }) = doc.pending.last_mut()
                && let (Value::Object(last), Value::Object(next)) = (&mut *last, patch)
            {
                last.extend(next.iter().map(|(k, v)| (k.clone(), v.clone())));
                return;
            }
            doc.pending.push(op.clone());
        }
        ViewOp::DeleteMatching { .. } => {}
        ViewOp::Increment { field, by, .. } => {
            if doc.pending.is_empty()
                && let Base::Known { doc: known, .. } = &mut doc.base
                && increment_in(known, field, *by)
            {
                return;
            }
            if let Some(ViewOp::Increment {
                field: last_field,
                by: last_by,
                ..
            }) = doc.pending.last_mut()
                && last_field == field
                && let Some(sum) = last_by.checked_add(*by)
            {
                *last_by = sum;
                return;
            }
            doc.pending.push(op.clone());
        }
    }
}

/// Shallow object merge, as Postgres `||` does for two objects. `false` if not both objects
/// (the store then does it, with its own rules).
fn merge_into(doc: &mut Value, patch: &Value) -> bool {
    match (doc, patch) {
        (Value::Object(doc), Value::Object(patch)) => {
            doc.extend(patch.iter().map(|(k, v)| (k.clone(), v.clone())));
            true
        }
        _ => false,
    }
}

/// Adds to an integer field (missing or null counts as 0). `false` for anything the stores
/// would treat specially (non-integers, overflow): they then do it themselves.
fn increment_in(doc: &mut Value, field: &str, by: i64) -> bool {
    let Value::Object(map) = doc else {
        return false;
    };
    let current = match map.get(field) {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(n) => n,
            None => return false,
        },
        Some(_) => return false,
    };
    match current.checked_add(by) {
        Some(sum) => {
            map.insert(field.to_string(), Value::from(sum));
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use annals_contracts::Nested;
    use annals_contracts::filter::Filter;

    /// The reference: ops applied one by one to an in-memory store.
    fn apply_all(store: &mut BTreeMap<(String, String), Value>, ops: &[ViewOp]) {
        for op in ops {
            match op {
                ViewOp::Upsert {
                    collection,
                    id,
                    doc,
                    ..
                } => {
                    store.insert((collection.to_string(), id.clone()), doc.clone());
                }
                ViewOp::Delete { collection, id } => {
                    store.remove(&(collection.to_string(), id.clone()));
                }
                ViewOp::Merge {
                    collection,
                    id,
                    patch,
                } => {
                    if let Some(doc) = store.get_mut(&(collection.to_string(), id.clone())) {
                        assert!(merge_into(doc, patch));
                    }
                }
                ViewOp::Increment {
                    collection,
                    id,
                    field,
                    by,
                } => {
                    if let Some(doc) = store.get_mut(&(collection.to_string(), id.clone())) {
                        assert!(increment_in(doc, field, *by));
                    }
                }
                ViewOp::Nested {
                    collection,
                    id,
                    path,
                    change,
                } => {
                    if let Some(doc) = store.get_mut(&(collection.to_string(), id.clone())) {
                        change.apply(doc, path);
                    }
                }
                ViewOp::DeleteMatching { collection, filter } => {
                    store.retain(|(c, _), doc| c != collection || !filter.matches(doc));
                }
            }
        }
    }

    fn upsert(id: &str, doc: Value) -> ViewOp {
        ViewOp::Upsert {
            collection: "c".into(),
            id: id.into(),
            doc,
            owner: None,
            ord: None,
        }
    }
    fn merge(id: &str, patch: Value) -> ViewOp {
        ViewOp::Merge {
            collection: "c".into(),
            id: id.into(),
            patch,
        }
    }
    fn inc(id: &str, by: i64) -> ViewOp {
        ViewOp::Increment {
            collection: "c".into(),
            id: id.into(),
            field: "n".into(),
            by,
        }
    }
    fn nested(id: &str, path: &[&str], change: Nested) -> ViewOp {
        ViewOp::Nested {
            collection: "c".into(),
            id: id.into(),
            path: path.iter().map(|k| k.to_string()).collect(),
            change,
        }
    }
    fn delete(id: &str) -> ViewOp {
        ViewOp::Delete {
            collection: "c".into(),
            id: id.into(),
        }
    }

    #[test]
    fn folded_ops_give_the_same_documents() {
        let stored = BTreeMap::from([
            (
                ("c".to_string(), "a".to_string()),
                json!({"n": 1, "x": "old"}),
            ),
            (("c".to_string(), "b".to_string()), json!({"n": 5})),
        ]);
        let batches = vec![
            vec![
                merge("a", json!({"x": "new"})),
                inc("a", 1),
                inc("a", 2),
                merge("a", json!({"y": 1})),
            ],
            vec![
                upsert("z", json!({"n": 0})),
                inc("z", 1),
                merge("z", json!({"k": true})),
                inc("z", 1),
            ],
            vec![
                merge("b", json!({"k": 1})),
                delete("b"),
                merge("b", json!({"k": 2})),
                inc("b", 1),
            ],
            vec![delete("a"), upsert("a", json!({"fresh": 1})), inc("a", 3)],
            vec![
                inc("a", 1),
                merge("b", json!({"q": null})),
                inc("a", 1),
                merge("a", json!({"r": 1})),
                merge("a", json!({"s": 2})),
            ],
            vec![upsert("m", json!({})), delete("m")],
            vec![merge("ghost", json!({"a": 1})), inc("ghost", 1)],
            vec![
                upsert("l", json!({"items": {}})),
                nested("l", &["items", "x"], Nested::Set(json!({"v": 1}))),
                merge("l", json!({"at": 1})),
                nested("l", &["items", "x"], Nested::Merge(json!({"w": 2}))),
                nested("l", &["items", "y"], Nested::Set(json!(3))),
            ],
            vec![
                nested("a", &["m"], Nested::Set(json!({"k": 1}))),
                merge("a", json!({"t": 1})),
                nested("a", &["m", "k"], Nested::Remove),
                delete("b"),
                nested("b", &["m"], Nested::Set(json!(1))),
            ],
            // A delete by filter between changes: those before it are gone with their
            // documents, those after it apply to what is left.
            vec![
                upsert("k", json!({"n": 1})),
                inc("b", 1),
                merge("a", json!({"n": 9})),
                ViewOp::delete_matching("c", Filter::from_json(&json!({"n": 1})).unwrap()),
                inc("a", 1),
                merge("k", json!({"back": true})),
                upsert("b", json!({"n": 1})),
            ],
        ];
        for ops in batches {
            let mut expected = stored.clone();
            apply_all(&mut expected, &ops);
            let folded = coalesce(&ops);
            let mut actual = stored.clone();
            apply_all(&mut actual, &folded);
            assert_eq!(actual, expected, "{ops:?} folded to {folded:?}");
            assert!(folded.len() <= ops.len());
        }
    }

    #[test]
    fn a_registration_and_its_changes_become_one_upsert() {
        let ops = vec![
            upsert("u", json!({"n": 0})),
            merge("u", json!({"at": 1})),
            inc("u", 1),
        ];
        assert_eq!(coalesce(&ops), vec![upsert("u", json!({"n": 1, "at": 1}))]);
    }

    #[test]
    fn merges_of_a_stored_document_become_one() {
        let ops = vec![
            merge("u", json!({"a": 1})),
            merge("u", json!({"b": 2, "a": 3})),
        ];
        assert_eq!(coalesce(&ops), vec![merge("u", json!({"a": 3, "b": 2}))]);
    }
}
