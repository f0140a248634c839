//! Event versions and upcasting: how an event stored in an older shape is read in the current
//! one.
//!
//! Every event type starts at [`INITIAL_VERSION`]. A change of its shape (a field added,
//! renamed or retyped) moves it to the next major version and adds an [`Upcaster`] from the
//! old version: a pure function from the old fields to the new ones, defined next to the
//! events. The log is never rewritten; the read path upcasts each stored event, so commands,
//! projections, replay and subscribers only ever see the current shape.
use serde_json::{Map, Value};

/// The version every event type starts at.
pub const INITIAL_VERSION: &str = "1.0";

/// The fields of one event (its payload without the event-type tag).
pub type Fields = Map<String, Value>;

/// One step of an event type's history: turns its fields at version `from` into those at `to`.
#[derive(Debug, Clone, Copy)]
pub struct Upcaster {
    pub aggregate_type: &'static str,
    pub event_type: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    /// What changed, in a sentence (the event catalogue lists it).
    pub change: &'static str,
    pub upcast: fn(Fields) -> Fields,
}

/// A set of upcasters: one aggregate's own (which its events' versions come from), or every
/// aggregate's ([`crate::catalogue::UPCASTERS`], which the log's readers use). Each event
/// type's steps form one chain from [`INITIAL_VERSION`] to its current version. Defined here,
/// listed where the aggregates are, so this mechanism knows no aggregate.
#[derive(Debug, Clone, Copy)]
pub struct Upcasters(pub &'static [&'static [Upcaster]]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{aggregate_type} event {event_type} has version {version}, which this build cannot read \
     (current: {current})"
)]
pub struct UnknownVersion {
    pub aggregate_type: String,
    pub event_type: String,
    pub version: String,
    pub current: &'static str,
}

impl Upcasters {
    /// Every upcaster of the set.
    pub fn all(self) -> impl Iterator<Item = &'static Upcaster> {
        self.0.iter().flat_map(|list| list.iter())
    }

    fn step(self, aggregate_type: &str, event_type: &str, from: &str) -> Option<&'static Upcaster> {
        self.all().find(|u| {
            u.aggregate_type == aggregate_type && u.event_type == event_type && u.from == from
        })
    }

    /// The steps of an event type's history, oldest first.
    pub fn history(self, aggregate_type: &str, event_type: &str) -> Vec<&'static Upcaster> {
        let mut steps = Vec::new();
        let mut version = INITIAL_VERSION;
        while let Some(next) = self.step(aggregate_type, event_type, version) {
            steps.push(next);
            version = next.to;
        }
        steps
    }

    /// The version events of this type are written with now. (Every read of the log asks, so
    /// it allocates nothing.)
    pub fn current_version(self, aggregate_type: &str, event_type: &str) -> &'static str {
        let mut version = INITIAL_VERSION;
        while let Some(next) = self.step(aggregate_type, event_type, version) {
            version = next.to;
        }
        version
    }

    /// Reads `fields`, stored at `version`, in the current shape of the event type: the
    /// current version and the upcast fields. A version this build does not know (written by
    /// a newer one) is refused rather than misread.
    pub fn upcast(
        self,
        aggregate_type: &str,
        event_type: &str,
        version: &str,
        mut fields: Fields,
    ) -> Result<(&'static str, Fields), UnknownVersion> {
        let current = self.current_version(aggregate_type, event_type);
        let mut at = version;
        while at != current {
            let Some(next) = self.step(aggregate_type, event_type, at) else {
                return Err(UnknownVersion {
                    aggregate_type: aggregate_type.into(),
                    event_type: event_type.into(),
                    version: version.into(),
                    current,
                });
            };
            fields = (next.upcast)(fields);
            at = next.to;
        }
        Ok((current, fields))
    }
}

/// Test data: the fields of a JSON object.
#[cfg(test)]
pub(crate) fn fields(value: Value) -> Fields {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("test fields are objects"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_event_without_history_is_at_the_initial_version_and_read_as_stored() {
        // Given an event type that never changed
        let stored = fields(json!({"at": "2026-01-01T00:00:00Z"}));
        // When it is read
        let none = Upcasters(&[]);
        let read = none
            .upcast("user", "EmailVerified", "1.0", stored.clone())
            .unwrap();
        // Then it is unchanged
        assert_eq!(read, ("1.0", stored));
        assert_eq!(
            none.current_version("user", "EmailVerified"),
            INITIAL_VERSION
        );
    }

    #[test]
    fn a_version_newer_than_this_build_is_refused() {
        // Given an event written by a newer build
        // When it is read
        let read = Upcasters(&[]).upcast("user", "EmailVerified", "7.0", Fields::new());
        // Then it is refused, naming the versions
        let error = read.unwrap_err();
        assert_eq!(error.version, "7.0");
        assert_eq!(error.current, "1.0");
    }
}
