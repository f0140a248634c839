//! The `ANNALS_EVENTS` stream: configuration and naming.
use std::time::Duration;

use async_nats::jetstream::{self, stream};

use annals_contracts::BusError;

/// Where events live on NATS.
#[derive(Clone)]
pub struct EventStream {
    pub js: jetstream::Context,
    pub name: String,
    pub prefix: String,
}

/// Long enough to cover a relay restart; the relay also resumes from the stream's last message.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// How long a starting process waits for NATS before it goes on without it.
const START_WAIT: Duration = Duration::from_secs(2);

fn bus_error(e: impl std::fmt::Display) -> BusError {
    BusError(e.to_string())
}

impl EventStream {
    /// Connects in the background: a process starts (and serves, reading the log) while NATS is
    /// down, and the client connects when it comes back. The stream is created here if NATS
    /// answers, otherwise by the relay or a consumer later (both call [`Self::ensure`]).
    pub async fn connect(url: &str, name: &str, prefix: &str) -> Result<Self, BusError> {
        let client = async_nats::ConnectOptions::new()
            .name("annals")
            .retry_on_initial_connect()
            .connect(url)
            .await
            .map_err(bus_error)?;
        let js = jetstream::new(client);
        let this = Self {
            js,
            name: name.to_string(),
            prefix: prefix.to_string(),
        };
        match tokio::time::timeout(START_WAIT, this.ensure()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(url, error = %e, "NATS JetStream unavailable at start; following the log until it answers")
            }
            Err(_) => {
                tracing::warn!(
                    url,
                    "NATS unreachable at start; following the log until it answers"
                )
            }
        }
        Ok(this)
    }

    /// Creates the stream if missing. Limits retention with no age limit keeps the whole
    /// history for auditors; deleting or purging messages is refused.
    pub async fn ensure(&self) -> Result<stream::Stream, BusError> {
        self.js
            .get_or_create_stream(stream::Config {
                name: self.name.clone(),
                subjects: vec![format!("{}.>", self.prefix)],
                description: Some("annals events in commit order".into()),
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                duplicate_window: DUPLICATE_WINDOW,
                deny_delete: true,
                deny_purge: true,
                allow_direct: true,
                ..Default::default()
            })
            .await
            .map_err(bus_error)
    }

    pub fn subject(&self, aggregate_type: &str, aggregate_id: &str) -> String {
        format!(
            "{}.{}.{}",
            self.prefix,
            subject_token(aggregate_type),
            subject_token(aggregate_id)
        )
    }

    pub async fn ping(&self) -> Result<(), BusError> {
        self.js
            .get_stream(&self.name)
            .await
            .map(|_| ())
            .map_err(bus_error)
    }
}

/// Makes an id safe as one subject token: `.`, `*`, `>`, whitespace and `%` are %-escaped.
pub fn subject_token(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '.' | '*' | '>' | '%' => out.push_str(&format!("%{:02X}", c as u32)),
            c if c.is_whitespace() || c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    if out.is_empty() { "%00".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::subject_token;

    #[test]
    fn ids_become_single_tokens() {
        assert_eq!(subject_token("0190a3b4-7c1d"), "0190a3b4-7c1d");
        assert_eq!(subject_token("a.b*c>d e%"), "a%2Eb%2Ac%3Ed%20e%25");
        assert_eq!(subject_token(""), "%00");
    }
}
