//! The canonical global order of the event log: `(tx_id, global_id)`.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in the global order. Events are ordered by the id of the transaction that wrote
/// them, then by insertion id; a reader only ever sees positions below the oldest running
/// transaction, so nothing can appear behind a position once it has been passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub tx: u64,
    pub gid: i64,
}

impl Position {
    /// Before the first event.
    pub const ZERO: Position = Position { tx: 0, gid: 0 };

    pub fn new(tx: u64, gid: i64) -> Self {
        Self { tx, gid }
    }
}

/// Encoded as `<tx>.<gid>`, e.g. `"7531.42"`, in headers and envelopes.
impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.tx, self.gid)
    }
}

/// In JSON a position is its `<tx>.<gid>` string.
impl schemars::JsonSchema for Position {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Position".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]+\\.[0-9]+$",
            "description": "A place in the global order, `<tx>.<gid>` (e.g. `7531.42`): compare \
                            as the pair of integers (tx, then gid), never as text. The embedded \
                            backend's positions have tx 0."
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a position looks like <tx>.<gid>, e.g. 7531.42")]
pub struct PositionParseError;

impl FromStr for Position {
    type Err = PositionParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (tx, gid) = s.trim().split_once('.').ok_or(PositionParseError)?;
        Ok(Position {
            tx: tx.parse().map_err(|_| PositionParseError)?,
            gid: gid.parse().map_err(|_| PositionParseError)?,
        })
    }
}

impl Serialize for Position {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_transaction_then_insertion() {
        assert!(Position::new(5, 100) < Position::new(6, 1));
        assert!(Position::new(6, 1) < Position::new(6, 2));
        assert!(Position::ZERO < Position::new(1, 1));
    }

    #[test]
    fn round_trips_through_text() {
        let p = Position::new(7531, 42);
        assert_eq!(p.to_string(), "7531.42");
        assert_eq!("7531.42".parse::<Position>(), Ok(p));
        assert!("7531".parse::<Position>().is_err());
        assert!("a.b".parse::<Position>().is_err());
    }
}
