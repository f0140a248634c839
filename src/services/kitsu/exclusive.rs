//! Booleans at most one record holds true (Zou's default preview background): once a write
//! leaves a record's value true, every other record holding it true is changed to false,
//! each by its own update event, by the same person.
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use annals_contracts::Position;
use annals_contracts::filter::{FieldPath, Filter, Query};
use annals_domain::kitsu::Model;

use super::Records;
use crate::es::commands::Metadata;
use crate::services::error::AppError;

/// Records read per store query while looking for the others.
const SCAN: u32 = 1000;

impl Records {
    /// Sets false, on every live record of the model but `id`, each exclusive field that
    /// `fields` (the record's after a write) holds true; the position of the last change, if
    /// any. The others are found in the read model, which the caller has let catch up.
    pub(super) async fn unset_others(
        &self,
        definition: &'static Model,
        id: &str,
        fields: &BTreeMap<String, Value>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Option<Position>, AppError> {
        let mut last = None;
        for field in definition.exclusive_fields() {
            if fields.get(field.name) != Some(&json!(true)) {
                continue;
            }
            let path = FieldPath::parse(field.name).expect("field names are paths");
            let mut query = Query::new(Filter::Eq(path, json!(true)), vec![], SCAN);
            let mut others = Vec::new();
            loop {
                let page = self.views.find(definition.collection, &query).await?;
                others.extend(page.items.into_iter().map(|(other, _)| other));
                match page.next {
                    Some(next) => query.after = Some(next),
                    None => break,
                }
            }
            for other in others.iter().filter(|other| *other != id) {
                // The log decides: a record deleted or unset meanwhile is left alone.
                let current = self.records.load(other).await?;
                if !current.is_live(definition.route)
                    || current.fields.get(field.name) != Some(&json!(true))
                {
                    continue;
                }
                let input = Map::from_iter([(field.name.to_string(), json!(false))]);
                let executed = self
                    .update(definition, other, current, input, by, metadata)
                    .await?;
                last = Some(executed.position);
            }
        }
        Ok(last)
    }
}
