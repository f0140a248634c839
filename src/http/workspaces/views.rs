//! The bucket as the API shows it, rendered from one shape, the bucket document of
//! `annals_projections::workspaces` (its members and invitations inside): read from the read
//! model by reads, folded from the command's events by writes (`Written::doc`).
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use annals_contracts::filter::{FieldPath, Filter, Query, Sort};
use annals_projections::Projection;
use annals_projections::workspaces::{
    BUCKETS, BucketViews, CHARGES, INVITATIONS_FIELD, MEMBERS, MEMBERS_FIELD, PAYMENT_METHODS,
    SERVERS,
};

use crate::http::consistency::Freshness;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::workspaces::invitations::REACTOR;

/// Far above any plan's caps; bounds what one read loads.
const MAX_ROWS: u32 = 1000;

fn path(p: &str) -> FieldPath {
    FieldPath::parse(p).expect("a valid field path")
}

fn query(filter: Filter, sort: &str) -> Query {
    Query::new(
        filter,
        vec![Sort::parse(sort).expect("a valid sort key")],
        MAX_ROWS,
    )
}

/// Waits until the read models hold every write committed before this read (or up to the
/// caller's `X-Annals-Position`), including invitations accepted because of a registration:
/// one wait, for the invitation reactor and the bucket views to pass the same position. The
/// reactor only moves past a registration once the bucket views applied the invitations it
/// accepted (`services::workspaces::invitations`), so both past the position means those are
/// in the views too.
pub async fn fresh(state: &AppState, headers: &HeaderMap) -> Result<Freshness, AppError> {
    state
        .gate
        .wait(headers, &[REACTOR, BucketViews.name()])
        .await
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

fn not_found() -> AppError {
    AppError::NotFound("bucket not found".into())
}

/// The bucket document `id` if `user_id` is a member of it (after [`fresh`]): one read by id,
/// the membership checked on the document; 404 for a bucket that does not exist or is not
/// theirs.
pub async fn bucket(state: &AppState, id: &str, user_id: &str) -> Result<Value, AppError> {
    let doc = state
        .gate
        .views
        .get(BUCKETS, id)
        .await?
        .ok_or_else(not_found)?;
    member(&doc, user_id).ok_or_else(not_found)?;
    Ok(doc)
}

/// The caller's member entry of a bucket document.
pub fn member<'a>(doc: &'a Value, user_id: &str) -> Option<&'a Value> {
    doc[MEMBERS_FIELD].get(user_id)
}

/// The caller's member entry, or 404 for a bucket that does not exist or is not theirs.
pub async fn membership(state: &AppState, id: &str, user_id: &str) -> Result<Value, AppError> {
    let doc = bucket(state, id, user_id).await?;
    Ok(member(&doc, user_id).cloned().unwrap_or(Value::Null))
}

/// Every bucket document `user_id` is a member of, oldest first.
pub async fn buckets_of(state: &AppState, user_id: &str) -> Result<Vec<Value>, AppError> {
    let memberships = find(
        state,
        MEMBERS,
        &query(Filter::Eq(path("user_id"), json!(user_id)), "bucket_id"),
    )
    .await?;
    let ids: Vec<Value> = memberships.iter().map(|m| m["bucket_id"].clone()).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let buckets = find(
        state,
        BUCKETS,
        &query(Filter::In(path("_id"), ids), "created_at"),
    )
    .await?;
    // The document decides: a membership index a moment ahead or behind is not a membership.
    Ok(buckets
        .into_iter()
        .filter(|doc| member(doc, user_id).is_some())
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
pub fn render_member(entry: &Value) -> Value {
    let mut member = person(&entry["user_id"], &entry["email"]);
    member["role"] = entry["role"].clone();
    member["notification"] = entry["notification"].clone();
    member["joined_at"] = entry["joined_at"].clone();
    member
}

/// The entries of a keyed list of the document, ordered by the time `at` (then by key).
fn ordered<'a>(doc: &'a Value, field: &str, at: &str) -> Vec<&'a Value> {
    let Some(entries) = doc[field].as_object() else {
        return vec![];
    };
    let time = |entry: &Value| {
        entry[at]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    };
    let mut entries: Vec<(&String, &Value)> = entries.iter().collect();
    entries.sort_by(|(ka, a), (kb, b)| time(a).cmp(&time(b)).then_with(|| ka.cmp(kb)));
    entries.into_iter().map(|(_, entry)| entry).collect()
}

/// The members, in the order they joined.
pub fn render_members(doc: &Value) -> Vec<Value> {
    ordered(doc, MEMBERS_FIELD, "joined_at")
        .into_iter()
        .map(render_member)
        .collect()
}

/// The pending invitations, oldest first.
pub fn render_invitations(doc: &Value) -> Vec<Value> {
    ordered(doc, INVITATIONS_FIELD, "created_at")
        .into_iter()
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

/// The bucket object of the API, from its document. `caller` picks whose `user_options` are
/// shown; `public_url` is the node every client request about this bucket goes to.
pub fn render(b: &Value, caller: &str, public_url: &str, now: DateTime<Utc>) -> Value {
    let (plan, trial_end) = plan_at(b, now);
    let payer = person(&b["owner"], &b["owner_email"]);
    let status = if trial_end.is_some() {
        "trialing"
    } else if plan["price"].as_u64().unwrap_or(0) > 0 {
        "active"
    } else {
        "free"
    };
    let options = member(b, caller).map_or_else(|| json!({}), |m| m["options"].clone());
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
    out.insert("members".into(), json!(render_members(b)));
    out.insert("invitations".into(), json!(render_invitations(b)));
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
    use annals_domain::workspaces::{
        BucketEvent, NotificationState, PaymentMethod, Person, Plan, PlanLimits, Role,
    };
    use annals_projections::workspaces::BucketDoc;
    use chrono::Duration;

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

    /// A bucket's document after a history, as the API shows it.
    #[test]
    fn the_bucket_object_is_rendered_from_its_document() {
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
        let mut folded = BucketDoc::default();
        for event in &events {
            folded.apply(event);
        }
        let projected = folded.doc;
        let alice = render(&projected, "alice", "http://node", at(20));
        assert_eq!(alice["user_options"], json!({}));
        assert_eq!(alice["invitations"].as_array().unwrap().len(), 1);
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
