//! The days one owner holds in a model with [`Periods`](super::Periods) (a person's day offs):
//! one stream per (model, owner), so that the optimistic concurrency of that one stream
//! decides between concurrent writers of overlapping records, as [`super::UniqueClaim`] does
//! for one value.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::decide::Decide;

/// A range of days, first and last included, as `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Days {
    pub start: String,
    pub end: String,
}

impl Days {
    pub fn new(start: impl Into<String>, end: impl Into<String>) -> Self {
        Days {
            start: start.into(),
            end: end.into(),
        }
    }

    /// Whether the two ranges share a day (ISO dates order as their text does).
    pub fn overlaps(&self, other: &Days) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calendar {
    /// The days each record holds, by record id.
    pub held: BTreeMap<String, Days>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CalendarCommand {
    /// The record holds these days from now on (instead of those it held).
    Hold {
        /// The model's route.
        model: String,
        record_id: String,
        days: Days,
        at: DateTime<Utc>,
    },
    /// The record holds no days any more (it was deleted, moved to another owner, or its
    /// write failed); nothing if it held none.
    Free {
        record_id: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum CalendarEvent {
    DaysHeld {
        model: String,
        record_id: String,
        days: Days,
        at: DateTime<Utc>,
    },
    DaysFreed {
        record_id: String,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for CalendarEvent {
    fn event_type(&self) -> String {
        match self {
            CalendarEvent::DaysHeld { .. } => "DaysHeld",
            CalendarEvent::DaysFreed { .. } => "DaysFreed",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalendarError {
    #[error("another record holds some of these days")]
    Overlaps,
    #[error("a range ends before it starts")]
    Reversed,
}

impl Decide for Calendar {
    fn decide(&self, command: CalendarCommand) -> Result<Vec<CalendarEvent>, CalendarError> {
        Ok(match command {
            CalendarCommand::Hold {
                model,
                record_id,
                days,
                at,
            } => {
                if days.start > days.end {
                    return Err(CalendarError::Reversed);
                }
                if self.held.get(&record_id) == Some(&days) {
                    return Ok(vec![]);
                }
                let taken = self
                    .held
                    .iter()
                    .any(|(holder, held)| *holder != record_id && held.overlaps(&days));
                if taken {
                    return Err(CalendarError::Overlaps);
                }
                vec![CalendarEvent::DaysHeld {
                    model,
                    record_id,
                    days,
                    at,
                }]
            }
            CalendarCommand::Free { record_id, at } => {
                if !self.held.contains_key(&record_id) {
                    return Ok(vec![]);
                }
                vec![CalendarEvent::DaysFreed { record_id, at }]
            }
        })
    }
}

impl Aggregate for Calendar {
    const TYPE: &'static str = "kitsu_calendar";
    type Command = CalendarCommand;
    type Event = CalendarEvent;
    type Error = CalendarError;
    type Services = ();

    async fn handle(
        &mut self,
        command: CalendarCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), CalendarError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: CalendarEvent) {
        match event {
            CalendarEvent::DaysHeld {
                record_id, days, ..
            } => {
                self.held.insert(record_id, days);
            }
            CalendarEvent::DaysFreed { record_id, .. } => {
                self.held.remove(&record_id);
            }
        }
    }
}
