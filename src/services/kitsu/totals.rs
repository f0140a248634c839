//! Numbers kept as the sum of other records' values (Zou's task `duration`, the sum of its
//! time spents' durations), recomputed after each write of one of those records through the
//! data routes; the new sum is an update of the summing record.
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use annals_contracts::Position;
use annals_contracts::filter::{FieldPath, Filter, Query};
use annals_domain::kitsu::Model;

use super::Records;
use crate::es::commands::Metadata;
use crate::services::error::AppError;

impl Records {
    /// Sets the total the record `id` (holding `fields`, `live` or just deleted) counts
    /// towards to the sum over the records of its model pointing at the same record: those of
    /// the read model (which the caller has let catch up) but this one, and this one's value
    /// while it lives. The position of the change, if it changed.
    pub async fn retotal(
        &self,
        definition: &Model,
        id: &str,
        fields: &BTreeMap<String, Value>,
        live: bool,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Option<Position>, AppError> {
        let Some(total) = definition.total else {
            return Ok(None);
        };
        let Some(target_id) = fields.get(total.via).and_then(Value::as_str) else {
            return Ok(None);
        };
        let summing = Self::model(total.route)?;
        let target = self.records.load(target_id).await?;
        if !target.is_live(summing.route) {
            return Ok(None);
        }
        let path = FieldPath::parse(total.via).expect("field names are paths");
        let mut query = Query::new(Filter::Eq(path, json!(target_id)), vec![], 1000);
        let value = |doc: &Value| doc.get(total.of).and_then(Value::as_f64).unwrap_or(0.0);
        let mut sum = if live { value(&json!(fields)) } else { 0.0 };
        loop {
            let page = self.views.find(definition.collection, &query).await?;
            sum += page
                .items
                .iter()
                .filter(|(other, _)| other != id)
                .map(|(_, doc)| value(doc))
                .sum::<f64>();
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        let held = target.fields.get(total.into).and_then(Value::as_f64);
        if held == Some(sum) {
            return Ok(None);
        }
        let input = Map::from_iter([(total.into.to_string(), json!(sum))]);
        let executed = self
            .update(summing, target_id, target, input, by, metadata)
            .await?;
        Ok(Some(executed.position))
    }
}
