//! What this subscriber reads of an annals event: the CloudEvents envelope published on NATS
//! and served by `GET /api/history/events`, and its place in the log's global order. Only the
//! fields used here; the full contract is `docs/events.md`.
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A place in the global order, `<tx>.<gid>` on the wire. Ordered by transaction, then by
/// insertion: compare the two numbers, never the text (`"9.1" > "10.1"` as strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub tx: u64,
    pub gid: u64,
}

impl Position {
    /// Before the first event of the log.
    pub const ZERO: Position = Position { tx: 0, gid: 0 };
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.tx, self.gid)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a position (`<tx>.<gid>`, e.g. 7531.42)")]
pub struct BadPosition(String);

impl FromStr for Position {
    type Err = BadPosition;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadPosition(s.to_string());
        let (tx, gid) = s.split_once('.').ok_or_else(bad)?;
        Ok(Position {
            tx: tx.parse().map_err(|_| bad())?,
            gid: gid.parse().map_err(|_| bad())?,
        })
    }
}

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// One event, as published. Unknown fields are ignored, so new envelope attributes do not
/// break the subscriber.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    /// `<aggregate_type>/<aggregate_id>/<sequence>`, also the `Nats-Msg-Id`.
    pub id: String,
    /// When the event was recorded.
    pub time: DateTime<Utc>,
    pub aggregatetype: String,
    pub aggregateid: String,
    /// The event type within its aggregate, e.g. `MemberAdded`.
    pub eventname: String,
    /// The event's fields, in the shape of the current event version.
    #[serde(default)]
    pub data: Value,
    pub position: Position,
    /// The position of the event just before this one in the global order (of any aggregate
    /// type): a subscriber whose checkpoint differs has missed something.
    pub prevposition: Position,
    /// The log the event comes from; one stream carries one log.
    #[serde(default)]
    pub logid: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_by_number_not_text() {
        let p = |s: &str| s.parse::<Position>().unwrap();
        assert!(p("9.1") < p("10.1"));
        assert!(p("10.2") < p("10.11"));
        assert!(Position::ZERO < p("0.1"));
        assert_eq!(p("7531.42").to_string(), "7531.42");
    }

    #[test]
    fn malformed_positions_are_refused() {
        for bad in ["", "12", "a.b", "1.-2", "1.2.3"] {
            assert!(bad.parse::<Position>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_envelope_reads_with_fields_it_does_not_know() {
        let envelope: Envelope = serde_json::from_value(serde_json::json!({
            "specversion": "1.0",
            "id": "bucket/b1/2",
            "type": "annals.bucket.MemberAdded",
            "time": "2026-11-23T11:47:18.851689Z",
            "aggregatetype": "bucket",
            "aggregateid": "b1",
            "sequence": 2,
            "eventname": "MemberAdded",
            "eventversion": "1.0",
            "data": {"user_id": "u2"},
            "position": "882.2",
            "prevposition": "881.1",
            "logid": "log-1",
            "some_future_attribute": true,
        }))
        .unwrap();
        assert_eq!(envelope.position, Position { tx: 882, gid: 2 });
        assert_eq!(envelope.prevposition, Position { tx: 881, gid: 1 });
        assert_eq!(envelope.logid.as_deref(), Some("log-1"));
    }
}
