//! The view store on Postgres: `views` documents and `projection_checkpoints`.
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use serde_json::Value;
use sqlx::{Connection, PgPool, Postgres, Row, Transaction};

use annals_contracts::filter::postgres::{CompiledQuery, SqlParam};
use annals_contracts::filter::{self, Filter, Query};
use annals_contracts::{CommitError, Nested, Page, Position, Run, StoreError, ViewOp, ViewStore};

use super::Sticky;
use super::event_log::parse_xid8;

/// Binds a compiled filter parameter with the Rust type its SQL cast expects.
macro_rules! bind {
    ($query:expr, $param:expr) => {
        match $param {
            SqlParam::Json(v) => $query.bind(v.clone()),
            SqlParam::Text(v) => $query.bind(v.clone()),
            SqlParam::TextArray(v) => $query.bind(v.clone()),
            SqlParam::Int(v) => $query.bind(*v),
        }
    };
}

#[derive(Clone)]
pub struct PgViewStore {
    pool: PgPool,
    /// For projection commits, many a second under load.
    committing: Sticky,
    unindexed: Arc<HashSet<&'static str>>,
    statistics: Arc<Statistics>,
}

/// Rows written since the planner's statistics of `views` were last taken. An import adds
/// 100,000 documents in seconds, and until autovacuum's next round (a minute) the planner
/// believes a collection of a few rows: it then read a whole collection through the owner
/// index to sort it (450 ms) or intersected it with the document index (77 ms against 25).
/// Bulk writes therefore take the statistics themselves, in the background, each time the
/// rows written reach half of what the table held at the last count (at least 5,000).
#[derive(Default)]
struct Statistics {
    written: AtomicU64,
    rows_at_last: AtomicU64,
    running: AtomicBool,
}

/// Fewest rows written that make the store take the planner's statistics.
const ANALYZE_AFTER: u64 = 5_000;

impl PgViewStore {
    /// `unindexed`: the collections whose documents stay out of the document index
    /// ([`annals_projections::Projection::unindexed`]).
    pub fn new(pool: PgPool, unindexed: HashSet<&'static str>) -> Self {
        Self {
            committing: Sticky::new(pool.clone()),
            pool,
            unindexed: Arc::new(unindexed),
            statistics: Arc::default(),
        }
    }

    /// Counts `rows` written and, past the threshold, takes the planner's statistics of
    /// `views` in the background (one at a time; a failure only waits for the next try).
    fn wrote(&self, rows: u64) {
        let stats = &self.statistics;
        let written = stats.written.fetch_add(rows, Ordering::Relaxed) + rows;
        let due = ANALYZE_AFTER.max(stats.rows_at_last.load(Ordering::Relaxed) / 2);
        if written < due || stats.running.swap(true, Ordering::AcqRel) {
            return;
        }
        stats.written.store(0, Ordering::Relaxed);
        let (pool, stats) = (self.pool.clone(), self.statistics.clone());
        tokio::spawn(async move {
            let analyzed = async {
                sqlx::query("ANALYZE views").execute(&pool).await?;
                sqlx::query_scalar::<_, f32>(
                    "SELECT reltuples FROM pg_class WHERE oid = 'views'::regclass",
                )
                .fetch_one(&pool)
                .await
            };
            match analyzed.await {
                Ok(rows) => stats
                    .rows_at_last
                    .store(rows.max(0.0) as u64, Ordering::Relaxed),
                Err(e) => tracing::warn!(error = %e, "statistics of the views not taken"),
            }
            stats.running.store(false, Ordering::Release);
        });
    }

    /// Whether the collection's documents go into the document (GIN) index.
    fn indexed(&self, collection: &str) -> bool {
        !self.unindexed.contains(collection)
    }

    /// The page in the query's sort order: every match is read and sorted (through the
    /// document index when the filter has equalities).
    async fn sorted(
        &self,
        collection: &str,
        owner: Option<&str>,
        scope: &str,
        page: &CompiledQuery,
    ) -> Result<Vec<(String, Value)>, sqlx::Error> {
        let sql = format!(
            "SELECT id, doc FROM views WHERE {scope} AND ({}) ORDER BY {} {}",
            page.where_sql, page.order_by_sql, page.limit_offset_sql
        );
        let mut rows = sqlx::query(&sql).bind(collection);
        if let Some(owner) = owner {
            rows = rows.bind(owner);
        }
        for param in &page.params {
            rows = bind!(rows, param);
        }
        let rows = rows.fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| (r.get("id"), r.get("doc"))).collect())
    }

    /// The page of a query in its owner's order (`page` compiled without the sort, which is
    /// the ord column here), read by walking the (collection, owner, ord) index from the start
    /// and stopping after the page: with a filter that one document in 20 passes, 400 rows
    /// for the first page, where the sorted plan reads and sorts every match. The walk reads
    /// at most `budget` rows, so a rare filter does not read the whole owner this way.
    async fn walk(
        &self,
        collection: &str,
        owner: &str,
        budget: u64,
        page: &CompiledQuery,
    ) -> Result<Vec<(String, Value)>, sqlx::Error> {
        let sql = format!(
            "SELECT id, doc FROM (
                 SELECT id, doc, ord FROM views WHERE collection = $1 AND owner = $2
                  ORDER BY ord, id COLLATE \"C\" LIMIT {budget}) owned
              WHERE {} ORDER BY ord, id COLLATE \"C\" {}",
            page.where_sql, page.limit_offset_sql
        );
        let mut rows = sqlx::query(&sql).bind(collection).bind(owner);
        for param in &page.params {
            rows = bind!(rows, param);
        }
        // The walk is chosen here, not by the planner: with statistics that lag a bulk
        // write it took the owner's rows by bitmap and sorted them all.
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "SELECT set_config('enable_sort', 'off', true),
                    set_config('enable_bitmapscan', 'off', true),
                    set_config('enable_seqscan', 'off', true)",
        )
        .execute(&mut *tx)
        .await?;
        let rows = rows.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows.iter().map(|r| (r.get("id"), r.get("doc"))).collect())
    }
}

/// How many rows of an owner a walk reads at most: enough for the page if one document in
/// 50 matches.
fn walk_budget(query: &Query) -> u64 {
    (query.offset.saturating_add(u64::from(query.limit)))
        .saturating_mul(50)
        .max(1000)
}

/// Whether a walk's `items` are the whole page: a full page is; a short one only if the
/// count says nothing more matches (without a count, a short walk may have stopped early).
fn walked_enough(query: &Query, items: &[(String, Value)], total: Option<u64>) -> bool {
    if items.len() >= query.limit as usize {
        return true;
    }
    total.is_some_and(|total| items.len() as u64 >= total.saturating_sub(query.offset))
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    op: &ViewOp,
    indexed: bool,
) -> Result<(), sqlx::Error> {
    match op {
        ViewOp::Upsert {
            collection,
            id,
            doc,
            owner,
            ord,
        } => {
            sqlx::query(
                "INSERT INTO views (collection, id, doc, owner, ord, indexed)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (collection, id) DO UPDATE
                    SET doc = EXCLUDED.doc, owner = EXCLUDED.owner, ord = EXCLUDED.ord,
                        indexed = EXCLUDED.indexed, updated_at = now()",
            )
            .bind(collection)
            .bind(id)
            .bind(doc)
            .bind(owner)
            .bind(ord)
            .bind(indexed)
            .execute(&mut **tx)
            .await?;
        }
        ViewOp::Merge {
            collection,
            id,
            patch,
        } => {
            sqlx::query(
                "UPDATE views SET doc = doc || $3, indexed = $4, updated_at = now()
                  WHERE collection = $1 AND id = $2",
            )
            .bind(collection)
            .bind(id)
            .bind(patch)
            .bind(indexed)
            .execute(&mut **tx)
            .await?;
        }
        ViewOp::Increment {
            collection,
            id,
            field,
            by,
        } => {
            sqlx::query(
                "UPDATE views
                    SET doc = jsonb_set(doc, ARRAY[$3::text],
                              to_jsonb(COALESCE((doc ->> $3)::bigint, 0) + $4)),
                        indexed = $5, updated_at = now()
                  WHERE collection = $1 AND id = $2",
            )
            .bind(collection)
            .bind(id)
            .bind(field)
            .bind(by)
            .bind(indexed)
            .execute(&mut **tx)
            .await?;
        }
        ViewOp::Delete { collection, id } => {
            sqlx::query("DELETE FROM views WHERE collection = $1 AND id = $2")
                .bind(collection)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        ViewOp::Nested {
            collection,
            id,
            path,
            change,
        } => {
            // `Nested::apply`: only object keys are followed (every prefix of the path up to
            // the parent, `$3[1:k]`, must be an object: `#>` alone would index arrays), an
            // empty path changes nothing. Merge needs the target itself to be an object too.
            let objects_up_to = |last: &str| {
                format!(
                    "cardinality($3::text[]) > 0 AND NOT EXISTS (
                        SELECT 1 FROM generate_series(0, {last}) AS k
                         WHERE jsonb_typeof(doc #> ($3::text[])[1:k]) IS DISTINCT FROM 'object')"
                )
            };
            let parent_is_object = objects_up_to("cardinality($3::text[]) - 1");
            let (set, condition, value) = match change {
                Nested::Set(value) => (
                    "jsonb_set(doc, $3::text[], $4::jsonb, true)",
                    parent_is_object,
                    Some(value),
                ),
                Nested::Remove => ("doc #- $3::text[]", parent_is_object, None),
                Nested::Merge(patch) => (
                    "jsonb_set(doc, $3::text[], (doc #> $3::text[]) || $4::jsonb)",
                    objects_up_to("cardinality($3::text[])")
                        + " AND jsonb_typeof($4::jsonb) = 'object'",
                    Some(patch),
                ),
            };
            let sql = format!(
                "UPDATE views SET doc = {set}, indexed = $5, updated_at = now()
                  WHERE collection = $1 AND id = $2 AND {condition}"
            );
            sqlx::query(&sql)
                .bind(collection)
                .bind(id)
                .bind(path)
                .bind(value)
                .bind(indexed)
                .execute(&mut **tx)
                .await?;
        }
        ViewOp::DeleteMatching { collection, filter } => {
            // The literal `indexed` lets the planner use the partial document index.
            let scope = if indexed {
                "collection = $1 AND indexed"
            } else {
                "collection = $1"
            };
            let matching = filter::postgres::compile_filter(filter, 2);
            let sql = format!("DELETE FROM views WHERE {scope} AND ({})", matching.sql);
            let mut delete = sqlx::query(&sql).bind(collection);
            for param in &matching.params {
                delete = bind!(delete, param);
            }
            delete.execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// Applies a batch, run by run: a delete by filter sees exactly the ops before it applied.
async fn apply_batch(
    tx: &mut Transaction<'_, Postgres>,
    ops: &[ViewOp],
    indexed: impl Fn(&str) -> bool,
) -> Result<(), sqlx::Error> {
    for run in ViewOp::runs(ops) {
        match run {
            Run::Documents(ops) => apply_documents(tx, ops, &indexed).await?,
            Run::Barrier(op) => apply(tx, op, indexed(op.collection())).await?,
        }
    }
    Ok(())
}

/// Applies ops of one document each: documents touched by a single upsert, delete or merge go in one statement
/// per kind; documents with several ops (in order) one op at a time. Documents are
/// independent, so the grouping keeps the result of applying the ops in order.
async fn apply_documents(
    tx: &mut Transaction<'_, Postgres>,
    ops: &[ViewOp],
    indexed: &impl Fn(&str) -> bool,
) -> Result<(), sqlx::Error> {
    fn key(op: &ViewOp) -> (&str, &str) {
        (op.collection(), op.id().unwrap_or_default())
    }
    let mut per_key: std::collections::HashMap<(&str, &str), usize> = Default::default();
    for op in ops {
        *per_key.entry(key(op)).or_default() += 1;
    }
    /// Column arrays for `unnest`: collection, id, document or patch, owner, ord, indexed.
    #[derive(Default)]
    struct Columns<'a> {
        collections: Vec<&'a str>,
        ids: Vec<&'a str>,
        // Borrowed: encoded straight from the ops, not from copies of them.
        docs: Vec<sqlx::types::Json<&'a Value>>,
        owners: Vec<Option<&'a str>>,
        ords: Vec<Option<i64>>,
        indexed: Vec<bool>,
    }
    let mut upserts = Columns::default();
    let mut merges = Columns::default();
    let mut deletes = Columns::default();
    for op in ops {
        let key = key(op);
        let collection = key.0;
        if per_key[&key] > 1 {
            apply(tx, op, indexed(collection)).await?;
            continue;
        }
        match op {
            ViewOp::Upsert {
                collection,
                id,
                doc,
                owner,
                ord,
            } => {
                upserts.collections.push(collection);
                upserts.ids.push(id);
                upserts.docs.push(sqlx::types::Json(doc));
                upserts.owners.push(owner.as_deref());
                upserts.ords.push(*ord);
                upserts.indexed.push(indexed(collection));
            }
            ViewOp::Merge {
                collection,
                id,
                patch,
            } => {
                merges.collections.push(collection);
                merges.ids.push(id);
                merges.docs.push(sqlx::types::Json(patch));
                merges.indexed.push(indexed(collection));
            }
            ViewOp::Delete { collection, id } => {
                deletes.collections.push(collection);
                deletes.ids.push(id);
            }
            ViewOp::Increment { .. } | ViewOp::Nested { .. } | ViewOp::DeleteMatching { .. } => {
                apply(tx, op, indexed(collection)).await?
            }
        }
    }
    if !upserts.ids.is_empty() {
        sqlx::query(
            "INSERT INTO views (collection, id, doc, owner, ord, indexed)
             SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::int8[],
                                  $6::bool[])
             ON CONFLICT (collection, id) DO UPDATE
                SET doc = EXCLUDED.doc, owner = EXCLUDED.owner, ord = EXCLUDED.ord,
                    indexed = EXCLUDED.indexed, updated_at = now()",
        )
        .bind(&upserts.collections)
        .bind(&upserts.ids)
        .bind(&upserts.docs)
        .bind(&upserts.owners)
        .bind(&upserts.ords)
        .bind(&upserts.indexed)
        .execute(&mut **tx)
        .await?;
    }
    if !merges.ids.is_empty() {
        sqlx::query(
            "UPDATE views v SET doc = v.doc || m.patch, indexed = m.indexed, updated_at = now()
               FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::bool[])
                    AS m(collection, id, patch, indexed)
              WHERE v.collection = m.collection AND v.id = m.id",
        )
        .bind(&merges.collections)
        .bind(&merges.ids)
        .bind(&merges.docs)
        .bind(&merges.indexed)
        .execute(&mut **tx)
        .await?;
    }
    if !deletes.ids.is_empty() {
        sqlx::query(
            "DELETE FROM views v USING unnest($1::text[], $2::text[]) AS d(collection, id)
              WHERE v.collection = d.collection AND v.id = d.id",
        )
        .bind(&deletes.collections)
        .bind(&deletes.ids)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Locks the projection's checkpoint row for the rest of the transaction.
async fn lock_checkpoint(
    tx: &mut Transaction<'_, Postgres>,
    projection: &str,
) -> Result<Position, StoreError> {
    // One statement creates the row if needed, locks it and reads it.
    let row = sqlx::query(
        "INSERT INTO projection_checkpoints (projection) VALUES ($1)
         ON CONFLICT (projection) DO UPDATE SET projection = EXCLUDED.projection
         RETURNING tx_id::text AS tx, global_id",
    )
    .bind(projection)
    .fetch_one(&mut **tx)
    .await
    .map_err(unavailable)?;
    let tx_text: String = row.get("tx");
    let tx_id = parse_xid8(&tx_text).map_err(|e| StoreError::Unavailable(e.0))?;
    Ok(Position::new(tx_id, row.get("global_id")))
}

/// Moves a projection's checkpoint from `expected` to `next`; `false` if it was not at
/// `expected` (or has no row yet).
async fn move_checkpoint(
    tx: &mut Transaction<'_, Postgres>,
    projection: &str,
    expected: Position,
    next: Position,
) -> Result<bool, StoreError> {
    let moved = sqlx::query(
        "UPDATE projection_checkpoints
            SET tx_id = $4::text::xid8, global_id = $5, updated_at = now()
          WHERE projection = $1 AND tx_id = $2::text::xid8 AND global_id = $3",
    )
    .bind(projection)
    .bind(expected.tx.to_string())
    .bind(expected.gid)
    .bind(next.tx.to_string())
    .bind(next.gid)
    .execute(&mut **tx)
    .await
    .map_err(unavailable)?;
    Ok(moved.rows_affected() == 1)
}

#[async_trait]
impl ViewStore for PgViewStore {
    async fn checkpoint(&self, projection: &str) -> Result<Position, StoreError> {
        let row = sqlx::query(
            "SELECT tx_id::text AS tx, global_id FROM projection_checkpoints WHERE projection = $1",
        )
        .bind(projection)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        match row {
            Some(r) => {
                let tx: String = r.get("tx");
                let tx = parse_xid8(&tx).map_err(|e| StoreError::Unavailable(e.0))?;
                Ok(Position::new(tx, r.get("global_id")))
            }
            None => Ok(Position::ZERO),
        }
    }

    async fn commit(
        &self,
        projection: &str,
        expected: Position,
        next: Position,
        ops: &[ViewOp],
    ) -> Result<(), CommitError> {
        // Read models are derived from the log: a crash may lose the last commits of a
        // projection, but views and checkpoint together, so the worker re-applies them. Not
        // waiting for the WAL flush keeps projection lag off the disk's fsync latency.
        let mut conn = self.committing.get().await.map_err(unavailable)?;
        let mut tx = conn
            .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
            .await
            .map_err(unavailable)?;
        // Moves the checkpoint only from where this worker expects it (and locks it until
        // commit), so two workers of one projection never both apply a batch.
        if !move_checkpoint(&mut tx, projection, expected, next).await? {
            // Not there yet, or moved by someone else.
            let current = lock_checkpoint(&mut tx, projection).await?;
            if current != expected {
                return Err(CommitError::CheckpointMoved(current));
            }
            move_checkpoint(&mut tx, projection, expected, next).await?;
        }
        apply_batch(&mut tx, ops, |c| self.indexed(c))
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        self.committing.put_back(conn);
        let upserts = ops
            .iter()
            .filter(|op| matches!(op, ViewOp::Upsert { .. }))
            .count();
        self.wrote(upserts as u64);
        Ok(())
    }

    async fn reset(&self, projection: &str, collections: &[&str]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        lock_checkpoint(&mut tx, projection).await?;
        sqlx::query("DELETE FROM views WHERE collection = ANY($1)")
            .bind(collections)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::query(
            "UPDATE projection_checkpoints SET tx_id = '0', global_id = 0, updated_at = now()
              WHERE projection = $1",
        )
        .bind(projection)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn get(&self, collection: &str, id: &str) -> Result<Option<Value>, StoreError> {
        sqlx::query_scalar("SELECT doc FROM views WHERE collection = $1 AND id = $2")
            .bind(collection)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)
    }

    async fn find(&self, collection: &str, query: &Query) -> Result<Page, StoreError> {
        let owner = query.within.as_ref().map(|w| w.owner.as_str());
        // The literal `indexed` lets the planner use the partial document index (a filter
        // that reads no document needs none).
        let mut scope = String::from("collection = $1");
        if self.indexed(collection) && query.filter != Filter::All {
            scope.push_str(" AND indexed");
        }
        if owner.is_some() {
            scope.push_str(" AND owner = $2");
        }
        let first = if owner.is_some() { 3 } else { 2 };

        // Counted only when asked, by its own statement, run alongside the page's: on 50,000
        // documents `count(*) OVER ()` in the page's statement took 264 ms where the page
        // (130 ms) and a separate count (23 ms) took 153 ms together, because the window
        // buffers every match with its document (spilling to disk) and runs without the
        // parallel workers of the plain plan.
        let count = filter::postgres::compile_filter(&query.filter, first);
        let count_sql = format!(
            "SELECT count(*) FROM views WHERE {scope} AND ({})",
            count.sql
        );
        let total = async {
            if !query.count {
                return Ok(None);
            }
            let mut total = sqlx::query_scalar::<_, i64>(&count_sql).bind(collection);
            if let Some(owner) = owner {
                total = total.bind(owner);
            }
            for param in &count.params {
                total = bind!(total, param);
            }
            let total = total.fetch_one(&self.pool).await?;
            Ok(Some(total.max(0) as u64))
        };

        let sorted = filter::postgres::compile(query, first)?;
        // The walk's page: the same filter and bounds, without the sort (the ord column's).
        let walk = match &query.within {
            Some(within) if within.is_order(&query.sort) && query.after.is_none() => {
                let unsorted = Query {
                    sort: vec![],
                    ..query.clone()
                };
                Some((&within.owner, filter::postgres::compile(&unsorted, first)?))
            }
            _ => None,
        };
        // (items, whether they come from a walk, which may have stopped short)
        let page = async {
            match &walk {
                Some((owner, page)) => self
                    .walk(collection, owner, walk_budget(query), page)
                    .await
                    .map(|items| (items, true)),
                None => self
                    .sorted(collection, owner, &scope, &sorted)
                    .await
                    .map(|items| (items, false)),
            }
        };
        let ((items, walked), total) = tokio::try_join!(page, total).map_err(unavailable)?;
        let items = if walked && !walked_enough(query, &items, total) {
            self.sorted(collection, owner, &scope, &sorted)
                .await
                .map_err(unavailable)?
        } else {
            items
        };
        Ok(Page {
            next: query.next_cursor(&items),
            items,
            total,
        })
    }

    async fn dump(&self, collection: &str) -> Result<Vec<(String, Value)>, StoreError> {
        let rows = sqlx::query("SELECT id, doc FROM views WHERE collection = $1 ORDER BY id")
            .bind(collection)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(rows.iter().map(|r| (r.get("id"), r.get("doc"))).collect())
    }
}
