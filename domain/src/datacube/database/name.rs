//! A database name per owner: held by at most one live database.
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::DatabaseError;
use crate::decide::Decide;

/// The stream of `owner`'s name `name` (already lower-cased).
pub fn name_stream(owner: &str, name: &str) -> String {
    format!("{owner}/{name}")
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseName {
    /// The database holding the name, if any.
    pub holder: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DatabaseNameCommand {
    Claim {
        database_id: String,
        at: DateTime<Utc>,
    },
    Release {
        database_id: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum DatabaseNameEvent {
    DatabaseNameClaimed {
        database_id: String,
        at: DateTime<Utc>,
    },
    DatabaseNameReleased {
        database_id: String,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for DatabaseNameEvent {
    fn event_type(&self) -> String {
        match self {
            DatabaseNameEvent::DatabaseNameClaimed { .. } => "DatabaseNameClaimed",
            DatabaseNameEvent::DatabaseNameReleased { .. } => "DatabaseNameReleased",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

impl Decide for DatabaseName {
    fn decide(
        &self,
        command: DatabaseNameCommand,
    ) -> Result<Vec<DatabaseNameEvent>, DatabaseError> {
        Ok(match command {
            DatabaseNameCommand::Claim { database_id, at } => match &self.holder {
                Some(_) => return Err(DatabaseError::NameTaken),
                None => vec![DatabaseNameEvent::DatabaseNameClaimed { database_id, at }],
            },
            DatabaseNameCommand::Release { database_id, at } => {
                if self.holder.as_deref() != Some(database_id.as_str()) {
                    return Ok(vec![]);
                }
                vec![DatabaseNameEvent::DatabaseNameReleased { database_id, at }]
            }
        })
    }
}

impl Aggregate for DatabaseName {
    const TYPE: &'static str = "datacube_database_name";
    type Command = DatabaseNameCommand;
    type Event = DatabaseNameEvent;
    type Error = DatabaseError;
    type Services = ();

    async fn handle(
        &mut self,
        command: DatabaseNameCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), DatabaseError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: DatabaseNameEvent) {
        match event {
            DatabaseNameEvent::DatabaseNameClaimed { database_id, .. } => {
                self.holder = Some(database_id)
            }
            DatabaseNameEvent::DatabaseNameReleased { .. } => self.holder = None,
        }
    }
}
