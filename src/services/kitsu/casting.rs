//! Zou's casting links (entity links) beyond their generic CRUD: removing one from a project
//! also recounts what the casting entity holds (`nb_entities_out`, the live links to assets
//! that are not canceled), as Zou's breakdown route does.
use serde_json::{Map, Value, json};

use annals_contracts::Position;
use annals_contracts::filter::{FieldPath, Filter, Query};

use super::Records;
use crate::es::commands::Metadata;
use crate::services::error::AppError;

/// The model of the links.
pub const LINKS: &str = "entity-links";
/// The model of what they link.
const ENTITIES: &str = "entities";
/// Links read per store query while counting.
const SCAN: u32 = 1000;

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

impl Records {
    /// Every `(id, document)` of `collection` matching `filter`.
    pub(super) async fn every(
        &self,
        collection: &str,
        filter: Filter,
    ) -> Result<Vec<Value>, AppError> {
        let mut query = Query::new(filter, vec![], SCAN);
        let mut docs = Vec::new();
        loop {
            let page = self.views.find(collection, &query).await?;
            docs.extend(page.items.into_iter().map(|(_, doc)| doc));
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(docs),
            }
        }
    }

    /// How many links of `entity_id` other than `leaving` point at an entity that is not
    /// canceled, from the read models (which the caller has let catch up).
    async fn live_links(&self, entity_id: &str, leaving: &str) -> Result<u64, AppError> {
        let links = Self::model(LINKS)?;
        let entities = Self::model(ENTITIES)?;
        let outs: Vec<Value> = self
            .every(
                links.collection,
                Filter::Eq(path("entity_in_id"), json!(entity_id)),
            )
            .await?
            .into_iter()
            .filter(|link| link["id"].as_str() != Some(leaving))
            .map(|link| link["entity_out_id"].clone())
            .collect();
        if outs.is_empty() {
            return Ok(0);
        }
        let canceled = self
            .every(
                entities.collection,
                Filter::And(vec![
                    Filter::In(path("id"), outs.clone()),
                    Filter::Eq(path("canceled"), json!(true)),
                ]),
            )
            .await?;
        let canceled: Vec<&Value> = canceled.iter().map(|doc| &doc["id"]).collect();
        Ok(outs.iter().filter(|out| !canceled.contains(out)).count() as u64)
    }

    /// Deletes the link `id` (whose fields are `link`), then sets its casting entity's
    /// `nb_entities_out` to what it still holds (an update of the entity when that changes).
    pub async fn remove_link(
        &self,
        id: &str,
        link: &std::collections::BTreeMap<String, Value>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Position, AppError> {
        let links = Self::model(LINKS)?;
        let entities = Self::model(ENTITIES)?;
        let mut position = self.delete(links, id, by, metadata).await?;
        let Some(entity_id) = link.get("entity_in_id").and_then(Value::as_str) else {
            return Ok(position);
        };
        let entity = self.records.load(entity_id).await?;
        if !entity.is_live(ENTITIES) {
            return Ok(position);
        }
        let count = json!(self.live_links(entity_id, id).await?);
        if entity.fields.get("nb_entities_out") != Some(&count) {
            let input = Map::from_iter([("nb_entities_out".to_string(), count)]);
            let executed = self
                .update(entities, entity_id, entity, input, by, metadata)
                .await?;
            position = executed.position;
        }
        Ok(position)
    }
}
