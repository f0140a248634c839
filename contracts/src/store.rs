//! The view store interface: JSON documents in collections plus one checkpoint per projection.
//! Implemented for Postgres (and later SQLite) outside this crate.
use std::borrow::Cow;

use async_trait::async_trait;
use serde_json::Value;

use crate::Position;
use crate::filter::{Cursor, Filter, Query};

/// One change to a read model, produced by a projector and applied by the store.
///
/// Collection names are `Cow`s: a projection's fixed collections stay `&'static str`
/// constants (`collection: PROFILES.into()`, or the constructors below, which take either),
/// and a collection named at run time (`format!("dc:{db}:{coll}")`) is an owned `String`.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewOp {
    /// Creates or replaces a document, with the owner it is listed under and its place in
    /// that owner's order (see [`Within`](crate::filter::Within)); both stay through merges.
    Upsert {
        collection: Cow<'static, str>,
        id: String,
        doc: Value,
        owner: Option<String>,
        ord: Option<i64>,
    },
    /// Shallow-merges the object `patch` into an existing document; no-op if it is missing.
    Merge {
        collection: Cow<'static, str>,
        id: String,
        patch: Value,
    },
    /// Adds `by` to the integer field `field` (missing counts as 0); no-op if the document is missing.
    Increment {
        collection: Cow<'static, str>,
        id: String,
        field: Cow<'static, str>,
        by: i64,
    },
    Delete {
        collection: Cow<'static, str>,
        id: String,
    },
    /// Changes the value at `path` (object keys, e.g. `["members", user_id]`) inside an
    /// existing document, as [`Nested::apply`] defines; no-op if the document is missing.
    /// Lets several events each change their own element of a document's keyed list.
    Nested {
        collection: Cow<'static, str>,
        id: String,
        path: Vec<String>,
        change: Nested,
    },
    /// Deletes every document of the collection that `filter` matches: one event ending many
    /// documents at once (a dropped collection takes its documents along). A barrier in a
    /// batch: the ops before it apply before it, the ops after it after it.
    DeleteMatching {
        collection: Cow<'static, str>,
        filter: Filter,
    },
}

/// A change at a path inside a document ([`ViewOp::Nested`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Nested {
    /// Sets the key (added or replaced), if its parent is an object.
    Set(Value),
    /// Shallow-merges the object patch into the object at the path, if there is one (like
    /// [`ViewOp::Merge`]: the patch wins, explicit nulls included).
    Merge(Value),
    /// Removes the key, if its parent is an object.
    Remove,
}

impl Nested {
    /// The change applied to `doc` in memory: the semantics every view store implements.
    /// Only object keys are followed (a path through anything else, or an empty path,
    /// changes nothing).
    pub fn apply(&self, doc: &mut Value, path: &[String]) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut at = doc;
        for key in parents {
            match at {
                Value::Object(map) => match map.get_mut(key) {
                    Some(next) => at = next,
                    None => return,
                },
                _ => return,
            }
        }
        let Value::Object(parent) = at else {
            return;
        };
        match self {
            Nested::Set(value) => {
                parent.insert(last.clone(), value.clone());
            }
            Nested::Remove => {
                parent.remove(last);
            }
            Nested::Merge(patch) => {
                if let (Some(Value::Object(target)), Value::Object(patch)) =
                    (parent.get_mut(last), patch)
                {
                    target.extend(patch.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
    }
}

impl ViewOp {
    /// Creates or replaces a document without an owner (see [`ViewOp::Upsert`]).
    pub fn upsert(
        collection: impl Into<Cow<'static, str>>,
        id: impl Into<String>,
        doc: Value,
    ) -> Self {
        Self::Upsert {
            collection: collection.into(),
            id: id.into(),
            doc,
            owner: None,
            ord: None,
        }
    }

    /// See [`ViewOp::Merge`].
    pub fn merge(
        collection: impl Into<Cow<'static, str>>,
        id: impl Into<String>,
        patch: Value,
    ) -> Self {
        Self::Merge {
            collection: collection.into(),
            id: id.into(),
            patch,
        }
    }

    /// See [`ViewOp::Increment`].
    pub fn increment(
        collection: impl Into<Cow<'static, str>>,
        id: impl Into<String>,
        field: impl Into<Cow<'static, str>>,
        by: i64,
    ) -> Self {
        Self::Increment {
            collection: collection.into(),
            id: id.into(),
            field: field.into(),
            by,
        }
    }

    /// See [`ViewOp::Delete`].
    pub fn delete(collection: impl Into<Cow<'static, str>>, id: impl Into<String>) -> Self {
        Self::Delete {
            collection: collection.into(),
            id: id.into(),
        }
    }

    /// See [`ViewOp::DeleteMatching`].
    pub fn delete_matching(collection: impl Into<Cow<'static, str>>, filter: Filter) -> Self {
        Self::DeleteMatching {
            collection: collection.into(),
            filter,
        }
    }

    /// The collection of the documents this op changes.
    pub fn collection(&self) -> &str {
        match self {
            Self::Upsert { collection, .. }
            | Self::Merge { collection, .. }
            | Self::Increment { collection, .. }
            | Self::Delete { collection, .. }
            | Self::Nested { collection, .. }
            | Self::DeleteMatching { collection, .. } => collection,
        }
    }

    /// The id of the one document this op changes; `None` for [`ViewOp::DeleteMatching`].
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Upsert { id, .. }
            | Self::Merge { id, .. }
            | Self::Increment { id, .. }
            | Self::Delete { id, .. }
            | Self::Nested { id, .. } => Some(id),
            Self::DeleteMatching { .. } => None,
        }
    }

    /// Splits a batch at its [`ViewOp::DeleteMatching`] ops: runs of single-document ops
    /// (which may be regrouped by document) and the barriers between them, in order.
    pub fn runs(ops: &[ViewOp]) -> impl Iterator<Item = Run<'_>> {
        let mut rest = ops;
        std::iter::from_fn(move || {
            let (first, tail) = rest.split_first()?;
            if matches!(first, ViewOp::DeleteMatching { .. }) {
                rest = tail;
                return Some(Run::Barrier(first));
            }
            let end = rest
                .iter()
                .position(|op| matches!(op, ViewOp::DeleteMatching { .. }))
                .unwrap_or(rest.len());
            let (run, tail) = rest.split_at(end);
            rest = tail;
            Some(Run::Documents(run))
        })
    }
}

/// A part of a batch ([`ViewOp::runs`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Run<'a> {
    /// Ops of one document each, never [`ViewOp::DeleteMatching`].
    Documents(&'a [ViewOp]),
    /// A [`ViewOp::DeleteMatching`].
    Barrier(&'a ViewOp),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("view store unavailable: {0}")]
    Unavailable(String),
    #[error("invalid query: {0}")]
    InvalidQuery(String),
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Someone else (another worker, a rebuild) moved the checkpoint first.
    #[error("checkpoint moved to {0}")]
    CheckpointMoved(Position),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A page of documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<(String, Value)>,
    /// How many documents match the filter (all pages together); only when the query asked
    /// for it ([`Query::count`]), since counting reads every match.
    pub total: Option<u64>,
    /// Where the next page starts ([`Query::after`]): the cursor of the last row when the page
    /// is full, `None` when the page is short (the order is exhausted) or the limit is zero.
    pub next: Option<Cursor>,
}

#[async_trait]
pub trait ViewStore: Send + Sync {
    async fn checkpoint(&self, projection: &str) -> Result<Position, StoreError>;

    /// Applies `ops` and moves the checkpoint from `expected` to `next`, in one transaction.
    /// Fails with [`CommitError::CheckpointMoved`] (applying nothing) if the checkpoint is not
    /// `expected`: this is what makes redelivery and concurrent workers harmless.
    async fn commit(
        &self,
        projection: &str,
        expected: Position,
        next: Position,
        ops: &[ViewOp],
    ) -> Result<(), CommitError>;

    /// Deletes the documents of `collections` and sets the projection's checkpoint back to
    /// zero, atomically.
    async fn reset(&self, projection: &str, collections: &[&str]) -> Result<(), StoreError>;

    async fn get(&self, collection: &str, id: &str) -> Result<Option<Value>, StoreError>;

    /// One page of the collection's documents matching `query.filter`, in `query.sort` order,
    /// after `query.after` if given, else after skipping `query.offset`; counted only if
    /// `query.count`. A cursor that is malformed or belongs to another sort is
    /// [`StoreError::InvalidQuery`].
    async fn find(&self, collection: &str, query: &Query) -> Result<Page, StoreError>;

    /// Every document of a collection, ordered by id (for comparisons and exports).
    async fn dump(&self, collection: &str) -> Result<Vec<(String, Value)>, StoreError>;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn a_batch_splits_at_its_deletes_by_filter() {
        let one = |id: &str| ViewOp::delete("c", id);
        let all = ViewOp::delete_matching("c", Filter::All);
        let ops = vec![one("a"), one("b"), all.clone(), all.clone(), one("c")];
        let runs: Vec<Run> = ViewOp::runs(&ops).collect();
        assert_eq!(
            runs,
            vec![
                Run::Documents(&ops[0..2]),
                Run::Barrier(&ops[2]),
                Run::Barrier(&ops[3]),
                Run::Documents(&ops[4..5]),
            ]
        );
        assert_eq!(ViewOp::runs(&[]).count(), 0);
        assert_eq!(all.id(), None);
        assert_eq!(ops[0].id(), Some("a"));
    }

    #[test]
    fn nested_changes_follow_object_keys_only() {
        let mut doc = json!({"m": {"a": {"r": 1, "o": {}}}, "l": [1], "s": "x"});
        Nested::Set(json!({"r": 2})).apply(&mut doc, &path(&["m", "b"]));
        Nested::Merge(json!({"r": 3, "n": null})).apply(&mut doc, &path(&["m", "a"]));
        Nested::Remove.apply(&mut doc, &path(&["m", "gone"]));
        assert_eq!(
            doc["m"],
            json!({"a": {"r": 3, "o": {}, "n": null}, "b": {"r": 2}})
        );
        let before = doc.clone();
        for keys in [&["l", "0"][..], &["s", "k"], &["missing", "k"], &[]] {
            Nested::Set(json!(9)).apply(&mut doc, &path(keys));
            Nested::Remove.apply(&mut doc, &path(keys));
        }
        Nested::Merge(json!({"x": 1})).apply(&mut doc, &path(&["m", "absent"]));
        Nested::Merge(json!({"x": 1})).apply(&mut doc, &path(&["s"]));
        Nested::Merge(json!(5)).apply(&mut doc, &path(&["m", "a"]));
        assert_eq!(doc, before);
        Nested::Remove.apply(&mut doc, &path(&["m", "a"]));
        assert_eq!(doc["m"], json!({"b": {"r": 2}}));
    }
}
