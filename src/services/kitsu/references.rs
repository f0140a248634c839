//! References between records, as Zou's foreign keys hold them: a write naming an unknown
//! record is refused (a relation's unknown ids are dropped instead), a record others point at
//! cannot be deleted, and a default that names a record ("Open") is found or made.
//!
//! Existence is read from the write side (the target's stream, or the person's), so a write
//! never refers to a record the log does not hold. Who points at a record is read from the
//! indexed read models, which the caller has let catch up with the log first.
use serde_json::{Map, Value, json};

use annals_contracts::filter::{FieldPath, Filter, Query, Sort};
use annals_domain::kitsu::{
    Default as FieldDefault, FieldType, MODELS, Model, UniqueClaim, entries, model, relation_ids,
};

use super::records::{Records, unique_claim_id};
use crate::es::commands::Metadata;
use crate::services::error::AppError;

/// Zou's message when a foreign key is refused, either way round.
pub const REFERENCED: &str = "The change conflicts with records referencing this one.";

/// The route of Zou's preview files (the revisions a playlist entry plays).
const PREVIEW_FILES: &str = "preview-files";

fn referenced(field: &str) -> AppError {
    AppError::invalid(field, REFERENCED)
}

impl Records {
    /// Whether `id` is a live record of the route `target` (`persons`: an account). Routes
    /// outside the registry are not checked.
    pub(super) async fn exists(&self, target: &str, id: &str) -> Result<bool, AppError> {
        if target == "persons" {
            return match self.identity.user(id).await {
                Ok(_) => Ok(true),
                Err(AppError::NotFound(_)) => Ok(false),
                Err(e) => Err(e),
            };
        }
        let Some(definition) = model(target) else {
            return Ok(true);
        };
        Ok(self.records.load(id).await?.is_live(definition.route))
    }

    /// Checks the references an input sets: an unknown id is refused. Malformed ids are left
    /// for the domain to refuse by name.
    pub async fn check_references(
        &self,
        definition: &Model,
        input: &Map<String, Value>,
    ) -> Result<(), AppError> {
        for field in definition.fields {
            let FieldType::Reference(target) = field.ty else {
                continue;
            };
            let Some(id) = input.get(field.name).and_then(Value::as_str) else {
                continue;
            };
            if uuid::Uuid::try_parse(id).is_ok() && !self.exists(target, id).await? {
                return Err(referenced(field.name));
            }
        }
        Ok(())
    }

    /// A create's relations keep only the ids of records that exist, as Zou drops the others.
    pub async fn known_relations(
        &self,
        definition: &Model,
        input: &mut Map<String, Value>,
    ) -> Result<(), AppError> {
        for field in definition.relations() {
            let FieldType::Relation(target) = field.ty else {
                continue;
            };
            let Some(given) = input.get(field.name) else {
                continue;
            };
            let Value::Array(ids) = relation_ids(given) else {
                continue;
            };
            let mut kept = Vec::with_capacity(ids.len());
            for id in ids {
                match id.as_str() {
                    Some(s) if uuid::Uuid::try_parse(s).is_ok() => {
                        if self.exists(target, s).await? {
                            kept.push(id);
                        }
                    }
                    // Malformed: kept for the domain to refuse.
                    _ => kept.push(id),
                }
            }
            input.insert(field.name.into(), Value::Array(kept));
        }
        Ok(())
    }

    /// An entries field (a playlist's `shots`) keeps an entry's preview only when it is a
    /// live preview file of a task of the entry's own entity; any other is unset, as Zou's
    /// `unpin_foreign_preview_files` does, so that an entry never plays another entity's
    /// preview.
    pub async fn own_previews(
        &self,
        definition: &Model,
        input: &mut Map<String, Value>,
    ) -> Result<(), AppError> {
        for field in definition
            .fields
            .iter()
            .filter(|f| f.ty == FieldType::Entries)
        {
            let Some(given) = input.get(field.name) else {
                continue;
            };
            let mut kept = entries(given);
            for entry in kept.as_array_mut().into_iter().flatten() {
                let (Some(entity), Some(preview)) = (
                    entry["entity_id"].as_str(),
                    entry["preview_file_id"].as_str(),
                ) else {
                    continue;
                };
                if !self.is_preview_of(preview, entity).await? {
                    entry["preview_file_id"] = Value::Null;
                }
            }
            input.insert(field.name.into(), kept);
        }
        Ok(())
    }

    /// Whether `preview` is a live preview file of a live task of the entity `entity`.
    pub(super) async fn is_preview_of(
        &self,
        preview: &str,
        entity: &str,
    ) -> Result<bool, AppError> {
        if uuid::Uuid::try_parse(preview).is_err() {
            return Ok(false);
        }
        let file = self.records.load(preview).await?;
        let Some(task) = file
            .is_live(PREVIEW_FILES)
            .then(|| file.fields.get("task_id").and_then(Value::as_str))
            .flatten()
        else {
            return Ok(false);
        };
        let task = self.records.load(task).await?;
        Ok(task.is_live("tasks")
            && task.fields.get("entity_id").and_then(Value::as_str) == Some(entity))
    }

    /// Fills the defaults that name a record (Zou's "Open" project status), making that
    /// record when it does not exist yet.
    pub async fn named_defaults(
        &self,
        definition: &Model,
        input: &mut Map<String, Value>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        for field in definition.fields {
            let FieldDefault::Named { route, name, color } = field.default else {
                continue;
            };
            if !input.get(field.name).is_none_or(Value::is_null) {
                continue;
            }
            let mut extra = Map::new();
            extra.insert("color".into(), json!(color));
            let id = self.named(route, name, extra, by, metadata).await?;
            input.insert(field.name.into(), json!(id));
        }
        Ok(())
    }

    /// The id of the live record of `route` named `name`, from its unique claim; made (with
    /// the `extra` fields) when there is none (a concurrent maker wins, and its record is the
    /// one).
    pub async fn named(
        &self,
        route: &str,
        name: &str,
        extra: Map<String, Value>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<String, AppError> {
        let target = Records::model(route)?;
        let name_field = target
            .field("name")
            .ok_or_else(|| AppError::Unavailable(format!("{route} has no name")))?;
        let key = name_field
            .unique_key(&json!(name))
            .ok_or_else(|| AppError::Unavailable(format!("{route} names are not unique")))?;
        let claim = unique_claim_id(route, "name", &key);
        for _ in 0..3 {
            let held: UniqueClaim = self.claims.load(&claim).await?;
            if let Some(holder) = held.holder {
                return Ok(holder);
            }
            let mut input = extra.clone();
            input.insert("name".into(), json!(name));
            match Box::pin(self.create(target, input, by, metadata)).await {
                Ok((id, _)) => return Ok(id),
                Err(AppError::Duplicate { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(AppError::Conflict)
    }

    /// Fills the defaults that are the record flagged by a field (Zou's default task status),
    /// read from the read model; null when none is flagged.
    pub async fn flagged_defaults(
        &self,
        definition: &Model,
        input: &mut Map<String, Value>,
    ) -> Result<(), AppError> {
        for field in definition.fields {
            let FieldDefault::Flagged { route, field: flag } = field.default else {
                continue;
            };
            if !input.get(field.name).is_none_or(Value::is_null) {
                continue;
            }
            let target = Records::model(route)?;
            let filter = Filter::Eq(FieldPath::parse(flag).expect("a path"), json!(true));
            let found = self
                .views
                .find(
                    target.collection,
                    &Query::new(filter, vec![Sort::parse("created_at").expect("a sort")], 1),
                )
                .await?;
            if let Some((id, _)) = found.items.into_iter().next() {
                input.insert(field.name.into(), json!(id));
            }
        }
        Ok(())
    }

    /// Refuses a new record whose references disagree (see [`annals_domain::kitsu::Agreement`]).
    pub async fn check_agreements(
        &self,
        definition: &Model,
        input: &Map<String, Value>,
    ) -> Result<(), AppError> {
        for agreement in definition.agreements {
            let side = |reference: &str| input.get(reference).and_then(Value::as_str);
            let (Some(left), Some(right)) = (side(agreement.left), side(agreement.right)) else {
                continue;
            };
            let left = self.records.load(left).await?;
            let right = self.records.load(right).await?;
            if left.fields.get(agreement.left_field) != right.fields.get(agreement.right_field) {
                return Err(AppError::invalid(agreement.left, agreement.message));
            }
        }
        Ok(())
    }

    /// Fills the kinds a record takes from the record a reference points at (Zou's entity
    /// `type`: the entity type's name when temporal, else `Asset`), read from the log.
    pub async fn resolved_kinds(
        &self,
        definition: &Model,
        input: &mut Map<String, Value>,
    ) -> Result<(), AppError> {
        for field in definition.fields {
            let FieldDefault::KindOf {
                field: reference,
                kinds,
                otherwise,
            } = field.default
            else {
                continue;
            };
            let name = match input.get(reference).and_then(Value::as_str) {
                Some(id) if uuid::Uuid::try_parse(id).is_ok() => {
                    self.records.load(id).await?.fields.get("name").cloned()
                }
                _ => None,
            };
            let kind = match name.as_ref().and_then(Value::as_str) {
                Some(name) if kinds.contains(&name) => name.to_string(),
                _ => otherwise.to_string(),
            };
            input.insert(field.name.into(), json!(kind));
        }
        Ok(())
    }

    /// The live records that refer to record `id` of `definition`: whether one holds it in a
    /// reference field, and which list it in a relation (model, relation, record id).
    pub async fn referrers(&self, definition: &Model, id: &str) -> Result<Referrers, AppError> {
        self.referrers_but(definition, id, &[]).await
    }

    /// [`Records::referrers`] but for the records of the models `skipped`.
    async fn referrers_but(
        &self,
        definition: &Model,
        id: &str,
        skipped: &[&str],
    ) -> Result<Referrers, AppError> {
        let mut referrers = Referrers::default();
        for other in MODELS.iter().filter(|m| !skipped.contains(&m.route)) {
            for field in other.fields {
                let (filter, limit) = match field.ty {
                    FieldType::Reference(target) if target == definition.route => (
                        Filter::Eq(FieldPath::parse(field.name).expect("a path"), json!(id)),
                        1,
                    ),
                    FieldType::Relation(target) if target == definition.route => (
                        Filter::Contains(FieldPath::parse(field.name).expect("a path"), json!(id)),
                        DETACH_LIMIT,
                    ),
                    _ => continue,
                };
                let found = self
                    .views
                    .find(other.collection, &Query::new(filter, vec![], limit))
                    .await?;
                if found.items.is_empty() {
                    continue;
                }
                if matches!(field.ty, FieldType::Reference(_)) {
                    referrers.referenced = true;
                } else {
                    referrers.listed_in.extend(
                        found
                            .items
                            .into_iter()
                            .map(|(record, _)| (other, field.name, record)),
                    );
                }
            }
        }
        Ok(referrers)
    }

    /// Makes record `id` deletable: refused while a record refers to it; a record only listed
    /// in relations is taken out of them when the model allows it and `force` is given.
    pub async fn clear_referrers(
        &self,
        definition: &Model,
        id: &str,
        force: bool,
        by: &str,
        metadata: &Metadata,
    ) -> Result<(), Refusal> {
        let owned = if force { definition.owns_on_force } else { &[] };
        for route in owned {
            self.delete_owned(definition, id, route, by, metadata)
                .await?;
        }
        let referrers = self.referrers_but(definition, id, owned).await?;
        if referrers.referenced
            || (!referrers.listed_in.is_empty() && definition.detach_on_force.is_none())
        {
            return Err(Refusal::Referenced);
        }
        if referrers.listed_in.is_empty() {
            return Ok(());
        }
        if !force {
            let message = definition.detach_on_force.unwrap_or(REFERENCED);
            return Err(Refusal::Attached(message));
        }
        for (other, relation, record) in referrers.listed_in {
            self.relink(other, &record, relation, id, false, by, metadata)
                .await?;
        }
        Ok(())
    }
}

impl Records {
    /// Deletes the records of model `route` that point at record `id` of `definition`, each
    /// with the records it owns in turn (a project's tasks with their comments).
    async fn delete_owned(
        &self,
        definition: &Model,
        id: &str,
        route: &str,
        by: &str,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        let owned = Records::model(route)?;
        let pointing: Vec<Filter> = owned
            .fields
            .iter()
            .filter(|f| f.ty == FieldType::Reference(definition.route))
            .map(|f| Filter::Eq(FieldPath::parse(f.name).expect("a path"), json!(id)))
            .collect();
        let found = self
            .views
            .find(
                owned.collection,
                &Query::new(Filter::Or(pointing), vec![], DETACH_LIMIT),
            )
            .await?;
        for (record, _) in found.items {
            for inner in owned.owns_on_force {
                Box::pin(self.delete_owned(owned, &record, inner, by, metadata)).await?;
            }
            match self.delete(owned, &record, by, metadata).await {
                // Gone meanwhile: nothing left to do.
                Ok(_) | Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// How many listing records a forced delete detaches at most in one request.
const DETACH_LIMIT: u32 = 10_000;

/// Who refers to a record.
#[derive(Default)]
pub struct Referrers {
    pub referenced: bool,
    pub listed_in: Vec<(&'static Model, &'static str, String)>,
}

/// Why a record cannot be deleted.
#[derive(Debug)]
pub enum Refusal {
    /// Zou's foreign-key refusal.
    Referenced,
    /// Listed in relations; `force` would detach it. Zou's message.
    Attached(&'static str),
    Failed(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::Failed(e)
    }
}
