//! The `annals` command line.
mod replay;
mod verify;

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::wiring::{self, Infra, StartError};

#[derive(Debug, Parser)]
#[command(
    name = "annals",
    version,
    about = "Event-sourced CQRS backend: workspaces, production tracker and document database APIs over one history of events"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// HTTP API + relay + projection workers in one process (the default).
    Serve,
    /// Projection workers only (scale them out as separate processes).
    Worker,
    /// The relay only: publishes the event log to NATS JetStream (one leader at a time).
    Relay,
    /// Applies database migrations and exits.
    Migrate,
    /// Rebuilds read models from the event log alone.
    Rebuild {
        /// Only this projection (default: all).
        #[arg(long)]
        projection: Option<String>,
    },
    /// Administration tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Writes the log's events in its global order to stdout, one CloudEvents envelope per
    /// line (NDJSON, as published on NATS, secrets removed). Read-only: safe while servers run;
    /// stops at the newest event committed when it started.
    Replay(replay::ReplayArgs),
    /// Checks the log's tamper evidence: every stream's hash chain and every seal (exit code 0
    /// only if intact; the first broken link is named). `--read-models` also compares the read
    /// models with a rebuild from the log. Safe while servers run.
    Verify(verify::VerifyArgs),
    /// Generated documentation.
    #[command(subcommand)]
    Docs(DocsCommand),
}

#[derive(Debug, Subcommand)]
enum DocsCommand {
    /// Writes the subscriber contract from the code: docs/events.md and one JSON Schema per
    /// event type in docs/events/ (CI fails when the committed files differ).
    Events {
        /// The repository root to write under.
        #[arg(long, default_value = ".")]
        root: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Creates a user (e.g. the first admin of a fresh install); an existing one gets the role.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long, env = "ANNALS_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// One of admin, manager, supervisor, user, client, vendor, auditor (reads the
        /// history: `/api/history`).
        #[arg(long, default_value = "admin")]
        role: String,
        #[arg(long, default_value = "Admin")]
        first_name: String,
        #[arg(long, default_value = "")]
        last_name: String,
    },
    /// Erases a user's personal data (email, names): deletes their keys, so every reader of
    /// the log reads those fields as erased from now on, and records it as events (the read
    /// models show the erased forms; the account can no longer log in). The rest of the
    /// history stays. Safe while servers run; runs the projections itself if none does.
    EraseUser {
        #[arg(long)]
        email: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init_logs(cli.settings.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("annals: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("annals: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Cancelled on Ctrl-C or SIGTERM.
fn shutdown_signal() -> CancellationToken {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        token.cancel();
    });
    cancel
}

/// `admin erase-user`: with the relay and the projections of this process running, in case no
/// server runs (erasure waits for the bucket views before it deletes keys; where another
/// process leads them, this one stands by).
async fn erase_user(infra: &Infra, email: &str) -> Result<(), StartError> {
    let state = infra.state()?;
    let cancel = CancellationToken::new();
    let relay = infra.spawn_relay(cancel.clone());
    let workers = infra.spawn_workers(cancel.clone());
    let metadata = crate::es::commands::Metadata {
        actor: Some("admin-cli".into()),
        ..Default::default()
    };
    let erased = async {
        let user_id = state.erasure.user_id_by_email(email).await?;
        state.erasure.erase_user(&user_id, &metadata).await
    }
    .await;
    cancel.cancel();
    for task in std::iter::once(relay).chain(workers) {
        let _ = task.await;
    }
    let erased = erased.map_err(|e| StartError::Failed(e.to_string()))?;
    println!(
        "erased user {} ({} key(s) deleted, {} bucket(s))",
        erased.user_id,
        erased.keys_deleted,
        erased.buckets.len()
    );
    Ok(())
}

async fn run(cli: Cli) -> Result<(), StartError> {
    let command = cli.command.unwrap_or(Command::Serve);
    // Read-only: no migration, no data directory, nothing a running server needs.
    if let Command::Replay(args) = command {
        return replay::replay(&cli.settings, args).await;
    }
    if let Command::Verify(args) = command {
        return verify::verify(&cli.settings, args).await;
    }
    // Needs nothing but the code.
    if let Command::Docs(DocsCommand::Events { root }) = command {
        let written = crate::docs::write(&root)
            .map_err(|e| StartError::Failed(format!("writing the docs: {e}")))?;
        println!("wrote {} files: {}", written.len(), crate::docs::DOCUMENT);
        return Ok(());
    }
    let distributed = matches!(command, Command::Worker | Command::Relay);
    let mut config = cli.settings.resolve(distributed)?;
    // Bind before anything else so that port 0 resolves to the real port in public links.
    let listener = match command {
        Command::Serve => {
            let listener = wiring::bind(config.bind).await?;
            let local = listener
                .local_addr()
                .map_err(|e| StartError::Failed(e.to_string()))?;
            if cli.settings.public_url.is_none() {
                config.public_url = crate::config::default_public_url(local);
            }
            Some(listener)
        }
        _ => None,
    };
    let infra = Infra::connect(config).await?;
    match command {
        Command::Replay(_) | Command::Verify(_) | Command::Docs(_) => unreachable!("ran above"),
        Command::Migrate => {
            tracing::info!("database migrated");
            Ok(())
        }
        Command::Rebuild { projection } => rebuild(&infra, projection.as_deref()).await,
        Command::Admin(AdminCommand::CreateUser {
            email,
            password,
            role,
            first_name,
            last_name,
        }) => {
            let state = infra.state()?;
            let account = crate::services::identity::admin::Account {
                email,
                password,
                role,
                first_name,
                last_name,
            };
            let outcome = crate::services::identity::admin::ensure_user(&state.identity, account)
                .await
                .map_err(|e| StartError::Failed(e.to_string()))?;
            println!("{outcome}");
            Ok(())
        }
        Command::Admin(AdminCommand::EraseUser { email }) => erase_user(&infra, &email).await,
        Command::Relay => {
            let cancel = shutdown_signal();
            let _ = infra.spawn_relay(cancel).await;
            Ok(())
        }
        Command::Worker => {
            let cancel = shutdown_signal();
            for worker in infra.spawn_workers(cancel) {
                let _ = worker.await;
            }
            Ok(())
        }
        Command::Serve => {
            let listener = listener.expect("bound above");
            let cancel = shutdown_signal();
            let state = infra.state()?;
            if let Some(account) = crate::services::identity::admin::from_env() {
                let outcome =
                    crate::services::identity::admin::ensure_user(&state.identity, account)
                        .await
                        .map_err(|e| StartError::Failed(format!("ANNALS_ADMIN_EMAIL: {e}")))?;
                tracing::info!(%outcome, "admin bootstrap");
            }
            let relay = infra.spawn_relay(cancel.clone());
            let workers = infra.spawn_workers(cancel.clone());
            tracing::info!(addr = %listener.local_addr().map_err(|e| StartError::Failed(e.to_string()))?, public_url = %infra.config.public_url, "annals listening");
            wiring::serve(listener, state, cancel.clone())
                .await
                .map_err(|e| StartError::Failed(e.to_string()))?;
            cancel.cancel();
            for task in std::iter::once(relay).chain(workers) {
                let _ = task.await;
            }
            Ok(())
        }
    }
}

async fn rebuild(infra: &Infra, only: Option<&str>) -> Result<(), StartError> {
    let all = annals_projections::all();
    let known = || all.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ");
    let selected: Vec<_> = match only {
        Some(name) => {
            let p = all.iter().find(|p| p.name() == name).cloned();
            vec![p.ok_or_else(|| StartError::UnknownProjection(name.to_string(), known()))?]
        }
        None => all.clone(),
    };
    for projection in selected {
        let name = projection.name();
        let started = std::time::Instant::now();
        let events = annals_projections::rebuild(
            projection,
            infra.views.clone(),
            infra.reader(),
            Arc::new(annals_contracts::ProgressBoard::default()),
        )
        .await
        .map_err(|e| StartError::Failed(format!("rebuilding {name}: {e}")))?;
        tracing::info!(
            projection = name,
            events,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "rebuilt"
        );
        println!("{name}: rebuilt from {events} events");
    }
    Ok(())
}
