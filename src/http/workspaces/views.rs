//! The bucket as the API shows it, assembled from the read models (reads) or from the
//! aggregate (answers to writes), through one shape: the documents of
//! `annals_projections::workspaces`.
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use annals_contracts::filter::{FieldPath, Filter, Query, Sort};
use annals_domain::workspaces::Bucket;
use annals_projections::Projection;
use annals_projections::workspaces::{
    BUCKETS, BucketViews, CHARGES, INVITATIONS, MEMBERS, PAYMENT_METHODS, SERVERS, member_doc_id,
};

use crate::http::consistency::Freshness;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::workspaces::invitations::REACTOR;

/// Far above any plan's caps; bounds what one read loads.
const MAX_ROWS: u32 = 1000;

/// A bucket's documents.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketDocs {
    pub bucket: Value,
    pub members: Vec<Value>,
    pub invitations: Vec<Value>,
}

fn path(p: &str) -> FieldPath {
    FieldPath::parse(p).expect("a valid field path")
}

fn query(filter: Filter, sort: &str) -> Query {
    Query {
        filter,
        sort: vec![Sort::parse(sort).expect("a valid sort key")],
        limit: MAX_ROWS,
        offset: 0,
        after: None,
        count: false,
    }
}

/// Waits until the read models hold every write committed before this read (or up to the
/// caller's `X-Annals-Position`), including invitations accepted because of a registration:
/// first the invitation reactor, then the bucket views up to what the reactor wrote.
pub async fn fresh(state: &AppState, headers: &HeaderMap) -> Result<Freshness, AppError> {
    let reacted = state.gate.wait(headers, &[REACTOR]).await?;
    let projected = state
        .gate
        .wait(&HeaderMap::new(), &[BucketViews.name()])
        .await?;
    Ok(
        if reacted == Freshness::Fresh && projected == Freshness::Fresh {
            Freshness::Fresh
        } else {
            Freshness::Stale
        },
    )
}

async fn find(state: &AppState, collection: &str, q: &Query) -> Result<Vec<Value>, AppError> {
    Ok(state
        .gate
        .views
        .find(collection, q)
        .await?
        .items
        .into_iter()
        .map(|(_, doc)| doc)
        .collect())
}

/// The caller's member document, or 404 for a bucket that does not exist or is not theirs.
pub async fn membership(state: &AppState, id: &str, user_id: &str) -> Result<Value, AppError> {
    state
        .gate
        .views
        .get(MEMBERS, &member_doc_id(id, user_id))
        .await?
        .ok_or_else(|| AppError::NotFound("bucket not found".into()))
}

/// The bucket `id` if `user_id` is a member of it (after [`fresh`]).
pub async fn bucket(state: &AppState, id: &str, user_id: &str) -> Result<BucketDocs, AppError> {
    membership(state, id, user_id).await?;
    let bucket = state
        .gate
        .views
        .get(BUCKETS, id)
        .await?
        .ok_or_else(|| AppError::NotFound("bucket not found".into()))?;
    let of_bucket = || Filter::Eq(path("bucket_id"), json!(id));
    let members = find(state, MEMBERS, &query(of_bucket(), "joined_at")).await?;
    let invitations = find(state, INVITATIONS, &query(of_bucket(), "created_at")).await?;
    Ok(BucketDocs {
        bucket,
        members,
        invitations,
    })
}

/// Every bucket `user_id` is a member of, oldest first.
pub async fn buckets_of(state: &AppState, user_id: &str) -> Result<Vec<BucketDocs>, AppError> {
    let memberships = find(
        state,
        MEMBERS,
        &query(Filter::Eq(path("user_id"), json!(user_id)), "joined_at"),
    )
    .await?;
    let ids: Vec<Value> = memberships.iter().map(|m| m["bucket_id"].clone()).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let buckets = find(
        state,
        BUCKETS,
        &query(Filter::In(path("_id"), ids.clone()), "created_at"),
    )
    .await?;
    let in_buckets = || Filter::In(path("bucket_id"), ids.clone());
    let members = find(state, MEMBERS, &query(in_buckets(), "joined_at")).await?;
    let invitations = find(state, INVITATIONS, &query(in_buckets(), "created_at")).await?;
    Ok(buckets
        .into_iter()
        .map(|bucket| {
            let mine = |doc: &&Value| doc["bucket_id"] == bucket["_id"];
            BucketDocs {
                members: members.iter().filter(mine).cloned().collect(),
                invitations: invitations.iter().filter(mine).cloned().collect(),
                bucket,
            }
        })
        .collect())
}

pub async fn servers(state: &AppState, id: &str) -> Result<Vec<Value>, AppError> {
    let docs = find(
        state,
        SERVERS,
        &query(Filter::Eq(path("bucket_id"), json!(id)), "connected_at"),
    )
    .await?;
    Ok(docs.into_iter().map(render_server).collect())
}

pub async fn charges(state: &AppState, id: &str) -> Result<Vec<Value>, AppError> {
    let docs = find(
        state,
        CHARGES,
        &query(Filter::Eq(path("bucket_id"), json!(id)), "-created_at"),
    )
    .await?;
    Ok(docs.into_iter().map(strip_bucket_id).collect())
}

pub async fn payment_methods(
    state: &AppState,
    id: &str,
    user_id: &str,
) -> Result<Vec<Value>, AppError> {
    let filter = Filter::And(vec![
        Filter::Eq(path("bucket_id"), json!(id)),
        Filter::Eq(path("user_id"), json!(user_id)),
    ]);
    let docs = find(state, PAYMENT_METHODS, &query(filter, "created_at")).await?;
    Ok(docs.into_iter().map(strip_bucket_id).collect())
}

/// Buckets whose agents use `public_id`.
pub async fn bucket_id_by_public_id(
    state: &AppState,
    public_id: &str,
) -> Result<Option<String>, AppError> {
    let found = find(
        state,
        BUCKETS,
        &query(
            Filter::Eq(path("public_id"), json!(public_id)),
            "created_at",
        ),
    )
    .await?;
    Ok(found
        .first()
        .and_then(|b| b["_id"].as_str())
        .map(str::to_string))
}

fn strip_bucket_id(mut doc: Value) -> Value {
    if let Some(map) = doc.as_object_mut() {
        map.remove("bucket_id");
    }
    doc
}

pub fn render_server(doc: Value) -> Value {
    json!({
        "_id": doc["name"],
        "name": doc["name"],
        "server_name": doc["name"],
        "hostname": doc["hostname"],
        "pm2_version": doc["pm2_version"],
        "connected_at": doc["connected_at"],
    })
}

/// The documents the projection would hold for this bucket.
pub fn docs_of(bucket: &Bucket) -> BucketDocs {
    let plan = bucket.plan.clone();
    let trial = bucket
        .trial
        .as_ref()
        .map(|t| json!({"plan": t.plan, "started_at": null, "ends_at": t.ends_at}));
    BucketDocs {
        bucket: json!({
            "_id": bucket.bucket_id,
            "name": bucket.name,
            "comment": bucket.comment,
            "app_url": bucket.app_url,
            "configuration": bucket.configuration,
            "public_id": bucket.public_id,
            "secret_id": bucket.secret_id,
            "owner": bucket.owner,
            "owner_email": bucket.member(&bucket.owner).map(|m| m.email.clone()),
            "plan": plan,
            "trial": trial,
            "trial_used": bucket.trial_used,
            "created_at": bucket.created_at,
            "updated_at": bucket.updated_at,
        }),
        members: bucket
            .members
            .iter()
            .map(|m| {
                json!({
                    "bucket_id": bucket.bucket_id,
                    "user_id": m.user_id,
                    "email": m.email,
                    "role": m.role,
                    "notification": m.notification,
                    "options": m.options,
                    "joined_at": m.joined_at,
                })
            })
            .collect(),
        invitations: bucket
            .invitations
            .iter()
            .map(|i| {
                json!({
                    "bucket_id": bucket.bucket_id,
                    "email": i.email,
                    "invited_by": i.invited_by,
                    "created_at": i.at,
                })
            })
            .collect(),
    }
}

/// The name shown for an account: the local part of its email.
pub fn username(email: &str) -> String {
    email
        .split_once('@')
        .map_or(email, |(local, _)| local)
        .to_string()
}

fn person(user_id: &Value, email: &Value) -> Value {
    json!({
        "_id": user_id,
        "email": email,
        "username": email.as_str().map(username),
    })
}

/// A member as `users_authorized` lists it.
pub fn render_member(doc: &Value) -> Value {
    let mut member = person(&doc["user_id"], &doc["email"]);
    member["role"] = doc["role"].clone();
    member["notification"] = doc["notification"].clone();
    member["joined_at"] = doc["joined_at"].clone();
    member
}

pub fn render_members(docs: &BucketDocs) -> Vec<Value> {
    docs.members.iter().map(render_member).collect()
}

pub fn render_invitations(docs: &BucketDocs) -> Vec<Value> {
    docs.invitations
        .iter()
        .map(|i| json!({"email": i["email"], "invited_by": i["invited_by"], "created_at": i["created_at"]}))
        .collect()
}

/// The plan in force at `now` and whether it is a running trial.
pub fn plan_at(bucket: &Value, now: DateTime<Utc>) -> (Value, Option<Value>) {
    let trial = &bucket["trial"];
    let running = trial["ends_at"]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .is_some_and(|ends| now < ends);
    if running {
        (trial["plan"].clone(), Some(trial["ends_at"].clone()))
    } else {
        (bucket["plan"].clone(), None)
    }
}

/// The subscription of a bucket on a paid plan or a running trial, `None` on a free plan.
pub fn subscription(bucket: &Value, now: DateTime<Utc>) -> Option<Value> {
    let (plan, trial_end) = plan_at(bucket, now);
    let paid = plan["price"].as_u64().unwrap_or(0) > 0;
    if !paid && trial_end.is_none() {
        return None;
    }
    Some(json!({
        "object": "subscription",
        "plan": plan["name"],
        "status": if trial_end.is_some() { "trialing" } else { "active" },
        "amount": if trial_end.is_some() { json!(0) } else { plan["price"].clone() },
        "currency": plan["currency"],
        "interval": "month",
        "max_members": plan["limits"]["max_members"],
        "max_servers": plan["limits"]["max_servers"],
        "trial_end": trial_end,
        "customer": bucket["owner_email"],
    }))
}

/// The bucket object of the API. `caller` picks whose `user_options` are shown; `public_url`
/// is the node every client request about this bucket goes to.
pub fn render(docs: &BucketDocs, caller: &str, public_url: &str, now: DateTime<Utc>) -> Value {
    let b = &docs.bucket;
    let (plan, trial_end) = plan_at(b, now);
    let payer = person(&b["owner"], &b["owner_email"]);
    let status = if trial_end.is_some() {
        "trialing"
    } else if plan["price"].as_u64().unwrap_or(0) > 0 {
        "active"
    } else {
        "free"
    };
    let options = docs
        .members
        .iter()
        .find(|m| m["user_id"] == caller)
        .map_or_else(|| json!({}), |m| m["options"].clone());
    let mut out = Map::new();
    for key in [
        "_id",
        "name",
        "comment",
        "app_url",
        "configuration",
        "public_id",
        "secret_id",
        "owner",
    ] {
        out.insert(key.into(), b[key].clone());
    }
    out.insert(
        "credits".into(),
        json!({"offer_type": plan["name"], "payer": payer}),
    );
    out.insert(
        "payment".into(),
        json!({
            "offer_type": plan["name"],
            "status": status,
            "trial_end": trial_end,
            "trial_used": b["trial_used"],
            "price": plan["price"],
            "currency": plan["currency"],
        }),
    );
    out.insert("limits".into(), plan["limits"].clone());
    out.insert("members".into(), json!(render_members(docs)));
    out.insert("invitations".into(), json!(render_invitations(docs)));
    out.insert("user_options".into(), options);
    out.insert(
        "node".into(),
        json!({"_id": "default", "name": "default", "endpoints": {"web": public_url}}),
    );
    out.insert("created_at".into(), b["created_at"].clone());
    out.insert("updated_at".into(), b["updated_at"].clone());
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::collections::{BTreeMap, HashMap};

    use annals_contracts::{Envelope, Position, StoredEvent, ViewOp};
    use annals_domain::workspaces::{
        BucketEvent, NotificationState, PaymentMethod, Person, Plan, PlanLimits, Role,
    };
    use chrono::Duration;
    use cqrs_es::{Aggregate, DomainEvent};

    use super::*;

    fn plan(name: &str, price: u64) -> Plan {
        Plan {
            name: name.into(),
            limits: PlanLimits {
                max_members: 10,
                max_servers: 4,
            },
            price,
            currency: "eur".into(),
        }
    }

    fn person(id: &str) -> Person {
        Person {
            user_id: id.into(),
            email: format!("{id}@example.com"),
        }
    }

    /// The same history through the aggregate and through the projection renders the same.
    #[test]
    fn reads_and_write_answers_render_the_same_bucket() {
        let t = Utc::now();
        let at = |s| t + Duration::seconds(s);
        let events = vec![
            BucketEvent::BucketCreated {
                bucket_id: "5d0c1763ef9ce356bb8c0a32".into(),
                name: "prod".into(),
                comment: "c".into(),
                app_url: "https://x".into(),
                configuration: json!({"a": 1}),
                public_id: "p".into(),
                secret_id: "s".into(),
                owner: person("alice"),
                plan: plan("free", 0),
                at: at(0),
            },
            BucketEvent::MemberAdded {
                user_id: "bob".into(),
                email: "bob@example.com".into(),
                role: Role::User,
                added_by: "alice".into(),
                at: at(1),
            },
            BucketEvent::MemberInvited {
                email: "carol@example.com".into(),
                invited_by: "alice".into(),
                at: at(2),
            },
            BucketEvent::MemberInvited {
                email: "dave@example.com".into(),
                invited_by: "alice".into(),
                at: at(3),
            },
            BucketEvent::InvitationAccepted {
                email: "dave@example.com".into(),
                user_id: "dave".into(),
                role: Role::User,
                at: at(4),
            },
            BucketEvent::RoleChanged {
                user_id: "bob".into(),
                email: "bob@example.com".into(),
                role: Role::Admin,
                by: "alice".into(),
                at: at(5),
            },
            BucketEvent::NotificationStateChanged {
                user_id: "bob".into(),
                email: "bob@example.com".into(),
                state: NotificationState::None,
                by: "alice".into(),
                at: at(6),
            },
            BucketEvent::UserOptionsChanged {
                user_id: "bob".into(),
                options: json!({"theme": "dark"}),
                at: at(7),
            },
            BucketEvent::BucketUpdated {
                name: "prod-eu".into(),
                comment: "c".into(),
                app_url: "https://x".into(),
                configuration: json!({"a": 2}),
                by: "alice".into(),
                at: at(8),
            },
            BucketEvent::PaymentMethodAttached {
                user_id: "bob".into(),
                method: PaymentMethod {
                    id: "pm_1".into(),
                    provider: "local".into(),
                    brand: "visa".into(),
                    last4: "4242".into(),
                },
                at: at(9),
            },
            BucketEvent::TrialStarted {
                plan: plan("pro_8", 3900),
                ends_at: at(86_400),
                by: "alice".into(),
                at: at(10),
            },
            BucketEvent::OwnershipTransferred {
                from: person("alice"),
                to: person("bob"),
                at: at(11),
            },
        ];
        let mut bucket = Bucket::default();
        let mut store: HashMap<Cow<str>, BTreeMap<String, Value>> = HashMap::new();
        for (i, event) in events.into_iter().enumerate() {
            let stored = StoredEvent {
                position: Position::new(i as u64 + 1, i as i64 + 1),
                aggregate_type: "bucket".into(),
                aggregate_id: "5d0c1763ef9ce356bb8c0a32".into(),
                sequence: i as i64 + 1,
                event_type: event.event_type(),
                event_version: "1.0".into(),
                payload: serde_json::to_value(&event).unwrap(),
                metadata: HashMap::new(),
                recorded_at: t,
            };
            let envelope = Envelope::from_stored(&stored, Position::ZERO);
            for op in BucketViews.project(&envelope).unwrap() {
                match op {
                    ViewOp::Upsert {
                        collection,
                        id,
                        doc,
                        ..
                    } => {
                        store.entry(collection).or_default().insert(id, doc);
                    }
                    ViewOp::Merge {
                        collection,
                        id,
                        patch,
                    } => {
                        if let Some(Value::Object(doc)) =
                            store.entry(collection).or_default().get_mut(&id)
                        {
                            for (k, v) in patch.as_object().unwrap() {
                                doc.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    ViewOp::Delete { collection, id } => {
                        store.entry(collection).or_default().remove(&id);
                    }
                    ViewOp::Increment { .. } => unreachable!(),
                }
            }
            bucket.apply(event);
        }
        let sorted = |collection: &str, key: &str| {
            let mut docs: Vec<Value> = store
                .get(collection)
                .map(|c| c.values().cloned().collect())
                .unwrap_or_default();
            docs.sort_by_key(|d| d[key].as_str().unwrap_or_default().to_string());
            docs
        };
        let projected = BucketDocs {
            bucket: store[BUCKETS]["5d0c1763ef9ce356bb8c0a32"].clone(),
            members: sorted(MEMBERS, "joined_at"),
            invitations: sorted(INVITATIONS, "created_at"),
        };
        let from_stream = docs_of(&bucket);
        for caller in ["alice", "bob"] {
            assert_eq!(
                render(&projected, caller, "http://node", at(20)),
                render(&from_stream, caller, "http://node", at(20)),
            );
        }
        let shown = render(&projected, "bob", "http://node", at(20));
        assert_eq!(shown["owner"], "bob");
        assert_eq!(shown["credits"]["offer_type"], "pro_8");
        assert_eq!(shown["payment"]["status"], "trialing");
        assert_eq!(shown["user_options"], json!({"theme": "dark"}));
        assert_eq!(shown["node"]["endpoints"]["web"], "http://node");
        assert_eq!(shown["invitations"][0]["email"], "carol@example.com");
        let roles: Vec<&Value> = shown["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["role"])
            .collect();
        assert_eq!(roles, [&json!("admin"), &json!("owner"), &json!("user")]);
        // After the trial, the plan it replaced.
        let later = render(&projected, "bob", "http://node", at(90_000));
        assert_eq!(later["payment"]["offer_type"], "free");
        assert_eq!(later["payment"]["status"], "free");
    }
}
