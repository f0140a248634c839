//! A unique value of a model's field, held by at most one record: one stream per (model,
//! field, normalised value), so that the optimistic concurrency of that one stream decides
//! between concurrent creates (or renames) of records with the same value.
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::decide::Decide;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct UniqueClaim {
    /// The record holding the value, if any.
    pub holder: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UniqueClaimCommand {
    Claim {
        model: String,
        field: String,
        /// The normalised value (lower-cased for case-insensitive fields).
        value: String,
        record_id: String,
        at: DateTime<Utc>,
    },
    /// Gives the value back: the record was deleted, renamed, or its create failed.
    Release {
        record_id: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum UniqueClaimEvent {
    UniqueValueClaimed {
        /// The model's route.
        model: String,
        field: String,
        value: String,
        record_id: String,
        at: DateTime<Utc>,
    },
    UniqueValueReleased {
        record_id: String,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for UniqueClaimEvent {
    fn event_type(&self) -> String {
        match self {
            UniqueClaimEvent::UniqueValueClaimed { .. } => "UniqueValueClaimed",
            UniqueClaimEvent::UniqueValueReleased { .. } => "UniqueValueReleased",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UniqueClaimError {
    #[error("the value is held by another record")]
    Taken,
    #[error("the value is not held by this record")]
    NotHolder,
}

impl Decide for UniqueClaim {
    fn decide(
        &self,
        command: UniqueClaimCommand,
    ) -> Result<Vec<UniqueClaimEvent>, UniqueClaimError> {
        Ok(match command {
            UniqueClaimCommand::Claim {
                model,
                field,
                value,
                record_id,
                at,
            } => match &self.holder {
                // A retried claim by the same record is not a conflict.
                Some(holder) if *holder == record_id => vec![],
                Some(_) => return Err(UniqueClaimError::Taken),
                None => vec![UniqueClaimEvent::UniqueValueClaimed {
                    model,
                    field,
                    value,
                    record_id,
                    at,
                }],
            },
            UniqueClaimCommand::Release { record_id, at } => {
                if self.holder.as_deref() != Some(record_id.as_str()) {
                    return Err(UniqueClaimError::NotHolder);
                }
                vec![UniqueClaimEvent::UniqueValueReleased { record_id, at }]
            }
        })
    }
}

impl Aggregate for UniqueClaim {
    const TYPE: &'static str = "kitsu_unique_claim";
    type Command = UniqueClaimCommand;
    type Event = UniqueClaimEvent;
    type Error = UniqueClaimError;
    type Services = ();

    async fn handle(
        &mut self,
        command: UniqueClaimCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), UniqueClaimError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: UniqueClaimEvent) {
        match event {
            UniqueClaimEvent::UniqueValueClaimed { record_id, .. } => {
                self.holder = Some(record_id);
            }
            UniqueClaimEvent::UniqueValueReleased { .. } => self.holder = None,
        }
    }
}
