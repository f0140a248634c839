//! Flags, each also read from its environment variable.
use std::time::Duration;

use clap::{ArgGroup, Parser};

use crate::history::Credentials;
use crate::stream::StreamConfig;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "annals-subscriber",
    about = "Follows the annals event stream and keeps a table of the members of every bucket",
    group(ArgGroup::new("credentials").required(true).args(["api_key", "token", "email"]))
)]
pub struct Config {
    /// The annals server, for the REST history.
    #[arg(long, env = "ANNALS_URL", default_value = "http://127.0.0.1:8080")]
    pub annals_url: String,
    /// An API key of an auditor or admin account (recommended: it does not expire).
    #[arg(long, env = "ANNALS_API_KEY")]
    pub api_key: Option<String>,
    /// A login token of an auditor or admin account (expires after 15 minutes).
    #[arg(long, env = "ANNALS_TOKEN")]
    pub token: Option<String>,
    /// Log in as this auditor or admin account (with --password).
    #[arg(long, env = "ANNALS_EMAIL", requires = "password")]
    pub email: Option<String>,
    /// Its password.
    #[arg(
        long,
        env = "ANNALS_PASSWORD",
        requires = "email",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// NATS with JetStream. Without it the subscriber polls the REST history (annals'
    /// embedded mode has no NATS).
    #[arg(long, env = "NATS_URL")]
    pub nats_url: Option<String>,
    /// The JetStream stream annals publishes to.
    #[arg(long, env = "ANNALS_NATS_STREAM", default_value = "ANNALS_EVENTS")]
    pub stream: String,
    /// The subject prefix annals publishes under.
    #[arg(
        long,
        env = "ANNALS_NATS_SUBJECT_PREFIX",
        default_value = "annals.events"
    )]
    pub subject_prefix: String,
    /// The name of this subscriber's durable consumer.
    #[arg(long, env = "SUBSCRIBER_DURABLE", default_value = "members-per-bucket")]
    pub durable: String,
    /// The subscriber's own database: the table and its checkpoint.
    #[arg(
        long,
        env = "SUBSCRIBER_DATABASE_URL",
        default_value = "sqlite://members.db"
    )]
    pub database_url: String,
    /// Events per history page (1 to 10000).
    #[arg(long, env = "SUBSCRIBER_PAGE_SIZE", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page_size: u32,
    /// Without NATS (or while it is unreachable): how often to ask the history for news.
    #[arg(long, env = "SUBSCRIBER_POLL_MS", default_value_t = 500)]
    pub poll_ms: u64,
    /// With NATS: after this long without a message, ask the history whether the stream
    /// lost the newest events.
    #[arg(long, env = "SUBSCRIBER_SILENCE_CHECK_MS", default_value_t = 5_000)]
    pub silence_check_ms: u64,
}

impl Config {
    pub fn credentials(&self) -> Credentials {
        match (&self.api_key, &self.token, &self.email, &self.password) {
            (Some(key), _, _, _) => Credentials::ApiKey(key.clone()),
            (_, Some(token), _, _) => Credentials::Token(token.clone()),
            (_, _, email, password) => Credentials::Login {
                email: email.clone().unwrap_or_default(),
                password: password.clone().unwrap_or_default(),
            },
        }
    }

    pub fn stream(&self) -> Option<StreamConfig> {
        self.nats_url.as_ref().map(|url| StreamConfig {
            nats_url: url.clone(),
            stream: self.stream.clone(),
            subject_prefix: self.subject_prefix.clone(),
            durable: self.durable.clone(),
        })
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms)
    }

    pub fn silence_check(&self) -> Duration {
        Duration::from_millis(self.silence_check_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(["annals-subscriber"].iter().chain(args))
    }

    #[test]
    fn credentials_are_required_and_one_kind_only() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--api-key", "k", "--token", "t"]).is_err());
        assert!(parse(&["--email", "a@x.io"]).is_err(), "a password too");
        let login = parse(&["--email", "a@x.io", "--password", "pw"]).unwrap();
        assert!(
            matches!(login.credentials(), Credentials::Login { email, .. } if email == "a@x.io")
        );
        let key = parse(&["--api-key", "k"]).unwrap();
        assert!(matches!(key.credentials(), Credentials::ApiKey(k) if k == "k"));
    }

    #[test]
    fn page_sizes_stay_within_what_the_history_serves() {
        for bad in ["0", "10001", "many"] {
            assert!(
                parse(&["--token", "t", "--page-size", bad]).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            parse(&["--token", "t", "--page-size", "10000"])
                .unwrap()
                .page_size,
            10_000
        );
    }
}
