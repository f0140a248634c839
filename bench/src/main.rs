//! annals-bench: measures a running `annals serve` against a raw append reference taken in
//! the same run, on the same box: Postgres, or SQLite for the embedded mode. `annals-bench
//! startup` times server starts; `annals-bench datacube` measures the document service. See
//! bench/README.md.
mod cpu;
mod datacube;
mod http;
mod load;
mod metrics;
mod nats;
mod raw;
mod reads;
mod report;
mod startup;
mod stats;
mod store;
mod tracker;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::metrics::{Backlog, ServerSide};
use crate::report::{Environment, Report};
use crate::store::Store;

#[derive(Debug, Parser)]
#[command(
    version,
    about,
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: Args,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Time `annals serve` from spawn to a 200 from `/readyz`: cold (empty store) and warm
    /// (restart on a finished benchmark's data).
    Startup(startup::StartupArgs),
    /// The document service: an import against a `COPY` of the same rows, then single inserts
    /// and filtered queries (Postgres).
    Datacube(datacube::DatacubeArgs),
    /// The production tracker (Kitsu/Zou API): the same studio and load on annals and, to
    /// compare, the real Zou.
    Tracker(tracker::TrackerArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
    /// The server's database. `postgres://…`: the raw reference creates `bench_events` there.
    /// `sqlite://<data dir>/annals.db`: the embedded mode; the file is only read, and the raw
    /// reference writes to `--raw-database-url`. Required (except for `startup`).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Embedded mode: the scratch SQLite file of the raw reference (created; default
    /// `annals-bench-raw.db` next to the server's file). Put it on the same filesystem.
    #[arg(long)]
    pub raw_database_url: Option<String>,
    /// NATS URL, only read to report the server version.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Users registered in setup; the load cycles over them. Fewer users means longer streams
    /// and more concurrent commands on one stream (optimistic-concurrency retries).
    #[arg(long, default_value_t = 256)]
    pub users: usize,
    /// Concurrent clients (closed loop) and raw-append connections.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Duration of the raw append reference and of the closed-loop command phase, seconds.
    #[arg(long, default_value_t = 15.0)]
    pub duration: f64,
    /// Warm-up before the closed-loop phase, seconds (not measured).
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Open-loop command rate of the lag phase, commands per second.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Duration of the lag phase, seconds.
    #[arg(long, default_value_t = 30.0)]
    pub lag_duration: f64,
    /// Commands in flight at most in the lag phase (like wrk2's connections); later sends wait
    /// in the generator, and the wait counts in their latency.
    #[arg(long, default_value_t = 64)]
    pub max_in_flight: usize,
    /// Rate of each baseline GET series during the lag phase, requests per second.
    #[arg(long, default_value_t = 20.0)]
    pub baseline_rate: f64,
    /// Concurrent clients (closed loop) of the read phase.
    #[arg(long, default_value_t = 16)]
    pub read_clients: usize,
    /// Duration of each series of the read phase (`GET /core/me`, then `GET /api/bucket/:id`),
    /// seconds.
    #[arg(long, default_value_t = 10.0)]
    pub read_duration: f64,
    /// Members of the read phase's bucket, its owner included (each reads it).
    #[arg(long, default_value_t = 3)]
    pub bucket_members: usize,
    /// Pending invitations of the read phase's bucket (members + invitations stay within the
    /// free plan's cap).
    #[arg(long, default_value_t = 2)]
    pub bucket_invitations: usize,
    /// Short run (~40 s in all): shorter phases.
    #[arg(long)]
    pub quick: bool,
    /// Free text identifying what was measured (e.g. the git commit).
    #[arg(long, default_value = "")]
    pub label: String,
    /// Where to write the Markdown report (also printed to stdout).
    #[arg(long, default_value = "bench/results/latest.md")]
    pub out: PathBuf,
}

impl Args {
    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s.max(0.0))
    }
}

#[tokio::main]
async fn main() -> Result<(), http::Error> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Startup(startup)) => startup::run(startup).await,
        Some(Command::Datacube(args)) => datacube::run(args).await,
        Some(Command::Tracker(args)) => tracker::run(args).await,
        None => run(cli.run).await,
    }
}

async fn run(mut args: Args) -> Result<(), http::Error> {
    if args.quick {
        args.duration = args.duration.min(5.0);
        args.warmup = args.warmup.min(1.0);
        args.lag_duration = args.lag_duration.min(10.0);
        args.read_duration = args.read_duration.min(3.0);
    }
    let Some(database_url) = &args.database_url else {
        return Err("--database-url (or DATABASE_URL) is required".into());
    };
    let store = Store::new(database_url, args.raw_database_url.as_deref());
    let env = Environment::gather(&args, &store).await;
    let api = http::Api::new(&args.base_url)?;

    eprintln!("setup: registering and logging in {} users", args.users);
    let setup = http::setup_users(&api, args.users).await?;
    eprintln!("setup: done in {:.1} s", setup.elapsed.as_secs_f64());

    let reads = reads::run(&api, &setup.users, &args).await?;

    let duration = Args::secs(args.duration);
    eprintln!(
        "raw: {} connections, single-event transactions, {duration:?}",
        args.clients
    );
    let raw = raw::run(&store, args.clients, duration).await?;
    // SQLite has one writer: one connection shows the append itself, without lock handoff.
    let raw_single = if store.embedded() && args.clients > 1 {
        eprintln!("raw: 1 connection, single-event transactions, {duration:?}");
        Some(raw::run(&store, 1, duration).await?)
    } else {
        None
    };

    eprintln!(
        "commands: closed loop, {} clients, {duration:?}",
        args.clients
    );
    let (scrape, cpu) = (metrics::scrape(&api).await, cpu::snapshot());
    let streams_closed = store.stream_lengths().await.ok();
    let closed = load::closed_loop(
        &api,
        &setup.users,
        args.clients,
        Args::secs(args.warmup),
        duration,
    )
    .await;
    let (closed_cpu, closed_backlog) = (cpu.until(&cpu::snapshot()), Backlog::read(&api).await);
    // The lag phase starts from an empty backlog; the closed loop's lag is complete after it.
    let closed_drain = metrics::drain(&api, Duration::from_secs(60)).await;
    let scrape_closed = metrics::scrape(&api).await;
    let mut server_closed = ServerSide::between(&scrape, &scrape_closed);
    (
        server_closed.cpu,
        server_closed.backlog,
        server_closed.drain,
    ) = (closed_cpu, closed_backlog, closed_drain);

    // The reference again, right after: this box's disk and neighbours drift by tens of percent
    // from one minute to the next, so the ratio uses the reference on both sides of the commands.
    eprintln!(
        "raw again: {} connections, single-event transactions, {duration:?}",
        args.clients
    );
    let raw_after = raw::run(&store, args.clients, duration).await?;

    eprintln!(
        "lag: open loop at {}/s for {:.0} s",
        args.rate, args.lag_duration
    );
    let streams_lag = store.stream_lengths().await.ok();
    let cpu = cpu::snapshot();
    let lag = load::open_loop(
        &api,
        &setup.users,
        args.rate,
        Args::secs(args.lag_duration),
        args.max_in_flight,
        args.baseline_rate,
    )
    .await;
    let (lag_cpu, lag_backlog) = (cpu.until(&cpu::snapshot()), Backlog::read(&api).await);
    let lag_drain = metrics::drain(&api, Duration::from_secs(20)).await;
    let mut server_lag = ServerSide::between(&scrape_closed, &metrics::scrape(&api).await);
    (server_lag.cpu, server_lag.backlog, server_lag.drain) = (lag_cpu, lag_backlog, lag_drain);

    let report = Report {
        args: &args,
        env,
        setup,
        reads,
        raw,
        raw_after,
        raw_single,
        closed,
        lag,
        server_closed,
        server_lag,
        streams: [
            streams_closed,
            streams_lag,
            store.stream_lengths().await.ok(),
        ],
    };
    let markdown = report.render();
    println!("{markdown}");
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &markdown)?;
    eprintln!("written to {}", args.out.display());
    Ok(())
}
