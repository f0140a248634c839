//! `annals-bench startup`: how long `annals serve` takes from being spawned until `GET /readyz`
//! answers 200, on an empty store (cold) and on the finished benchmark's data (warm).
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::{Connection, PgConnection};

use crate::http::Error;
use crate::nats;
use crate::stats::{Ms, thousands};
use crate::store::Store;

/// Poll interval of `/readyz` while the server starts.
const POLL: Duration = Duration::from_millis(2);
/// A start not ready by then is a failure.
const START_LIMIT: Duration = Duration::from_secs(60);
/// After SIGTERM, the server is killed if still running after this.
const STOP_LIMIT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// No `DATABASE_URL`, no `NATS_URL`: SQLite in the data dir and the in-process bus.
    Embedded,
    /// Postgres and NATS JetStream.
    Postgres,
}

#[derive(Debug, Clone, clap::Args)]
pub struct StartupArgs {
    /// The `annals` binary to start.
    #[arg(long)]
    pub annals: PathBuf,
    #[arg(long, value_enum)]
    pub mode: Mode,
    /// Cold starts: each on an empty data dir (postgres: and a new database and stream).
    #[arg(long, default_value_t = 5)]
    pub cold: usize,
    /// Warm restarts on the benchmark's data (`--warm-data-dir`; postgres: also
    /// `--database-url`, `--nats-stream`, `--nats-subject-prefix`). Its server must be stopped.
    #[arg(long, default_value_t = 5)]
    pub warm: usize,
    /// The finished benchmark's data dir (embedded: holds its annals.db).
    #[arg(long)]
    pub warm_data_dir: Option<PathBuf>,
    /// Where the cold starts' data dirs go (each deleted after its start). Default: the
    /// system's temporary directory.
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Postgres mode: the benchmark's database; cold starts create and drop databases named
    /// after it on the same server.
    #[arg(long)]
    pub database_url: Option<String>,
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Postgres mode: the benchmark's JetStream stream; cold starts use new streams named after it.
    #[arg(long, default_value = "ANNALS_BENCH")]
    pub nats_stream: String,
    /// Postgres mode: the benchmark's subject prefix.
    #[arg(long, default_value = "annalsbench.events")]
    pub nats_subject_prefix: String,
    /// 3 cold starts and 3 warm restarts.
    #[arg(long)]
    pub quick: bool,
    /// Markdown file the section is appended to (also printed to stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// What one server needs: its data dir, and in Postgres mode database and stream.
struct Target {
    data_dir: PathBuf,
    postgres: Option<(String, String, String)>,
}

/// One start, all times from the spawn.
struct Start {
    /// First answer of `/readyz`, whatever its status.
    first_answer: Duration,
    /// First 200 of `/readyz`.
    ready: Duration,
    /// SIGTERM → exit.
    stop: Duration,
    /// Events not yet applied, summed over the projections, in the first 200.
    pending: i64,
    storage: String,
}

pub async fn run(mut args: StartupArgs) -> Result<(), Error> {
    if args.quick {
        args.cold = args.cold.min(3);
        args.warm = args.warm.min(3);
    }
    if args.mode == Mode::Postgres && args.database_url.is_none() {
        return Err("startup --mode postgres needs --database-url".into());
    }
    let scratch = args.scratch.clone().unwrap_or_else(std::env::temp_dir);

    let mut cold = Vec::new();
    for i in 0..args.cold {
        eprintln!("startup: cold start {}/{}", i + 1, args.cold);
        cold.push(cold_start(&args, &scratch, i).await?);
    }

    let mut warm = Vec::new();
    let mut warm_data = None;
    if let (Some(dir), true) = (&args.warm_data_dir, args.warm > 0) {
        warm_data = Some(describe_data(&args, dir).await);
        let target = Target {
            data_dir: dir.clone(),
            postgres: args.database_url.clone().map(|url| {
                (
                    url,
                    args.nats_stream.clone(),
                    args.nats_subject_prefix.clone(),
                )
            }),
        };
        for i in 0..args.warm {
            eprintln!("startup: warm restart {}/{}", i + 1, args.warm);
            warm.push(start_once(&args, &target).await?);
        }
    }

    let section = render(&args, &cold, &warm, warm_data.as_deref());
    println!("{section}");
    if let Some(out) = &args.out {
        let mut text = std::fs::read_to_string(out).unwrap_or_default();
        if !text.is_empty() && !text.ends_with("\n\n") {
            text.push('\n');
        }
        text.push_str(&section);
        std::fs::write(out, text)?;
        eprintln!("appended to {}", out.display());
    }
    Ok(())
}

/// A start on an empty data dir (and a new database and stream), cleaned up afterwards.
async fn cold_start(args: &StartupArgs, scratch: &Path, i: usize) -> Result<Start, Error> {
    let data_dir = scratch.join(format!("annals-bench-cold-{}-{i}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    let mut postgres = None;
    if let (Mode::Postgres, Some(url)) = (args.mode, &args.database_url) {
        let db = format!("{}_cold{i}", database_name(url));
        let mut admin = PgConnection::connect(&with_database(url, "postgres")).await?;
        sqlx::raw_sql(&format!("CREATE DATABASE \"{db}\""))
            .execute(&mut admin)
            .await?;
        let prefix = match args.nats_subject_prefix.split_once('.') {
            Some((head, tail)) => format!("{head}_cold{i}.{tail}"),
            None => format!("{}_cold{i}", args.nats_subject_prefix),
        };
        postgres = Some((
            with_database(url, &db),
            format!("{}_COLD{i}", args.nats_stream),
            prefix,
        ));
    }
    let target = Target { data_dir, postgres };
    let start = start_once(args, &target).await;

    // Clean up whatever happened.
    if let (Some((_, stream, _)), Some(url)) = (&target.postgres, &args.database_url) {
        let db = format!("{}_cold{i}", database_name(url));
        let dropped = async {
            let mut admin = PgConnection::connect(&with_database(url, "postgres")).await?;
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
            Ok::<_, Error>(())
        };
        if dropped.await.is_err() {
            eprintln!("note: database {db} not dropped");
        }
        if !nats::delete_stream(&args.nats_url, stream).await {
            eprintln!("note: stream {stream} not deleted");
        }
    }
    if start.is_ok() {
        std::fs::remove_dir_all(&target.data_dir)?;
    } else {
        eprintln!("note: kept {} (server log)", target.data_dir.display());
    }
    start
}

/// Spawns `annals serve` on `target`, waits for `/readyz` to answer 200, stops it (SIGTERM).
async fn start_once(args: &StartupArgs, target: &Target) -> Result<Start, Error> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log_path = target.data_dir.join("startup.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)?;
    let mut command = tokio::process::Command::new(&args.annals);
    command
        .arg("serve")
        .env("ANNALS_BIND", format!("127.0.0.1:{port}"))
        .env("ANNALS_DATA_DIR", &target.data_dir)
        .env("ANNALS_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .env("ANNALS_LOGIN_RATE_PER_MINUTE", "1000000")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    match &target.postgres {
        Some((url, stream, prefix)) => command
            .env("DATABASE_URL", url)
            .env("NATS_URL", &args.nats_url)
            .env("ANNALS_NATS_STREAM", stream)
            .env("ANNALS_NATS_SUBJECT_PREFIX", prefix),
        None => command.env_remove("DATABASE_URL").env_remove("NATS_URL"),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let url = format!("http://127.0.0.1:{port}/readyz");

    let spawned = Instant::now();
    let mut child = command.spawn()?;
    let mut first_answer = None;
    let (ready, body) = loop {
        if spawned.elapsed() > START_LIMIT {
            stop(&mut child).await;
            return Err(format!(
                "not ready after {START_LIMIT:?}; see {}",
                log_path.display()
            )
            .into());
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!(
                "annals serve exited ({status}) before it was ready; see {}",
                log_path.display()
            )
            .into());
        }
        if let Ok(response) = client.get(&url).send().await {
            let at = spawned.elapsed();
            first_answer.get_or_insert(at);
            if response.status() == StatusCode::OK {
                break (at, response.json::<Value>().await.unwrap_or_default());
            }
        }
        tokio::time::sleep(POLL).await;
    };
    let stop = stop(&mut child).await;
    let pending = body["projections"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|p| p["pending_events"].as_i64())
                .sum()
        })
        .unwrap_or(0);
    Ok(Start {
        first_answer: first_answer.unwrap_or(ready),
        ready,
        stop,
        pending,
        storage: body["storage"].as_str().unwrap_or("?").to_string(),
    })
}

/// SIGTERM, then SIGKILL after `STOP_LIMIT`; how long the server took to exit.
async fn stop(child: &mut tokio::process::Child) -> Duration {
    let asked = Instant::now();
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    if tokio::time::timeout(STOP_LIMIT, child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
    asked.elapsed()
}

/// `postgres://u@h:p/db?x` → `db`.
fn database_name(url: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    after_scheme
        .split_once('/')
        .map(|(_, db)| db.to_string())
        .unwrap_or_default()
}

/// The same URL with another database.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{root}/{db}{query}")
}

/// Size of the benchmark's data, for the warm row.
async fn describe_data(args: &StartupArgs, dir: &Path) -> String {
    let (store, size) = match (args.mode, &args.database_url) {
        (Mode::Postgres, Some(url)) => {
            let size = async {
                let mut conn = PgConnection::connect(url).await.ok()?;
                sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())")
                    .fetch_one(&mut conn)
                    .await
                    .ok()
            }
            .await;
            (
                Store::new(url, None),
                size.map(|b| format!("database {}", megabytes(b as u64)))
                    .unwrap_or_default(),
            )
        }
        _ => {
            let db = dir.join("annals.db");
            let bytes = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
            let wal = bytes(&dir.join("annals.db-wal")).unwrap_or(0);
            let size = bytes(&db)
                .map(|b| format!("annals.db {} + WAL {}", megabytes(b), megabytes(wal)))
                .unwrap_or_default();
            (
                Store::new(&format!("sqlite://{}", db.display()), None),
                size,
            )
        }
    };
    let events = store
        .stream_lengths()
        .await
        .map(|(events, _)| thousands(events as f64))
        .unwrap_or_else(|_| "?".into());
    format!("{events} events, {size}")
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// min, median, max in milliseconds.
fn spread(values: impl Iterator<Item = Duration>) -> Option<[f64; 3]> {
    let mut ms: Vec<f64> = values.map(|d| d.as_secs_f64() * 1000.0).collect();
    if ms.is_empty() {
        return None;
    }
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    let median = if n % 2 == 1 {
        ms[n / 2]
    } else {
        (ms[n / 2 - 1] + ms[n / 2]) / 2.0
    };
    Some([ms[0], median, ms[n - 1]])
}

fn render(args: &StartupArgs, cold: &[Start], warm: &[Start], warm_data: Option<&str>) -> String {
    let mut s = String::new();
    let (title, cold_what, warm_what) = match args.mode {
        Mode::Embedded => (
            "embedded",
            "Cold: empty data dir (creates annals.db, runs the migrations)",
            "Warm: restart on the benchmark's data dir",
        ),
        Mode::Postgres => (
            "Postgres + NATS",
            "Cold: empty data dir, new (empty) database and JetStream stream (migrations, stream creation)",
            "Warm: restart on the benchmark's database, stream and data dir",
        ),
    };
    let _ = writeln!(s, "## Start to ready ({title})\n");
    let _ = writeln!(
        s,
        "`annals serve` spawned → `GET /readyz` answered 200 (polled every {} ms), in ms. Between starts the server is stopped with SIGTERM.{}\n",
        POLL.as_millis(),
        if args.mode == Mode::Postgres {
            " Creating the database is not counted."
        } else {
            ""
        }
    );
    let _ = writeln!(s, "| Start | Runs | min | median | max | Notes |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    let mut row = |what: &str, starts: &[Start], extra: &str| {
        let Some([min, median, max]) = spread(starts.iter().map(|s| s.ready)) else {
            return;
        };
        let first = spread(starts.iter().map(|s| s.first_answer)).map(|[_, m, _]| m);
        let stop = spread(starts.iter().map(|s| s.stop)).map(|[_, m, _]| m);
        let mut storages: Vec<&str> = starts.iter().map(|s| s.storage.as_str()).collect();
        storages.dedup();
        let mut notes = format!("{extra}`/readyz` storage `{}`", storages.join("`, `"));
        // Answers before ready (503) only when the server listens before it is ready.
        if let Some(first) = first.filter(|f| median - f >= 1.0) {
            let _ = write!(
                notes,
                "; first answer (not ready) median {} ms",
                Ms(Some(first))
            );
        }
        let pending = starts.iter().map(|s| s.pending).max().unwrap_or(0);
        if pending > 0 {
            let _ = write!(
                notes,
                "; up to {} events not yet projected when ready",
                thousands(pending as f64)
            );
        }
        let _ = write!(notes, "; SIGTERM → exit median {} ms", Ms(stop));
        let _ = writeln!(
            s,
            "| {what} | {} | {} | **{}** | {} | {notes} |",
            starts.len(),
            Ms(Some(min)),
            Ms(Some(median)),
            Ms(Some(max)),
        );
    };
    row(cold_what, cold, "");
    row(
        warm_what,
        warm,
        &warm_data.map(|d| format!("{d}; ")).unwrap_or_default(),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_and_spread() {
        let url = "postgres://postgres@127.0.0.1:5432/annals_bench_1?sslmode=disable";
        assert_eq!(database_name(url), "annals_bench_1");
        assert_eq!(
            with_database(url, "postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "d"), "postgres://h/d");
        let ms = |v: u64| Duration::from_millis(v);
        assert_eq!(
            spread([ms(30), ms(10), ms(20), ms(40)].into_iter()),
            Some([10.0, 25.0, 40.0])
        );
        assert_eq!(spread(std::iter::empty()), None);
    }
}
