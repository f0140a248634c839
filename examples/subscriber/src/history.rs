//! The REST history: `GET /api/history/events?after=<position>&limit=<n>`, for admins and
//! auditors. It holds the whole log, whatever the stream's retention kept, and works on every
//! annals backend, so the subscriber catches up (and, without NATS, follows) through it.
use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::Error;
use crate::envelope::{Envelope, Position};

/// Long enough for a page of 10,000 events on a busy server.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How the subscriber proves it may read the history.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// `Authorization: Api-Key <key>`: does not expire, the best fit for a service.
    ApiKey(String),
    /// A login token as is; it expires (15 minutes), and the subscriber then stops.
    Token(String),
    /// Logs in (`POST /core/login`) and again whenever the token expired.
    Login { email: String, password: String },
}

/// A page of the history.
#[derive(Debug, Deserialize)]
pub struct Page {
    pub events: Vec<Envelope>,
    /// Where the next page starts.
    pub next: Position,
}

pub struct History {
    client: reqwest::Client,
    base: String,
    credentials: Credentials,
    /// The login token in use (`Credentials::Login`).
    token: Option<String>,
}

impl History {
    pub fn new(base: &str, credentials: Credentials) -> Result<Self, Error> {
        Ok(History {
            // A server that stops answering must not stall the subscriber for ever.
            client: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()?,
            base: base.trim_end_matches('/').to_string(),
            credentials,
            token: None,
        })
    }

    /// Up to `limit` events after `after`, in the global order. Fewer than `limit` means the
    /// page reached the newest event.
    pub async fn page(&mut self, after: Position, limit: u32) -> Result<Page, Error> {
        let url = format!(
            "{}/api/history/events?after={after}&limit={limit}",
            self.base
        );
        let mut renewed = false;
        loop {
            let authorization = match &self.credentials {
                Credentials::ApiKey(key) => format!("Api-Key {key}"),
                Credentials::Token(token) => format!("Bearer {token}"),
                Credentials::Login { email, password } => {
                    if self.token.is_none() {
                        self.token = Some(login(&self.client, &self.base, email, password).await?);
                    }
                    format!("Bearer {}", self.token.as_deref().unwrap_or_default())
                }
            };
            let response = self
                .client
                .get(&url)
                .header("authorization", authorization)
                .send()
                .await?;
            match response.status() {
                StatusCode::OK => return Ok(response.json().await?),
                // An expired login token: log in again, once.
                StatusCode::UNAUTHORIZED
                    if matches!(self.credentials, Credentials::Login { .. }) && !renewed =>
                {
                    self.token = None;
                    renewed = true;
                }
                status => return Err(refusal(status, response).await),
            }
        }
    }
}

/// `POST /core/login`: the access token.
async fn login(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> Result<String, Error> {
    let response = client
        .post(format!("{base}/core/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?;
    if response.status() != StatusCode::OK {
        return Err(refusal(response.status(), response).await);
    }
    #[derive(Deserialize)]
    struct Tokens {
        access: String,
    }
    Ok(response.json::<Tokens>().await?.access)
}

async fn refusal(status: StatusCode, response: reqwest::Response) -> Error {
    Error::Refused {
        status: status.as_u16(),
        body: response.text().await.unwrap_or_default(),
    }
}
