//! `annals replay`: the log's events in its global order, as NDJSON envelopes on stdout.
//!
//! Read-only: it opens the database without migrating it (a log that was never migrated is
//! refused), in read-only transactions (Postgres) or a read-only connection (SQLite, whose WAL
//! lets it read while a server writes), and takes no lock. It stops at the newest event
//! committed when it started, and reads the log a page at a time.
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::Args;

use annals_contracts::{EventReader, Position};

use crate::adapters::postgres::{self, PgEventLog};
use crate::adapters::sqlite::{self, SqliteEventLog};
use crate::config::{Settings, Storage};
use crate::services::history::{History, MAX_LIMIT, Selection, StreamId, parse_time};
use crate::wiring::StartError;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Start after this position (exclusive), `<tx>.<gid>` as in `position`, e.g. 882.2.
    #[arg(long, value_name = "POSITION")]
    from: Option<Position>,
    /// Only events recorded at or after this RFC 3339 time.
    #[arg(long, value_name = "TIME", value_parser = rfc3339)]
    since: Option<DateTime<Utc>>,
    /// Only events recorded before this RFC 3339 time.
    #[arg(long, value_name = "TIME", value_parser = rfc3339)]
    until: Option<DateTime<Utc>>,
    /// Only this stream, `<type>/<id>` (the envelope's `subject`), e.g. user/01a2….
    #[arg(long, value_name = "TYPE/ID")]
    stream: Option<StreamId>,
    /// Only this event type; repeatable. A full envelope type (annals.user.UserRegistered) or
    /// a bare event name (UserRegistered, of any aggregate type).
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// At most this many events.
    #[arg(long)]
    limit: Option<u64>,
}

fn rfc3339(value: &str) -> Result<DateTime<Utc>, String> {
    parse_time(value).ok_or_else(|| "expected an RFC 3339 time, e.g. 2026-11-23T11:47:18Z".into())
}

/// Opens the log read-only.
async fn reader(storage: &Storage) -> Result<Arc<dyn EventReader>, StartError> {
    Ok(match storage {
        Storage::Postgres { url } => Arc::new(PgEventLog::new(
            postgres::connect_read_only(url)
                .await
                .map_err(|e| StartError::Database(e.to_string()))?,
        )),
        Storage::Sqlite { url } => Arc::new(SqliteEventLog::new(
            sqlite::connect_read_only(url)
                .await
                .map_err(|e| StartError::Database(format!("{url}: {e}")))?,
        )),
    })
}

pub async fn replay(settings: &Settings, args: ReplayArgs) -> Result<(), StartError> {
    let storage = settings.storage()?;
    let history = History::new(reader(&storage).await?);
    let unreadable = |e: annals_contracts::LogError| {
        StartError::Failed(format!(
            "cannot read the event log (is the database migrated?): {e}"
        ))
    };
    history.log_id().await.map_err(unreadable)?;
    let head = history.head().await.map_err(unreadable)?;
    let Some(head) = head else {
        return Ok(()); // an empty log
    };
    let selection = Selection {
        since: args.since,
        until: args.until,
        types: args.types,
        stream: args.stream,
        upto: Some(head),
    };
    let progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {human_pos} events written ({per_sec}), {elapsed} {msg}",
            )
            .expect("static template"),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut after = args.from.unwrap_or(Position::ZERO);
    let mut remaining = args.limit.unwrap_or(u64::MAX);
    let written = async {
        while remaining > 0 {
            let limit = remaining.min(MAX_LIMIT as u64) as usize;
            let page = history
                .page(after, &selection, limit)
                .await
                .map_err(|e| StartError::Failed(format!("reading the event log: {e}")))?;
            for envelope in &page.events {
                serde_json::to_writer(&mut out, envelope).map_err(std::io::Error::from)?;
                out.write_all(b"\n")?;
            }
            remaining -= page.events.len() as u64;
            progress.inc(page.events.len() as u64);
            progress.set_message(format!("at {} of {head}", page.next));
            if page.next == after || page.events.len() < limit {
                break;
            }
            after = page.next;
        }
        out.flush()?;
        Ok::<_, ReplayError>(())
    }
    .await;
    progress.finish_and_clear();
    match written {
        Ok(()) => Ok(()),
        // The reader went away (`annals replay | head`): not an error.
        Err(ReplayError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(ReplayError::Io(e)) => Err(StartError::Failed(format!("writing to stdout: {e}"))),
        Err(ReplayError::Start(e)) => Err(e),
    }
}

enum ReplayError {
    Io(std::io::Error),
    Start(StartError),
}

impl From<std::io::Error> for ReplayError {
    fn from(e: std::io::Error) -> Self {
        ReplayError::Io(e)
    }
}

impl From<StartError> for ReplayError {
    fn from(e: StartError) -> Self {
        ReplayError::Start(e)
    }
}
