//! `annals verify`: checks every stream chain and every seal of the log (`services::verify`),
//! and with `--read-models` rebuilds every projection into a scratch store and compares it with
//! the live read models, document by document.
//!
//! Safe while servers run: it neither migrates nor takes a lock, and writes only the record of
//! its run. The scratch store is a temporary SQLite file, whichever backend holds the log (a
//! rebuild must give the same documents however they are stored), removed afterwards.
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use annals_contracts::{EventReader, ProgressBoard, ViewStore};

use crate::adapters::integrity::IntegrityLog;
use crate::adapters::postgres::{self, PgEventLog, PgIntegrity, PgViewStore};
use crate::adapters::sqlite::{self, SqliteEventLog, SqliteIntegrity, SqliteViewStore, WriteTurns};
use crate::config::{Settings, Storage};
use crate::services::verify::read_models::{Difference, differences};
use crate::services::verify::{Report, Verifier};
use crate::wiring::StartError;

/// A line of the report on stdout. A reader that stops early (`| head`) is not an error: the
/// exit code still tells whether the log is intact.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Also rebuild every projection into a scratch store and compare it with the live read
    /// models, document by document.
    #[arg(long)]
    read_models: bool,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Differences listed in full (all are counted).
const SHOWN: usize = 20;

struct Log {
    integrity: Arc<dyn IntegrityLog>,
    reader: Arc<dyn EventReader>,
    views: Arc<dyn ViewStore>,
}

async fn open(storage: &Storage) -> Result<Log, StartError> {
    Ok(match storage {
        Storage::Postgres { url } => {
            let pool = postgres::connect(url, 4)
                .await
                .map_err(|e| StartError::Database(e.to_string()))?;
            Log {
                integrity: Arc::new(PgIntegrity::new(pool.clone())),
                reader: Arc::new(PgEventLog::new(pool.clone())),
                views: Arc::new(PgViewStore::new(pool, annals_projections::unindexed())),
            }
        }
        Storage::Sqlite { url } => {
            // No database, no log: refuse rather than create an empty file.
            sqlite::connect_read_only(url)
                .await
                .map_err(|e| StartError::Database(format!("{url}: {e}")))?;
            let pool = sqlite::connect(url)
                .await
                .map_err(|e| StartError::Database(format!("{url}: {e}")))?;
            let turns = WriteTurns::default();
            Log {
                integrity: Arc::new(SqliteIntegrity::new(pool.clone(), turns.clone())),
                reader: Arc::new(SqliteEventLog::new(pool.clone())),
                views: Arc::new(SqliteViewStore::new(pool, turns)),
            }
        }
    })
}

fn progress_bar(length: u64, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(length);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{human_pos}}/{{human_len}} {what} ({{per_sec}}), {{elapsed}}"
        ))
        .expect("static template"),
    );
    bar
}

pub async fn verify(settings: &Settings, args: VerifyArgs) -> Result<(), StartError> {
    let log = open(&settings.storage()?).await?;
    let unreadable = |e: annals_contracts::LogError| {
        StartError::Failed(format!(
            "cannot verify the event log (is the database migrated? `annals migrate`): {e}"
        ))
    };
    let verifier = Verifier::new(log.integrity.clone());
    let bar = progress_bar(verifier.count().await.map_err(unreadable)?, "events");
    let report = verifier
        .run("cli", &|done| bar.set_position(done))
        .await
        .map_err(unreadable)?;
    bar.finish_and_clear();
    if args.json && !args.read_models {
        out!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a report serializes")
        );
    } else {
        print_report(&report);
    }
    let differing = if args.read_models {
        let found = compare_read_models(&log).await?;
        if args.json {
            let json = serde_json::json!({ "log": report, "read_models": found });
            out!(
                "{}",
                serde_json::to_string_pretty(&json).expect("serializes")
            );
        } else {
            print_differences(&found);
        }
        found.len()
    } else {
        0
    };
    match (&report.first_broken, differing) {
        (None, 0) => Ok(()),
        (Some(first), _) => Err(StartError::Failed(format!(
            "the log is not intact: {} broken link(s); the first: {first}",
            report.problems
        ))),
        (None, n) => Err(StartError::Failed(format!(
            "the read models differ from a rebuild from the log in {n} document(s)"
        ))),
    }
}

fn print_report(report: &Report) {
    out!(
        "checked {} events in {} streams and {} seals, up to position {} ({} ms)",
        report.events,
        report.streams,
        report.seals,
        report.upto,
        (report.finished_at - report.started_at).num_milliseconds()
    );
    if report.unsealed_events > 0 {
        out!(
            "{} events after the newest seal (the relay seals them shortly)",
            report.unsealed_events
        );
    }
    if report.intact {
        out!("intact: every stream chain and every seal checks out");
        return;
    }
    out!("NOT INTACT: {} broken link(s)", report.problems);
    for broken in &report.broken {
        out!("  {broken}");
    }
}

fn print_differences(found: &[Difference]) {
    if found.is_empty() {
        out!("read models: identical to a rebuild from the log");
        return;
    }
    out!(
        "read models: {} document(s) differ from a rebuild from the log",
        found.len()
    );
    for d in found.iter().take(SHOWN) {
        let show = |v: &Option<serde_json::Value>| {
            v.as_ref()
                .map_or_else(|| "(missing)".to_string(), |v| v.to_string())
        };
        out!(
            "  {}/{}:\n    live:    {}\n    rebuilt: {}",
            d.collection,
            d.id,
            show(&d.live),
            show(&d.rebuilt)
        );
    }
}

/// A scratch SQLite file, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

/// Rebuilds every projection into a scratch store and compares each of its collections with
/// the live one.
async fn compare_read_models(log: &Log) -> Result<Vec<Difference>, StartError> {
    let scratch = Scratch(std::env::temp_dir().join(format!(
        "annals-verify-{}-{}.db",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )));
    let url = sqlite::url_for(&scratch.0);
    let failed = |e: String| StartError::Failed(format!("rebuilding into {url}: {e}"));
    let pool = sqlite::connect_views(&url)
        .await
        .map_err(|e| failed(e.to_string()))?;
    sqlite::migrate(&pool)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let rebuilt: Arc<dyn ViewStore> =
        Arc::new(SqliteViewStore::new(pool.clone(), WriteTurns::default()));
    let mut found = Vec::new();
    for projection in annals_projections::all() {
        let name = projection.name();
        let collections = projection.collections();
        let events = annals_projections::rebuild(
            projection,
            rebuilt.clone(),
            log.reader.clone(),
            Arc::new(ProgressBoard::default()),
        )
        .await
        .map_err(|e| failed(e.to_string()))?;
        let (live_at, rebuilt_at) = (
            log.views.checkpoint(name).await,
            rebuilt.checkpoint(name).await,
        );
        if let (Ok(live_at), Ok(rebuilt_at)) = (live_at, rebuilt_at)
            && live_at < rebuilt_at
        {
            eprintln!(
                "note: {name} is live at {live_at}, behind the rebuild ({rebuilt_at}): a running server may still be applying events"
            );
        }
        for collection in collections {
            let live = log
                .views
                .dump(collection)
                .await
                .map_err(|e| failed(e.to_string()))?;
            let again = rebuilt
                .dump(collection)
                .await
                .map_err(|e| failed(e.to_string()))?;
            found.extend(differences(collection, live, again));
        }
        tracing::info!(projection = name, events, "rebuilt into the scratch store");
    }
    pool.close().await;
    Ok(found)
}
