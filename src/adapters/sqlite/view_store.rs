//! The view store on SQLite: `views` documents (JSON text) and `projection_checkpoints`, in the
//! same file as the event log. Behaves like the Postgres store (`infra::postgres::view_store`):
//! same commit protocol, same merge/increment rules, same filter semantics.
use async_trait::async_trait;
use serde_json::Value;
use sqlx::pool::PoolConnection;
use sqlx::query::{Query as SqlQuery, QueryScalar};
use sqlx::sqlite::SqliteArguments;
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool};

use annals_contracts::filter::sqlite::SqlParam;
use annals_contracts::filter::{self, Query};
use annals_contracts::{CommitError, Page, Position, StoreError, ViewOp, ViewStore};

use super::WriteTurns;

#[derive(Clone)]
pub struct SqliteViewStore {
    pool: SqlitePool,
    turns: WriteTurns,
}

impl SqliteViewStore {
    /// `turns`: shared with every other writer to the same file.
    pub fn new(pool: SqlitePool, turns: WriteTurns) -> Self {
        Self { pool, turns }
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// `tx` is stored as INTEGER: the cast round-trips every `u64` bit for bit.
fn position(tx: i64, gid: i64) -> Position {
    Position::new(tx as u64, gid)
}

fn parse_doc(text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Unavailable(format!("stored view is not JSON: {e}")))
}

fn bind<'q>(
    mut q: SqlQuery<'q, Sqlite, SqliteArguments<'q>>,
    params: &'q [SqlParam],
) -> SqlQuery<'q, Sqlite, SqliteArguments<'q>> {
    for p in params {
        q = match p {
            SqlParam::Text(v) => q.bind(v.as_str()),
            SqlParam::Int(v) => q.bind(*v),
            SqlParam::Real(v) => q.bind(*v),
        };
    }
    q
}

fn bind_scalar<'q, O>(
    mut q: QueryScalar<'q, Sqlite, O, SqliteArguments<'q>>,
    params: &'q [SqlParam],
) -> QueryScalar<'q, Sqlite, O, SqliteArguments<'q>> {
    for p in params {
        q = match p {
            SqlParam::Text(v) => q.bind(v.as_str()),
            SqlParam::Int(v) => q.bind(*v),
            SqlParam::Real(v) => q.bind(*v),
        };
    }
    q
}

/// A write transaction on one pooled connection, begun with `BEGIN IMMEDIATE` so that it holds
/// SQLite's single write lock from its first statement (what `FOR UPDATE` on the checkpoint
/// row does on Postgres): nobody can move the checkpoint between our read and our commit.
///
/// The connection never goes back to the pool inside a transaction: [`WriteTx::commit`] and
/// [`WriteTx::rollback`] end it explicitly, a failed `COMMIT` is rolled back, a failed
/// `ROLLBACK` closes the connection instead, and dropping an unfinished `WriteTx` (a cancelled
/// future) detaches the connection from the pool and closes it, which rolls back.
struct WriteTx {
    conn: Option<PoolConnection<Sqlite>>,
    /// This process's turn to write the file, held until the transaction ends.
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTx {
    async fn begin(pool: &SqlitePool, turns: &WriteTurns) -> Result<Self, sqlx::Error> {
        let turn = turns.take().await;
        let mut tx = Self {
            conn: Some(pool.acquire().await?),
            _turn: turn,
        };
        if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(tx.conn()).await {
            // A failed BEGIN starts no transaction: the connection can go back as it is.
            drop(tx.conn.take());
            return Err(e);
        }
        Ok(tx)
    }

    fn conn(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("the transaction is open")
    }

    async fn commit(mut self) -> Result<(), sqlx::Error> {
        match sqlx::query("COMMIT").execute(self.conn()).await {
            Ok(_) => {
                drop(self.conn.take());
                Ok(())
            }
            Err(e) => {
                self.rollback().await;
                Err(e)
            }
        }
    }

    async fn rollback(mut self) {
        if sqlx::query("ROLLBACK").execute(self.conn()).await.is_ok() {
            drop(self.conn.take());
        }
        // Otherwise (e.g. SQLite already rolled back on its own): `drop` closes the connection.
    }

    /// Runs `work` in the transaction and commits, or rolls back if it fails.
    async fn run<T, E>(
        mut self,
        work: impl AsyncFnOnce(&mut SqliteConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        match work(self.conn()).await {
            Ok(value) => {
                self.commit().await.map_err(unavailable)?;
                Ok(value)
            }
            Err(e) => {
                self.rollback().await;
                Err(e)
            }
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Unfinished: closing the connection rolls its transaction back.
            drop(conn.detach());
        }
    }
}

/// The projection's checkpoint, creating the row (at zero) if it is missing.
async fn read_checkpoint(
    conn: &mut SqliteConnection,
    projection: &str,
) -> Result<Position, StoreError> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (projection) VALUES (?1) ON CONFLICT DO NOTHING",
    )
    .bind(projection)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    let (tx, gid): (i64, i64) =
        sqlx::query_as("SELECT tx_id, global_id FROM projection_checkpoints WHERE projection = ?1")
            .bind(projection)
            .fetch_one(&mut *conn)
            .await
            .map_err(unavailable)?;
    Ok(position(tx, gid))
}

async fn load(
    conn: &mut SqliteConnection,
    collection: &str,
    id: &str,
) -> Result<Option<Value>, StoreError> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT doc FROM views WHERE collection = ?1 AND id = ?2")
            .bind(collection)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(unavailable)?;
    text.as_deref().map(parse_doc).transpose()
}

async fn store(
    conn: &mut SqliteConnection,
    collection: &str,
    id: &str,
    doc: &Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE views SET doc = ?3, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
          WHERE collection = ?1 AND id = ?2",
    )
    .bind(collection)
    .bind(id)
    .bind(doc.to_string())
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}

/// Postgres `jsonb || jsonb`: two objects merge shallowly (the patch wins, explicit nulls
/// included, unlike RFC 7396 `json_patch`); anything else concatenates as arrays, a non-array
/// operand counting as a one-element array.
fn concat(doc: Value, patch: &Value) -> Value {
    match (doc, patch) {
        (Value::Object(mut doc), Value::Object(patch)) => {
            for (k, v) in patch {
                doc.insert(k.clone(), v.clone());
            }
            Value::Object(doc)
        }
        (doc, patch) => {
            let mut items = match doc {
                Value::Array(items) => items,
                other => vec![other],
            };
            match patch {
                Value::Array(more) => items.extend(more.iter().cloned()),
                other => items.push(other.clone()),
            }
            Value::Array(items)
        }
    }
}

/// Postgres `jsonb_set(doc, {field}, to_jsonb(COALESCE((doc ->> field)::bigint, 0) + by))`:
/// missing or null counts as 0, an integer (or a string holding one) is added to, anything
/// else (fractions, booleans, overflow, a non-object document) is an error.
fn increment(doc: &mut Value, field: &str, by: i64) -> Result<(), String> {
    let Value::Object(members) = doc else {
        return Err(format!(
            "cannot increment \"{field}\" in a non-object document"
        ));
    };
    let current = match members.get(field) {
        None | Some(Value::Null) => Some(0),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    let current = current.ok_or_else(|| format!("\"{field}\" is not an integer"))?;
    let next = current
        .checked_add(by)
        .ok_or_else(|| format!("\"{field}\" out of range"))?;
    members.insert(field.to_owned(), Value::from(next));
    Ok(())
}

async fn apply(conn: &mut SqliteConnection, op: &ViewOp) -> Result<(), StoreError> {
    match op {
        ViewOp::Upsert {
            collection,
            id,
            doc,
            owner,
            ord,
        } => {
            sqlx::query(
                "INSERT INTO views (collection, id, doc, owner, ord) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (collection, id) DO UPDATE
                    SET doc = excluded.doc, owner = excluded.owner, ord = excluded.ord,
                        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            )
            .bind(collection)
            .bind(id)
            .bind(doc.to_string())
            .bind(owner)
            .bind(ord)
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
        }
        ViewOp::Merge {
            collection,
            id,
            patch,
        } => {
            // The write lock is held: reading, merging here and writing back is atomic.
            if let Some(doc) = load(conn, collection, id).await? {
                store(conn, collection, id, &concat(doc, patch)).await?;
            }
        }
        ViewOp::Increment {
            collection,
            id,
            field,
            by,
        } => {
            if let Some(mut doc) = load(conn, collection, id).await? {
                increment(&mut doc, field, *by).map_err(|reason| {
                    StoreError::Unavailable(format!("{collection}/{id}: {reason}"))
                })?;
                store(conn, collection, id, &doc).await?;
            }
        }
        ViewOp::Delete { collection, id } => {
            sqlx::query("DELETE FROM views WHERE collection = ?1 AND id = ?2")
                .bind(collection)
                .bind(id)
                .execute(&mut *conn)
                .await
                .map_err(unavailable)?;
        }
        ViewOp::Nested {
            collection,
            id,
            path,
            change,
        } => {
            // The write lock is held: reading, changing here and writing back is atomic.
            if let Some(mut doc) = load(conn, collection, id).await? {
                change.apply(&mut doc, path);
                store(conn, collection, id, &doc).await?;
            }
        }
        ViewOp::DeleteMatching { collection, filter } => {
            let matching = filter::sqlite::compile_filter(filter, 2);
            let sql = format!(
                "DELETE FROM views WHERE collection = ?1 AND ({})",
                matching.sql
            );
            bind(
                sqlx::query(&sql).bind(collection.as_ref()),
                &matching.params,
            )
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
        }
    }
    Ok(())
}

#[async_trait]
impl ViewStore for SqliteViewStore {
    async fn checkpoint(&self, projection: &str) -> Result<Position, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT tx_id, global_id FROM projection_checkpoints WHERE projection = ?1",
        )
        .bind(projection)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(row.map_or(Position::ZERO, |(tx, gid)| position(tx, gid)))
    }

    async fn commit(
        &self,
        projection: &str,
        expected: Position,
        next: Position,
        ops: &[ViewOp],
    ) -> Result<(), CommitError> {
        let tx = WriteTx::begin(&self.pool, &self.turns)
            .await
            .map_err(unavailable)?;
        tx.run(async |conn: &mut SqliteConnection| {
            let current = read_checkpoint(conn, projection).await?;
            if current != expected {
                return Err(CommitError::CheckpointMoved(current));
            }
            for op in ops {
                apply(conn, op).await?;
            }
            sqlx::query(
                "UPDATE projection_checkpoints
                    SET tx_id = ?2, global_id = ?3,
                        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                  WHERE projection = ?1",
            )
            .bind(projection)
            .bind(next.tx as i64)
            .bind(next.gid)
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn reset(&self, projection: &str, collections: &[&str]) -> Result<(), StoreError> {
        let tx = WriteTx::begin(&self.pool, &self.turns)
            .await
            .map_err(unavailable)?;
        tx.run(async |conn: &mut SqliteConnection| {
            read_checkpoint(conn, projection).await?;
            for collection in collections {
                sqlx::query("DELETE FROM views WHERE collection = ?1")
                    .bind(collection)
                    .execute(&mut *conn)
                    .await
                    .map_err(unavailable)?;
            }
            sqlx::query(
                "UPDATE projection_checkpoints
                    SET tx_id = 0, global_id = 0,
                        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                  WHERE projection = ?1",
            )
            .bind(projection)
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn get(&self, collection: &str, id: &str) -> Result<Option<Value>, StoreError> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT doc FROM views WHERE collection = ?1 AND id = ?2")
                .bind(collection)
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
        text.as_deref().map(parse_doc).transpose()
    }

    async fn find(&self, collection: &str, query: &Query) -> Result<Page, StoreError> {
        let (scope, first) = match &query.within {
            Some(_) => ("collection = ?1 AND owner = ?2", 3),
            None => ("collection = ?1", 2),
        };
        let owner = query.within.as_ref().map(|w| w.owner.as_str());
        // In the owner's order, the (collection, owner, ord) index gives the rows sorted.
        let in_order = query
            .within
            .as_ref()
            .is_some_and(|w| w.is_order(&query.sort) && query.after.is_none());
        let (page, order_by) = if in_order {
            let unsorted = Query {
                sort: vec![],
                ..query.clone()
            };
            let page = filter::sqlite::compile(&unsorted, first)?;
            (page, "ord, id".to_owned())
        } else {
            let page = filter::sqlite::compile(query, first)?;
            let order_by = page.order_by_sql.clone();
            (page, order_by)
        };
        let sql = format!(
            "SELECT id, doc FROM views WHERE {scope} AND ({}) ORDER BY {order_by} {}",
            page.where_sql, page.limit_offset_sql
        );
        let mut rows = sqlx::query(&sql).bind(collection);
        if let Some(owner) = owner {
            rows = rows.bind(owner);
        }
        let rows = bind(rows, &page.params)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let items = rows_to_docs(&rows)?;

        let total = if query.count {
            let count = filter::sqlite::compile_filter(&query.filter, first);
            let sql = format!(
                "SELECT count(*) FROM views WHERE {scope} AND ({})",
                count.sql
            );
            let mut total = sqlx::query_scalar(&sql).bind(collection);
            if let Some(owner) = owner {
                total = total.bind(owner);
            }
            let total: i64 = bind_scalar(total, &count.params)
                .fetch_one(&self.pool)
                .await
                .map_err(unavailable)?;
            Some(total.max(0) as u64)
        } else {
            None
        };
        Ok(Page {
            next: query.next_cursor(&items),
            items,
            total,
        })
    }

    async fn dump(&self, collection: &str) -> Result<Vec<(String, Value)>, StoreError> {
        // The id column has the BINARY collation: byte order, like the filter's tiebreak.
        let rows = sqlx::query("SELECT id, doc FROM views WHERE collection = ?1 ORDER BY id")
            .bind(collection)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows_to_docs(&rows)
    }
}

fn rows_to_docs(rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<(String, Value)>, StoreError> {
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id").map_err(unavailable)?;
            let doc: String = r.try_get("doc").map_err(unavailable)?;
            Ok((id, parse_doc(&doc)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;
    use std::time::Duration;

    use serde_json::json;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use sqlx::{Connection, Executor};

    use annals_contracts::filter::{Filter, Sort};

    use super::*;

    const SCHEMA: &str = "
        CREATE TABLE views (
            collection TEXT NOT NULL,
            id         TEXT NOT NULL,
            doc        TEXT NOT NULL,
            owner      TEXT,
            ord        INTEGER,
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            PRIMARY KEY (collection, id)
        );
        CREATE INDEX views_owner ON views (collection, owner, ord, id);
        CREATE TABLE projection_checkpoints (
            projection TEXT PRIMARY KEY,
            tx_id      INTEGER NOT NULL DEFAULT 0,
            global_id  INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );";

    const P: &str = "profiles";

    /// A store on a fresh database file (several connections must see the same data).
    struct Db {
        _dir: tempfile::TempDir,
        url: String,
        store: SqliteViewStore,
    }

    fn options(url: &str) -> SqliteConnectOptions {
        SqliteConnectOptions::from_str(url)
            .expect("url")
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10))
    }

    async fn db(max_connections: u32) -> Db {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("annals.db").display());
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options(&url))
            .await
            .expect("pool");
        pool.execute(SCHEMA).await.expect("schema");
        Db {
            _dir: dir,
            url,
            store: SqliteViewStore::new(pool, WriteTurns::default()),
        }
    }

    fn at(gid: i64) -> Position {
        Position::new(0, gid)
    }

    fn upsert(id: &str, doc: Value) -> ViewOp {
        ViewOp::Upsert {
            collection: "users".into(),
            id: id.into(),
            doc,
            owner: Some(format!("owner-{id}")),
            ord: None,
        }
    }

    fn merge(id: &str, patch: Value) -> ViewOp {
        ViewOp::Merge {
            collection: "users".into(),
            id: id.into(),
            patch,
        }
    }

    fn increment(id: &str, by: i64) -> ViewOp {
        ViewOp::Increment {
            collection: "users".into(),
            id: id.into(),
            field: "logins".into(),
            by,
        }
    }

    #[tokio::test]
    async fn commit_moves_the_checkpoint_or_applies_nothing() {
        let db = db(2).await;
        let store = &db.store;
        assert_eq!(store.checkpoint(P).await.unwrap(), Position::ZERO);
        store
            .commit(P, Position::ZERO, at(1), &[upsert("u1", json!({"n": 1}))])
            .await
            .unwrap();
        assert_eq!(store.checkpoint(P).await.unwrap(), at(1));
        assert_eq!(
            store.get("users", "u1").await.unwrap(),
            Some(json!({"n": 1}))
        );
        assert_eq!(store.get("users", "nobody").await.unwrap(), None);

        // A stale expectation (redelivery, another worker) applies nothing.
        let err = store
            .commit(P, Position::ZERO, at(2), &[upsert("u2", json!({}))])
            .await
            .unwrap_err();
        assert!(
            matches!(err, CommitError::CheckpointMoved(p) if p == at(1)),
            "{err}"
        );
        assert_eq!(store.get("users", "u2").await.unwrap(), None);
        assert_eq!(store.checkpoint(P).await.unwrap(), at(1));

        // Upsert replaces doc and owner; delete removes; positions round-trip whole.
        let far = Position::new(u64::MAX, i64::MAX);
        store
            .commit(
                P,
                at(1),
                far,
                &[
                    upsert("u1", json!({"n": 2})),
                    upsert("u2", json!({})),
                    ViewOp::Delete {
                        collection: "users".into(),
                        id: "u2".into(),
                    },
                ],
            )
            .await
            .unwrap();
        assert_eq!(store.checkpoint(P).await.unwrap(), far);
        assert_eq!(
            store.get("users", "u1").await.unwrap(),
            Some(json!({"n": 2}))
        );
        assert_eq!(store.get("users", "u2").await.unwrap(), None);
        // A missing checkpoint row is zero, and the expectation must say so.
        let err = store.commit("other", at(5), at(6), &[]).await.unwrap_err();
        assert!(matches!(err, CommitError::CheckpointMoved(p) if p == Position::ZERO));
    }

    #[tokio::test]
    async fn merge_is_shallow_and_keeps_nulls() {
        let db = db(2).await;
        let store = &db.store;
        let doc = json!({"a": 1, "b": {"x": 1, "y": 2}, "c": "keep", "d": 4});
        store
            .commit(
                P,
                Position::ZERO,
                at(1),
                &[
                    upsert("u1", doc),
                    merge("u1", json!({"a": null, "b": {"x": 9}, "e": null})),
                    // No document, no merge (and no insert).
                    merge("ghost", json!({"a": 1})),
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            store.get("users", "u1").await.unwrap(),
            Some(json!({"a": null, "b": {"x": 9}, "c": "keep", "d": 4, "e": null}))
        );
        assert_eq!(store.get("users", "ghost").await.unwrap(), None);
        // Non-objects concatenate like Postgres `||`.
        assert_eq!(concat(json!([1]), &json!(2)), json!([1, 2]));
        assert_eq!(concat(json!({"a": 1}), &json!([2])), json!([{"a": 1}, 2]));
        assert_eq!(concat(json!(1), &json!({"a": 1})), json!([1, {"a": 1}]));
    }

    #[tokio::test]
    async fn increment_counts_missing_as_zero_and_fails_on_non_integers() {
        // One connection: a failed commit must hand it back outside any transaction.
        let db = db(1).await;
        let store = &db.store;
        store
            .commit(
                P,
                Position::ZERO,
                at(1),
                &[
                    upsert("u1", json!({"name": "a"})),
                    increment("u1", 2),
                    increment("u1", 3),
                    upsert("u2", json!({"logins": 40})),
                    increment("u2", 2),
                    upsert("u3", json!({"logins": null})),
                    increment("u3", -1),
                    increment("ghost", 1),
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            store.get("users", "u1").await.unwrap(),
            Some(json!({"name": "a", "logins": 5}))
        );
        assert_eq!(
            store.get("users", "u2").await.unwrap(),
            Some(json!({"logins": 42}))
        );
        assert_eq!(
            store.get("users", "u3").await.unwrap(),
            Some(json!({"logins": -1}))
        );
        assert_eq!(store.get("users", "ghost").await.unwrap(), None);

        for bad in [json!(1.5), json!(true), json!("x"), json!(i64::MAX)] {
            let err = store
                .commit(
                    P,
                    at(1),
                    at(2),
                    &[
                        upsert("u2", json!({"logins": 0})),
                        upsert("u4", json!({"logins": bad})),
                        increment("u4", 1),
                    ],
                )
                .await
                .unwrap_err();
            assert!(
                matches!(err, CommitError::Store(StoreError::Unavailable(_))),
                "{err}"
            );
            // Rolled back as a whole.
            assert_eq!(store.checkpoint(P).await.unwrap(), at(1));
            assert_eq!(store.get("users", "u4").await.unwrap(), None);
            assert_eq!(
                store.get("users", "u2").await.unwrap(),
                Some(json!({"logins": 42}))
            );
        }
        // The single connection is usable again.
        store
            .commit(P, at(1), at(2), &[increment("u2", 1)])
            .await
            .unwrap();
        assert_eq!(
            store.get("users", "u2").await.unwrap(),
            Some(json!({"logins": 43}))
        );
    }

    #[tokio::test]
    async fn reset_clears_the_projection_collections_and_checkpoint() {
        let db = db(2).await;
        let store = &db.store;
        store
            .commit(
                P,
                Position::ZERO,
                at(7),
                &[
                    upsert("u1", json!({})),
                    ViewOp::Upsert {
                        collection: "keep".into(),
                        id: "k1".into(),
                        doc: json!({}),
                        owner: None,
                        ord: None,
                    },
                ],
            )
            .await
            .unwrap();
        store.reset(P, &["users", "absent"]).await.unwrap();
        assert_eq!(store.checkpoint(P).await.unwrap(), Position::ZERO);
        assert_eq!(store.dump("users").await.unwrap(), vec![]);
        assert_eq!(
            store.dump("keep").await.unwrap(),
            vec![("k1".to_owned(), json!({}))]
        );
        // Reset of a projection never seen creates its checkpoint at zero.
        store.reset("fresh", &[]).await.unwrap();
        assert_eq!(store.checkpoint("fresh").await.unwrap(), Position::ZERO);
    }

    #[tokio::test]
    async fn find_filters_sorts_pages_and_counts() {
        let db = db(2).await;
        let store = &db.store;
        let ops: Vec<ViewOp> = [
            ("é", json!({"age": 30, "name": "Zoe"})),
            ("a", json!({"age": 25.5, "name": "bob"})),
            ("B", json!({"age": 30.0, "name": "Al"})),
            ("Z", json!({"age": "old"})),
            ("c", json!({"name": null})),
        ]
        .into_iter()
        .map(|(id, doc)| upsert(id, doc))
        .chain([ViewOp::Upsert {
            collection: "decoy".into(),
            id: "a".into(),
            doc: json!({"age": 30}),
            owner: None,
            ord: None,
        }])
        .collect();
        store.commit(P, Position::ZERO, at(1), &ops).await.unwrap();

        let query = |filter: Value, sort: &[&str], limit, offset| Query {
            filter: Filter::from_json(&filter).unwrap(),
            sort: sort.iter().map(|s| Sort::parse(s).unwrap()).collect(),
            limit,
            offset,
            after: None,
            count: true,
            within: None,
        };
        let ids = |page: &Page| {
            page.items
                .iter()
                .map(|(id, _)| id.clone())
                .collect::<Vec<_>>()
        };

        let page = store
            .find(
                "users",
                &query(json!({"age": {"$gte": 25}}), &["-age"], 2, 0),
            )
            .await
            .unwrap();
        assert_eq!(page.total, Some(3));
        assert_eq!(ids(&page), ["B", "é"]);
        assert_eq!(page.items[1].1, json!({"age": 30, "name": "Zoe"}));
        let page = store
            .find(
                "users",
                &query(json!({"age": {"$gte": 25}}), &["-age"], 2, 2),
            )
            .await
            .unwrap();
        assert_eq!((page.total, ids(&page)), (Some(3), vec!["a".to_owned()]));
        let page = store
            .find("users", &query(json!({}), &["name"], 10, 0))
            .await
            .unwrap();
        assert_eq!(
            (page.total, ids(&page)),
            (
                Some(5),
                vec!["B", "é", "a", "Z", "c"]
                    .into_iter()
                    .map(String::from)
                    .collect()
            )
        );
        let page = store
            .find(
                "users",
                &query(json!({"name": {"$ilike": "O"}}), &[], 10, 0),
            )
            .await
            .unwrap();
        assert_eq!(
            (page.total, ids(&page)),
            (Some(2), vec!["a".to_owned(), "é".to_owned()])
        );

        // Byte order: uppercase before lowercase before non-ASCII.
        let dump = store.dump("users").await.unwrap();
        let dumped: Vec<&str> = dump.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(dumped, ["B", "Z", "a", "c", "é"]);
    }

    /// Concurrent workers on one file: every commit sees the latest checkpoint (no lost update).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_commits_serialize() {
        let db = db(8).await;
        let store = &db.store;
        store
            .commit(
                P,
                Position::ZERO,
                at(0),
                &[upsert("u1", json!({"logins": 0}))],
            )
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut done = 0;
                while done < 15 {
                    let cp = store.checkpoint(P).await.unwrap();
                    match store
                        .commit(P, cp, at(cp.gid + 1), &[increment("u1", 1)])
                        .await
                    {
                        Ok(()) => done += 1,
                        Err(CommitError::CheckpointMoved(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(store.checkpoint(P).await.unwrap(), at(90));
        assert_eq!(
            store.get("users", "u1").await.unwrap(),
            Some(json!({"logins": 90}))
        );
    }

    /// A commit cancelled while it waits for the write lock leaves no transaction behind.
    #[tokio::test]
    async fn cancelled_commit_leaves_no_transaction_behind() {
        let db = db(1).await;
        let (store, url) = (&db.store, &db.url);
        let mut blocker = sqlx::SqliteConnection::connect_with(&options(url))
            .await
            .unwrap();
        blocker.execute("BEGIN IMMEDIATE").await.unwrap();
        let attempt = tokio::time::timeout(
            Duration::from_millis(300),
            store.commit(P, Position::ZERO, at(1), &[upsert("u1", json!({}))]),
        )
        .await;
        assert!(attempt.is_err(), "the write lock is held elsewhere");
        blocker.execute("ROLLBACK").await.unwrap();
        store
            .commit(P, Position::ZERO, at(2), &[upsert("u2", json!({}))])
            .await
            .unwrap();
        assert_eq!(store.checkpoint(P).await.unwrap(), at(2));
        assert_eq!(store.get("users", "u1").await.unwrap(), None);
        // And the pool's connection is still outside any transaction.
        store.reset(P, &["users"]).await.unwrap();
        assert_eq!(store.dump("users").await.unwrap(), vec![]);
    }
}
