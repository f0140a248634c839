use std::collections::HashSet;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::DatabaseEvent;
use crate::datacube::Collection;
use crate::datacube::schema::{normalize_name, valid_name};
use crate::decide::Decide;

/// Names the original reserves (MongoDB's own databases), in any case.
const RESERVED: [&str; 3] = ["admin", "local", "config"];

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Database {
    pub database_id: String,
    pub owner: Option<String>,
    pub name: String,
    pub dropped: bool,
    /// In the order they were created.
    pub collections: Vec<Collection>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DatabaseCommand {
    Create {
        database_id: String,
        owner: String,
        name: String,
        collections: Vec<Collection>,
        at: DateTime<Utc>,
    },
    /// Adds the collections not there yet; existing names are left as they are.
    AddCollections {
        by: String,
        collections: Vec<Collection>,
        at: DateTime<Utc>,
    },
    /// Drops every named collection, or none if one of them is unknown.
    DropCollections {
        by: String,
        names: Vec<String>,
        at: DateTime<Utc>,
    },
    /// Drops the database when `confirmation` is its name (trimmed, any case).
    Drop {
        by: String,
        confirmation: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DatabaseError {
    #[error("database not found")]
    NotFound,
    #[error("database already exists")]
    AlreadyExists,
    #[error("a database with this name already exists")]
    NameTaken,
    #[error("{field}: must be 1 to 100 letters, digits, '_' or '-'")]
    BadName { field: String },
    #[error("db_name: \"{0}\" is reserved")]
    Reserved(String),
    #[error("{field}: \"{name}\" appears twice")]
    Duplicate { field: String, name: String },
    #[error("collection_names: unknown collections: {}", .0.join(", "))]
    UnknownCollections(Vec<String>),
    #[error("confirmation: does not match the database name")]
    ConfirmationMismatch,
}

impl Database {
    pub fn exists(&self) -> bool {
        self.owner.is_some() && !self.dropped
    }

    /// The database as its owner sees it: anyone else is told it does not exist.
    pub fn owned_by(&self, user_id: &str) -> Result<&Database, DatabaseError> {
        if self.exists() && self.owner.as_deref() == Some(user_id) {
            Ok(self)
        } else {
            Err(DatabaseError::NotFound)
        }
    }

    pub fn collection(&self, name: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.name == name)
    }
}

/// Checks the names of new collections and their fields: valid, and none twice.
fn check_collections(collections: &[Collection]) -> Result<(), DatabaseError> {
    let mut seen = HashSet::new();
    for (i, c) in collections.iter().enumerate() {
        let at = format!("collections[{i}]");
        if !valid_name(&c.name) {
            return Err(DatabaseError::BadName {
                field: format!("{at}.name"),
            });
        }
        if !seen.insert(c.name.as_str()) {
            return Err(DatabaseError::Duplicate {
                field: "collections".into(),
                name: c.name.clone(),
            });
        }
        let mut fields = HashSet::new();
        for (j, f) in c.fields.iter().enumerate() {
            if !valid_name(&f.name) {
                return Err(DatabaseError::BadName {
                    field: format!("{at}.fields[{j}].name"),
                });
            }
            if !fields.insert(f.name.as_str()) {
                return Err(DatabaseError::Duplicate {
                    field: format!("{at}.fields"),
                    name: f.name.clone(),
                });
            }
        }
    }
    Ok(())
}

impl Decide for Database {
    fn decide(&self, command: DatabaseCommand) -> Result<Vec<DatabaseEvent>, DatabaseError> {
        Ok(match command {
            DatabaseCommand::Create {
                database_id,
                owner,
                name,
                collections,
                at,
            } => {
                if self.owner.is_some() {
                    return Err(DatabaseError::AlreadyExists);
                }
                let name = normalize_name(&name);
                if !valid_name(&name) {
                    return Err(DatabaseError::BadName {
                        field: "db_name".into(),
                    });
                }
                if RESERVED.contains(&name.as_str()) {
                    return Err(DatabaseError::Reserved(name));
                }
                check_collections(&collections)?;
                vec![DatabaseEvent::DatabaseCreated {
                    database_id,
                    owner,
                    name,
                    collections,
                    at,
                }]
            }
            DatabaseCommand::AddCollections {
                by,
                collections,
                at,
            } => {
                self.owned_by(&by)?;
                check_collections(&collections)?;
                let new: Vec<Collection> = collections
                    .into_iter()
                    .filter(|c| self.collection(&c.name).is_none())
                    .collect();
                if new.is_empty() {
                    vec![]
                } else {
                    vec![DatabaseEvent::CollectionsAdded {
                        collections: new,
                        at,
                    }]
                }
            }
            DatabaseCommand::DropCollections { by, names, at } => {
                self.owned_by(&by)?;
                let unknown: Vec<String> = names
                    .iter()
                    .filter(|n| self.collection(n).is_none())
                    .cloned()
                    .collect();
                if !unknown.is_empty() {
                    return Err(DatabaseError::UnknownCollections(unknown));
                }
                let mut names = names;
                let mut seen = HashSet::new();
                names.retain(|n| seen.insert(n.clone()));
                let collection_ids = names
                    .iter()
                    .filter_map(|n| self.collection(n))
                    .map(|c| c.collection_id.clone())
                    .collect();
                vec![DatabaseEvent::CollectionsDropped {
                    collection_ids,
                    names,
                    at,
                }]
            }
            DatabaseCommand::Drop {
                by,
                confirmation,
                at,
            } => {
                self.owned_by(&by)?;
                if normalize_name(&confirmation) != self.name {
                    return Err(DatabaseError::ConfirmationMismatch);
                }
                vec![DatabaseEvent::DatabaseDropped { at }]
            }
        })
    }
}

impl Aggregate for Database {
    const TYPE: &'static str = "datacube_database";
    type Command = DatabaseCommand;
    type Event = DatabaseEvent;
    type Error = DatabaseError;
    type Services = ();

    async fn handle(
        &mut self,
        command: DatabaseCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), DatabaseError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: DatabaseEvent) {
        match event {
            DatabaseEvent::DatabaseCreated {
                database_id,
                owner,
                name,
                collections,
                at,
            } => {
                self.database_id = database_id;
                self.owner = Some(owner);
                self.name = name;
                self.collections = collections;
                self.created_at = Some(at);
                self.updated_at = Some(at);
            }
            DatabaseEvent::CollectionsAdded { collections, at } => {
                self.collections.extend(collections);
                self.updated_at = Some(at);
            }
            DatabaseEvent::CollectionsDropped {
                collection_ids, at, ..
            } => {
                self.collections
                    .retain(|c| !collection_ids.contains(&c.collection_id));
                self.updated_at = Some(at);
            }
            DatabaseEvent::DatabaseDropped { at } => {
                self.dropped = true;
                self.updated_at = Some(at);
            }
        }
    }
}
