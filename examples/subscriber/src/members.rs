//! The derived table's rules: which bucket events change who is a member of which bucket, with
//! what role. Pure: an envelope in, row changes out.
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::envelope::Envelope;

/// A change to the `bucket_members` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Insert the member, or update their email and role.
    Join {
        bucket: String,
        user_id: String,
        email: Option<String>,
        role: String,
    },
    SetRole {
        bucket: String,
        user_id: String,
        role: String,
    },
    Leave {
        bucket: String,
        user_id: String,
    },
    /// The bucket is gone, and all its members with it.
    DropBucket {
        bucket: String,
    },
}

#[derive(Deserialize)]
struct Person {
    user_id: String,
    /// Personal data can be erased (docs/events.md): then this is not a string any more, and
    /// the member stays, without an email.
    #[serde(default)]
    email: Value,
}

impl Person {
    fn email(&self) -> Option<String> {
        self.email.as_str().map(str::to_string)
    }
}

#[derive(Deserialize)]
struct Created {
    owner: Person,
}

/// `MemberAdded`, `InvitationAccepted` and `RoleChanged`.
#[derive(Deserialize)]
struct Member {
    #[serde(flatten)]
    person: Person,
    role: String,
}

#[derive(Deserialize)]
struct Transferred {
    from: Person,
    to: Person,
}

fn fields<T: DeserializeOwned>(event: &Envelope) -> Result<T, serde_json::Error> {
    serde_json::from_value(event.data.clone())
}

/// The table changes of one event. Other aggregates' events and bucket events that do not
/// touch membership change nothing (the subscriber still moves its checkpoint past them).
/// Unknown event names are ignored too, so that a new event type does not stop a subscriber
/// written before it.
pub fn changes(event: &Envelope) -> Result<Vec<Change>, serde_json::Error> {
    if event.aggregatetype != "bucket" {
        return Ok(vec![]);
    }
    let bucket = event.aggregateid.clone();
    let join = |person: Person, role: String| Change::Join {
        bucket: bucket.clone(),
        email: person.email(),
        user_id: person.user_id,
        role,
    };
    let set_role = |person: Person, role: &str| Change::SetRole {
        bucket: bucket.clone(),
        user_id: person.user_id,
        role: role.to_string(),
    };
    Ok(match event.eventname.as_str() {
        "BucketCreated" => vec![join(fields::<Created>(event)?.owner, "owner".into())],
        // An invitation of an unknown address is pending until `InvitationAccepted`.
        "MemberAdded" | "InvitationAccepted" => {
            let member: Member = fields(event)?;
            vec![join(member.person, member.role)]
        }
        "RoleChanged" => {
            let member: Member = fields(event)?;
            vec![set_role(member.person, &member.role)]
        }
        "MemberRemoved" => vec![Change::Leave {
            bucket: bucket.clone(),
            user_id: fields::<Person>(event)?.user_id,
        }],
        // The previous owner stays, as an admin.
        "OwnershipTransferred" => {
            let Transferred { from, to } = fields(event)?;
            vec![set_role(to, "owner"), set_role(from, "admin")]
        }
        "BucketDeleted" => vec![Change::DropBucket {
            bucket: bucket.clone(),
        }],
        _ => vec![],
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::envelope::Position;

    fn event(aggregate_type: &str, name: &str, data: Value) -> Envelope {
        Envelope {
            id: format!("{aggregate_type}/b1/1"),
            time: chrono::Utc::now(),
            aggregatetype: aggregate_type.into(),
            aggregateid: "b1".into(),
            eventname: name.into(),
            data,
            position: Position { tx: 2, gid: 2 },
            prevposition: Position { tx: 1, gid: 1 },
            logid: None,
        }
    }

    fn join(user_id: &str, email: Option<&str>, role: &str) -> Change {
        Change::Join {
            bucket: "b1".into(),
            user_id: user_id.into(),
            email: email.map(str::to_string),
            role: role.into(),
        }
    }

    fn set_role(user_id: &str, role: &str) -> Change {
        Change::SetRole {
            bucket: "b1".into(),
            user_id: user_id.into(),
            role: role.into(),
        }
    }

    #[test]
    fn the_creator_joins_as_owner() {
        let created = event(
            "bucket",
            "BucketCreated",
            json!({"bucket_id": "b1", "name": "prod", "owner": {"user_id": "u1", "email": "a@x.io"}, "plan": {}}),
        );
        assert_eq!(
            changes(&created).unwrap(),
            [join("u1", Some("a@x.io"), "owner")]
        );
    }

    #[test]
    fn added_and_accepted_members_join_with_their_role() {
        for name in ["MemberAdded", "InvitationAccepted"] {
            let added = event(
                "bucket",
                name,
                json!({"user_id": "u2", "email": "b@x.io", "role": "user", "added_by": "u1"}),
            );
            assert_eq!(
                changes(&added).unwrap(),
                [join("u2", Some("b@x.io"), "user")],
                "{name}"
            );
        }
    }

    #[test]
    fn an_erased_email_keeps_the_member() {
        let added = event(
            "bucket",
            "MemberAdded",
            json!({"user_id": "u2", "email": {"erased": true}, "role": "user"}),
        );
        assert_eq!(changes(&added).unwrap(), [join("u2", None, "user")]);
    }

    #[test]
    fn roles_change_and_a_transfer_swaps_owner_and_admin() {
        let promoted = event(
            "bucket",
            "RoleChanged",
            json!({"user_id": "u2", "email": "b@x.io", "role": "admin", "by": "u1"}),
        );
        assert_eq!(changes(&promoted).unwrap(), [set_role("u2", "admin")]);
        let transferred = event(
            "bucket",
            "OwnershipTransferred",
            json!({"from": {"user_id": "u1", "email": "a@x.io"}, "to": {"user_id": "u2", "email": "b@x.io"}}),
        );
        assert_eq!(
            changes(&transferred).unwrap(),
            [set_role("u2", "owner"), set_role("u1", "admin")]
        );
    }

    #[test]
    fn members_leave_and_deleted_buckets_drop_all_of_them() {
        let removed = event(
            "bucket",
            "MemberRemoved",
            json!({"user_id": "u2", "email": "b@x.io", "by": "u1"}),
        );
        assert_eq!(
            changes(&removed).unwrap(),
            [Change::Leave {
                bucket: "b1".into(),
                user_id: "u2".into()
            }]
        );
        let deleted = event("bucket", "BucketDeleted", json!({"member_ids": ["u1"]}));
        assert_eq!(
            changes(&deleted).unwrap(),
            [Change::DropBucket {
                bucket: "b1".into()
            }]
        );
    }

    #[test]
    fn other_events_change_nothing() {
        let invited = event("bucket", "MemberInvited", json!({"email": "c@x.io"}));
        let unknown = event("bucket", "SomethingNew", json!({}));
        let user = event("user", "MemberAdded", json!({}));
        for e in [invited, unknown, user] {
            assert_eq!(changes(&e).unwrap(), [], "{}", e.eventname);
        }
    }

    #[test]
    fn a_malformed_membership_event_is_an_error() {
        let broken = event("bucket", "MemberAdded", json!({"email": "b@x.io"}));
        assert!(changes(&broken).is_err());
    }
}
