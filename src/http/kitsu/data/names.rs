//! Names and documents a Kitsu answer refers to (a comment's author, a news entry's entity),
//! read once per request. A page that refers to many records loads them first in one query per
//! model ([`Names::preload`]), so each entry is then answered from memory.
use std::collections::HashMap;

use futures::future::try_join_all;
use serde_json::{Value, json};

use annals_contracts::filter::{FieldPath, Filter, Query};

use crate::http::kitsu::errors::KitsuResult;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::Records;

/// The read model's document of record `id` of model `route`, if live.
pub(in crate::http::kitsu) async fn doc_of(
    state: &AppState,
    route: &str,
    id: &str,
) -> KitsuResult<Option<Value>> {
    let model = Records::model(route)?;
    Ok(state
        .gate
        .views
        .get(model.collection, id)
        .await
        .map_err(AppError::from)?)
}

/// The `name` of record `id` of `route` (null when there is none), remembered per request.
pub(in crate::http::kitsu) struct Names<'a> {
    state: &'a AppState,
    known: HashMap<(String, String), Value>,
    persons: HashMap<String, Value>,
}

impl<'a> Names<'a> {
    pub(in crate::http::kitsu) fn new(state: &'a AppState) -> Self {
        Self {
            state,
            known: HashMap::new(),
            persons: HashMap::new(),
        }
    }

    /// Gives each entry of `doc`'s list `list` its `key`: the short person whose id is in
    /// the entry's `from` (a comment's reply authors).
    pub(in crate::http::kitsu) async fn entry_people(
        &mut self,
        doc: &mut Value,
        list: &str,
        key: &str,
        from: &str,
    ) -> KitsuResult<()> {
        let Some(entries) = doc.get_mut(list).and_then(Value::as_array_mut) else {
            return Ok(());
        };
        for entry in entries.iter_mut() {
            let person = self.person(entry.get(from)).await?;
            if let Value::Object(entry) = entry {
                entry.insert(key.into(), person);
            }
        }
        Ok(())
    }

    /// Zou's short person of `id` (see [`short_person`]), remembered per request.
    pub(in crate::http::kitsu) async fn person(
        &mut self,
        id: Option<&Value>,
    ) -> KitsuResult<Value> {
        let Some(key) = id.and_then(Value::as_str) else {
            return Ok(Value::Null);
        };
        if let Some(person) = self.persons.get(key) {
            return Ok(person.clone());
        }
        let person = short_person(self.state, id).await?;
        self.persons.insert(key.to_string(), person.clone());
        Ok(person)
    }

    /// Reads the records `ids` of `route` not yet known in one query (an id with no live
    /// record is remembered as null).
    pub(in crate::http::kitsu) async fn preload<'v>(
        &mut self,
        route: &str,
        ids: impl IntoIterator<Item = Option<&'v Value>>,
    ) -> KitsuResult<()> {
        let mut wanted: Vec<String> = ids
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|id| {
                !self
                    .known
                    .contains_key(&(route.to_string(), id.to_string()))
            })
            .map(str::to_string)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(());
        }
        let model = Records::model(route)?;
        let filter = Filter::In(
            FieldPath::parse("id").expect("a valid path"),
            wanted.iter().map(|id| json!(id)).collect(),
        );
        // One document per id at most: one page holds them all.
        let limit = u32::try_from(wanted.len()).unwrap_or(u32::MAX);
        let found = self
            .state
            .gate
            .views
            .find(model.collection, &Query::new(filter, Vec::new(), limit))
            .await
            .map_err(AppError::from)?;
        for (_, doc) in found.items {
            if let Some(id) = doc["id"].as_str() {
                self.known
                    .insert((route.to_string(), id.to_string()), doc.clone());
            }
        }
        for id in wanted {
            self.known
                .entry((route.to_string(), id))
                .or_insert(Value::Null);
        }
        Ok(())
    }

    /// Loads the short persons `ids` not yet known, concurrently (the log's stream reads
    /// batch them).
    pub(in crate::http::kitsu) async fn preload_persons<'v>(
        &mut self,
        ids: impl IntoIterator<Item = Option<&'v Value>>,
    ) -> KitsuResult<()> {
        let mut wanted: Vec<&Value> = ids
            .into_iter()
            .flatten()
            .filter(|id| id.as_str().is_some_and(|id| !self.persons.contains_key(id)))
            .collect();
        wanted.sort_unstable_by_key(|id| id.as_str());
        wanted.dedup();
        let state = self.state;
        let found = try_join_all(wanted.iter().map(|id| short_person(state, Some(id)))).await?;
        for (id, person) in wanted.into_iter().zip(found) {
            if let Some(id) = id.as_str() {
                self.persons.insert(id.to_string(), person);
            }
        }
        Ok(())
    }

    pub(in crate::http::kitsu) async fn doc(
        &mut self,
        route: &str,
        id: Option<&Value>,
    ) -> KitsuResult<Value> {
        let Some(id) = id.and_then(Value::as_str) else {
            return Ok(Value::Null);
        };
        let key = (route.to_string(), id.to_string());
        if let Some(doc) = self.known.get(&key) {
            return Ok(doc.clone());
        }
        let doc = doc_of(self.state, route, id).await?.unwrap_or(Value::Null);
        self.known.insert(key, doc.clone());
        Ok(doc)
    }

    pub(in crate::http::kitsu) async fn name(
        &mut self,
        route: &str,
        id: Option<&Value>,
    ) -> KitsuResult<Value> {
        Ok(self
            .doc(route, id)
            .await?
            .get("name")
            .cloned()
            .unwrap_or(Value::Null))
    }
}

/// Zou's short person (a comment's or a news entry's author); null for an unknown id.
async fn short_person(state: &AppState, id: Option<&Value>) -> KitsuResult<Value> {
    let Some(id) = id.and_then(Value::as_str) else {
        return Ok(Value::Null);
    };
    match state.identity.user(id).await {
        Ok(user) => {
            let full_name = format!("{} {}", user.first_name, user.last_name)
                .trim()
                .to_string();
            Ok(json!({
                "id": id,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "full_name": full_name,
                "has_avatar": false,
                "role": user.role,
            }))
        }
        Err(AppError::NotFound(_)) => Ok(Value::Null),
        Err(e) => Err(e.into()),
    }
}
