//! Events as stored in the log and as published on the bus.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Position;

/// A row of the event log, with its place in the global order.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub position: Position,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// cqrs-es payload: externally tagged, `{"<event_type>": {..fields..}}`.
    pub payload: Value,
    pub metadata: HashMap<String, String>,
    pub recorded_at: DateTime<Utc>,
}

/// The published form of an event: CloudEvents 1.0, structured JSON mode, with annals
/// extension attributes. `data` holds the event's fields with secrets removed.
///
/// The field docs are the subscriber contract's (docs/events.md is generated from them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "annals event envelope")]
pub struct Envelope {
    /// CloudEvents version: `1.0`.
    pub specversion: String,
    /// `<aggregate_type>/<aggregate_id>/<sequence>`: unique per event, and also the
    /// `Nats-Msg-Id` header.
    pub id: String,
    /// `annals.<aggregate_type>.<event_type>`, e.g. `annals.bucket.MemberAdded`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// `annals`.
    pub source: String,
    /// `<aggregate_type>/<aggregate_id>`: the stream the event belongs to.
    pub subject: String,
    /// When the event was recorded in the log (RFC 3339, UTC).
    pub time: DateTime<Utc>,
    /// `application/json`.
    pub datacontenttype: String,
    /// The event's fields at `eventversion`, secrets removed: see the schema of its type.
    pub data: Value,
    /// The aggregate type (`user`, `bucket`, ...).
    pub aggregatetype: String,
    /// The aggregate's id (a stream is one aggregate).
    pub aggregateid: String,
    /// The event's number in its stream: 1, 2, 3, ... without gaps.
    pub sequence: i64,
    /// The event type without prefix, e.g. `MemberAdded`.
    pub eventname: String,
    /// The version of the event type's shape that `data` has (always the current one).
    pub eventversion: String,
    /// Place in the global order, `<tx>.<gid>`.
    pub position: Position,
    /// Position of the event published just before this one: a consumer whose checkpoint
    /// differs has missed something and repairs from the log.
    pub prevposition: Position,
    /// The identity of the log the event comes from: a stream belongs to one log, and
    /// consumers ignore messages of another. Set by the relay (absent on envelopes published
    /// before logs had identities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logid: Option<String>,
    /// Who caused the event: a user id, or a component such as `admin-cli` (absent when
    /// nobody is named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The id of the HTTP request that caused the event, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requestid: Option<String>,
}

pub const SOURCE: &str = "annals";

impl Envelope {
    pub fn from_stored(event: &StoredEvent, prev: Position) -> Self {
        let fields = match &event.payload {
            Value::Object(map) if map.len() == 1 => {
                map.values().next().cloned().unwrap_or(Value::Null)
            }
            other => other.clone(),
        };
        Self::with_fields(event, fields, prev)
    }

    /// [`Envelope::from_stored`] taking the event's payload instead of copying it (the
    /// relay publishes each event once).
    pub fn from_owned(mut event: StoredEvent, prev: Position) -> Self {
        let fields = match std::mem::take(&mut event.payload) {
            Value::Object(map) if map.len() == 1 => {
                map.into_iter().next().map_or(Value::Null, |(_, v)| v)
            }
            other => other,
        };
        Self::with_fields(&event, fields, prev)
    }

    fn with_fields(event: &StoredEvent, fields: Value, prev: Position) -> Self {
        Envelope {
            specversion: "1.0".into(),
            id: format!(
                "{}/{}/{}",
                event.aggregate_type, event.aggregate_id, event.sequence
            ),
            event_type: format!("annals.{}.{}", event.aggregate_type, event.event_type),
            source: SOURCE.into(),
            subject: format!("{}/{}", event.aggregate_type, event.aggregate_id),
            time: event.recorded_at,
            datacontenttype: "application/json".into(),
            // Documents are the users' own data: a field named `file_hash` is not a secret.
            data: if USER_CONTENT.contains(&event.aggregate_type.as_str()) {
                fields
            } else {
                redact(fields)
            },
            aggregatetype: event.aggregate_type.clone(),
            aggregateid: event.aggregate_id.clone(),
            sequence: event.sequence,
            eventname: event.event_type.clone(),
            eventversion: event.event_version.clone(),
            position: event.position,
            prevposition: prev,
            logid: None,
            actor: event.metadata.get("actor").cloned(),
            requestid: event.metadata.get("request_id").cloned(),
        }
    }

    /// The event in the cqrs-es tagged form, ready to deserialize into a domain event enum.
    pub fn tagged_payload(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert(self.eventname.clone(), self.data.clone());
        Value::Object(map)
    }

    /// Deserializes the payload into a domain event type (a cqrs-es event enum, externally
    /// tagged by `eventname`), reading `data` in place rather than from a copy.
    pub fn decode<E: serde::de::DeserializeOwned>(&self) -> Result<E, serde_json::Error> {
        E::deserialize(serde::de::value::EnumAccessDeserializer::new(Tagged {
            name: &self.eventname,
            data: &self.data,
        }))
    }
}

/// Aggregate types whose events carry users' documents, published as they are (not redacted).
pub const USER_CONTENT: [&str; 1] = ["datacube_document"];

/// Removes secrets: every object key ending in `_hash`, `_hashes` or `_secret` (password and
/// key hashes, recovery code hashes, one-time-password secrets).
pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| !is_secret(k))
                .map(|(k, v)| (k, redact(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

pub fn is_secret(key: &str) -> bool {
    key.ends_with("_hash") || key.ends_with("_hashes") || key.ends_with("_secret")
}

/// Pairs each event with its predecessor's position, starting from `prev`.
/// An event enum's variant (`name`) and its fields, read as serde reads an externally tagged
/// enum.
struct Tagged<'a> {
    name: &'a str,
    data: &'a Value,
}

impl<'de> serde::de::EnumAccess<'de> for Tagged<'de> {
    type Error = serde_json::Error;
    type Variant = Fields<'de>;

    fn variant_seed<V: serde::de::DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), Self::Error> {
        let name = serde::de::value::BorrowedStrDeserializer::<serde_json::Error>::new(self.name);
        Ok((seed.deserialize(name)?, Fields(self.data)))
    }
}

/// A variant's fields: what follows its tag.
struct Fields<'a>(&'a Value);

impl<'de> serde::de::VariantAccess<'de> for Fields<'de> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        serde::Deserialize::deserialize(self.0)
    }

    fn newtype_variant_seed<T: serde::de::DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        seed.deserialize(self.0)
    }

    fn tuple_variant<V: serde::de::Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        serde::Deserializer::deserialize_tuple(self.0, len, visitor)
    }

    fn struct_variant<V: serde::de::Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        serde::Deserializer::deserialize_struct(self.0, "", fields, visitor)
    }
}

/// [`chain`] taking the events instead of copying their payloads.
pub fn chain_owned(events: Vec<StoredEvent>, mut prev: Position) -> Vec<Envelope> {
    events
        .into_iter()
        .map(|e| {
            let position = e.position;
            let env = Envelope::from_owned(e, prev);
            prev = position;
            env
        })
        .collect()
}

pub fn chain(events: &[StoredEvent], mut prev: Position) -> Vec<Envelope> {
    events
        .iter()
        .map(|e| {
            let env = Envelope::from_stored(e, prev);
            prev = e.position;
            env
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored() -> StoredEvent {
        StoredEvent {
            position: Position::new(10, 3),
            aggregate_type: "user".into(),
            aggregate_id: "u1".into(),
            sequence: 1,
            event_type: "UserRegistered".into(),
            event_version: "1.0".into(),
            payload: json!({"UserRegistered": {"email": "a@b.c", "password_hash": "secret", "nested": {"key_hash": "x", "otp_secret": "y", "code_hashes": ["z"], "ok": 1}}}),
            metadata: HashMap::from([("actor".to_string(), "u1".to_string())]),
            recorded_at: Utc::now(),
        }
    }

    #[test]
    fn secrets_never_reach_the_envelope() {
        let env = Envelope::from_stored(&stored(), Position::ZERO);
        assert_eq!(env.data, json!({"email": "a@b.c", "nested": {"ok": 1}}));
        assert!(!serde_json::to_string(&env).unwrap().contains("secret"));
    }

    #[test]
    fn envelope_names_the_event_and_its_place() {
        let env = Envelope::from_stored(&stored(), Position::new(9, 1));
        assert_eq!(env.id, "user/u1/1");
        assert_eq!(env.event_type, "annals.user.UserRegistered");
        assert_eq!(env.subject, "user/u1");
        assert_eq!(env.prevposition, Position::new(9, 1));
        assert_eq!(env.actor.as_deref(), Some("u1"));
        let json = serde_json::to_value(&env).unwrap();
        assert_eq!(json["position"], "10.3");
        assert_eq!(json["specversion"], "1.0");
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, env);
    }

    #[test]
    fn chain_links_each_event_to_the_one_before() {
        let mut second = stored();
        second.position = Position::new(11, 4);
        let envs = chain(&[stored(), second], Position::new(1, 1));
        assert_eq!(envs[0].prevposition, Position::new(1, 1));
        assert_eq!(envs[1].prevposition, Position::new(10, 3));
    }

    #[test]
    fn events_decode_from_their_data_in_place_as_from_the_tagged_payload() {
        #[derive(Debug, PartialEq, Deserialize)]
        enum Event {
            Named { name: String, tags: Vec<String> },
            Counted(u32),
            Closed,
        }
        let decoded = |eventname: &str, data: Value| {
            let mut env = Envelope::from_stored(&stored(), Position::ZERO);
            env.eventname = eventname.into();
            env.data = data;
            let tagged: Event = serde_json::from_value(env.tagged_payload()).unwrap();
            assert_eq!(env.decode::<Event>().unwrap(), tagged);
            tagged
        };
        assert_eq!(
            decoded("Named", json!({"name": "a", "tags": ["x"]})),
            Event::Named {
                name: "a".into(),
                tags: vec!["x".into()]
            }
        );
        assert_eq!(decoded("Counted", json!(3)), Event::Counted(3));
        assert_eq!(decoded("Closed", Value::Null), Event::Closed);
        let mut env = Envelope::from_stored(&stored(), Position::ZERO);
        env.eventname = "Unknown".into();
        assert!(env.decode::<Event>().is_err());
    }

    #[test]
    fn an_owned_chain_is_the_copied_chain() {
        let mut second = stored();
        second.position = Position::new(12, 9);
        let events = vec![stored(), second];
        assert_eq!(
            chain_owned(events.clone(), Position::new(1, 1)),
            chain(&events, Position::new(1, 1))
        );
    }
}
