//! `buckets`: one document per bucket, shaped for the API's bucket object (its members and
//! pending invitations inside), so a read of a bucket is one read by id; plus the lookups the
//! API searches by filters, and one document per connected server, payment method and charge.
//!
//! Members and invitations are objects keyed by user id and by email, so that each event
//! changes its own entry ([`ViewOp::Nested`]) and the document stays a pure function of the
//! events. Readers order them (by `joined_at`, `created_at`).
//!
//! | collection | id | fields |
//! |---|---|---|
//! | `buckets` | bucket id | `_id name comment app_url configuration public_id secret_id owner owner_email plan trial trial_used created_at updated_at`, `members: {<user id>: {user_id email role notification options joined_at}}`, `invitations: {<email>: {email invited_by created_at}}` |
//! | `bucket_members` | `<bucket>:<user id>` | `bucket_id user_id`: which buckets a user is a member of |
//! | `bucket_invitations` | `<bucket>:<email>` | `bucket_id email invited_by created_at`: how a registration finds its invitations |
//! | `bucket_servers` | `<bucket>:<server name>` | `bucket_id name hostname pm2_version connected_at` |
//! | `bucket_payment_methods` | method id | `bucket_id user_id _id provider brand last4 created_at` |
//! | `bucket_charges` | charge id | `bucket_id _id amount currency plan payment_method provider description status by created_at` |
//!
//! `plan` is the subscribed plan; `trial` (`{plan, started_at, ends_at}` or null) overrides it
//! until `ends_at`.
//!
//! [`BucketDoc`] folds a bucket's events into its `buckets` document in memory, through the
//! same changes: what the answer to a write shows, without waiting for the read model.
use annals_domain::workspaces::{Bucket, BucketEvent};
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use annals_contracts::{Envelope, Nested, ViewOp};

use crate::{Projection, ProjectionError};

pub const BUCKETS: &str = "buckets";
pub const MEMBERS: &str = "bucket_members";
pub const INVITATIONS: &str = "bucket_invitations";
pub const SERVERS: &str = "bucket_servers";
pub const PAYMENT_METHODS: &str = "bucket_payment_methods";
pub const CHARGES: &str = "bucket_charges";

/// The bucket document's keyed lists.
pub const MEMBERS_FIELD: &str = "members";
pub const INVITATIONS_FIELD: &str = "invitations";

// v2: the bucket document holds its members and invitations (a new name replays the log into
// the new shape wherever an older one ran).
const NAME: &str = "workspace_buckets_v2";

/// The id of a document of a bucket's list.
pub fn sub_doc_id(bucket_id: &str, key: &str) -> String {
    format!("{bucket_id}:{key}")
}

pub fn member_doc_id(bucket_id: &str, user_id: &str) -> String {
    sub_doc_id(bucket_id, user_id)
}

pub struct BucketViews;

impl Projection for BucketViews {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collections(&self) -> &'static [&'static str] {
        &[
            BUCKETS,
            MEMBERS,
            INVITATIONS,
            SERVERS,
            PAYMENT_METHODS,
            CHARGES,
        ]
    }

    fn project(&self, event: &Envelope) -> Result<Vec<ViewOp>, ProjectionError> {
        if event.aggregatetype != Bucket::TYPE {
            return Ok(vec![]);
        }
        let decoded: BucketEvent = event
            .decode()
            .map_err(|e| ProjectionError::unreadable(NAME, event, e))?;
        Ok(changes(&event.aggregateid, decoded))
    }
}

/// A member entry of the bucket document.
fn member_entry(user_id: &str, email: &str, role: impl Serialize, at: impl Serialize) -> Value {
    json!({
        "user_id": user_id,
        "email": email,
        "role": role,
        "notification": "email",
        "options": {},
        "joined_at": at,
    })
}

/// The read-model changes of one event of the bucket `bucket`.
pub fn changes(bucket: &str, event: BucketEvent) -> Vec<ViewOp> {
    let merge = |collection: &'static str, id: String, patch| ViewOp::merge(collection, id, patch);
    let in_bucket = |field: &str, key: &str, change| ViewOp::Nested {
        collection: BUCKETS.into(),
        id: bucket.to_string(),
        path: vec![field.to_string(), key.to_string()],
        change,
    };
    let touch = |at| merge(BUCKETS, bucket.to_string(), json!({"updated_at": at}));
    let joined = |user_id: &str| ViewOp::Upsert {
        collection: MEMBERS.into(),
        id: member_doc_id(bucket, user_id),
        owner: Some(user_id.to_string()),
        ord: None,
        doc: json!({"bucket_id": bucket, "user_id": user_id}),
    };
    let left = |user_id: &str| ViewOp::Delete {
        collection: MEMBERS.into(),
        id: member_doc_id(bucket, user_id),
    };
    let uninvited = |email: &str| ViewOp::Delete {
        collection: INVITATIONS.into(),
        id: sub_doc_id(bucket, email),
    };
    match event {
        BucketEvent::BucketCreated {
            bucket_id,
            name,
            comment,
            app_url,
            configuration,
            public_id,
            secret_id,
            owner,
            plan,
            at,
        } => vec![
            ViewOp::Upsert {
                collection: BUCKETS.into(),
                id: bucket.to_string(),
                owner: Some(owner.user_id.clone()),
                ord: None,
                doc: json!({
                    "_id": bucket_id,
                    "name": name,
                    "comment": comment,
                    "app_url": app_url,
                    "configuration": configuration,
                    "public_id": public_id,
                    "secret_id": secret_id,
                    "owner": owner.user_id,
                    "owner_email": owner.email,
                    "plan": plan,
                    "trial": null,
                    "trial_used": false,
                    "created_at": at,
                    "updated_at": at,
                    MEMBERS_FIELD: {
                        owner.user_id.clone(): member_entry(&owner.user_id, &owner.email, "owner", at),
                    },
                    INVITATIONS_FIELD: {},
                }),
            },
            joined(&owner.user_id),
        ],
        BucketEvent::BucketUpdated {
            name,
            comment,
            app_url,
            configuration,
            at,
            ..
        } => vec![merge(
            BUCKETS,
            bucket.to_string(),
            json!({
                "name": name,
                "comment": comment,
                "app_url": app_url,
                "configuration": configuration,
                "updated_at": at,
            }),
        )],
        BucketEvent::MemberInvited {
            email,
            invited_by,
            at,
        } => {
            let invitation = json!({"email": email, "invited_by": invited_by, "created_at": at});
            let mut indexed = invitation.clone();
            indexed["bucket_id"] = json!(bucket);
            vec![
                in_bucket(INVITATIONS_FIELD, &email, Nested::Set(invitation)),
                touch(at),
                ViewOp::Upsert {
                    collection: INVITATIONS.into(),
                    id: sub_doc_id(bucket, &email),
                    owner: None,
                    ord: None,
                    doc: indexed,
                },
            ]
        }
        BucketEvent::MemberAdded {
            user_id,
            email,
            role,
            at,
            ..
        } => vec![
            in_bucket(
                MEMBERS_FIELD,
                &user_id,
                Nested::Set(member_entry(&user_id, &email, role.as_str(), at)),
            ),
            touch(at),
            joined(&user_id),
        ],
        BucketEvent::InvitationAccepted {
            email,
            user_id,
            role,
            at,
        } => vec![
            in_bucket(INVITATIONS_FIELD, &email, Nested::Remove),
            in_bucket(
                MEMBERS_FIELD,
                &user_id,
                Nested::Set(member_entry(&user_id, &email, role.as_str(), at)),
            ),
            touch(at),
            uninvited(&email),
            joined(&user_id),
        ],
        BucketEvent::InvitationRemoved { email, at, .. } => vec![
            in_bucket(INVITATIONS_FIELD, &email, Nested::Remove),
            touch(at),
            uninvited(&email),
        ],
        BucketEvent::MemberRemoved { user_id, at, .. } => vec![
            in_bucket(MEMBERS_FIELD, &user_id, Nested::Remove),
            touch(at),
            left(&user_id),
        ],
        BucketEvent::RoleChanged {
            user_id, role, at, ..
        } => vec![
            in_bucket(
                MEMBERS_FIELD,
                &user_id,
                Nested::Merge(json!({"role": role})),
            ),
            touch(at),
        ],
        BucketEvent::NotificationStateChanged { user_id, state, .. } => vec![in_bucket(
            MEMBERS_FIELD,
            &user_id,
            Nested::Merge(json!({"notification": state})),
        )],
        BucketEvent::UserOptionsChanged {
            user_id, options, ..
        } => vec![in_bucket(
            MEMBERS_FIELD,
            &user_id,
            Nested::Merge(json!({"options": options})),
        )],
        // The erased form a rebuild reads from the sealed fields once the keys are gone.
        BucketEvent::MemberErased {
            user_id,
            email,
            owner,
            ..
        } => {
            let mut ops = vec![in_bucket(
                MEMBERS_FIELD,
                &user_id,
                Nested::Merge(json!({"email": email})),
            )];
            if owner {
                ops.push(merge(
                    BUCKETS,
                    bucket.to_string(),
                    json!({"owner_email": email}),
                ));
            }
            ops
        }
        BucketEvent::OwnershipTransferred { from, to, at } => vec![
            merge(
                BUCKETS,
                bucket.to_string(),
                json!({"owner": to.user_id, "owner_email": to.email, "updated_at": at}),
            ),
            in_bucket(
                MEMBERS_FIELD,
                &to.user_id,
                Nested::Merge(json!({"role": "owner"})),
            ),
            in_bucket(
                MEMBERS_FIELD,
                &from.user_id,
                Nested::Merge(json!({"role": "admin"})),
            ),
        ],
        // Feedback is for the people running the service: the event is the record.
        BucketEvent::FeedbackSent { .. } => vec![],
        BucketEvent::PaymentMethodAttached {
            user_id,
            method,
            at,
        } => vec![ViewOp::Upsert {
            collection: PAYMENT_METHODS.into(),
            id: method.id.clone(),
            owner: Some(user_id.clone()),
            ord: None,
            doc: json!({
                "bucket_id": bucket,
                "user_id": user_id,
                "_id": method.id,
                "provider": method.provider,
                "brand": method.brand,
                "last4": method.last4,
                "created_at": at,
            }),
        }],
        BucketEvent::PaymentMethodDetached { method_id, .. } => vec![ViewOp::Delete {
            collection: PAYMENT_METHODS.into(),
            id: method_id,
        }],
        BucketEvent::PlanChanged { plan, at, .. } => vec![merge(
            BUCKETS,
            bucket.to_string(),
            json!({"plan": plan, "trial": null, "updated_at": at}),
        )],
        BucketEvent::ChargeRecorded {
            charge,
            plan,
            by,
            at,
        } => vec![ViewOp::Upsert {
            collection: CHARGES.into(),
            id: charge.id.clone(),
            owner: Some(by.clone()),
            ord: None,
            doc: json!({
                "bucket_id": bucket,
                "_id": charge.id,
                "amount": charge.amount,
                "currency": charge.currency,
                "plan": plan,
                "payment_method": charge.payment_method,
                "provider": charge.provider,
                "description": charge.description,
                "status": "succeeded",
                "by": by,
                "created_at": at,
            }),
        }],
        BucketEvent::TrialStarted {
            plan, ends_at, at, ..
        } => vec![merge(
            BUCKETS,
            bucket.to_string(),
            json!({
                "trial": {"plan": plan, "started_at": at, "ends_at": ends_at},
                "trial_used": true,
                "updated_at": at,
            }),
        )],
        BucketEvent::ServerConnected {
            server_name,
            hostname,
            pm2_version,
            at,
        } => vec![ViewOp::Upsert {
            collection: SERVERS.into(),
            id: sub_doc_id(bucket, &server_name),
            owner: None,
            ord: None,
            doc: json!({
                "bucket_id": bucket,
                "name": server_name,
                "hostname": hostname,
                "pm2_version": pm2_version,
                "connected_at": at,
            }),
        }],
        BucketEvent::ServerRemoved { server_name, .. } => vec![ViewOp::Delete {
            collection: SERVERS.into(),
            id: sub_doc_id(bucket, &server_name),
        }],
        BucketEvent::BucketDeleted {
            member_ids,
            invitations,
            servers,
            payment_methods,
            charges,
            at,
            ..
        } => {
            // Stamped before it goes, so the last state [`BucketDoc`] keeps is the deletion's.
            let mut ops = vec![
                touch(at),
                ViewOp::Delete {
                    collection: BUCKETS.into(),
                    id: bucket.to_string(),
                },
            ];
            let delete = |collection: &'static str, id: String| ViewOp::delete(collection, id);
            ops.extend(member_ids.iter().map(|u| left(u)));
            ops.extend(invitations.iter().map(|e| uninvited(e)));
            ops.extend(
                servers
                    .iter()
                    .map(|s| delete(SERVERS, sub_doc_id(bucket, s))),
            );
            ops.extend(
                payment_methods
                    .into_iter()
                    .map(|m| delete(PAYMENT_METHODS, m)),
            );
            ops.extend(charges.into_iter().map(|c| delete(CHARGES, c)));
            ops
        }
    }
}

/// A bucket's `buckets` document folded from its events in memory, through [`changes`]: the
/// document the projection holds after the same events. Once the bucket is deleted, `doc`
/// stays as it was last (stamped with the deletion) and `deleted` is set.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketDoc {
    pub doc: Value,
    pub deleted: bool,
}

impl BucketDoc {
    pub fn apply(&mut self, event: &BucketEvent) {
        let id = match event {
            BucketEvent::BucketCreated { bucket_id, .. } => bucket_id.clone(),
            _ => match self.doc["_id"].as_str() {
                Some(id) => id.to_string(),
                None => return,
            },
        };
        for op in changes(&id, event.clone()) {
            match op {
                ViewOp::Upsert {
                    collection, doc, ..
                } if collection == BUCKETS => {
                    self.doc = doc;
                    self.deleted = false;
                }
                ViewOp::Delete { collection, .. } if collection == BUCKETS => {
                    self.deleted = true;
                }
                _ if self.deleted => {}
                ViewOp::Merge {
                    collection, patch, ..
                } if collection == BUCKETS => {
                    if let (Value::Object(doc), Value::Object(patch)) = (&mut self.doc, patch) {
                        doc.extend(patch);
                    }
                }
                ViewOp::Nested {
                    collection,
                    path,
                    change,
                    ..
                } if collection == BUCKETS => change.apply(&mut self.doc, &path),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use annals_domain::workspaces::{Person, Plan, PlanLimits, Role};
    use chrono::Utc;
    use serde_json::Value;

    use super::*;
    use annals_contracts::{Position, StoredEvent};

    fn envelope(event: BucketEvent) -> Envelope {
        use cqrs_es::DomainEvent;
        let name = event.event_type();
        let stored = StoredEvent {
            position: Position::new(1, 1),
            aggregate_type: "bucket".into(),
            aggregate_id: "b1".into(),
            sequence: 1,
            event_type: name.clone(),
            event_version: "1.0".into(),
            payload: serde_json::to_value(&event).unwrap(),
            metadata: HashMap::new(),
            recorded_at: Utc::now(),
        };
        Envelope::from_stored(&stored, Position::ZERO)
    }

    fn doc_of(ops: &[ViewOp], collection: &str) -> Value {
        ops.iter()
            .find_map(|op| match op {
                ViewOp::Upsert {
                    collection: c, doc, ..
                } if *c == collection => Some(doc.clone()),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn a_created_bucket_has_its_document_and_its_owner_as_member() {
        let ops = BucketViews
            .project(&envelope(BucketEvent::BucketCreated {
                bucket_id: "b1".into(),
                name: "prod".into(),
                comment: String::new(),
                app_url: String::new(),
                configuration: json!({}),
                public_id: "p".into(),
                secret_id: "s".into(),
                owner: Person {
                    user_id: "u1".into(),
                    email: "a@b.c".into(),
                },
                plan: Plan {
                    name: "free".into(),
                    limits: PlanLimits {
                        max_members: 5,
                        max_servers: 2,
                    },
                    price: 0,
                    currency: "eur".into(),
                },
                at: Utc::now(),
            }))
            .unwrap();
        let bucket = doc_of(&ops, BUCKETS);
        assert_eq!(bucket["_id"], "b1");
        assert_eq!(bucket["secret_id"], "s", "members need the agent key");
        assert_eq!(bucket["plan"]["limits"]["max_members"], 5);
        assert_eq!(bucket["members"]["u1"]["role"], "owner");
        assert_eq!(bucket["invitations"], json!({}));
        let member = doc_of(&ops, MEMBERS);
        assert_eq!(member, json!({"bucket_id": "b1", "user_id": "u1"}));
    }

    #[test]
    fn an_accepted_invitation_moves_to_the_members() {
        let ops = BucketViews
            .project(&envelope(BucketEvent::InvitationAccepted {
                email: "c@d.e".into(),
                user_id: "u2".into(),
                role: Role::User,
                at: Utc::now(),
            }))
            .unwrap();
        assert!(ops.contains(&ViewOp::Delete {
            collection: INVITATIONS.into(),
            id: "b1:c@d.e".into()
        }));
        assert!(ops.contains(&ViewOp::Nested {
            collection: BUCKETS.into(),
            id: "b1".into(),
            path: vec!["invitations".into(), "c@d.e".into()],
            change: Nested::Remove,
        }));
        assert_eq!(doc_of(&ops, MEMBERS)["user_id"], "u2");
    }

    /// The in-memory fold gives the document the projection's changes give in a store.
    #[test]
    fn the_folded_document_is_the_projected_one() {
        let t = Utc::now();
        let person = |id: &str| Person {
            user_id: id.into(),
            email: format!("{id}@example.com"),
        };
        let events = vec![
            BucketEvent::BucketCreated {
                bucket_id: "b1".into(),
                name: "prod".into(),
                comment: String::new(),
                app_url: String::new(),
                configuration: json!({}),
                public_id: "p".into(),
                secret_id: "s".into(),
                owner: person("u1"),
                plan: Plan {
                    name: "free".into(),
                    limits: PlanLimits {
                        max_members: 5,
                        max_servers: 2,
                    },
                    price: 0,
                    currency: "eur".into(),
                },
                at: t,
            },
            BucketEvent::MemberInvited {
                email: "c@d.e".into(),
                invited_by: "u1".into(),
                at: t,
            },
            BucketEvent::MemberInvited {
                email: "x@y.z".into(),
                invited_by: "u1".into(),
                at: t,
            },
            BucketEvent::InvitationAccepted {
                email: "c@d.e".into(),
                user_id: "u2".into(),
                role: Role::User,
                at: t,
            },
            BucketEvent::RoleChanged {
                user_id: "u2".into(),
                email: "u2@example.com".into(),
                role: Role::Admin,
                by: "u1".into(),
                at: t,
            },
            BucketEvent::OwnershipTransferred {
                from: person("u1"),
                to: person("u2"),
                at: t,
            },
        ];
        let mut folded = BucketDoc::default();
        let mut stored: Option<Value> = None;
        for event in events {
            folded.apply(&event);
            for op in BucketViews.project(&envelope(event)).unwrap() {
                match op {
                    ViewOp::Upsert {
                        collection, doc, ..
                    } if collection == BUCKETS => stored = Some(doc),
                    ViewOp::Merge {
                        collection, patch, ..
                    } if collection == BUCKETS => {
                        let doc = stored.as_mut().unwrap().as_object_mut().unwrap();
                        doc.extend(patch.as_object().unwrap().clone());
                    }
                    ViewOp::Nested {
                        collection,
                        path,
                        change,
                        ..
                    } if collection == BUCKETS => change.apply(stored.as_mut().unwrap(), &path),
                    _ => {}
                }
            }
        }
        assert_eq!(Some(&folded.doc), stored.as_ref());
        assert!(!folded.deleted);
        let doc = &folded.doc;
        assert_eq!(doc["owner"], "u2");
        assert_eq!(doc["members"]["u2"]["role"], "owner");
        assert_eq!(doc["members"]["u1"]["role"], "admin");
        assert_eq!(
            doc["invitations"],
            json!({"x@y.z": {"email": "x@y.z", "invited_by": "u1", "created_at": t}})
        );

        folded.apply(&BucketEvent::BucketDeleted {
            member_ids: vec!["u1".into(), "u2".into()],
            invitations: vec!["x@y.z".into()],
            servers: vec![],
            payment_methods: vec![],
            charges: vec![],
            by: "u2".into(),
            at: t + chrono::Duration::seconds(1),
        });
        assert!(folded.deleted);
        assert_eq!(folded.doc["_id"], "b1", "the last state stays");
    }

    #[test]
    fn other_aggregates_are_ignored() {
        let mut env = envelope(BucketEvent::FeedbackSent {
            user_id: "u".into(),
            feedback: "f".into(),
            at: Utc::now(),
        });
        env.aggregatetype = "user".into();
        assert!(BucketViews.project(&env).unwrap().is_empty());
    }
}
