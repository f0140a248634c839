//! Runs the shared filter fixtures through the SQLite compiler against an
//! in-memory database with the embedded `views` schema: the same table of
//! expected ids as `filter_postgres.rs`, so both dialects agree with the
//! reference evaluator.

use annals_contracts::filter::sqlite::{SqlParam, compile, compile_filter};
use annals_contracts::filter::{Filter, Query, Sort, fixtures};
use serde_json::{Value, json};
use sqlx::query::Query as SqlQuery;
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Executor, Row};
use std::str::FromStr;

const COLLECTION: &str = "people";

fn bind<'q>(
    mut q: SqlQuery<'q, Sqlite, SqliteArguments<'q>>,
    params: &'q [SqlParam],
) -> SqlQuery<'q, Sqlite, SqliteArguments<'q>> {
    for p in params {
        q = match p {
            SqlParam::Text(s) => q.bind(s.as_str()),
            SqlParam::Int(i) => q.bind(*i),
            SqlParam::Real(f) => q.bind(*f),
        };
    }
    q
}

async fn ids(
    conn: &mut SqliteConnection,
    sql: &str,
    params: &[SqlParam],
) -> sqlx::Result<Vec<String>> {
    let rows = bind(sqlx::query(sql).bind(COLLECTION), params)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| r.try_get::<String, _>("id")).collect()
}

async fn filter_ids(conn: &mut SqliteConnection, filter: &Filter) -> sqlx::Result<Vec<String>> {
    let c = compile_filter(filter, 2);
    let sql = format!(
        "SELECT id FROM views WHERE collection = ?1 AND ({}) ORDER BY id",
        c.sql
    );
    ids(conn, &sql, &c.params).await
}

async fn query_rows(
    conn: &mut SqliteConnection,
    query: &Query,
) -> sqlx::Result<Vec<(String, Value)>> {
    let c = compile(query, 2).expect("a valid query");
    let sql = format!(
        "SELECT id, doc FROM views WHERE collection = ?1 AND ({}) ORDER BY {} {}",
        c.where_sql, c.order_by_sql, c.limit_offset_sql
    );
    let rows = bind(sqlx::query(&sql).bind(COLLECTION), &c.params)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let doc: String = r.try_get("doc")?;
            let doc = serde_json::from_str(&doc).expect("stored JSON");
            Ok((r.try_get("id")?, doc))
        })
        .collect()
}

async fn query_ids(conn: &mut SqliteConnection, query: &Query) -> sqlx::Result<Vec<String>> {
    let rows = query_rows(conn, query).await?;
    Ok(rows.into_iter().map(|(id, _)| id).collect())
}

/// Pages through `query` with cursors, as the view store does.
async fn keyset_ids(conn: &mut SqliteConnection, mut query: Query) -> sqlx::Result<Vec<String>> {
    let mut all = Vec::new();
    loop {
        let rows = query_rows(conn, &query).await?;
        let next = query.next_cursor(&rows);
        all.extend(rows.into_iter().map(|(id, _)| id));
        match next {
            Some(next) if all.len() <= 1000 => query.after = Some(next),
            _ => return Ok(all),
        }
    }
}

async fn insert(
    conn: &mut SqliteConnection,
    collection: &str,
    id: &str,
    doc: &Value,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO views (collection, id, doc) VALUES (?1, ?2, ?3)")
        .bind(collection)
        .bind(id)
        .bind(doc.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The embedded schema's `views` table (migrations/sqlite) with the fixture documents.
async fn setup() -> sqlx::Result<SqliteConnection> {
    // REGEXP, as the app registers it on its connections.
    let mut conn = SqliteConnectOptions::from_str("sqlite::memory:")?
        .with_regexp()
        .connect()
        .await?;
    conn.execute(
        "CREATE TABLE views (
            collection TEXT NOT NULL,
            id         TEXT NOT NULL,
            doc        TEXT NOT NULL,
            owner      TEXT,
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            PRIMARY KEY (collection, id)
        );
        CREATE INDEX views_owner ON views (collection, owner);",
    )
    .await?;
    for (id, doc) in fixtures::documents() {
        insert(&mut conn, COLLECTION, id, &doc).await?;
    }
    // A decoy in another collection: the caller's own `?1` must still apply.
    insert(
        &mut conn,
        "other",
        "d99",
        &json!({"name": "Alice", "age": 30}),
    )
    .await?;
    Ok(conn)
}

#[tokio::test]
async fn fixtures_match_on_sqlite() {
    let mut conn = setup().await.expect("in-memory database");
    let mut failures = Vec::new();
    for case in fixtures::filter_cases() {
        match filter_ids(&mut conn, &case.filter).await {
            Ok(got) if got == case.expected => {}
            Ok(got) => failures.push(format!(
                "filter {:?}: expected {:?}, got {got:?}",
                case.name, case.expected
            )),
            Err(e) => failures.push(format!("filter {:?}: {e}", case.name)),
        }
    }
    for case in fixtures::query_cases() {
        match query_ids(&mut conn, &case.query).await {
            Ok(got) if got == case.expected => {}
            Ok(got) => failures.push(format!(
                "query {:?}: expected {:?}, got {got:?}",
                case.name, case.expected
            )),
            Err(e) => failures.push(format!("query {:?}: {e}", case.name)),
        }
    }
    for case in fixtures::keyset_cases() {
        let mut whole = case.query();
        whole.limit = 100;
        let offset_order = query_ids(&mut conn, &whole).await;
        let paged = keyset_ids(&mut conn, case.query()).await;
        match (offset_order, paged) {
            (Ok(o), Ok(p)) if o == case.expected && p == case.expected => {}
            (o, p) => failures.push(format!(
                "keyset {:?}: expected {:?}, offset order {o:?}, keyset pages {p:?}",
                case.name, case.expected
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The reference evaluator over the same rows, for cases outside the fixture table.
fn reference(docs: &[(String, Value)], query: &Query) -> Vec<String> {
    query
        .evaluate(docs.iter().map(|(id, d)| (id.as_str(), d)))
        .expect("a valid query")
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Edge cases beyond the fixtures, checked against the reference evaluator.
#[tokio::test]
async fn agrees_with_the_evaluator_on_edge_cases() {
    let mut conn = setup().await.expect("in-memory database");
    let extra = [
        (
            "e01",
            json!({"n": 9007199254740993_i64, "s": "a\"b\\c", "k": {"x y": 1}}),
        ),
        (
            "e02",
            json!({"n": 9007199254740992.0, "s": "ÉCOLE", "k": {"x y": 1.0}}),
        ),
        (
            "e03",
            json!({"n": u64::MAX, "s": "école", "k": {"x y": [1, {"z": null}]}}),
        ),
        (
            "e04",
            json!({"n": -0.0, "s": "a%b_c", "k": {"x y": {"z": null}}}),
        ),
        (
            "e05",
            json!({"n": 0, "s": "", "k": {"x y": {}}, "l": [[], {}, [null], {"a": []}]}),
        ),
        (
            "e06",
            json!({"n": 1e300, "s": "ß", "k": {"x y": []}, "l": [1.5, "1.5", true]}),
        ),
        (
            "e07",
            json!({"n": 0.1, "s": "zz", "k": "x y", "l": [0.30000000000000004]}),
        ),
        (
            "e08",
            json!({"n": 0.30000000000000004, "k": null, "l": {"a": 1}}),
        ),
        ("e09", json!([1, 2, 3])),
        (
            "e10",
            json!({"k": {"x y": {"z": null, "w": 1}}, "l": [{"a": [1, 2]}, {"a": [2, 1]}]}),
        ),
    ];
    let mut docs: Vec<(String, Value)> = fixtures::documents()
        .into_iter()
        .map(|(id, d)| (id.to_owned(), d))
        .collect();
    for (id, doc) in &extra {
        insert(&mut conn, COLLECTION, id, doc)
            .await
            .expect("insert");
        docs.push(((*id).to_owned(), doc.clone()));
    }
    let filters = [
        json!({"n": 9007199254740993_i64}),
        json!({"n": 9007199254740992_i64}),
        json!({"n": u64::MAX}),
        json!({"n": 0}),
        json!({"n": {"$gt": 0.1, "$lt": 0.30000000000000004}}),
        json!({"n": {"$gte": 0.30000000000000004}}),
        json!({"n": {"$lte": -0.0}}),
        json!({"s": "a\"b\\c"}),
        json!({"s": {"$ieq": "école"}}),
        json!({"s": {"$ieq": "ÉCOLE"}}),
        json!({"s": {"$ilike": "%B_"}}),
        json!({"s": {"$gt": "z"}}),
        json!({"s": {"$lt": "É"}}),
        json!({"k.x y": 1}),
        json!({"k.x y": [1, {"z": null}]}),
        json!({"k.x y": [1.0, {"z": null}]}),
        json!({"k.x y": [1, {}]}),
        json!({"k.x y": {"z": null}}),
        json!({"k.x y": {}}),
        json!({"k.x y": []}),
        json!({"k.x y": {"$exists": false}}),
        json!({"k.x y.z": null}),
        json!({"k.x y.z": {"$exists": true}}),
        json!({"k": null}),
        json!({"k": {"$ne": null}}),
        json!({"l": {"$contains": []}}),
        json!({"l": {"$contains": {}}}),
        json!({"l": {"$contains": [null]}}),
        json!({"l": {"$contains": {"a": []}}}),
        json!({"l": {"$contains": {"a": [2, 1]}}}),
        json!({"l": {"$contains": 1.5}}),
        json!({"l": {"$contains": "1.5"}}),
        json!({"l": {"$contains": true}}),
        json!({"l": {"$contains": 1}}),
        json!({"l": {"$contains": 0.30000000000000004}}),
        json!({"l.a": {"$exists": true}}),
        json!({"$not": {"l": {"$contains": 1.5}}}),
        json!({"n": {"$in": [0.1, null, 1e300]}}),
        json!({"n": {"$nin": [0.1, null, 1e300]}}),
    ];
    let mut failures = Vec::new();
    for f in &filters {
        let query = Query {
            filter: Filter::from_json(f).expect("filter"),
            sort: vec![],
            limit: 1000,
            offset: 0,
            after: None,
            count: false,
            within: None,
        };
        let expected = reference(&docs, &query);
        match query_ids(&mut conn, &query).await {
            Ok(got) if got == expected => {}
            Ok(got) => failures.push(format!("{f}: expected {expected:?}, got {got:?}")),
            Err(e) => failures.push(format!("{f}: {e}")),
        }
    }
    for sort in [
        &["n"][..],
        &["-n"],
        &["s"],
        &["-s"],
        &["k.x y", "-n"],
        &["-k.x y", "s"],
        &["l", "-s"],
    ] {
        for (limit, offset) in [(1000, 0), (3, 4), (5, u64::MAX)] {
            let query = Query {
                filter: Filter::All,
                sort: sort.iter().map(|s| Sort::parse(s).expect("sort")).collect(),
                limit,
                offset,
                after: None,
                count: false,
                within: None,
            };
            let expected = reference(&docs, &query);
            match query_ids(&mut conn, &query).await {
                Ok(got) if got == expected => {}
                Ok(got) => failures.push(format!(
                    "sort {sort:?} {limit}/{offset}: expected {expected:?}, got {got:?}"
                )),
                Err(e) => failures.push(format!("sort {sort:?}: {e}")),
            }
        }
    }
    // Keyset pages over numbers at the edges of exactness agree with the reference order.
    for sort in [&["n"][..], &["-n"], &["s"], &["-k.x y", "s"], &["l", "-n"]] {
        let sort: Vec<Sort> = sort.iter().map(|s| Sort::parse(s).expect("sort")).collect();
        let mut whole = Query::new(Filter::All, sort.clone(), 1000);
        let expected = reference(&docs, &whole);
        for page in [1, 2, 3] {
            whole.limit = page;
            match keyset_ids(&mut conn, whole.clone()).await {
                Ok(got) if got == expected => {}
                Ok(got) => failures.push(format!(
                    "keyset {sort:?} by {page}: expected {expected:?}, got {got:?}"
                )),
                Err(e) => failures.push(format!("keyset {sort:?}: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn user_values_and_paths_only_travel_as_parameters() {
    let f = Filter::from_json(&json!({
        "a'b.c d": "x'); DROP TABLE views; --",
        "tags": {"$contains": {"k'": "v'"}},
        "name": {"$ilike": "it's", "$gte": "o'"},
    }))
    .expect("filter");
    let c = compile_filter(&f, 2);
    for needle in ["'b", "DROP", "k'", "it's", "o'", "c d"] {
        assert!(!c.sql.contains(needle), "{needle:?} in {}", c.sql);
    }
    let max = c
        .sql
        .match_indices('?')
        .map(|(i, _)| {
            c.sql[i + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse::<usize>()
                .expect("numbered placeholder")
        })
        .max()
        .expect("placeholders");
    assert_eq!(max, 1 + c.params.len(), "placeholders ?2..?{max}");
    // A path used twice binds once.
    let twice = Filter::from_json(&json!({"a": {"$gt": 1, "$ne": 5}})).expect("filter");
    let c = compile_filter(&twice, 1);
    assert_eq!(
        c.params,
        [
            SqlParam::Text("$.\"a\"".into()),
            SqlParam::Int(5),
            SqlParam::Int(1)
        ]
    );
}
