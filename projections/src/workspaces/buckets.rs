//! `buckets` and its companions: one document per bucket, plus one per member, pending
//! invitation, connected server, payment method and charge.
//!
//! Projections see one event at a time and documents change by shallow merges, so every list
//! of a bucket lives in its own collection (documents keyed `<bucket id>:<key>`, each naming
//! its `bucket_id`) instead of in an array of the bucket document. The HTTP layer assembles
//! the API's bucket object from them.
//!
//! | collection | id | fields |
//! |---|---|---|
//! | `buckets` | bucket id | `_id name comment app_url configuration public_id secret_id owner owner_email plan trial trial_used created_at updated_at` |
//! | `bucket_members` | `<bucket>:<user id>` | `bucket_id user_id email role notification options joined_at` |
//! | `bucket_invitations` | `<bucket>:<email>` | `bucket_id email invited_by created_at` (also how a registration finds its invitations) |
//! | `bucket_servers` | `<bucket>:<server name>` | `bucket_id name hostname pm2_version connected_at` |
//! | `bucket_payment_methods` | method id | `bucket_id user_id _id provider brand last4 created_at` |
//! | `bucket_charges` | charge id | `bucket_id _id amount currency plan payment_method provider description status by created_at` |
//!
//! `plan` is the subscribed plan; `trial` (`{plan, ends_at}` or null) overrides it until
//! `ends_at`.
use annals_domain::workspaces::{Bucket, BucketEvent};
use cqrs_es::Aggregate;
use serde_json::json;

use crate::{Projection, ProjectionError};
use annals_contracts::{Envelope, ViewOp};

pub const BUCKETS: &str = "buckets";
pub const MEMBERS: &str = "bucket_members";
pub const INVITATIONS: &str = "bucket_invitations";
pub const SERVERS: &str = "bucket_servers";
pub const PAYMENT_METHODS: &str = "bucket_payment_methods";
pub const CHARGES: &str = "bucket_charges";

const NAME: &str = "workspace_buckets";

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
        let decoded: BucketEvent = event.decode().map_err(|e| ProjectionError {
            projection: NAME,
            event: event.id.clone(),
            reason: e.to_string(),
        })?;
        let bucket = event.aggregateid.clone();
        let merge = |collection: &'static str, id: String, patch| ViewOp::Merge {
            collection: collection.into(),
            id,
            patch,
        };
        let touch = |at| merge(BUCKETS, bucket.clone(), json!({"updated_at": at}));
        let member = |user_id: &str, email: &str, role, at| ViewOp::Upsert {
            collection: MEMBERS.into(),
            id: member_doc_id(&bucket, user_id),
            owner: Some(user_id.to_string()),
            doc: json!({
                "bucket_id": bucket,
                "user_id": user_id,
                "email": email,
                "role": role,
                "notification": "email",
                "options": {},
                "joined_at": at,
            }),
        };
        Ok(match decoded {
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
                    id: bucket.clone(),
                    owner: Some(owner.user_id.clone()),
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
                    }),
                },
                member(&owner.user_id, &owner.email, "owner", at),
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
                bucket.clone(),
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
            } => vec![
                ViewOp::Upsert {
                    collection: INVITATIONS.into(),
                    id: sub_doc_id(&bucket, &email),
                    owner: None,
                    doc: json!({
                        "bucket_id": bucket,
                        "email": email,
                        "invited_by": invited_by,
                        "created_at": at,
                    }),
                },
                touch(at),
            ],
            BucketEvent::MemberAdded {
                user_id,
                email,
                role,
                at,
                ..
            } => vec![member(&user_id, &email, role.as_str(), at), touch(at)],
            BucketEvent::InvitationAccepted {
                email,
                user_id,
                role,
                at,
            } => vec![
                ViewOp::Delete {
                    collection: INVITATIONS.into(),
                    id: sub_doc_id(&bucket, &email),
                },
                member(&user_id, &email, role.as_str(), at),
                touch(at),
            ],
            BucketEvent::InvitationRemoved { email, at, .. } => vec![
                ViewOp::Delete {
                    collection: INVITATIONS.into(),
                    id: sub_doc_id(&bucket, &email),
                },
                touch(at),
            ],
            BucketEvent::MemberRemoved { user_id, at, .. } => vec![
                ViewOp::Delete {
                    collection: MEMBERS.into(),
                    id: member_doc_id(&bucket, &user_id),
                },
                touch(at),
            ],
            BucketEvent::RoleChanged {
                user_id, role, at, ..
            } => vec![
                merge(
                    MEMBERS,
                    member_doc_id(&bucket, &user_id),
                    json!({"role": role}),
                ),
                touch(at),
            ],
            BucketEvent::NotificationStateChanged { user_id, state, .. } => vec![merge(
                MEMBERS,
                member_doc_id(&bucket, &user_id),
                json!({"notification": state}),
            )],
            BucketEvent::UserOptionsChanged {
                user_id, options, ..
            } => vec![merge(
                MEMBERS,
                member_doc_id(&bucket, &user_id),
                json!({"options": options}),
            )],
            BucketEvent::OwnershipTransferred { from, to, at } => vec![
                merge(
                    BUCKETS,
                    bucket.clone(),
                    json!({"owner": to.user_id, "owner_email": to.email, "updated_at": at}),
                ),
                merge(
                    MEMBERS,
                    member_doc_id(&bucket, &to.user_id),
                    json!({"role": "owner"}),
                ),
                merge(
                    MEMBERS,
                    member_doc_id(&bucket, &from.user_id),
                    json!({"role": "admin"}),
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
                bucket.clone(),
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
                bucket.clone(),
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
                id: sub_doc_id(&bucket, &server_name),
                owner: None,
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
                id: sub_doc_id(&bucket, &server_name),
            }],
            BucketEvent::BucketDeleted {
                member_ids,
                invitations,
                servers,
                payment_methods,
                charges,
                ..
            } => {
                let mut ops = vec![ViewOp::Delete {
                    collection: BUCKETS.into(),
                    id: bucket.clone(),
                }];
                let delete = |collection: &'static str, id| ViewOp::delete(collection, id);
                ops.extend(
                    member_ids
                        .iter()
                        .map(|u| delete(MEMBERS, member_doc_id(&bucket, u))),
                );
                ops.extend(
                    invitations
                        .iter()
                        .map(|e| delete(INVITATIONS, sub_doc_id(&bucket, e))),
                );
                ops.extend(
                    servers
                        .iter()
                        .map(|s| delete(SERVERS, sub_doc_id(&bucket, s))),
                );
                ops.extend(
                    payment_methods
                        .into_iter()
                        .map(|m| delete(PAYMENT_METHODS, m)),
                );
                ops.extend(charges.into_iter().map(|c| delete(CHARGES, c)));
                ops
            }
        })
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
        let member = doc_of(&ops, MEMBERS);
        assert_eq!(member["role"], "owner");
        assert_eq!(member["bucket_id"], "b1");
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
        assert_eq!(doc_of(&ops, MEMBERS)["user_id"], "u2");
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
