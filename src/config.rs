//! Configuration from the environment and the matching command-line flags.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// The JetStream stream events are published to, unless configured.
pub const DEFAULT_NATS_STREAM: &str = "ANNALS_EVENTS";
/// Events go to `<prefix>.<aggregate_type>.<aggregate_id>`, unless configured.
pub const DEFAULT_SUBJECT_PREFIX: &str = "annals.events";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Flags shared by every subcommand; each also reads its environment variable.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Where the event log and read models live: `postgres://...` for production, or
    /// `sqlite://<file>`. Default: the embedded SQLite file `<data dir>/annals.db`.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// NATS URL; events are published to JetStream there. Without it, an in-process bus.
    #[arg(long, env = "NATS_URL", global = true)]
    pub nats_url: Option<String>,
    /// Address the HTTP API listens on.
    #[arg(
        long,
        env = "ANNALS_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,
    /// Base URL clients reach the server at (links in mails, bucket endpoints).
    /// Default: derived from the bind address.
    #[arg(long, env = "ANNALS_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Secret for signing JWTs (at least 32 bytes). Default: a random secret kept in the data dir.
    #[arg(long, env = "ANNALS_JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Directory for local files: the embedded database, the mail outbox, the generated JWT secret.
    #[arg(long, env = "ANNALS_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    #[arg(
        long,
        env = "ANNALS_LOG_FORMAT",
        value_enum,
        default_value = "pretty",
        global = true
    )]
    pub log_format: LogFormat,
    /// SMTP server URL for outgoing mail (e.g. smtps://user:pass@smtp.example.com).
    /// Without it, mails are written to <data dir>/outbox/mail.jsonl.
    #[arg(long, env = "ANNALS_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender address of outgoing mail.
    #[arg(
        long,
        env = "ANNALS_MAIL_FROM",
        default_value = "annals <no-reply@annals.local>",
        global = true
    )]
    pub mail_from: String,
    /// JetStream stream holding the published events.
    #[arg(
        long,
        env = "ANNALS_NATS_STREAM",
        default_value = DEFAULT_NATS_STREAM,
        global = true
    )]
    pub nats_stream: String,
    /// Subject prefix: events go to `<prefix>.<aggregate_type>.<aggregate_id>`.
    #[arg(
        long,
        env = "ANNALS_NATS_SUBJECT_PREFIX",
        default_value = DEFAULT_SUBJECT_PREFIX,
        global = true
    )]
    pub nats_subject_prefix: String,
    /// Longest time a read waits for the read models to catch up with earlier writes.
    #[arg(
        long,
        env = "ANNALS_READ_WAIT_MS",
        default_value_t = 2000,
        global = true
    )]
    pub read_wait_ms: u64,
    /// Rendered answers of read-model queries kept while their projections stand still
    /// (`src/http/answers.rs`); 0 computes every answer afresh.
    #[arg(
        long,
        env = "ANNALS_KEPT_ANSWERS",
        default_value_t = 512,
        global = true
    )]
    pub kept_answers: usize,
    /// Largest file `/api/import_data` accepts (413 beyond), in bytes.
    #[arg(
        long,
        env = "ANNALS_IMPORT_MAX_BYTES",
        default_value_t = 256 * 1024 * 1024,
        global = true
    )]
    pub import_max_bytes: u64,
    /// Login attempts allowed per client address and minute (bursts of a tenth of it).
    #[arg(
        long,
        env = "ANNALS_LOGIN_RATE_PER_MINUTE",
        default_value_t = 120,
        global = true
    )]
    pub login_rate_per_minute: u32,
    /// `production` refuses to start without an explicit, strong ANNALS_JWT_SECRET.
    #[arg(
        long = "env",
        env = "ANNALS_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub environment: Environment,
    /// Size of the Postgres connection pool.
    #[arg(long, env = "ANNALS_DB_POOL", default_value_t = 16, global = true)]
    pub db_pool: u32,
    /// The relay seals the global order after this many published events…
    #[arg(
        long,
        env = "ANNALS_SEAL_EVERY",
        default_value_t = 10_000,
        global = true
    )]
    pub seal_every: u64,
    /// …or this long after the last seal, whichever comes first (if anything is unsealed).
    #[arg(
        long,
        env = "ANNALS_SEAL_INTERVAL_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub seal_interval_ms: u64,
    /// NATS subject the relay publishes its seals on (outside the events stream).
    #[arg(
        long,
        env = "ANNALS_NATS_SEAL_SUBJECT",
        default_value = "annals.seals",
        global = true
    )]
    pub nats_seal_subject: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("DATABASE_URL must start with postgres://, postgresql:// or sqlite:")]
    BadDatabaseUrl,
    #[error(
        "this command needs Postgres and NATS: set DATABASE_URL=postgres://... and NATS_URL=nats://..."
    )]
    NeedsPostgresAndNats,
    #[error(
        "NATS_URL needs a Postgres DATABASE_URL: the embedded SQLite store serves one process, which uses its in-process bus"
    )]
    NatsNeedsPostgres,
    #[error("ANNALS_BIND {0:?} is not an address like 127.0.0.1:8080")]
    BadBind(String),
    #[error("ANNALS_PUBLIC_URL {0:?} is not an http(s) URL")]
    BadPublicUrl(String),
    #[error("ANNALS_JWT_SECRET must be at least 32 bytes long")]
    ShortJwtSecret,
    #[error(
        "ANNALS_ENV=production needs ANNALS_JWT_SECRET: a random secret of 32+ bytes, not a placeholder"
    )]
    WeakProductionSecret,
    #[error("ANNALS_SMTP_URL is not a valid SMTP URL: {0}")]
    BadSmtpUrl(String),
    #[error(
        "ANNALS_NATS_SUBJECT_PREFIX {0:?} must be dot-separated tokens without spaces, '*' or '>'"
    )]
    BadSubjectPrefix(String),
    #[error("ANNALS_NATS_SEAL_SUBJECT {0:?} must be a subject outside the events' prefix")]
    BadSealSubject(String),
    #[error("ANNALS_SEAL_EVERY and ANNALS_SEAL_INTERVAL_MS must be at least 1")]
    BadSealPolicy,
    #[error("cannot use the data directory {path}: {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error(transparent)]
    Workspaces(#[from] crate::services::workspaces::config::WorkspacesConfigError),
}

/// Where events and read models are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    Postgres {
        url: String,
    },
    /// The embedded store (`sqlite://<path>`).
    Sqlite {
        url: String,
    },
}

/// Settings checked and resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub storage: Storage,
    pub nats_url: Option<String>,
    pub bind: SocketAddr,
    pub public_url: String,
    pub jwt_secret: Vec<u8>,
    pub data_dir: PathBuf,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub nats_stream: String,
    pub nats_subject_prefix: String,
    pub read_wait: Duration,
    pub kept_answers: usize,
    pub import_max_bytes: u64,
    pub db_pool: u32,
    pub login_rate_per_minute: u32,
    /// When the relay seals: after this many events or this long, whichever comes first.
    pub seal_every: u64,
    pub seal_interval: Duration,
    pub nats_seal_subject: String,
    /// Plans and per-account limits of the workspaces surface (from `ANNALS_PLANS`,
    /// `ANNALS_MAX_OWNED_BUCKETS`, ...: see `workspaces::config`).
    pub workspaces: crate::services::workspaces::config::WorkspacesConfig,
}

impl Settings {
    /// `distributed`: the command only makes sense with Postgres + NATS (worker, relay).
    /// Where the log is (`DATABASE_URL`, or the embedded file in the data directory), and
    /// nothing else: what a read-only command needs, without touching the data directory.
    pub fn storage(&self) -> Result<Storage, ConfigError> {
        Ok(
            match self.database_url.as_deref().filter(|s| !s.is_empty()) {
                None => Storage::Sqlite {
                    url: crate::adapters::sqlite::url_for(&self.data_dir.join("annals.db")),
                },
                Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                    Storage::Postgres {
                        url: url.to_string(),
                    }
                }
                Some(url) if url.starts_with("sqlite:") => Storage::Sqlite {
                    url: url.to_string(),
                },
                Some(_) => return Err(ConfigError::BadDatabaseUrl),
            },
        )
    }

    pub fn resolve(&self, distributed: bool) -> Result<Config, ConfigError> {
        let storage = self.storage()?;
        let nats_url = self.nats_url.clone().filter(|s| !s.is_empty());
        let postgres = matches!(storage, Storage::Postgres { .. });
        if distributed && !(postgres && nats_url.is_some()) {
            return Err(ConfigError::NeedsPostgresAndNats);
        }
        if nats_url.is_some() && !postgres {
            return Err(ConfigError::NatsNeedsPostgres);
        }
        let bind: SocketAddr = self
            .bind
            .parse()
            .map_err(|_| ConfigError::BadBind(self.bind.clone()))?;
        let public_url = match &self.public_url {
            Some(url) => {
                let parsed =
                    url::Url::parse(url).map_err(|_| ConfigError::BadPublicUrl(url.clone()))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(ConfigError::BadPublicUrl(url.clone()));
                }
                url.trim_end_matches('/').to_string()
            }
            None => default_public_url(bind),
        };
        if let Some(url) = &self.smtp_url {
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
                .map_err(|e| ConfigError::BadSmtpUrl(e.to_string()))?;
        }
        let prefix = &self.nats_subject_prefix;
        if prefix.is_empty()
            || prefix
                .split('.')
                .any(|t| t.is_empty() || t.contains(['*', '>', ' ', '\t']))
        {
            return Err(ConfigError::BadSubjectPrefix(prefix.clone()));
        }
        let seals = &self.nats_seal_subject;
        if seals.is_empty()
            || seals.starts_with(&format!("{prefix}."))
            || seals
                .split('.')
                .any(|t| t.is_empty() || t.contains(['*', '>', ' ', '\t']))
        {
            return Err(ConfigError::BadSealSubject(seals.clone()));
        }
        if self.seal_every == 0 || self.seal_interval_ms == 0 {
            return Err(ConfigError::BadSealPolicy);
        }
        std::fs::create_dir_all(&self.data_dir).map_err(|e| ConfigError::DataDir {
            path: self.data_dir.clone(),
            reason: e.to_string(),
        })?;
        if self.environment == Environment::Production {
            let placeholder = |s: &str| {
                let lower = s.to_lowercase();
                [
                    "change-me",
                    "changeme",
                    "secret-secret",
                    "default",
                    "example",
                ]
                .iter()
                .any(|p| lower.contains(p))
            };
            match &self.jwt_secret {
                Some(s) if s.len() >= 32 && !placeholder(s) => {}
                _ => return Err(ConfigError::WeakProductionSecret),
            }
        }
        let jwt_secret = match &self.jwt_secret {
            Some(secret) if secret.len() < 32 => return Err(ConfigError::ShortJwtSecret),
            Some(secret) => secret.as_bytes().to_vec(),
            None => stored_secret(&self.data_dir)?,
        };
        Ok(Config {
            storage,
            nats_url,
            bind,
            public_url,
            jwt_secret,
            data_dir: self.data_dir.clone(),
            smtp_url: self.smtp_url.clone(),
            mail_from: self.mail_from.clone(),
            nats_stream: self.nats_stream.clone(),
            nats_subject_prefix: prefix.clone(),
            read_wait: Duration::from_millis(self.read_wait_ms),
            kept_answers: self.kept_answers,
            import_max_bytes: self.import_max_bytes,
            db_pool: self.db_pool.max(2),
            login_rate_per_minute: self.login_rate_per_minute,
            seal_every: self.seal_every,
            seal_interval: Duration::from_millis(self.seal_interval_ms),
            nats_seal_subject: seals.clone(),
            workspaces: crate::services::workspaces::config::WorkspacesConfig::from_env()?,
        })
    }
}

pub fn default_public_url(bind: SocketAddr) -> String {
    let host = if bind.ip().is_unspecified() {
        "localhost".to_string()
    } else {
        bind.ip().to_string()
    };
    format!("http://{host}:{}", bind.port())
}

/// A random secret created once and kept in the data directory, so tokens survive restarts
/// of a single node without any configuration.
fn stored_secret(dir: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    let path = dir.join("jwt-secret");
    let err = |e: std::io::Error| ConfigError::DataDir {
        path: path.clone(),
        reason: e.to_string(),
    };
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= 32 => Ok(bytes),
        _ => {
            let secret = crate::services::identity::random_token(48).into_bytes();
            std::fs::write(&path, &secret).map_err(err)?;
            Ok(secret)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_defaults_to_the_bind_address() {
        assert_eq!(
            default_public_url("0.0.0.0:8080".parse().unwrap()),
            "http://localhost:8080"
        );
        assert_eq!(
            default_public_url("127.0.0.1:9000".parse().unwrap()),
            "http://127.0.0.1:9000"
        );
    }
}
