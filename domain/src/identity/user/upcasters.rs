//! The history of the user stream's event shapes, as upcasters (see [`crate::versioning`]).
use serde_json::Value;

use super::{RegisteredVia, User};
use crate::versioning::{Fields, Upcaster, Upcasters};

/// The user stream's upcasters: where its events' current versions come from.
pub const UPCASTERS: Upcasters = Upcasters(&[OWN]);
/// The same, for [`crate::catalogue::UPCASTERS`].
pub const OWN: &[Upcaster] = &[USER_REGISTERED_1_TO_2];

/// `UserRegistered` 1.0 → 2.0: adds `registered_via`. Before 2.0 the way in was not recorded,
/// so old registrations say so rather than guess.
pub const USER_REGISTERED_1_TO_2: Upcaster = Upcaster {
    aggregate_type: <User as cqrs_es::Aggregate>::TYPE,
    event_type: "UserRegistered",
    from: "1.0",
    to: "2.0",
    change: "adds `registered_via` (`signup` or `operator`); registrations recorded before \
             2.0 read as `unrecorded`",
    upcast: user_registered_1_to_2,
};

fn user_registered_1_to_2(mut fields: Fields) -> Fields {
    let via = serde_json::to_value(RegisteredVia::Unrecorded).unwrap_or(Value::Null);
    fields.entry("registered_via").or_insert(via);
    fields
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::*;
    use crate::identity::UserEvent;
    use crate::versioning::fields;

    fn registered_1_0() -> Value {
        json!({
            "user_id": "u1",
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "password_hash": "$argon2id$hash",
            "role": "user",
            "at": "2026-11-23T12:00:00Z",
        })
    }

    #[test]
    fn a_registration_stored_at_1_0_reads_as_2_0_with_its_way_in_unrecorded() {
        // Given a UserRegistered event as version 1.0 stored it
        let stored = fields(registered_1_0());
        // When it is read
        let (version, read) = UPCASTERS
            .upcast("user", "UserRegistered", "1.0", stored)
            .unwrap();
        // Then it has the current shape, every stored field kept
        assert_eq!(version, "2.0");
        let event: UserEvent =
            serde_json::from_value(json!({ "UserRegistered": Value::Object(read) })).unwrap();
        assert_eq!(
            event,
            UserEvent::UserRegistered {
                user_id: "u1".into(),
                email: "ada@example.com".into(),
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                password_hash: "$argon2id$hash".into(),
                role: "user".into(),
                registered_via: RegisteredVia::Unrecorded,
                at: Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap(),
            }
        );
    }

    #[test]
    fn a_registration_stored_at_2_0_is_read_as_stored() {
        // Given a UserRegistered event written at 2.0
        let mut stored = fields(registered_1_0());
        stored.insert("registered_via".into(), json!("operator"));
        // When it is read
        let read = UPCASTERS
            .upcast("user", "UserRegistered", "2.0", stored.clone())
            .unwrap();
        // Then nothing changes
        assert_eq!(read, ("2.0", stored));
    }

    #[test]
    fn new_registrations_are_written_at_the_current_version() {
        use cqrs_es::DomainEvent;
        let event: UserEvent = serde_json::from_value(json!({
            "UserRegistered": Value::Object(UPCASTERS.upcast("user", "UserRegistered", "1.0", fields(registered_1_0())).unwrap().1)
        }))
        .unwrap();
        assert_eq!(event.event_version(), "2.0");
    }
}
