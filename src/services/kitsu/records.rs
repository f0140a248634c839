//! Creating, updating and deleting records of registry models. Unique values are claimed on
//! their own streams before the record's command, so that concurrent writes of one value race
//! on a single stream; a claim whose record could not be written is released again.
use chrono::Utc;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use annals_contracts::Position;
use annals_domain::kitsu::{
    Access, FieldChange, Model, Record, RecordCommand, UniqueClaim, UniqueClaimCommand, model,
};

use crate::es::commands::{Commands, Executed, Metadata};
use crate::services::error::AppError;

/// werkzeug's 403 description, which Zou sends for every refused permission.
pub const FORBIDDEN_MESSAGE: &str = "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.";

pub struct Records {
    pub records: Commands<Record>,
    pub claims: Commands<UniqueClaim>,
}

/// A unique value's claim stream: a digest of model, field and normalised value (stable, and
/// no names in subjects).
pub fn unique_claim_id(model: &str, field: &str, key: &str) -> String {
    let mut digest = Sha256::new();
    for part in [model, field, key] {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    hex::encode(&digest.finalize()[..16])
}

/// One unique value a write needs.
struct Wanted {
    field: &'static str,
    key: String,
}

impl Records {
    /// The model served at `/data/<route>`.
    pub fn model(route: &str) -> Result<&'static Model, AppError> {
        model(route).ok_or_else(|| AppError::NotFound(format!("no model {route}")))
    }

    /// Refuses a person of `role` what `access` does not allow.
    pub fn allow(access: Access, role: &str) -> Result<(), AppError> {
        if access.allows(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(FORBIDDEN_MESSAGE.into()))
        }
    }

    /// Claims each wanted value for `record_id`; on a refusal, gives back what it took.
    async fn claim_all(
        &self,
        definition: &Model,
        record_id: &str,
        wanted: &[Wanted],
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        for (taken, want) in wanted.iter().enumerate() {
            let command = UniqueClaimCommand::Claim {
                model: definition.route.into(),
                field: want.field.into(),
                value: want.key.clone(),
                record_id: record_id.into(),
                at: Utc::now(),
            };
            let stream = unique_claim_id(definition.route, want.field, &want.key);
            if let Err(e) = self.claims.execute(&stream, command, metadata).await {
                self.release_all(definition, record_id, &wanted[..taken], metadata)
                    .await;
                let error = AppError::from(e);
                return Err(match error {
                    AppError::Duplicate { .. } => AppError::Duplicate {
                        field: want.field.into(),
                        message: definition
                            .duplicate_message
                            .unwrap_or("A record with the same unique values already exists.")
                            .into(),
                    },
                    other => other,
                });
            }
        }
        Ok(())
    }

    /// Gives values back; a failure leaves the value held (logged), never fails the request.
    async fn release_all(
        &self,
        definition: &Model,
        record_id: &str,
        held: &[Wanted],
        metadata: &Metadata,
    ) {
        for want in held {
            let command = UniqueClaimCommand::Release {
                record_id: record_id.into(),
                at: Utc::now(),
            };
            let stream = unique_claim_id(definition.route, want.field, &want.key);
            if let Err(e) = self.claims.execute(&stream, command, metadata).await {
                tracing::error!(error = %e, model = definition.route, field = want.field, "unique value left held");
            }
        }
    }

    pub async fn create(
        &self,
        definition: &'static Model,
        input: Map<String, Value>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<(String, Executed<Record>), AppError> {
        // Validated before claiming, so that bad input claims nothing.
        let fields = definition.prepare_create(&input)?;
        let wanted: Vec<Wanted> = definition
            .unique_fields()
            .filter_map(|f| {
                let key = f.unique_key(fields.get(f.name)?)?;
                Some(Wanted { field: f.name, key })
            })
            .collect();
        let id = uuid::Uuid::new_v4().to_string();
        self.claim_all(definition, &id, &wanted, metadata).await?;
        let command = RecordCommand::Create {
            model: definition.route.into(),
            input,
            by: by.into(),
            at: Utc::now(),
        };
        match self.records.execute_returning(&id, command, metadata).await {
            Ok(executed) => Ok((id, executed)),
            Err(e) => {
                self.release_all(definition, &id, &wanted, metadata).await;
                Err(e.into())
            }
        }
    }

    /// A live record of the model, from the log.
    pub async fn live(&self, definition: &Model, id: &str) -> Result<Record, AppError> {
        let record = self.records.load(id).await?;
        if !record.is_live(definition.route) {
            return Err(AppError::NotFound(format!("no {} {id}", definition.route)));
        }
        Ok(record)
    }

    /// Changes the record `current` (as [`Records::live`] read it) by `input`.
    pub async fn update(
        &self,
        definition: &'static Model,
        id: &str,
        current: Record,
        input: Map<String, Value>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Executed<Record>, AppError> {
        let changes = definition.prepare_update(&current.fields, &input)?;
        let (gained, lost) = unique_moves(definition, &changes);
        self.claim_all(definition, id, &gained, metadata).await?;
        let command = RecordCommand::Update {
            model: definition.route.into(),
            input,
            by: by.into(),
            at: Utc::now(),
        };
        match self.records.execute_returning(id, command, metadata).await {
            Ok(executed) => {
                self.release_all(definition, id, &lost, metadata).await;
                Ok(executed)
            }
            Err(e) => {
                self.release_all(definition, id, &gained, metadata).await;
                Err(e.into())
            }
        }
    }

    pub async fn delete(
        &self,
        definition: &'static Model,
        id: &str,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Position, AppError> {
        let command = RecordCommand::Delete {
            model: definition.route.into(),
            by: by.into(),
            at: Utc::now(),
        };
        let executed = self
            .records
            .execute_returning(id, command, metadata)
            .await?;
        let held: Vec<Wanted> = definition
            .unique_fields()
            .filter_map(|f| {
                let key = f.unique_key(executed.state.fields.get(f.name)?)?;
                Some(Wanted { field: f.name, key })
            })
            .collect();
        self.release_all(definition, id, &held, metadata).await;
        Ok(executed.position)
    }
}

/// The unique values an update takes and gives back.
fn unique_moves(definition: &Model, changes: &[FieldChange]) -> (Vec<Wanted>, Vec<Wanted>) {
    let mut gained = Vec::new();
    let mut lost = Vec::new();
    for change in changes {
        let Some(field) = definition.field(&change.field) else {
            continue;
        };
        let (old, new) = (field.unique_key(&change.old), field.unique_key(&change.new));
        if old == new {
            continue;
        }
        if let Some(key) = new {
            gained.push(Wanted {
                field: field.name,
                key,
            });
        }
        if let Some(key) = old {
            lost.push(Wanted {
                field: field.name,
                key,
            });
        }
    }
    (gained, lost)
}
