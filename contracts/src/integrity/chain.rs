//! Digests, chain links and seals.
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::canonical::{Canonical, encode_event};
use crate::Position;

/// A SHA-256 value.
pub type Hash = [u8; 32];

/// The previous hash of a stream's first event, and the running hash before the log's first.
pub const GENESIS: Hash = [0; 32];

/// A stored hash column: `None` unless it holds exactly 32 bytes.
pub fn to_hash(bytes: &[u8]) -> Option<Hash> {
    bytes.try_into().ok()
}

/// The hashed content of one event, as stored: its JSON parsed (writers) or as the database
/// holds it (`J = str`, readers).
#[derive(Debug)]
pub struct EventContent<'a, J: Canonical + ?Sized = Value> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a J,
    pub metadata: &'a J,
    pub recorded_at: DateTime<Utc>,
}

// By hand: derived ones would require `J: Clone`, which `str` is not.
impl<J: Canonical + ?Sized> Clone for EventContent<'_, J> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<J: Canonical + ?Sized> Copy for EventContent<'_, J> {}

impl<J: Canonical + ?Sized> EventContent<'_, J> {
    /// `SHA-256` of the canonical encoding; `scratch` is reused between calls.
    pub fn digest_with(&self, scratch: &mut Vec<u8>) -> Hash {
        scratch.clear();
        encode_event(
            scratch,
            self.aggregate_type,
            self.aggregate_id,
            self.sequence,
            self.event_type,
            self.event_version,
            self.payload,
            self.metadata,
            self.recorded_at,
        );
        Sha256::digest(scratch.as_slice()).into()
    }

    pub fn digest(&self) -> Hash {
        self.digest_with(&mut Vec::new())
    }
}

/// The chain link of an event: its hash, from the hash of the event before it in its stream.
pub fn link(previous: &Hash, digest: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(digest);
    hasher.finalize().into()
}

/// The running hash over the global order after one more event (its chain hash).
pub fn fold(running: &Hash, event_hash: &Hash) -> Hash {
    link(running, event_hash)
}

/// Now, as the writers record it: truncated to microseconds, the precision both databases
/// keep, so that the time hashed is the time read back.
pub fn recorded_now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

/// A seal over a stretch of the global order: `count` events from `first` to `last`, and the
/// running hash after `last` (over every event from the log's first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    /// 1, 2, 3…: a missing number is a removed seal.
    pub number: i64,
    pub first: Position,
    pub last: Position,
    pub count: i64,
    /// Hex.
    pub running_hash: String,
    pub sealed_at: DateTime<Utc>,
    /// The log the seal belongs to (set on the copy published on NATS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logid: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn content<'a>(sequence: i64, payload: &'a Value, metadata: &'a Value) -> EventContent<'a> {
        EventContent {
            aggregate_type: "user",
            aggregate_id: "u1",
            sequence,
            event_type: "Renamed",
            event_version: "1.0",
            payload,
            metadata,
            recorded_at: "2026-11-28T04:05:06.123456Z".parse().unwrap(),
        }
    }

    #[test]
    fn the_digest_is_sha256_of_the_canonical_encoding() {
        let (payload, metadata) = (json!({"Renamed": {"name": "Ada"}}), json!({}));
        let digest = content(1, &payload, &metadata).digest();
        let expected: Hash = Sha256::digest(
            br#"["annals/1","user","u1",1,"Renamed","1.0",{"Renamed":{"name":"Ada"}},{},"2026-11-28T04:05:06.123456Z"]"#,
        )
        .into();
        assert_eq!(digest, expected);
    }

    #[test]
    fn every_field_changes_the_digest() {
        let (payload, metadata) = (json!({"Renamed": {"name": "Ada"}}), json!({"actor": "a"}));
        let base = content(1, &payload, &metadata);
        let other_payload = json!({"Renamed": {"name": "Eve"}});
        let other_metadata = json!({"actor": "b"});
        let variants = [
            EventContent {
                sequence: 2,
                ..base
            },
            EventContent {
                aggregate_id: "u2",
                ..base
            },
            EventContent {
                aggregate_type: "bucket",
                ..base
            },
            EventContent {
                event_type: "Moved",
                ..base
            },
            EventContent {
                event_version: "2.0",
                ..base
            },
            EventContent {
                payload: &other_payload,
                ..base
            },
            EventContent {
                metadata: &other_metadata,
                ..base
            },
            EventContent {
                recorded_at: base.recorded_at + TimeDelta::microseconds(1),
                ..base
            },
        ];
        for variant in variants {
            assert_ne!(variant.digest(), base.digest(), "{variant:?}");
        }
    }

    #[test]
    fn a_chain_depends_on_every_event_before_and_on_their_order() {
        let digests: Vec<Hash> = (1..=3u8).map(|i| [i; 32]).collect();
        let chain = |digests: &[Hash]| digests.iter().fold(GENESIS, |prev, d| link(&prev, d));
        let whole = chain(&digests);
        assert_eq!(whole, chain(&digests));
        assert_ne!(whole, chain(&[digests[0], digests[2], digests[1]]));
        assert_ne!(whole, chain(&[digests[0], digests[2]]));
        assert_ne!(whole, chain(&digests[1..]));
    }

    #[test]
    fn recorded_times_keep_microseconds() {
        let now = recorded_now();
        assert_eq!(now.timestamp_subsec_nanos() % 1000, 0);
    }

    #[test]
    fn only_32_bytes_are_a_hash() {
        assert_eq!(to_hash(&[7; 32]), Some([7; 32]));
        assert_eq!(to_hash(&[7; 31]), None);
        assert_eq!(to_hash(&[]), None);
    }
}
