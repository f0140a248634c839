//! Runs the shared filter fixtures through the Postgres compiler against a
//! real server (`TEST_PG_ADMIN_URL`, default the local trust-auth `postgres`
//! database), in a throwaway database dropped at the end.

use std::time::{SystemTime, UNIX_EPOCH};

use annals_contracts::filter::postgres::{SqlParam, compile, compile_filter};
use annals_contracts::filter::{Filter, Query, fixtures};
use sqlx::postgres::{PgArguments, PgConnection, Postgres};
use sqlx::query::Query as SqlQuery;
use sqlx::{Connection, Executor, Row};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const COLLECTION: &str = "people";

fn admin_url() -> String {
    std::env::var("TEST_PG_ADMIN_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

fn bind<'q>(
    mut q: SqlQuery<'q, Postgres, PgArguments>,
    params: &'q [SqlParam],
) -> SqlQuery<'q, Postgres, PgArguments> {
    for p in params {
        q = match p {
            SqlParam::Json(v) => q.bind(v),
            SqlParam::Text(s) => q.bind(s.as_str()),
            SqlParam::TextArray(a) => q.bind(a.as_slice()),
            SqlParam::Int(i) => q.bind(*i),
        };
    }
    q
}

async fn ids(conn: &mut PgConnection, sql: &str, params: &[SqlParam]) -> sqlx::Result<Vec<String>> {
    let rows = bind(sqlx::query(sql).bind(COLLECTION), params)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| r.try_get::<String, _>("id")).collect()
}

async fn filter_ids(conn: &mut PgConnection, filter: &Filter) -> sqlx::Result<Vec<String>> {
    let c = compile_filter(filter, 2);
    let sql = format!(
        "SELECT id FROM views WHERE collection = $1 AND {} ORDER BY id COLLATE \"C\"",
        c.sql
    );
    ids(conn, &sql, &c.params).await
}

async fn query_rows(
    conn: &mut PgConnection,
    query: &Query,
) -> sqlx::Result<Vec<(String, serde_json::Value)>> {
    let c = compile(query, 2).expect("a valid query");
    let sql = format!(
        "SELECT id, doc FROM views WHERE collection = $1 AND {} ORDER BY {} {}",
        c.where_sql, c.order_by_sql, c.limit_offset_sql
    );
    let rows = bind(sqlx::query(&sql).bind(COLLECTION), &c.params)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("doc")?)))
        .collect()
}

async fn query_ids(conn: &mut PgConnection, query: &Query) -> sqlx::Result<Vec<String>> {
    let rows = query_rows(conn, query).await?;
    Ok(rows.into_iter().map(|(id, _)| id).collect())
}

/// Pages through a keyset case with cursors, as the view store does.
async fn keyset_ids(
    conn: &mut PgConnection,
    case: &fixtures::KeysetCase,
) -> sqlx::Result<Vec<String>> {
    let mut query = case.query();
    let mut all = Vec::new();
    loop {
        let rows = query_rows(conn, &query).await?;
        let next = query.next_cursor(&rows);
        all.extend(rows.into_iter().map(|(id, _)| id));
        match next {
            Some(next) if all.len() <= 100 => query.after = Some(next),
            _ => return Ok(all),
        }
    }
}

async fn setup(conn: &mut PgConnection) -> sqlx::Result<()> {
    conn.execute(
        "CREATE TABLE views (collection text NOT NULL, id text NOT NULL, doc jsonb NOT NULL, \
         owner text, parent text, updated_at timestamptz NOT NULL DEFAULT now(), \
         PRIMARY KEY (collection, id)); \
         CREATE INDEX views_doc_gin ON views USING gin (doc jsonb_path_ops);",
    )
    .await?;
    let mut docs = fixtures::documents();
    // A decoy in another collection: the caller's own `$1` must still apply.
    docs.push(("d99", serde_json::json!({"name": "Alice", "age": 30})));
    for (id, doc) in docs {
        let collection = if id == "d99" { "other" } else { COLLECTION };
        sqlx::query("INSERT INTO views (collection, id, doc) VALUES ($1, $2, $3)")
            .bind(collection)
            .bind(id)
            .bind(doc)
            .execute(&mut *conn)
            .await?;
    }
    conn.execute("ANALYZE views").await?;
    Ok(())
}

/// Runs every fixture case; returns one line per mismatch.
async fn run_cases(conn: &mut PgConnection, mode: &str) -> sqlx::Result<Vec<String>> {
    let mut failures = Vec::new();
    for case in fixtures::filter_cases() {
        let got = filter_ids(conn, &case.filter).await?;
        if got != case.expected {
            failures.push(format!(
                "[{mode}] filter {:?}: expected {:?}, got {got:?}",
                case.name, case.expected
            ));
        }
    }
    for case in fixtures::query_cases() {
        let got = query_ids(conn, &case.query).await?;
        if got != case.expected {
            failures.push(format!(
                "[{mode}] query {:?}: expected {:?}, got {got:?}",
                case.name, case.expected
            ));
        }
    }
    for case in fixtures::keyset_cases() {
        let mut whole = case.query();
        whole.limit = 100;
        let offset_order = query_ids(conn, &whole).await?;
        let paged = keyset_ids(conn, &case).await?;
        if offset_order != case.expected || paged != case.expected {
            failures.push(format!(
                "[{mode}] keyset {:?}: expected {:?}, offset order {offset_order:?}, \
                 keyset pages {paged:?}",
                case.name, case.expected
            ));
        }
    }
    Ok(failures)
}

async fn run(url: &str) -> sqlx::Result<Vec<String>> {
    let mut conn = PgConnection::connect(url).await?;
    setup(&mut conn).await?;
    let mut failures = run_cases(&mut conn, "planner's choice").await?;

    // The GIN path must agree too (e.g. it hashes 1 and 1.0 alike).
    conn.execute("SET enable_seqscan = off").await?;
    failures.extend(run_cases(&mut conn, "index forced").await?);

    // Index-shaped, not the planner's pick on 16 rows: the filter alone,
    // with plain index scans off too so the primary key cannot stand in.
    conn.execute("SET enable_indexscan = off").await?;
    let eq = Filter::from_json(&serde_json::json!({"address.city": "Paris"})).expect("filter");
    let c = compile_filter(&eq, 1);
    let plan = bind(
        sqlx::query(&format!("EXPLAIN SELECT id FROM views WHERE {}", c.sql)),
        &c.params,
    )
    .fetch_all(&mut conn)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>(0))
    .collect::<sqlx::Result<Vec<_>>>()?
    .join("\n");
    if !plan.contains("views_doc_gin") {
        failures.push(format!("equality does not use the GIN index:\n{plan}"));
    }
    conn.close().await?;
    Ok(failures)
}

#[tokio::test]
async fn fixtures_match_on_postgres() {
    let admin_url = admin_url();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("Postgres must be reachable at {admin_url}: {e}"));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    let db = format!("filter_test_{}_{nanos}", std::process::id());
    admin
        .execute(format!("CREATE DATABASE {db}").as_str())
        .await
        .expect("create test database");

    let (base, _) = admin_url.rsplit_once('/').expect("URL has a database");
    let outcome = run(&format!("{base}/{db}")).await;

    admin
        .execute(format!("DROP DATABASE {db} WITH (FORCE)").as_str())
        .await
        .expect("drop test database");
    let failures = outcome.expect("queries run");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
