//! `datacube_databases`: one document per live database, shaped for get_metadata.
//!
//! | id | owner | fields |
//! |---|---|---|
//! | database id | owner's user id | `_id user_id displayName dbName created_at updated_at`, `collections: {<name>: {collection_id name fields created_at order}}` |
//!
//! Collections are keyed by name so each event changes its own entry; `order` (the event's
//! sequence and the place in it) gives them back in creation order.
use annals_domain::datacube::{Collection, Database, DatabaseEvent};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde_json::{Value, json};

use annals_contracts::{Envelope, Nested, ViewOp};

use crate::{Projection, ProjectionError};

pub const DATABASES: &str = "datacube_databases";
const NAME: &str = "datacube_databases";

/// The original's physical name, `<name>_<first 6 characters of the owner id>_V2`: only a
/// label here, since data is stored by database id.
pub fn physical_name(name: &str, owner: &str) -> String {
    let prefix: String = owner.chars().take(6).collect();
    format!("{}_{prefix}_V2", name.replace(' ', "_"))
}

pub struct DatabaseViews;

fn entry(c: &Collection, at: DateTime<Utc>, order: i64) -> Value {
    json!({
        "collection_id": c.collection_id,
        "name": c.name,
        "fields": c.fields,
        "created_at": at,
        "order": order,
    })
}

impl Projection for DatabaseViews {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collections(&self) -> &'static [&'static str] {
        &[DATABASES]
    }

    fn project(&self, event: &Envelope) -> Result<Vec<ViewOp>, ProjectionError> {
        if event.aggregatetype != Database::TYPE {
            return Ok(vec![]);
        }
        let decoded: DatabaseEvent = event
            .decode()
            .map_err(|e| ProjectionError::unreadable(NAME, event, e))?;
        let id = event.aggregateid.clone();
        let order = |i: usize| event.sequence * 10_000 + i as i64;
        let in_collections = |name: &str, change| ViewOp::Nested {
            collection: DATABASES.into(),
            id: id.clone(),
            path: vec!["collections".into(), name.to_string()],
            change,
        };
        let touch =
            |at: DateTime<Utc>| ViewOp::merge(DATABASES, id.clone(), json!({"updated_at": at}));
        Ok(match decoded {
            DatabaseEvent::DatabaseCreated {
                database_id,
                owner,
                name,
                collections,
                at,
            } => {
                let collections: serde_json::Map<String, Value> = collections
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.name.clone(), entry(c, at, order(i))))
                    .collect();
                vec![ViewOp::Upsert {
                    collection: DATABASES.into(),
                    id: id.clone(),
                    owner: Some(owner.clone()),
                    ord: None,
                    doc: json!({
                        "_id": database_id,
                        "user_id": owner,
                        "displayName": name,
                        "dbName": physical_name(&name, &owner),
                        "collections": collections,
                        "created_at": at,
                        "updated_at": at,
                    }),
                }]
            }
            DatabaseEvent::CollectionsAdded { collections, at } => collections
                .iter()
                .enumerate()
                .map(|(i, c)| in_collections(&c.name, Nested::Set(entry(c, at, order(i)))))
                .chain([touch(at)])
                .collect(),
            DatabaseEvent::CollectionsDropped { names, at, .. } => names
                .iter()
                .map(|n| in_collections(n, Nested::Remove))
                .chain([touch(at)])
                .collect(),
            DatabaseEvent::DatabaseDropped { .. } => vec![ViewOp::delete(DATABASES, id)],
        })
    }
}
