//! Databases and collections: create (with the name claimed in the same append), add
//! collections, drop them, drop the database (releasing its name).
use chrono::Utc;

use annals_contracts::Position;
use annals_domain::datacube::database::name_stream;
use annals_domain::datacube::{
    Collection, DatabaseCommand, DatabaseNameCommand, Field, normalize_name,
};

use super::{ATTEMPTS, Datacube};
use crate::es::commands::Metadata;
use crate::services::error::AppError;
use crate::services::workspaces::service::object_id;

/// A collection as a request declares it.
#[derive(Debug, Clone)]
pub struct NewCollection {
    pub name: String,
    pub fields: Vec<Field>,
}

/// What became of each requested collection (the original's answer shape).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CollectionReport {
    pub name: String,
    pub created: bool,
    pub exists: bool,
    pub error: Option<String>,
}

fn with_ids(collections: Vec<NewCollection>) -> Vec<Collection> {
    let now = Utc::now();
    collections
        .into_iter()
        .map(|c| Collection {
            collection_id: object_id(now),
            name: c.name.trim().to_string(),
            fields: c.fields,
        })
        .collect()
}

impl Datacube {
    /// Creates a database; its name must be new among the owner's live databases.
    pub async fn create_database(
        &self,
        owner: &str,
        name: &str,
        collections: Vec<NewCollection>,
        metadata: &Metadata,
    ) -> Result<(String, Vec<CollectionReport>, Position), AppError> {
        let at = Utc::now();
        let database_id = object_id(at);
        let collections = with_ids(collections);
        let reports = collections
            .iter()
            .map(|c| CollectionReport {
                name: c.name.clone(),
                created: true,
                exists: false,
                error: None,
            })
            .collect();
        let create = DatabaseCommand::Create {
            database_id: database_id.clone(),
            owner: owner.to_string(),
            name: name.to_string(),
            collections,
            at,
        };
        let name = normalize_name(name);
        for _ in 0..ATTEMPTS {
            let database = self
                .databases
                .prepare(&database_id, create.clone(), metadata, true)
                .await?;
            let claim = DatabaseNameCommand::Claim {
                database_id: database_id.clone(),
                at,
            };
            let claim = self
                .names
                .prepare(&name_stream(owner, &name), claim, metadata, false)
                .await?;
            let events = database.events.into_iter().chain(claim.events).collect();
            if let Some(position) = self.together.append(events).await? {
                return Ok((database_id, reports, position));
            }
        }
        Err(AppError::Conflict)
    }

    /// Adds the collections that are not there yet, reporting the others as existing.
    pub async fn add_collections(
        &self,
        owner: &str,
        database_id: &str,
        collections: Vec<NewCollection>,
        metadata: &Metadata,
    ) -> Result<(Vec<CollectionReport>, Position), AppError> {
        self.owned(owner, database_id).await?;
        let add = DatabaseCommand::AddCollections {
            by: owner.to_string(),
            collections: with_ids(collections),
            at: Utc::now(),
        };
        let executed = self
            .databases
            .execute_returning(database_id, add.clone(), metadata)
            .await?;
        let DatabaseCommand::AddCollections { collections, .. } = add else {
            unreachable!("built above")
        };
        let reports = collections
            .iter()
            .map(|c| {
                let created = executed
                    .state
                    .collection(&c.name)
                    .is_some_and(|now| now.collection_id == c.collection_id);
                CollectionReport {
                    name: c.name.clone(),
                    created,
                    exists: !created,
                    error: None,
                }
            })
            .collect();
        Ok((reports, executed.position))
    }

    pub async fn drop_collections(
        &self,
        owner: &str,
        database_id: &str,
        names: Vec<String>,
        metadata: &Metadata,
    ) -> Result<Position, AppError> {
        self.owned(owner, database_id).await?;
        let drop = DatabaseCommand::DropCollections {
            by: owner.to_string(),
            names,
            at: Utc::now(),
        };
        Ok(self.databases.execute(database_id, drop, metadata).await?)
    }

    /// Drops the database and releases its name, in one append. Answers the database's name.
    pub async fn drop_database(
        &self,
        owner: &str,
        database_id: &str,
        confirmation: &str,
        metadata: &Metadata,
    ) -> Result<(String, Position), AppError> {
        for _ in 0..ATTEMPTS {
            let database = self.owned(owner, database_id).await?;
            let at = Utc::now();
            let drop = DatabaseCommand::Drop {
                by: owner.to_string(),
                confirmation: confirmation.to_string(),
                at,
            };
            let dropped = self
                .databases
                .prepare(database_id, drop, metadata, false)
                .await?;
            let release = DatabaseNameCommand::Release {
                database_id: database_id.to_string(),
                at,
            };
            let released = self
                .names
                .prepare(
                    &name_stream(owner, &database.name),
                    release,
                    metadata,
                    false,
                )
                .await?;
            let events = dropped.events.into_iter().chain(released.events).collect();
            if let Some(position) = self.together.append(events).await? {
                return Ok((database.name, position));
            }
        }
        Err(AppError::Conflict)
    }
}
