//! The history for auditors: the log's events in its global order (or one stream's), as the
//! envelopes the relay publishes, selected by time, type and stream, page by page. Shared by
//! `annals replay` and `GET /api/history/...`.
//!
//! Pages are read from the log in batches (`EventReader::read_after`, or `read_stream` for one
//! stream), so neither a page nor a replay holds more than one batch of the log in memory.
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;

use annals_contracts::{Envelope, EventReader, LogError, Position, chain};

/// Events per page unless asked otherwise.
pub const DEFAULT_LIMIT: usize = 1000;
/// The most events one page holds.
pub const MAX_LIMIT: usize = 10_000;
/// Events read from the log at a time while a selective filter looks for matches.
const SCAN_BATCH: usize = 5000;

/// An RFC 3339 time, as `since` and `until` take it.
pub fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// One stream: `<aggregate type>/<aggregate id>` (the envelope's `subject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamId {
    pub aggregate_type: String,
    pub aggregate_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a stream looks like <type>/<id>, e.g. user/01a2083b-60c3-7253-b534-98e80b2cfef8")]
pub struct StreamIdParseError;

impl FromStr for StreamId {
    type Err = StreamIdParseError;

    /// Split at the first `/`: aggregate types have none, ids may.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('/') {
            Some((t, id)) if !t.is_empty() && !id.is_empty() => Ok(StreamId {
                aggregate_type: t.to_string(),
                aggregate_id: id.to_string(),
            }),
            _ => Err(StreamIdParseError),
        }
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.aggregate_type, self.aggregate_id)
    }
}

/// Which events a page holds. Empty: all of them.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Events recorded at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Events recorded before this time.
    pub until: Option<DateTime<Utc>>,
    /// Event types, any of them. A value with a dot is a full envelope `type`
    /// (`annals.user.UserRegistered`), one without is an event name (`UserRegistered`, the
    /// envelope's `eventname`) of any aggregate type.
    pub types: Vec<String>,
    /// One stream only.
    pub stream: Option<StreamId>,
    /// Nothing after this position (a replay stops at the head it saw when it started).
    pub upto: Option<Position>,
}

impl Selection {
    pub fn filters(&self) -> bool {
        self.since.is_some() || self.until.is_some() || !self.types.is_empty()
    }

    /// Whether `envelope` is selected by time and type (the stream and `upto` are checked
    /// where the log is read).
    pub fn matches(&self, envelope: &Envelope) -> bool {
        self.since.is_none_or(|since| envelope.time >= since)
            && self.until.is_none_or(|until| envelope.time < until)
            && (self.types.is_empty()
                || self.types.iter().any(|t| {
                    if t.contains('.') {
                        *t == envelope.event_type
                    } else {
                        *t == envelope.eventname
                    }
                }))
    }
}

/// A page of the history and where the next one starts.
#[derive(Debug, Clone)]
pub struct Page {
    pub events: Vec<Envelope>,
    /// The position to continue from (`after` of the next page): the last event this page
    /// looked at, returned or not. Equal to the page's `after` when nothing more is visible.
    pub next: Position,
}

/// Reads the history of one log.
#[derive(Clone)]
pub struct History {
    log: Arc<dyn EventReader>,
    log_id: Arc<OnceCell<String>>,
}

impl History {
    pub fn new(log: Arc<dyn EventReader>) -> Self {
        Self {
            log,
            log_id: Arc::new(OnceCell::new()),
        }
    }

    /// The log's identity, every envelope's `logid`.
    pub async fn log_id(&self) -> Result<String, LogError> {
        self.log_id
            .get_or_try_init(|| self.log.log_id())
            .await
            .cloned()
    }

    /// The newest committed event's position.
    pub async fn head(&self) -> Result<Option<Position>, LogError> {
        self.log.head().await
    }

    /// Every event of one stream, in order, with its metadata.
    pub async fn stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<annals_contracts::StoredEvent>, LogError> {
        let mut events = Vec::new();
        let mut after = Position::ZERO;
        loop {
            let read = self
                .log
                .read_stream(aggregate_type, aggregate_id, after, MAX_LIMIT as i64)
                .await?;
            let full = read.len() == MAX_LIMIT;
            for (_, event) in read {
                after = event.position;
                events.push(event);
            }
            if !full {
                return Ok(events);
            }
        }
    }

    /// Up to `limit` selected events after `after`, in the global order (one stream's: in
    /// its order, which is the same). A page with fewer than `limit` events reached the
    /// newest event visible (or `selection.upto`).
    pub async fn page(
        &self,
        after: Position,
        selection: &Selection,
        limit: usize,
    ) -> Result<Page, LogError> {
        let limit = limit.clamp(1, MAX_LIMIT);
        let log_id = self.log_id().await?;
        let batch = if selection.filters() {
            limit.max(SCAN_BATCH)
        } else {
            limit
        };
        let mut page = Page {
            events: Vec::new(),
            next: after,
        };
        let mut first = true;
        loop {
            let envelopes = match &selection.stream {
                Some(stream) => self
                    .log
                    .read_stream(
                        &stream.aggregate_type,
                        &stream.aggregate_id,
                        page.next,
                        batch as i64,
                    )
                    .await?
                    .into_iter()
                    .map(|(prev, event)| Envelope::from_stored(&event, prev))
                    .collect::<Vec<_>>(),
                None => {
                    let events = self.log.read_after(page.next, batch as i64).await?;
                    let Some(head) = events.first() else {
                        return Ok(page);
                    };
                    // `after` need not be an event's position: ask the log for the real
                    // predecessor, so the envelopes are the ones the relay published.
                    let prev = if first && after != Position::ZERO {
                        self.log.position_before(head.position).await?
                    } else {
                        page.next
                    };
                    chain(&events, prev)
                }
            };
            first = false;
            let read = envelopes.len();
            for mut envelope in envelopes {
                if selection.upto.is_some_and(|upto| envelope.position > upto) {
                    return Ok(page);
                }
                page.next = envelope.position;
                if selection.matches(&envelope) {
                    envelope.logid = Some(log_id.clone());
                    page.events.push(envelope);
                    if page.events.len() == limit {
                        return Ok(page);
                    }
                }
            }
            if read < batch {
                return Ok(page);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use annals_contracts::StoredEvent;
    use serde_json::json;

    fn envelope(event_type: &str, at: &str) -> Envelope {
        let event = StoredEvent {
            position: Position::new(1, 1),
            aggregate_type: "user".into(),
            aggregate_id: "u1".into(),
            sequence: 1,
            event_type: event_type.into(),
            event_version: "1.0".into(),
            payload: json!({event_type: {}}),
            metadata: Default::default(),
            recorded_at: at.parse().unwrap(),
        };
        Envelope::from_stored(&event, Position::ZERO)
    }

    #[test]
    fn types_match_the_full_type_or_the_event_name() {
        let e = envelope("UserRegistered", "2026-01-01T00:00:00Z");
        let with = |types: &[&str]| Selection {
            types: types.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        assert!(with(&[]).matches(&e));
        assert!(with(&["UserRegistered"]).matches(&e));
        assert!(with(&["annals.user.UserRegistered"]).matches(&e));
        assert!(with(&["RoleChanged", "UserRegistered"]).matches(&e));
        assert!(!with(&["annals.bucket.UserRegistered"]).matches(&e));
        assert!(!with(&["userregistered"]).matches(&e));
    }

    #[test]
    fn since_is_inclusive_and_until_exclusive() {
        let e = envelope("UserRegistered", "2026-01-01T00:00:00Z");
        let t = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
        let window = |since, until| Selection {
            since,
            until,
            ..Default::default()
        };
        assert!(window(t("2026-01-01T00:00:00Z"), None).matches(&e));
        assert!(!window(t("2026-01-01T00:00:00.001Z"), None).matches(&e));
        assert!(!window(None, t("2026-01-01T00:00:00Z")).matches(&e));
        assert!(window(None, t("2026-01-01T00:00:00.001Z")).matches(&e));
    }

    #[test]
    fn streams_are_type_slash_id() {
        let s: StreamId = "datacube_document/db/1".parse().unwrap();
        assert_eq!(s.aggregate_type, "datacube_document");
        assert_eq!(s.aggregate_id, "db/1");
        assert_eq!(s.to_string(), "datacube_document/db/1");
        for bad in ["", "user", "user/", "/x"] {
            assert!(bad.parse::<StreamId>().is_err(), "{bad}");
        }
    }
}
