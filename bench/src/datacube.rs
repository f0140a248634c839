//! `annals-bench datacube`: the document service under load, next to a reference measured in
//! the same run. An import of `--docs` documents of about 1 KB through `POST /api/import_data`
//! against a `COPY` of the same rows, shaped like the events the import writes, into a copy of
//! the events table; the time until every imported document is queryable; the server's peak
//! resident memory during the import; `POST /api/crud` of one document by `--clients` clients;
//! a filtered query of 20 documents on the imported collection. See bench/README.md.
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::http::{self, Api, Error, User};
use crate::load::{self, ClosedResult};
use crate::stats::{Ms, thousands};

#[derive(Debug, clap::Args)]
pub struct DatacubeArgs {
    /// Base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base_url: String,
    /// The server's Postgres database: the reference `COPY` writes a `bench_events` table there.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The server's process id, for its resident memory (`/proc/<pid>/status`).
    #[arg(long)]
    server_pid: u32,
    /// Documents imported (and copied by the reference).
    #[arg(long, default_value_t = 100_000)]
    docs: usize,
    /// Concurrent clients of the insert and query phases.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Duration of the insert and of the query phase, seconds (after 2 s of warm-up each).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Free text identifying what was measured (e.g. the git commit).
    #[arg(long, default_value = "")]
    label: String,
    /// Where to write the Markdown report (also printed to stdout).
    #[arg(long, default_value = "bench/results/datacube.md")]
    out: PathBuf,
}

const CITIES: [&str; 8] = [
    "Paris", "Lyon", "Lagos", "Osaka", "Quito", "Perth", "Oslo", "Pune",
];

/// Document `i`: about 1 KB of JSON, the fields the collection declares plus free text.
fn document(i: usize) -> Value {
    let bio: String = (0..14)
        .map(|w| format!("word{}-{} ", (i * 31 + w * 7) % 1000, w))
        .collect::<String>()
        .repeat(5);
    json!({
        "name": format!("Person {i}"),
        "email": format!("person{i}@example.com"),
        "age": (i * 7) % 90,
        "city": CITIES[i % CITIES.len()],
        "active": !i.is_multiple_of(3),
        "tags": [format!("t{}", i % 10), format!("g{}", i % 4)],
        "bio": bio.trim_end(),
    })
}

const SCHEMA: &str = r#"[
    {"name": "name", "type": "string"}, {"name": "email", "type": "string"},
    {"name": "age", "type": "integer"}, {"name": "city", "type": "string"},
    {"name": "active", "type": "boolean"}, {"name": "tags", "type": "array"},
    {"name": "bio", "type": "string"}]"#;

/// The server's resident memory now and its peak so far, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn call(request: reqwest::RequestBuilder, what: &str) -> Result<Value, Error> {
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(format!("{what}: {status} {body}").into());
    }
    Ok(body)
}

/// Documents the collection answers to a count query, read without a position header.
async fn total(api: &Api, user: &User, database_id: &str) -> Result<u64, Error> {
    let body = call(
        api.client()
            .get(api.url(&format!(
                "/api/crud?database_id={database_id}&collection_name=people&page_size=1"
            )))
            .header("authorization", &user.bearer),
        "GET /api/crud",
    )
    .await?;
    Ok(body["pagination"]["total"].as_u64().unwrap_or(0))
}

/// The read model's side of the same documents, alone: each document as the projection
/// stores it (the body with `_id`, times, `_version` and `_dc`) written into a copy of the
/// server's `views` table with its indexes, 500 per statement and transaction as the
/// projection commits a batch, by the statement the view store uses. No log read, no bus, no
/// decoding: the database's own least time for making the import queryable once it is
/// committed. `document_index: false` leaves the GIN document index out, to tell its share.
/// Answers the seconds it took.
async fn reference_views(
    database_url: &str,
    docs: usize,
    document_index: bool,
) -> Result<f64, Error> {
    let mut conn = PgConnection::connect(database_url).await?;
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS bench_views;
         CREATE TABLE bench_views (LIKE views INCLUDING ALL);",
    )
    .execute(&mut conn)
    .await?;
    if !document_index {
        // The copied GIN index, whatever name LIKE gave it.
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT indexname FROM pg_indexes
              WHERE tablename = 'bench_views' AND indexdef ILIKE '%USING gin%'",
        )
        .fetch_all(&mut conn)
        .await?;
        for name in names {
            sqlx::raw_sql(&format!("DROP INDEX \"{name}\""))
                .execute(&mut conn)
                .await?;
        }
    }
    let collection = "0123456789abcdef01234568";
    let batches: Vec<(Vec<String>, Vec<Value>, Vec<i64>)> = (0..docs)
        .collect::<Vec<_>>()
        .chunks(500)
        .map(|chunk| {
            let mut ids = Vec::with_capacity(chunk.len());
            let mut bodies = Vec::with_capacity(chunk.len());
            let mut ords = Vec::with_capacity(chunk.len());
            for &i in chunk {
                let mut doc = document(i);
                let at = "2026-11-28T08:00:00.000000Z";
                doc["_id"] = json!(format!("{i:024x}"));
                doc["_created_at"] = json!(at);
                doc["_updated_at"] = json!(at);
                doc["_version"] = json!(1);
                doc["_dc"] = json!({"c": collection, "d": "0123456789abcdef01234567", "n": i});
                ids.push(format!("{collection}:{i:024x}"));
                bodies.push(doc);
                ords.push(i as i64);
            }
            (ids, bodies, ords)
        })
        .collect();
    let started = Instant::now();
    for (ids, bodies, ords) in &batches {
        let n = ids.len();
        let mut tx = conn
            .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
            .await?;
        sqlx::query(
            "INSERT INTO bench_views (collection, id, doc, owner, ord, indexed)
             SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::int8[],
                                  $6::bool[])
             ON CONFLICT (collection, id) DO UPDATE
                SET doc = EXCLUDED.doc, owner = EXCLUDED.owner, ord = EXCLUDED.ord,
                    indexed = EXCLUDED.indexed, updated_at = now()",
        )
        .bind(vec!["datacube_documents"; n])
        .bind(ids)
        .bind(bodies.iter().map(sqlx::types::Json).collect::<Vec<_>>())
        .bind(vec![collection; n])
        .bind(ords)
        .bind(vec![true; n])
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    sqlx::raw_sql("DROP TABLE bench_views")
        .execute(&mut conn)
        .await?;
    Ok(elapsed)
}

/// `COPY` of `docs` rows shaped like the import's events into `bench_events`, in one
/// statement: what the database alone takes to store them. Answers the seconds it took.
async fn reference_copy(database_url: &str, docs: usize) -> Result<f64, Error> {
    let mut conn = PgConnection::connect(database_url).await?;
    sqlx::raw_sql(crate::raw::PG_SCHEMA)
        .execute(&mut conn)
        .await?;
    let mut text = String::new();
    for i in 0..docs {
        let payload = json!({"DocumentInserted": {
            "database_id": "0123456789abcdef01234567", "collection_id": "0123456789abcdef01234568",
            "collection": "people", "document_id": format!("{i:024x}"), "body": document(i),
            "at": "2026-11-28T08:00:00.000000Z"}});
        let metadata = json!({"actor": "0123456789abcdef", "request_id": format!("r{i}"),
            "credential": "token:0123456789abcdef"});
        // COPY's text format: backslashes doubled; JSON holds no raw tab or newline.
        let line = format!(
            "datacube_document\t{i:024x}\t1\tDocumentInserted\t1.0\t{}\t{}\n",
            payload.to_string().replace('\\', "\\\\"),
            metadata.to_string().replace('\\', "\\\\")
        );
        text.push_str(&line);
    }
    let started = Instant::now();
    let mut copy = conn
        .copy_in_raw(
            "COPY bench_events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata) FROM STDIN",
        )
        .await?;
    copy.send(text.as_bytes()).await?;
    copy.finish().await?;
    let elapsed = started.elapsed().as_secs_f64();
    sqlx::raw_sql("DROP TABLE bench_events")
        .execute(&mut conn)
        .await?;
    Ok(elapsed)
}

struct Import {
    acknowledged: f64,
    queryable: f64,
    bytes: usize,
    peak_rss_kib: u64,
    rss_before_kib: u64,
}

async fn import(
    api: &Api,
    user: &User,
    database_id: &str,
    args: &DatacubeArgs,
) -> Result<Import, Error> {
    let mut file = Vec::with_capacity(args.docs * 1100);
    file.push(b'[');
    for i in 0..args.docs {
        if i > 0 {
            file.push(b',');
        }
        serde_json::to_writer(&mut file, &document(i))?;
    }
    file.push(b']');
    let bytes = file.len();
    let (rss_before_kib, _) = memory(args.server_pid);
    let peak = Arc::new(AtomicU64::new(rss_before_kib));
    let sampling = {
        let (peak, pid) = (peak.clone(), args.server_pid);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(memory(pid).0, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let form = Form::new()
        .text("database_id", database_id.to_string())
        .text("collection_name", "people")
        .part("json_file", Part::bytes(file).file_name("people.json"));
    // The import's own client: it may take longer than the API client's timeout.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let started = Instant::now();
    let body = call(
        client
            .post(api.url("/api/import_data"))
            .header("authorization", &user.bearer)
            .multipart(form),
        "POST /api/import_data",
    )
    .await?;
    let acknowledged = started.elapsed().as_secs_f64();
    if body["inserted_count"].as_u64() != Some(args.docs as u64) {
        return Err(format!("import answered {body}").into());
    }
    while total(api, user, database_id).await? < args.docs as u64 {
        if started.elapsed() > Duration::from_secs(600) {
            return Err("the imported documents were not all queryable after 600 s".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let queryable = started.elapsed().as_secs_f64();
    sampling.abort();
    Ok(Import {
        acknowledged,
        queryable,
        bytes,
        peak_rss_kib: peak.load(Ordering::Relaxed),
        rss_before_kib,
    })
}

pub async fn run(args: DatacubeArgs) -> Result<(), Error> {
    let api = Api::new(&args.base_url)?;
    let user = http::setup_users(&api, 1).await?.users.remove(0);
    let schema: Value = serde_json::from_str(SCHEMA)?;
    let created = call(
        api.client()
            .post(api.url("/api/create_database"))
            .header("authorization", &user.bearer)
            .json(&json!({"db_name": format!("bench{}", std::process::id()),
                "collections": [{"name": "people", "fields": schema},
                                {"name": "inserts", "fields": schema}]})),
        "POST /api/create_database",
    )
    .await?;
    let database_id = created["database"]["id"]
        .as_str()
        .ok_or("create_database answered no id")?
        .to_string();

    eprintln!("reference: COPY of {} rows", args.docs);
    let copy = reference_copy(&args.database_url, args.docs).await?;
    eprintln!("import: {} documents", args.docs);
    let imported = import(&api, &user, &database_id, &args).await?;
    eprintln!("reference again: COPY of {} rows", args.docs);
    let copy_after = reference_copy(&args.database_url, args.docs).await?;
    eprintln!(
        "reference: the read model's write of {} documents",
        args.docs
    );
    let views = reference_views(&args.database_url, args.docs, true).await?;
    let views_unindexed = reference_views(&args.database_url, args.docs, false).await?;
    let references = References {
        copy,
        copy_after,
        views,
        views_unindexed,
    };

    let duration = Duration::from_secs_f64(args.duration);
    let warmup = Duration::from_secs(2);
    eprintln!("inserts: {} clients, {duration:?}", args.clients);
    let inserts = {
        let (api, database_id) = (api.clone(), database_id.clone());
        load::closed(
            std::slice::from_ref(&user),
            args.clients,
            warmup,
            duration,
            move |user, n| {
                let (api, database_id) = (api.clone(), database_id.clone());
                async move {
                    let body = json!({"database_id": database_id, "collection_name": "inserts",
                    "data": document(n as usize)});
                    call(
                        api.client()
                            .post(api.url("/api/crud"))
                            .header("authorization", &user.bearer)
                            .json(&body),
                        "POST /api/crud",
                    )
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
                }
            },
        )
        .await
    };
    let filters = json!({"city": "Lyon", "age": {"$gte": 30}, "active": true}).to_string();
    let query = format!(
        "/api/crud?database_id={database_id}&collection_name=people&page_size=20&filters={}",
        urlencode(&filters)
    );
    eprintln!("queries: {} clients, {duration:?}", args.clients);
    let queries = load::read_loop(
        &api,
        std::slice::from_ref(&user),
        &query,
        args.clients,
        warmup,
        duration,
    )
    .await;
    // One client: the query's own latency, without 32 requests queueing for 2 cores.
    eprintln!("queries: 1 client, {duration:?}");
    let alone = load::read_loop(
        &api,
        std::slice::from_ref(&user),
        &query,
        1,
        warmup,
        duration,
    )
    .await;
    // The same query made distinct by a condition no document fails (no document has a `probe` field), so
    // no answer is ever reused: every request reads the read model.
    let distinct = |clients: usize| {
        let (api, query) = (api.clone(), query.clone());
        let filters = filters.clone();
        load::closed(
            std::slice::from_ref(&user),
            clients,
            warmup,
            duration,
            move |user, n| {
                let api = api.clone();
                let mut probe: Value = serde_json::from_str(&filters).expect("filters are JSON");
                probe["probe"] = json!({"$ne": format!("{n}-{clients}")});
                let path = format!(
                    "{}&filters={}",
                    query.split("&filters=").next().unwrap_or_default(),
                    urlencode(&probe.to_string())
                );
                async move {
                    call(
                        api.client()
                            .get(api.url(&path))
                            .header("authorization", &user.bearer),
                        "GET /api/crud",
                    )
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
                }
            },
        )
    };
    eprintln!("distinct queries: {} clients, {duration:?}", args.clients);
    let distinct_many = distinct(args.clients).await;
    eprintln!("distinct queries: 1 client, {duration:?}");
    let distinct_alone = distinct(1).await;

    let markdown = render(
        &args,
        &references,
        &imported,
        &inserts,
        [&queries, &alone, &distinct_many, &distinct_alone],
        &filters,
    );
    println!("{markdown}");
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &markdown)?;
    eprintln!("written to {}", args.out.display());
    Ok(())
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

/// The references measured in the same run, in seconds.
struct References {
    /// `COPY` of the import's events, before and after the import.
    copy: f64,
    copy_after: f64,
    /// The read model's write of the same documents, alone; and without the document index.
    views: f64,
    views_unindexed: f64,
}

fn render(
    args: &DatacubeArgs,
    &References {
        copy,
        copy_after,
        views,
        views_unindexed,
    }: &References,
    imported: &Import,
    inserts: &ClosedResult,
    [queries, alone, distinct, distinct_alone]: [&ClosedResult; 4],
    filters: &str,
) -> String {
    let docs = args.docs as f64;
    let reference = docs / ((copy + copy_after) / 2.0);
    let import_rate = docs / imported.acknowledged;
    let ratio = import_rate / reference;
    let queryable_ratio = imported.queryable / imported.acknowledged;
    let peak_mb = imported.peak_rss_kib as f64 / 1024.0;
    let line = |name: &str, r: &ClosedResult| {
        format!(
            "| {name} | {} /s | {} | {} | {} errors{} |",
            thousands(r.per_second()),
            Ms(r.latencies.ms(0.5)),
            Ms(r.latencies.ms(0.99)),
            r.errors,
            r.first_error
                .as_deref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        )
    };
    let p99 = queries.latencies.ms(0.99).unwrap_or(f64::MAX);
    let alone_p99 = alone.latencies.ms(0.99).unwrap_or(f64::MAX);
    [
        "# annals benchmark: the document service (DataCube API), Postgres + NATS".to_string(),
        String::new(),
        format!(
            "- {} · {} documents of {:.0} bytes on average ({:.1} MB file) · {} clients · phases {} s after 2 s warm-up",
            args.label,
            args.docs,
            imported.bytes as f64 / docs,
            imported.bytes as f64 / 1e6,
            args.clients,
            args.duration
        ),
        format!("- Command: `bash bench/datacube.sh` ({})", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")),
        String::new(),
        "## Import".to_string(),
        String::new(),
        "| Measure | Result | Target |".to_string(),
        "|---|---|---|".to_string(),
        format!(
            "| Reference: `COPY` of the same rows into a copy of the events table, before / after | {:.2} s / {:.2} s, mean {} rows/s | |",
            copy, copy_after, thousands(reference)
        ),
        format!(
            "| `POST /api/import_data`, answered | {:.2} s, {} docs/s | |",
            imported.acknowledged,
            thousands(import_rate)
        ),
        format!("| **Ratio** import ÷ reference | **{ratio:.2}** | ≥ 0.5: {} |", verdict(ratio >= 0.5)),
        format!(
            "| Every document queryable (`pagination.total`), from the upload's start | {:.2} s, {queryable_ratio:.2}× the import | ≤ 2×: {} |",
            imported.queryable,
            verdict(queryable_ratio <= 2.0)
        ),
        format!(
            "| Reference: the read model's write of the same documents alone, 500 per transaction into a copy of `views` with its indexes / without its GIN document index | {views:.2} s, {} docs/s / {views_unindexed:.2} s | |",
            thousands(docs / views)
        ),
        format!(
            "| Least queryable time that allows: the import, then that write | {:.2} s, {:.2}× the import | |",
            imported.acknowledged + views,
            (imported.acknowledged + views) / imported.acknowledged
        ),
        format!(
            "| Server resident memory: before / peak during the import (sampled every 20 ms) | {:.0} MB / **{peak_mb:.0} MB** | < 200 MB: {} |",
            imported.rss_before_kib as f64 / 1024.0,
            verdict(peak_mb < 200.0)
        ),
        String::new(),
        "## Single requests (closed loop)".to_string(),
        String::new(),
        "| Measure | Throughput | p50 ms | p99 ms | Notes |".to_string(),
        "|---|---|---|---|---|".to_string(),
        line("`POST /api/crud`, one document of ~1 KB", inserts),
        line(
            &format!("`GET /api/crud`, 20 of {} documents, filters `{filters}`", args.docs),
            queries,
        ),
        line("the same query, 1 client", alone),
        line(
            "the query made distinct per request (`\"probe\": {\"$ne\": n}`, which every document passes): nothing reused",
            distinct,
        ),
        line("distinct queries, 1 client", distinct_alone),
        String::new(),
        format!(
            "Filtered query p99 {} ms at {} clients, {} ms alone: target < 10 ms: {} / {}. \
             Repeated, the query is answered from the answer kept since the collection last \
             changed (`ANNALS_KEPT_ANSWERS`); distinct queries read the read model every time: \
             p99 {} ms at {} clients, {} ms alone.",
            Ms(queries.latencies.ms(0.99)),
            args.clients,
            Ms(alone.latencies.ms(0.99)),
            verdict(p99 < 10.0),
            verdict(alone_p99 < 10.0),
            Ms(distinct.latencies.ms(0.99)),
            args.clients,
            Ms(distinct_alone.latencies.ms(0.99)),
        ),
        String::new(),
    ]
    .join("\n")
}
