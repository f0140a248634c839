//! Numbers kept as the sum of other records' values (Zou's task `duration`, the sum of its
//! time spents' durations), recomputed after each write of one of those records through the
//! data routes; the new sum is an update of the summing record.
use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use serde_json::{Map, Value, json};

use annals_contracts::Position;
use annals_contracts::filter::{FieldPath, Filter, Query};
use annals_domain::kitsu::{Model, RecordCommand};
use annals_projections::kitsu::RECORDS;

use super::Records;
use crate::es::commands::Metadata;
use crate::services::catch_up;
use crate::services::error::AppError;

/// Longest wait for the read model to catch up with the log before a total is taken.
const VIEWS_WAIT: Duration = Duration::from_secs(10);
/// Times a total is taken again because its record moved meanwhile.
const ATTEMPTS: usize = 20;

impl Records {
    /// Sets the total the record `id` (holding `fields`, `live` or just deleted) counts
    /// towards to the sum over the records of its model pointing at the same record: those of
    /// the read model but this one, and this one's value while it lives. The position of the
    /// change, if it changed.
    ///
    /// Concurrent writes of records of one total must not lose each other's values (the last
    /// sum written wins). So the summing record is read first, with its version; then the read
    /// model is let catch up with the log's head; the sum is appended only if the record did
    /// not move since it was read, and taken again otherwise. A value committed after that
    /// head has its own total taken later, which sees this one's; one committed before it is
    /// in the sum; and a sum taken on an older head than another's lands only if it was read
    /// after that other's landed, when its head is newer.
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
        let path = FieldPath::parse(total.via).expect("field names are paths");
        let value = |doc: &Value| doc.get(total.of).and_then(Value::as_f64).unwrap_or(0.0);
        for _ in 0..ATTEMPTS {
            let (target, sequence) = self.records.versioned(target_id).await?;
            if !target.is_live(summing.route) {
                return Ok(None);
            }
            self.records_applied().await?;
            let mut query = Query::new(Filter::Eq(path.clone(), json!(target_id)), vec![], 1000);
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
            // The field is the summing model's own number: nothing of `update`'s checks of
            // references, claims or days applies to it.
            summing.prepare_update(&target.fields, &input)?;
            let command = RecordCommand::Update {
                model: summing.route.into(),
                input,
                by: by.into(),
                at: Utc::now(),
            };
            let prepared = self
                .records
                .prepare_on(target_id, target, sequence, command, metadata)
                .await?;
            if let Some(position) = self.together.append(prepared.events).await? {
                return Ok(Some(position));
            }
        }
        Err(AppError::Conflict)
    }

    /// Waits until the records' read model has applied the log up to its current head.
    pub(super) async fn records_applied(&self) -> Result<(), AppError> {
        let Some(head) = self.log.head().await? else {
            return Ok(());
        };
        catch_up::applied(
            self.views.as_ref(),
            &self.progress,
            RECORDS,
            head,
            VIEWS_WAIT,
            &CancellationToken::new(),
        )
        .await
        .map_err(|e| AppError::Unavailable(format!("total not taken: {e}")))
    }
}
