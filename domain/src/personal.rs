//! Personal data in events: which fields hold it, whose it is, and what an erased field reads as.
//!
//! The log is append-only and hash-chained, so a person's data cannot be deleted from it. Instead
//! every field declared here is stored encrypted with a key of its *subject* (the adapters do
//! that), and erasing a person deletes their keys: the stored bytes stay (the chain still
//! verifies), but nothing can read them again, and every reader gets [`erased_value`] in their
//! place.
//!
//! Two kinds of subject:
//! - **a stream's person** (`user:<user id>`): the names in the user stream;
//! - **an address** (`email:<digest>`, [`address_subject`]): every email field, wherever it is
//!   (registration, email claim, bucket owner, members, invitations). An address is one subject
//!   whoever wrote it, so an invitation and its acceptance, or a member entry and the profile,
//!   read the same after erasure (the erased form is derived from the subject alone, and
//!   read models keyed by an address stay keyed alike, and distinct per address).
//!
//! The digest of an address is the one email claims already use as their stream id; it names
//! the subject in stored rows and in the erased form, so it reveals nothing the log did not
//! already hold (someone who guesses an address can still check the guess against it; the
//! address itself cannot be read back).
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::identity::normalize_email;

/// Whose data a declared field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The person the event's stream is about (`<aggregate type>:<aggregate id>`).
    Stream,
    /// The address the field holds.
    Address,
}

/// One personal field of one event type. `path` names the field inside the event's fields:
/// dot-separated names, `*` for every element of an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonalField {
    pub aggregate_type: &'static str,
    pub event_type: &'static str,
    pub path: &'static str,
    pub owner: Owner,
}

const fn field(
    aggregate_type: &'static str,
    event_type: &'static str,
    path: &'static str,
    owner: Owner,
) -> PersonalField {
    PersonalField {
        aggregate_type,
        event_type,
        path,
        owner,
    }
}

use Owner::{Address, Stream};

/// Every personal field of every event. An event type not listed holds none (ids, roles,
/// times, and the erased forms of `UserErased` and `MemberErased`, which are not personal).
pub const PERSONAL_FIELDS: &[PersonalField] = &[
    field("user", "UserRegistered", "email", Address),
    field("user", "UserRegistered", "first_name", Stream),
    field("user", "UserRegistered", "last_name", Stream),
    field("user", "ProfileUpdated", "first_name", Stream),
    field("user", "ProfileUpdated", "last_name", Stream),
    // A person's details (phone, desktop login, contract, ...): every value, before and after.
    field("user", "PersonDetailsChanged", "changes.*.old", Stream),
    field("user", "PersonDetailsChanged", "changes.*.new", Stream),
    field("email_claim", "EmailClaimed", "email", Address),
    field("bucket", "BucketCreated", "owner.email", Address),
    field("bucket", "MemberInvited", "email", Address),
    field("bucket", "MemberAdded", "email", Address),
    field("bucket", "InvitationAccepted", "email", Address),
    field("bucket", "InvitationRemoved", "email", Address),
    field("bucket", "MemberRemoved", "email", Address),
    field("bucket", "RoleChanged", "email", Address),
    field("bucket", "NotificationStateChanged", "email", Address),
    field("bucket", "OwnershipTransferred", "from.email", Address),
    field("bucket", "OwnershipTransferred", "to.email", Address),
    field("bucket", "BucketDeleted", "invitations.*", Address),
];

/// The personal fields of one event type.
pub fn declared<'a>(
    aggregate_type: &'a str,
    event_type: &'a str,
) -> impl Iterator<Item = &'static PersonalField> + 'a {
    PERSONAL_FIELDS
        .iter()
        .filter(move |f| f.aggregate_type == aggregate_type && f.event_type == event_type)
}

/// A stable digest of an address (trimmed, lower-cased): 32 hex digits.
pub fn email_digest(email: &str) -> String {
    hex::encode(&Sha256::digest(normalize_email(email).as_bytes())[..16])
}

/// The subject of an address's data.
pub fn address_subject(email: &str) -> String {
    format!("email:{}", email_digest(email))
}

/// The subject of the person a stream is about.
pub fn stream_subject(aggregate_type: &str, aggregate_id: &str) -> String {
    format!("{aggregate_type}:{aggregate_id}")
}

/// The subjects whose keys erasing a user deletes: the person and their address.
pub fn user_subjects(user_id: &str, email: &str) -> Vec<String> {
    vec![stream_subject("user", user_id), address_subject(email)]
}

/// The domain of erased addresses (`.invalid` is reserved: nothing is ever delivered there).
const ERASED_DOMAIN: &str = "@erased.invalid";

/// What a personal field other than an address reads as once erased.
pub const ERASED_TEXT: &str = "erased";

/// What a field of `subject` reads as once the subject is erased: for an address, an address
/// of its own that cannot be delivered (so read models keyed by addresses keep one entry per
/// address and stay valid email fields); for anything else, `"erased"`.
pub fn erased_value(subject: &str) -> Value {
    match subject.strip_prefix("email:") {
        Some(digest) => Value::String(format!("erased-{digest}{ERASED_DOMAIN}")),
        None => Value::String(ERASED_TEXT.into()),
    }
}

/// The erased form of `email`.
pub fn erased_email(email: &str) -> String {
    match erased_value(&address_subject(email)) {
        Value::String(s) => s,
        _ => unreachable!("an address reads as a string"),
    }
}

/// Whether `email` is an erased form (erasing it again changes nothing).
pub fn is_erased_email(email: &str) -> bool {
    email.starts_with("erased-") && email.ends_with(ERASED_DOMAIN)
}

/// Calls `visit` with the subject and the value of every personal field present in `fields`
/// (the fields of one event of `aggregate_type`/`aggregate_id`), so that the caller can seal
/// or inspect it in place. Absent fields and nulls are skipped; an address that is not a
/// string is left alone (it cannot name its subject).
pub fn for_each_personal(
    aggregate_type: &str,
    aggregate_id: &str,
    event_type: &str,
    fields: &mut Map<String, Value>,
    mut visit: impl FnMut(&str, &mut Value),
) {
    for declared in declared(aggregate_type, event_type) {
        let steps: Vec<&str> = declared.path.split('.').collect();
        let mut at_path = |value: &mut Value| {
            let subject = match declared.owner {
                Stream => stream_subject(aggregate_type, aggregate_id),
                Address => match value {
                    Value::String(email) => address_subject(email),
                    _ => return,
                },
            };
            visit(&subject, value);
        };
        if let Some((first, rest)) = steps.split_first()
            && let Some(value) = fields.get_mut(*first)
        {
            walk(value, rest, &mut at_path);
        }
    }
}

fn walk(value: &mut Value, steps: &[&str], visit: &mut dyn FnMut(&mut Value)) {
    match steps.split_first() {
        None if value.is_null() => {}
        None => visit(value),
        Some((&"*", rest)) => {
            if let Value::Array(items) = value {
                for item in items {
                    walk(item, rest, visit);
                }
            }
        }
        Some((name, rest)) => {
            if let Some(inner) = value.get_mut(*name) {
                walk(inner, rest, visit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("test fields are objects"),
        }
    }

    /// Every (subject, value) the declarations find in an event.
    fn found(
        aggregate_type: &str,
        id: &str,
        event_type: &str,
        value: Value,
    ) -> Vec<(String, Value)> {
        let mut seen = Vec::new();
        for_each_personal(
            aggregate_type,
            id,
            event_type,
            &mut fields(value),
            |s, v| seen.push((s.to_string(), v.clone())),
        );
        seen
    }

    #[test]
    fn a_registration_holds_the_address_and_the_persons_names() {
        // Given a registration in the stream of user u1
        let event = json!({"user_id": "u1", "email": "Ada@Example.com ", "first_name": "Ada",
            "last_name": "Lovelace", "role": "user"});
        // When its personal fields are listed
        let seen = found("user", "u1", "UserRegistered", event);
        // Then the email is the address's, the names are the person's; nothing else is personal
        let address = address_subject("ada@example.com");
        assert_eq!(
            seen,
            vec![
                (address, json!("Ada@Example.com ")),
                ("user:u1".into(), json!("Ada")),
                ("user:u1".into(), json!("Lovelace")),
            ]
        );
    }

    #[test]
    fn nested_and_listed_addresses_each_name_their_own_subject() {
        // Given an ownership transfer and a deletion listing invitations
        let transfer = json!({"from": {"user_id": "u1", "email": "a@x.io"},
            "to": {"user_id": "u2", "email": "b@x.io"}});
        let deleted =
            json!({"by": "u1", "invitations": ["c@x.io", "d@x.io"], "member_ids": ["u1"]});
        // When their personal fields are listed
        let transfer = found("bucket", "b1", "OwnershipTransferred", transfer);
        let deleted = found("bucket", "b1", "BucketDeleted", deleted);
        // Then each address is its own subject
        let subjects =
            |seen: Vec<(String, Value)>| seen.into_iter().map(|(s, _)| s).collect::<Vec<_>>();
        assert_eq!(
            subjects(transfer),
            vec![address_subject("a@x.io"), address_subject("b@x.io")]
        );
        assert_eq!(
            subjects(deleted),
            vec![address_subject("c@x.io"), address_subject("d@x.io")]
        );
    }

    #[test]
    fn events_without_personal_fields_and_absent_fields_are_left_alone() {
        // Given events that hold none, or lack a declared field
        assert!(found("user", "u1", "UserLoggedIn", json!({"client": "1.2.3.4"})).is_empty());
        assert!(found("bucket", "b1", "MemberInvited", json!({"invited_by": "u1"})).is_empty());
        assert!(found("bucket", "b1", "MemberInvited", json!({"email": null})).is_empty());
    }

    #[test]
    fn an_erased_address_is_an_undeliverable_address_of_its_own() {
        // Given two addresses, one written in two spellings
        let a = erased_email("Ada@Example.com");
        // Then the erased forms are stable, distinct per address and valid email syntax
        assert_eq!(a, erased_email(" ada@example.com"));
        assert_ne!(a, erased_email("bob@example.com"));
        assert!(
            a.starts_with("erased-") && a.ends_with("@erased.invalid"),
            "{a}"
        );
        assert!(!a.contains("ada"));
        assert!(is_erased_email(&a) && !is_erased_email("ada@example.com"));
        assert_eq!(erased_value("user:u1"), json!("erased"));
    }

    #[test]
    fn every_declaration_names_a_known_event_and_a_path() {
        for f in PERSONAL_FIELDS {
            assert!(!f.path.is_empty() && !f.path.starts_with('.'), "{f:?}");
            assert!(
                ["user", "email_claim", "bucket"].contains(&f.aggregate_type),
                "{f:?}"
            );
        }
        assert_eq!(
            user_subjects("u1", "a@x.io"),
            vec!["user:u1".to_string(), address_subject("a@x.io")]
        );
    }
}
