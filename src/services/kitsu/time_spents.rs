//! A person's time on a task on one day, set or added to by the day (Zou's time-spent actions,
//! gazu's `set_time_spent` and `add_time_spent`), and removed. A day's time spent is one record
//! of the `time-spents` model (unique per person, task and day): these find it, then update,
//! create or delete it through the model's commands, which keep the task's duration.
use serde_json::{Map, Value, json};

use annals_contracts::Position;
use annals_contracts::filter::{FieldPath, Filter, Query};
use annals_domain::kitsu::Record;

use super::Records;
use crate::es::commands::{Executed, Metadata};
use crate::services::error::AppError;

/// Times the day's record is looked for again after a concurrent write made it first.
const ATTEMPTS: usize = 5;

/// One person's day on one task.
pub struct Day<'a> {
    pub task_id: &'a str,
    pub person_id: &'a str,
    /// `YYYY-MM-DD`.
    pub date: &'a str,
}

impl Records {
    /// The day's live time spent, from the read model caught up with the log.
    async fn spent_on(&self, day: &Day<'_>) -> Result<Option<String>, AppError> {
        self.records_applied().await?;
        let eq = |field: &str, value: &str| {
            Filter::Eq(
                FieldPath::parse(field).expect("field names are paths"),
                json!(value),
            )
        };
        let filter = Filter::And(vec![
            eq("task_id", day.task_id),
            eq("person_id", day.person_id),
            eq("date", day.date),
        ]);
        let model = Self::model("time-spents")?;
        let page = self
            .views
            .find(model.collection, &Query::new(filter, vec![], 1))
            .await?;
        Ok(page.items.into_iter().next().map(|(id, _)| id))
    }

    /// Sets the day's time spent to `duration`, or adds `duration` to it (`add`); creates it
    /// if the day has none. The record's id and state after.
    pub async fn spend(
        &self,
        day: &Day<'_>,
        duration: f64,
        add: bool,
        by: &str,
        metadata: &Metadata,
    ) -> Result<(String, Executed<Record>), AppError> {
        let model = Self::model("time-spents")?;
        for _ in 0..ATTEMPTS {
            if let Some(id) = self.spent_on(day).await? {
                let current = self.live(model, &id).await?;
                let held = current
                    .fields
                    .get("duration")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                let duration = if add { held + duration } else { duration };
                let input = Map::from_iter([("duration".to_string(), json!(duration))]);
                let executed = self
                    .update(model, &id, current, input, by, metadata)
                    .await?;
                return Ok((id, executed));
            }
            let input = Map::from_iter([
                ("task_id".to_string(), json!(day.task_id)),
                ("person_id".to_string(), json!(day.person_id)),
                ("date".to_string(), json!(day.date)),
                ("duration".to_string(), json!(duration)),
            ]);
            match self.create(model, input, by, metadata).await {
                // Another request made the day's record meanwhile: change that one.
                Err(AppError::Duplicate { .. }) => continue,
                made => return made,
            }
        }
        Err(AppError::Conflict)
    }

    /// Deletes the day's time spent, if there is one: its id, its state before, and the
    /// position after the task's duration was taken again.
    pub async fn unspend(
        &self,
        day: &Day<'_>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Option<(String, Record, Position)>, AppError> {
        let model = Self::model("time-spents")?;
        let Some(id) = self.spent_on(day).await? else {
            return Ok(None);
        };
        let current = self.live(model, &id).await?;
        let mut position = self.delete(model, &id, by, metadata).await?;
        let retotal = self.retotal(model, &id, &current.fields, false, by, metadata);
        if let Some(after) = Box::pin(retotal).await? {
            position = after;
        }
        Ok(Some((id, current, position)))
    }
}
