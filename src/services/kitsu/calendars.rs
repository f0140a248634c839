//! The days the records of a model with [`Periods`] hold, one calendar stream per owner: a
//! write holds its record's days there before the record's own command, so that of two
//! concurrent overlapping day offs of one person exactly one is written.
use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::{Value, json};

use annals_contracts::Position;
use annals_contracts::filter::{FieldPath, Filter, Query};
use sha2::{Digest, Sha256};

use annals_domain::kitsu::{CalendarCommand, CalendarError, Days, Model, Periods};

use super::Records;
use crate::es::commands::{CommandError, Metadata};
use crate::services::error::AppError;

/// The calendar stream of one owner of a model's records: a digest of model and owner.
pub fn calendar_id(model: &str, owner: &str) -> String {
    let mut digest = Sha256::new();
    for part in ["calendar", model, owner] {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    hex::encode(&digest.finalize()[..16])
}

/// Who holds which days, as a record with these fields would.
fn holding(
    definition: &Model,
    fields: &BTreeMap<String, Value>,
) -> Option<(Periods, String, Days)> {
    let periods = definition.periods?;
    let (owner, start, end) = periods.of(fields)?;
    Some((periods, owner, Days::new(start, end)))
}

impl Records {
    /// Holds the days of the record `id` (whose fields are `fields`) on its owner's
    /// calendar; refused with the model's own message when another record holds one of them.
    /// Nothing for a model without periods.
    pub(super) async fn hold_days(
        &self,
        definition: &Model,
        id: &str,
        fields: &BTreeMap<String, Value>,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        let Some((periods, owner, days)) = holding(definition, fields) else {
            return Ok(());
        };
        let command = CalendarCommand::Hold {
            model: definition.route.into(),
            record_id: id.into(),
            days,
            at: Utc::now(),
        };
        let stream = calendar_id(definition.route, &owner);
        match self.calendars.execute(&stream, command, metadata).await {
            Ok(_) => Ok(()),
            Err(CommandError::Domain(CalendarError::Overlaps)) => Err(AppError::Duplicate {
                field: periods.start.into(),
                message: periods.overlap_message.into(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Frees the days the record `id` held as a record with `fields` (deleted, moved to
    /// another owner, or not written); a failure leaves them held (logged), never fails the
    /// request.
    pub(super) async fn free_days(
        &self,
        definition: &Model,
        id: &str,
        fields: &BTreeMap<String, Value>,
        metadata: &Metadata,
    ) {
        let Some((_, owner, _)) = holding(definition, fields) else {
            return;
        };
        let command = CalendarCommand::Free {
            record_id: id.into(),
            at: Utc::now(),
        };
        let stream = calendar_id(definition.route, &owner);
        if let Err(e) = self.calendars.execute(&stream, command, metadata).await {
            tracing::error!(error = %e, model = definition.route, "days left held");
        }
    }

    /// Deletes the records a record with `fields` clears (see `Clears`: a day off's time
    /// spents), each by its own command; the position of the last, if any. They are found in
    /// the read model, which the caller has let catch up.
    pub(super) async fn clear_covered(
        &self,
        definition: &Model,
        fields: &BTreeMap<String, Value>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Option<Position>, AppError> {
        let Some(clears) = definition.periods.and_then(|p| p.clears) else {
            return Ok(None);
        };
        let Some((_, owner, days)) = holding(definition, fields) else {
            return Ok(None);
        };
        let cleared = Self::model(clears.route)?;
        let path = |name: &str| FieldPath::parse(name).expect("field names are paths");
        let filter = Filter::And(vec![
            Filter::Eq(path(clears.owner), json!(owner)),
            Filter::Range {
                path: path(clears.date),
                gt: None,
                gte: Some(json!(days.start)),
                lt: None,
                lte: Some(json!(days.end)),
            },
        ]);
        let mut query = Query::new(filter, vec![], 1000);
        let mut found = Vec::new();
        loop {
            let page = self.views.find(cleared.collection, &query).await?;
            found.extend(page.items.into_iter().map(|(id, _)| id));
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        let mut last = None;
        for id in found {
            match self.delete(cleared, &id, by, metadata).await {
                Ok(position) => last = Some(position),
                // Deleted meanwhile: nothing left to clear.
                Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(last)
    }

    /// After an update of the record `id` from `before` to `after`: where the owner changed,
    /// the old owner's calendar gives the days back.
    pub(super) async fn moved_days(
        &self,
        definition: &Model,
        id: &str,
        before: &BTreeMap<String, Value>,
        after: &BTreeMap<String, Value>,
        metadata: &Metadata,
    ) {
        let owner = |fields| holding(definition, fields).map(|(_, owner, _)| owner);
        if owner(before) != owner(after) {
            self.free_days(definition, id, before, metadata).await;
        }
    }

    /// Undoes [`Records::hold_days`] of an update whose record was not written: the days go
    /// back to what `before` held.
    pub(super) async fn restore_days(
        &self,
        definition: &Model,
        id: &str,
        before: &BTreeMap<String, Value>,
        after: &BTreeMap<String, Value>,
        metadata: &Metadata,
    ) {
        let owner = |fields| holding(definition, fields).map(|(_, owner, _)| owner);
        if owner(before) != owner(after) {
            self.free_days(definition, id, after, metadata).await;
        } else if let Err(e) = self.hold_days(definition, id, before, metadata).await {
            tracing::error!(error = %e, model = definition.route, "days not given back");
        }
    }
}
