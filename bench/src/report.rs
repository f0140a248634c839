//! Where the run happened, and the Markdown table of its results.
use std::fmt::Write;

use sqlx::{Connection, PgConnection};

use crate::Args;
use crate::cpu::{EMBEDDED_GROUPS, GROUPS};
use crate::http::Setup;
use crate::load::{ClosedResult, OpenResult};
use crate::metrics::{Hist, ServerSide};
use crate::raw::RawResult;
use crate::reads::ReadResult;
use crate::stats::{Latencies, Ms, thousands};
use crate::store::{self, Store};

/// Targets from shared/reference/anchors.md (G1, G3) and the brief.
const RATIO_TARGET: f64 = 0.30;
const LAG_P99_TARGET_MS: f64 = 100.0;
/// The bucket read against the profile read (the "structure" issue): at least half its
/// throughput, p99 under 10 ms.
const READ_RATIO_TARGET: f64 = 0.5;
const READ_P99_TARGET_MS: f64 = 10.0;
/// Cores used by one program outside the benchmark above which the report warns.
const OTHER_WARNING: f64 = 0.15;

pub struct Environment {
    pub date: String,
    pub nproc: String,
    pub cpu: String,
    pub memory: String,
    /// Postgres mode: Postgres and NATS versions and settings. Embedded: SQLite and where its
    /// files are.
    pub storage: String,
    pub embedded: bool,
}

impl Environment {
    pub async fn gather(args: &Args, store: &Store) -> Self {
        let nproc = std::process::Command::new("nproc")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "?".into());
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = field(&cpuinfo, "model name").unwrap_or_else(|| "?".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = field(&meminfo, "MemTotal")
            .and_then(|kb| kb.trim_end_matches(" kB").trim().parse::<f64>().ok())
            .map(|kb| format!("{:.0} GB RAM", kb / 1024.0 / 1024.0))
            .unwrap_or_else(|| "? RAM".into());
        Self {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            nproc,
            cpu,
            memory,
            storage: match store {
                Store::Postgres { url } => format!(
                    "Postgres {} · NATS {} · load generator, server, Postgres and NATS on the same cores",
                    postgres_version(url).await,
                    crate::nats::version(&args.nats_url).await
                ),
                Store::Sqlite { server, scratch } => format!(
                    "{} · in-process bus · load generator and server on the same cores",
                    sqlite_version(server, scratch).await
                ),
            },
            embedded: store.embedded(),
        }
    }
}

/// SQLite's version and journal mode, and the filesystems of the server's and the raw
/// reference's files.
async fn sqlite_version(server: &str, scratch: &str) -> String {
    let (version, journal) = match store::open_server_sqlite(server).await {
        Ok(mut conn) => {
            let version: Result<String, _> = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(&mut conn)
                .await;
            let journal: Result<String, _> = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut conn)
                .await;
            (
                version.unwrap_or_else(|_| "?".into()),
                journal.unwrap_or_else(|_| "?".into()),
            )
        }
        Err(_) => ("? (unreadable)".into(), "?".into()),
    };
    let server_file = store::sqlite_file(server);
    let fs = |p: &std::path::Path| {
        store::filesystem(p.parent().unwrap_or(p)).unwrap_or_else(|| "?".into())
    };
    let (server_fs, scratch_fs) = (fs(&server_file), fs(&store::sqlite_file(scratch)));
    format!(
        "SQLite {version} (bundled; journal_mode={journal}; event log synchronous=FULL, read models NORMAL) · data dir on {server_fs}{}",
        if scratch_fs == server_fs {
            String::new()
        } else {
            format!(", raw reference file on {scratch_fs}")
        }
    )
}

fn field(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

async fn postgres_version(url: &str) -> String {
    let Ok(mut conn) = PgConnection::connect(url).await else {
        return "? (unreachable)".into();
    };
    let mut out = Vec::new();
    for setting in [
        "server_version",
        "fsync",
        "synchronous_commit",
        "shared_buffers",
    ] {
        let value: Result<String, _> = sqlx::query_scalar(&format!("SHOW {setting}"))
            .fetch_one(&mut conn)
            .await;
        out.push(value.unwrap_or_else(|_| "?".into()));
    }
    format!(
        "{} (fsync={}, synchronous_commit={}, shared_buffers={})",
        out[0].split_whitespace().next().unwrap_or("?"),
        out[1],
        out[2],
        out[3]
    )
}

pub struct Report<'a> {
    pub args: &'a Args,
    pub env: Environment,
    pub setup: Setup,
    pub reads: ReadResult,
    pub raw: RawResult,
    /// The same reference measured again after the command phase.
    pub raw_after: RawResult,
    /// Embedded mode: the same with one connection (no lock handoff).
    pub raw_single: Option<RawResult>,
    pub closed: ClosedResult,
    pub lag: OpenResult,
    pub server_closed: ServerSide,
    pub server_lag: ServerSide,
    /// (events in the log, longest stream) before the closed loop, before the lag phase, at
    /// the end.
    pub streams: [Option<(i64, i64)>; 3],
}

/// A row of a raw append run: its rate and latencies.
fn raw_row(out: &mut String, what: &str, raw: &RawResult, notes: &str) {
    let rate = format!("{} events/s", thousands(raw.per_second()));
    row(out, what, &rate, Some(&raw.latencies), notes);
}

fn row(out: &mut String, what: &str, result: &str, l: Option<&Latencies>, notes: &str) {
    let q = |q: f64| Ms(l.and_then(|l| l.ms(q))).to_string();
    let max = Ms(l.and_then(Latencies::max_ms));
    let _ = writeln!(
        out,
        "| {what} | {result} | {} | {} | {} | {max} | {notes} |",
        q(0.5),
        q(0.99),
        q(0.999)
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

impl Report<'_> {
    pub fn render(&self) -> String {
        let (a, env, raw, closed, lag) = (self.args, &self.env, &self.raw, &self.closed, &self.lag);
        let mut s = String::new();
        let (mode, database) = if env.embedded {
            ("embedded: SQLite file + in-process bus", "SQLite")
        } else {
            ("Postgres + NATS JetStream", "Postgres")
        };
        let _ = writeln!(s, "# annals benchmark ({mode}), {}\n", env.date);
        let _ = writeln!(
            s,
            "- Machine: nproc {} · {} · {} · {}",
            env.nproc, env.cpu, env.memory, env.storage
        );
        if !a.label.is_empty() {
            let _ = writeln!(s, "- Measured: {}", a.label);
        }
        let _ = writeln!(
            s,
            "- Run: {} users (setup {:.1} s), {} clients/connections, throughput phases {:.0} s (+{:.0} s warm-up), lag phase {:.0} s at {}/s{}",
            a.users,
            self.setup.elapsed.as_secs_f64(),
            a.clients,
            a.duration,
            a.warmup,
            a.lag_duration,
            thousands(a.rate),
            if a.quick { " (--quick)" } else { "" }
        );
        let _ = writeln!(s, "- Latencies in ms.\n");
        self.render_reads(&mut s);

        let _ = writeln!(s, "## Write throughput (closed loop)\n");
        let _ = writeln!(s, "| Measure | Result | p50 | p99 | p99.9 | max | Notes |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        let t = &raw.template;
        let errors = |raw: &RawResult| {
            format!(
                "{} errors{}",
                raw.errors,
                raw.first_error
                    .as_deref()
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default()
            )
        };
        raw_row(
            &mut s,
            &format!(
                "Raw {database} append (reference): {} connections, 1 event per transaction",
                raw.connections
            ),
            raw,
            &format!(
                "payload {} B + metadata {} B{}; {}{}",
                t.payload_bytes(),
                t.metadata_bytes(),
                if t.copied {
                    " (a real ProfileUpdated row)"
                } else {
                    " (synthetic)"
                },
                errors(raw),
                if env.embedded {
                    "; scratch file with the log's table, index and numbering trigger, WAL, synchronous=FULL, busy_timeout 10 s. One writer at a time: the connections mostly measure lock handoff"
                } else {
                    ""
                }
            ),
        );
        let after = &self.raw_after;
        raw_row(
            &mut s,
            &format!("Raw {database} append again, after the commands"),
            after,
            &format!("same setup; {}", errors(after)),
        );
        let reference = (raw.per_second() + after.per_second()) / 2.0;
        if let Some(single) = &self.raw_single {
            raw_row(
                &mut s,
                &format!("Raw {database} append, 1 connection (for comparison, not the reference)"),
                single,
                &format!("same file and row; {}", errors(single)),
            );
        }
        row(
            &mut s,
            &format!("`PATCH /core/me`, {} clients", closed.clients),
            &format!("{} cmd/s", thousands(closed.per_second())),
            Some(&closed.latencies),
            &format!(
                "{} non-2xx/failed{}",
                closed.errors,
                closed
                    .first_error
                    .as_deref()
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default()
            ),
        );
        let ratio = closed.per_second() / reference;
        let _ = writeln!(
            s,
            "| **Ratio** commands/s ÷ raw append/s (mean of the two, {} events/s) | **{ratio:.2}** | | | | | target ≥ {RATIO_TARGET:.2}{}: {} |",
            thousands(reference),
            if env.embedded {
                " (G1's estimate, made for Postgres)"
            } else {
                ""
            },
            verdict(ratio >= RATIO_TARGET)
        );
        server_rows(&mut s, &self.server_closed);

        let _ = writeln!(
            s,
            "\n## Read-your-writes lag (open loop at {}/s, at most {} commands in flight, latency from the scheduled send)\n",
            thousands(lag.rate),
            lag.max_in_flight
        );
        if lag.not_sent > 0 || lag.achieved() < 0.95 * lag.rate {
            let _ = writeln!(
                s,
                "**The server did not sustain {}/s** (achieved {}/s): the numbers below measure a growing queue more than the projection. Try a lower `--rate`.\n",
                thousands(lag.rate),
                thousands(lag.achieved())
            );
        }
        let _ = writeln!(s, "| Measure | Result | p50 | p99 | p99.9 | max | Notes |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        row(
            &mut s,
            "`PATCH /core/me` from its scheduled time",
            &format!("{} cmd/s achieved", thousands(lag.achieved())),
            Some(&lag.command),
            &format!(
                "{} scheduled, {} answered 2xx, {} failed, {} not sent (server too far behind){}",
                lag.scheduled,
                lag.commands,
                lag.errors,
                lag.not_sent,
                lag.first_error
                    .as_deref()
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default()
            ),
        );
        let lag_p99 = lag.lag.ms(0.99);
        row(
            &mut s,
            "**Lag**: PATCH answered → `GET /core/me` with its `X-Annals-Position` answered",
            &format!("{} samples", thousands(lag.lag.len() as f64)),
            Some(&lag.lag),
            &format!(
                "{} stale, {} failed reads; target p99 < {LAG_P99_TARGET_MS:.0} ms: {}",
                lag.stale,
                lag.read_errors,
                verdict(lag_p99.is_some_and(|p| p < LAG_P99_TARGET_MS))
            ),
        );
        row(
            &mut s,
            "Baseline: `GET /core/me` with `X-Annals-Position: 0.0` (never waits)",
            &format!("{}/s", lag.baseline_rate),
            Some(&lag.no_wait),
            "same phase; the cost of the read itself under this load",
        );
        let base = lag.no_wait.ms(0.5);
        let minus = |q: f64| Ms(lag.lag.ms(q).zip(base).map(|(l, b)| l - b)).to_string();
        let _ = writeln!(
            s,
            "| Lag − baseline p50 | | {} | {} | {} | | the wait for the projection alone |",
            minus(0.5),
            minus(0.99),
            minus(0.999)
        );
        row(
            &mut s,
            "`GET /core/me` without header (server waits for the log head at arrival)",
            &format!("{}/s", lag.baseline_rate),
            Some(&lag.default_read),
            &format!(
                "what a plain client sees; {} baseline reads stale",
                lag.baseline_stale
            ),
        );
        server_rows(&mut s, &self.server_lag);

        let _ = writeln!(s, "\n## CPU (cores busy; the box has {})\n", env.nproc);
        let columns: &[&str] = if env.embedded {
            &EMBEDDED_GROUPS
        } else {
            &GROUPS
        };
        let _ = writeln!(s, "| Phase | {} | other | total |", columns.join(" | "));
        let _ = writeln!(s, "|---|{}---|---|", "---|".repeat(columns.len()));
        let raw_phase = format!("raw append, {} connections", raw.connections);
        let mut phases = vec![(raw_phase.as_str(), &raw.cpu)];
        if let Some(single) = &self.raw_single {
            phases.push(("raw append, 1 connection", &single.cpu));
        }
        phases.push(("closed loop", &self.server_closed.cpu));
        phases.push(("raw append again", &self.raw_after.cpu));
        phases.push(("lag (open loop)", &self.server_lag.cpu));
        let mut busiest_other: Option<(&str, f64)> = None;
        for (phase, usage) in phases {
            let groups: Vec<String> = columns
                .iter()
                .map(|g| format!("{:.2}", usage.get(g)))
                .collect();
            let _ = writeln!(
                s,
                "| {phase} | {} | {:.2} | {:.2} |",
                groups.join(" | "),
                usage.other(columns),
                usage.total()
            );
            if let Some(top) = usage.top_other(columns) {
                busiest_other = busiest_other.filter(|b| b.1 >= top.1).or(Some(top));
            }
        }
        match busiest_other {
            Some((name, cores)) if cores >= OTHER_WARNING => {
                let _ = writeln!(
                    s,
                    "\n**Warning**: other work kept up to {cores:.2} cores busy during a phase (mostly `{name}`); the numbers above are not from a quiet box."
                );
            }
            _ => {}
        }
        if env.embedded {
            let _ = writeln!(
                s,
                "\nSQLite is a library: the raw reference runs inside annals-bench, the server's database work inside annals."
            );
        }
        s.push('\n');
        let longest = |i: usize| {
            let n: Option<i64> = self.streams[i].map(|(_, longest)| longest);
            n.map(|n| thousands(n as f64)).unwrap_or_else(|| "?".into())
        };
        let _ = writeln!(
            s,
            "Longest stream (a process loads a stream once, then only its new events): {} events before the closed loop, {} before the lag phase, {} at the end, when the log held {} events.",
            longest(0),
            longest(1),
            longest(2),
            self.streams[2]
                .map(|(events, _)| thousands(events as f64))
                .unwrap_or_else(|| "?".into())
        );
        s
    }
}

impl Report<'_> {
    fn render_reads(&self, s: &mut String) {
        let reads = &self.reads;
        let _ = writeln!(
            s,
            "## Reads (closed loop, {} connections, {:.0} s each, right after setup)\n",
            reads.me.clients, self.args.read_duration
        );
        let _ = writeln!(s, "| Measure | Result | p50 | p99 | p99.9 | max | Notes |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        let failures = |r: &ClosedResult| {
            format!(
                "{} non-2xx/failed{}",
                r.errors,
                r.first_error
                    .as_deref()
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default()
            )
        };
        row(
            s,
            "`GET /core/me` (reference)",
            &format!("{} req/s", thousands(reads.me.per_second())),
            Some(&reads.me.latencies),
            &failures(&reads.me),
        );
        row(
            s,
            "`GET /api/bucket/:id`",
            &format!("{} req/s", thousands(reads.bucket.per_second())),
            Some(&reads.bucket.latencies),
            &format!(
                "{} members, {} pending invitations, read by its members; {}",
                reads.members,
                reads.invitations,
                failures(&reads.bucket)
            ),
        );
        let ratio = reads.ratio();
        let p99 = reads.bucket.latencies.ms(0.99);
        let _ = writeln!(
            s,
            "| **Ratio** bucket reads/s ÷ profile reads/s | **{ratio:.2}** | | | | | target ≥ {READ_RATIO_TARGET:.2}: {}; bucket p99 < {READ_P99_TARGET_MS:.0} ms: {} |\n",
            verdict(ratio >= READ_RATIO_TARGET),
            verdict(p99.is_some_and(|p| p < READ_P99_TARGET_MS))
        );
    }
}

/// The server's own numbers for a phase, from `GET /metrics`.
fn server_rows(s: &mut String, server: &ServerSide) {
    if !server.available {
        let _ = writeln!(s, "| (`GET /metrics` could not be scraped) | | | | | | |");
        return;
    }
    server_row(s, "Server: `PATCH /core/me` duration", &server.patch, "");
    server_row(
        s,
        "Server: projection lag, commit → applied (`annals_projection_lag_seconds`, user_profiles)",
        &server.projection_lag,
        &format!(
            "; {} optimistic-concurrency retries",
            thousands(server.conflicts)
        ),
    );
    let count = |n: Option<i64>| n.map(|n| thousands(n as f64)).unwrap_or_else(|| "?".into());
    let (took, done) = server.drain;
    // Embedded mode keeps no relay cursor (the relay feeds the in-process bus), so /readyz
    // reports no relay backlog.
    let relay = match server.backlog.relay {
        Some(n) => format!("relay {} · ", thousands(n as f64)),
        None => String::new(),
    };
    let _ = writeln!(
        s,
        "| Backlog when the phase ended | {relay}user_profiles {} events behind | | | | | {} {:.1} s |",
        count(server.backlog.profiles),
        if done {
            "caught up in"
        } else {
            "**still behind** after"
        },
        took.as_secs_f64()
    );
}

/// A server histogram: quantiles are bucket upper bounds ("≤"); the notes give the mean.
fn server_row(s: &mut String, what: &str, h: &Hist, notes: &str) {
    let b = |q: f64| match h.quantile_bound_ms(q) {
        Some(v) if v.is_infinite() => "> 5000".to_string(),
        v => format!("≤ {}", Ms(v)),
    };
    let _ = writeln!(
        s,
        "| {what} | {} samples | {} | {} | {} | | mean {} ms (Prometheus buckets){notes} |",
        thousands(h.count),
        b(0.5),
        b(0.99),
        b(0.999),
        Ms(h.mean_ms())
    );
}
