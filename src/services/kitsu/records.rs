//! Creating, updating and deleting records of registry models. Unique values are claimed on
//! their own streams before the record's command, so that concurrent writes of one value race
//! on a single stream; a claim whose record could not be written is released again.
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use annals_contracts::filter::{FieldPath, Filter, Query};
use annals_contracts::{EventReader, Position, ProgressBoard, ViewStore};
use annals_domain::kitsu::{
    Calendar, DepartmentOf, EntityOf, Facts, FieldChange, Model, ProjectLink, Record,
    RecordCommand, Rule, UniqueClaim, UniqueClaimCommand, model, supervises,
};

use crate::es::commands::{Commands, Executed, Metadata};
use crate::es::together::Together;
use crate::services::error::AppError;
use crate::services::identity::Identity;

/// werkzeug's 403 description, which Zou sends for every refused permission.
pub const FORBIDDEN_MESSAGE: &str = "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.";

/// The model whose records assign work to people (Zou's tasks and their `assignees`).
pub const ASSIGNED_WORK: &str = "tasks";

/// Zou's refusal of a permission.
pub fn forbidden() -> AppError {
    AppError::Forbidden(FORBIDDEN_MESSAGE.into())
}

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

pub struct Records {
    pub records: Commands<Record>,
    pub claims: Commands<UniqueClaim>,
    /// The days held by the records of models with periods (a person's day offs).
    pub calendars: Commands<Calendar>,
    /// Persons are the identity store's accounts (team members, authors).
    pub identity: Arc<Identity>,
    /// The read models, for who refers to a record.
    pub views: Arc<dyn ViewStore>,
    /// Appends the events of several records at once (a comment with its task's change).
    pub together: Together,
    /// The log's head and the projections' progress, for writes computed from the read
    /// models (totals) that must first see everything committed before them.
    pub log: Arc<dyn EventReader>,
    pub progress: Arc<ProgressBoard>,
}

/// Whether a relation's value lists `id`.
fn lists(value: Option<&Value>, id: &str) -> bool {
    value
        .and_then(Value::as_array)
        .is_some_and(|ids| ids.iter().any(|held| held.as_str() == Some(id)))
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
pub(super) struct Wanted {
    pub(super) field: &'static str,
    pub(super) key: String,
}

impl Records {
    /// The model served at `/data/<route>`.
    pub fn model(route: &str) -> Result<&'static Model, AppError> {
        model(route).ok_or_else(|| AppError::NotFound(format!("no model {route}")))
    }

    /// Refuses a person of `role` what `rule` does not allow whatever the record.
    pub fn allow(rule: impl Into<Rule>, role: &str) -> Result<(), AppError> {
        if rule.into().allows_anywhere(role) {
            Ok(())
        } else {
            Err(forbidden())
        }
    }

    /// Refuses a person of `role` what `rule` allows on no record at all (checked before a
    /// request is read further).
    pub fn may_ever(rule: impl Into<Rule>, role: &str) -> Result<(), AppError> {
        if rule.into().may_ever(role) {
            Ok(())
        } else {
            Err(forbidden())
        }
    }

    /// Whether the team of the project of a record (whose fields `field` reads) holds
    /// `user_id`.
    pub async fn in_team<'a>(
        &self,
        definition: &Model,
        field: impl Fn(&str) -> Option<&'a Value>,
        user_id: &str,
    ) -> Result<bool, AppError> {
        match definition.project {
            ProjectLink::None => Ok(false),
            ProjectLink::Itself => Ok(lists(field("team"), user_id)),
            ProjectLink::Field(name) => match field(name).and_then(Value::as_str) {
                Some(project_id) => self.project_holds(project_id, user_id).await,
                None => Ok(false),
            },
            ProjectLink::Via { field: name, route } => {
                let Some(id) = field(name).and_then(Value::as_str) else {
                    return Ok(false);
                };
                let through = self.records.load(id).await?;
                let project_id = through.fields.get("project_id").and_then(Value::as_str);
                match project_id {
                    Some(project_id) if through.is_live(route) => {
                        self.project_holds(project_id, user_id).await
                    }
                    _ => Ok(false),
                }
            }
        }
    }

    /// Whether the live project `project_id`'s team holds `user_id`.
    pub async fn project_holds(&self, project_id: &str, user_id: &str) -> Result<bool, AppError> {
        let project = self.records.load(project_id).await?;
        Ok(project.is_live("projects") && lists(project.fields.get("team"), user_id))
    }

    /// The id of the entity of a record (whose id is `id` and whose fields `field` reads).
    async fn entity_of<'a>(
        &self,
        entity: EntityOf,
        id: Option<&str>,
        field: impl Fn(&str) -> Option<&'a Value>,
    ) -> Result<Option<String>, AppError> {
        Ok(match entity {
            EntityOf::Itself => id.map(str::to_string),
            EntityOf::Field(name) => field(name).and_then(Value::as_str).map(str::to_string),
            EntityOf::Via {
                field: name,
                route,
                entity,
            } => {
                let Some(through) = field(name).and_then(Value::as_str) else {
                    return Ok(None);
                };
                let through = self.records.load(through).await?;
                through
                    .is_live(route)
                    .then(|| through.fields.get(entity).and_then(Value::as_str))
                    .flatten()
                    .map(str::to_string)
            }
        })
    }

    /// Whether `user_id` supervises the department of the task type `task_type_id` (see
    /// [`supervises`]): their departments are the account's, as the log holds it.
    pub async fn supervises_task_type(
        &self,
        user_id: &str,
        task_type_id: Option<&str>,
    ) -> Result<bool, AppError> {
        let fields = self.identity.user(user_id).await?.person_fields();
        let theirs: Vec<&str> = fields
            .get("departments")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if theirs.is_empty() {
            return Ok(true);
        }
        let task_type = match task_type_id {
            Some(id) => self.records.load(id).await?,
            None => return Ok(false),
        };
        let department = task_type
            .is_live("task-types")
            .then(|| {
                task_type
                    .fields
                    .get("department_id")
                    .and_then(Value::as_str)
            })
            .flatten();
        Ok(supervises(&theirs, department))
    }

    /// Whether a task of the entity `entity_id` is assigned to `user_id` (Zou's entity access
    /// for vendors), from the tasks' read model, which the reads asking it have let catch up.
    async fn assigned_on(&self, entity_id: &str, user_id: &str) -> Result<bool, AppError> {
        let tasks = Self::model(ASSIGNED_WORK)?;
        let filter = Filter::And(vec![
            Filter::Eq(path("entity_id"), json!(entity_id)),
            Filter::Contains(path("assignees"), json!(user_id)),
        ]);
        let found = self
            .views
            .find(tasks.collection, &Query::new(filter, vec![], 1))
            .await?;
        Ok(!found.items.is_empty())
    }

    /// Refuses what `rule` does not allow a person on a record (whose id is `id`, when it has
    /// one yet, and whose fields `field` reads), looking at its project's team and the
    /// person's assignments only when the rule depends on them.
    pub async fn permit<'a>(
        &self,
        rule: impl Into<Rule>,
        definition: &Model,
        id: Option<&str>,
        field: impl Fn(&str) -> Option<&'a Value>,
        user_id: &str,
        role: &str,
    ) -> Result<(), AppError> {
        self.permit_change(rule, definition, id, field, &[], user_id, role)
            .await
    }

    /// [`Records::permit`] for a change whose request holds `keys` (a supervisor's rule
    /// limits them).
    #[allow(clippy::too_many_arguments)]
    pub async fn permit_change<'a>(
        &self,
        rule: impl Into<Rule>,
        definition: &Model,
        id: Option<&str>,
        field: impl Fn(&str) -> Option<&'a Value>,
        keys: &[String],
        user_id: &str,
        role: &str,
    ) -> Result<(), AppError> {
        let rule = rule.into();
        let in_team = rule.needs_team()
            && role != "admin"
            && self.in_team(definition, &field, user_id).await?;
        let assigned = match rule.needs_assignment(role) {
            Some(entity) => match self.entity_of(entity, id, &field).await? {
                Some(entity_id) => self.assigned_on(&entity_id, user_id).await?,
                None => false,
            },
            None => false,
        };
        let in_department = match rule.needs_department(role) {
            Some(DepartmentOf::TaskType(task_type)) if in_team => {
                let task_type = field(task_type).and_then(Value::as_str);
                self.supervises_task_type(user_id, task_type).await?
            }
            Some(DepartmentOf::Nobody) if in_team => {
                self.supervises_task_type(user_id, None).await?
            }
            _ => false,
        };
        let facts = Facts {
            user_id,
            role,
            in_team,
            assigned,
            in_department,
            changing: keys,
        };
        if rule.allows(&facts, field) {
            Ok(())
        } else {
            Err(forbidden())
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
        // What only the server sets is not the client's to give.
        let mut input = definition.client_input(input);
        // Validated before claiming, so that bad input claims nothing.
        definition.prepare_create(&input)?;
        self.check_references(definition, &input).await?;
        self.check_agreements(definition, &input).await?;
        self.flagged_defaults(definition, &mut input).await?;
        self.resolved_kinds(definition, &mut input).await?;
        self.known_relations(definition, &mut input).await?;
        self.own_previews(definition, &mut input).await?;
        self.named_defaults(definition, &mut input, by, metadata)
            .await?;
        let fields = definition.prepare_create(&input)?;
        let wanted = held_by(definition, &fields);
        let id = uuid::Uuid::new_v4().to_string();
        // Days first: Zou refuses an overlap (one day included) before a duplicate.
        self.hold_days(definition, &id, &fields, metadata).await?;
        if let Err(e) = self.claim_all(definition, &id, &wanted, metadata).await {
            self.free_days(definition, &id, &fields, metadata).await;
            return Err(e);
        }
        let command = RecordCommand::Create {
            model: definition.route.into(),
            input,
            by: by.into(),
            at: Utc::now(),
            subject: None,
        };
        match self.records.execute_returning(&id, command, metadata).await {
            Ok(mut executed) => {
                let others =
                    self.after_write(definition, &id, &executed.state.fields, by, metadata);
                if let Some(position) = others.await? {
                    executed.position = position;
                }
                Ok((id, executed))
            }
            Err(e) => {
                self.free_days(definition, &id, &fields, metadata).await;
                self.release_all(definition, &id, &wanted, metadata).await;
                Err(e.into())
            }
        }
    }

    /// What a write of the record `id` (now holding `fields`) changes in others: exclusive
    /// flags unset, records its days clear deleted, the total it counts towards; the position
    /// of the last change, if any.
    async fn after_write(
        &self,
        definition: &'static Model,
        id: &str,
        fields: &BTreeMap<String, Value>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Option<Position>, AppError> {
        let unset = self
            .unset_others(definition, id, fields, by, metadata)
            .await?;
        let cleared = self.clear_covered(definition, fields, by, metadata).await?;
        let summed = Box::pin(self.retotal(definition, id, fields, true, by, metadata)).await?;
        Ok(summed.or(cleared).or(unset))
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
        mut input: Map<String, Value>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Executed<Record>, AppError> {
        // An updatable relation keeps only the ids of records that exist, as on create.
        self.known_relations(definition, &mut input).await?;
        self.own_previews(definition, &mut input).await?;
        let changes = definition.prepare_update(&current.fields, &input)?;
        let changed: Map<String, Value> = changes
            .iter()
            .map(|c| (c.field.clone(), c.new.clone()))
            .collect();
        self.check_references(definition, &changed).await?;
        let (gained, lost) = unique_moves(definition, &current.fields, &changes);
        let before = &current.fields;
        let mut after = before.clone();
        after.extend(changes.iter().map(|c| (c.field.clone(), c.new.clone())));
        self.hold_days(definition, id, &after, metadata).await?;
        if let Err(e) = self.claim_all(definition, id, &gained, metadata).await {
            self.restore_days(definition, id, before, &after, metadata)
                .await;
            return Err(e);
        }
        let command = RecordCommand::Update {
            model: definition.route.into(),
            input,
            by: by.into(),
            at: Utc::now(),
        };
        match self.records.execute_returning(id, command, metadata).await {
            Ok(mut executed) => {
                self.moved_days(definition, id, before, &after, metadata)
                    .await;
                self.release_all(definition, id, &lost, metadata).await;
                let others = self.after_write(definition, id, &executed.state.fields, by, metadata);
                if let Some(position) = Box::pin(others).await? {
                    executed.position = position;
                }
                Ok(executed)
            }
            Err(e) => {
                self.restore_days(definition, id, before, &after, metadata)
                    .await;
                self.release_all(definition, id, &gained, metadata).await;
                Err(e.into())
            }
        }
    }

    /// Adds `member` to (`add`) or takes it from the relation `field` of the record `id`.
    /// An added id must be a live record of the relation's model.
    #[allow(clippy::too_many_arguments)]
    pub async fn relink(
        &self,
        definition: &'static Model,
        id: &str,
        field: &str,
        member: &str,
        add: bool,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Executed<Record>, AppError> {
        let (model, field, member, by, at) = (
            definition.route.to_string(),
            field.to_string(),
            member.to_string(),
            by.to_string(),
            Utc::now(),
        );
        let command = if add {
            RecordCommand::Link {
                model,
                field,
                id: member,
                by,
                at,
            }
        } else {
            RecordCommand::Unlink {
                model,
                field,
                id: member,
                by,
                at,
            }
        };
        Ok(self
            .records
            .execute_returning(id, command, metadata)
            .await?)
    }

    /// The live record that holds a composite unique value these `fields` would claim, once
    /// its writer has written it (a concurrent creator claims before it writes the record).
    pub async fn holder(
        &self,
        definition: &Model,
        fields: &BTreeMap<String, Value>,
    ) -> Result<Option<(String, Record)>, AppError> {
        for (field, key) in definition.together_keys(fields) {
            let claim: UniqueClaim = self
                .claims
                .load(&unique_claim_id(definition.route, field, &key))
                .await?;
            let Some(holder) = claim.holder else {
                continue;
            };
            for _ in 0..100 {
                let record = self.records.load(&holder).await?;
                if record.is_live(definition.route) {
                    return Ok(Some((holder, record)));
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        Ok(None)
    }

    /// Whether `id` is a live record of `target` (`persons`: an account).
    pub async fn is_known(&self, target: &str, id: &str) -> Result<bool, AppError> {
        self.exists(target, id).await
    }

    /// Moves the value under the key `from` of the JSON field `field` of the record `id` to
    /// the key `to`, or takes it out (`to` none); the position of the change.
    #[allow(clippy::too_many_arguments)]
    pub async fn move_key(
        &self,
        definition: &'static Model,
        id: &str,
        field: &str,
        from: &str,
        to: Option<&str>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Position, AppError> {
        let command = RecordCommand::MoveKey {
            model: definition.route.into(),
            field: field.into(),
            from: from.into(),
            to: to.map(str::to_string),
            by: by.into(),
            at: Utc::now(),
        };
        Ok(self
            .records
            .execute_returning(id, command, metadata)
            .await?
            .position)
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
        let held = held_by(definition, &executed.state.fields);
        self.release_all(definition, id, &held, metadata).await;
        self.free_days(definition, id, &executed.state.fields, metadata)
            .await;
        Ok(executed.position)
    }
}

/// The unique values (single and composite) a record with these fields holds.
pub(super) fn held_by(definition: &Model, fields: &BTreeMap<String, Value>) -> Vec<Wanted> {
    let single = definition.unique_fields().filter_map(|f| {
        let key = f.unique_key(fields.get(f.name)?)?;
        Some(Wanted { field: f.name, key })
    });
    let together = definition
        .together_keys(fields)
        .into_iter()
        .map(|(field, key)| Wanted { field, key });
    single.chain(together).collect()
}

/// The unique values an update of `current` takes and gives back.
fn unique_moves(
    definition: &Model,
    current: &BTreeMap<String, Value>,
    changes: &[FieldChange],
) -> (Vec<Wanted>, Vec<Wanted>) {
    let mut gained = Vec::new();
    let mut lost = Vec::new();
    let mut after = current.clone();
    for change in changes {
        after.insert(change.field.clone(), change.new.clone());
    }
    let (before, after) = (
        definition.together_keys(current),
        definition.together_keys(&after),
    );
    for (field, key) in &after {
        if !before.contains(&(field, key.clone())) {
            gained.push(Wanted {
                field,
                key: key.clone(),
            });
        }
    }
    for (field, key) in &before {
        if !after.contains(&(field, key.clone())) {
            lost.push(Wanted {
                field,
                key: key.clone(),
            });
        }
    }
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
