//! The generic record aggregate: one stream per record of any registry model. Commands carry
//! the raw input; the registry decides what is valid, and events keep every changed field with
//! its old and new value, who changed it and when.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::models::model;
use super::registry::{FieldType, Model};
use super::values::{check, entries, relation_ids};
use crate::decide::Decide;

/// Keys no client sets: the server chooses ids and times.
const SERVER_KEYS: &[&str] = &["id", "created_at", "updated_at", "type"];

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The model's route; `None` until created.
    pub model: Option<String>,
    pub fields: BTreeMap<String, Value>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub deleted: bool,
}

impl Record {
    /// Whether this is a live record of the model with `route`.
    pub fn is_live(&self, route: &str) -> bool {
        !self.deleted && self.model.as_deref() == Some(route)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RecordCommand {
    Create {
        model: String,
        input: Map<String, Value>,
        by: String,
        at: DateTime<Utc>,
        /// What the record is about, when it is made in answer to another (a task comment).
        subject: Option<Subject>,
    },
    /// Keys that are not fields of the model are ignored, as Zou does on updates.
    Update {
        model: String,
        input: Map<String, Value>,
        by: String,
        at: DateTime<Utc>,
    },
    Delete {
        model: String,
        by: String,
        at: DateTime<Utc>,
    },
    /// Marks the record changed without changing a field: Zou bumps a task's `updated_at` on
    /// every comment, and an event on the task's stream makes concurrent comments, each
    /// decided on the task's state, conflict rather than land on a state they did not see.
    Touch {
        model: String,
        by: String,
        at: DateTime<Utc>,
    },
    /// Adds `id` to the relation `field` (a team member, say); nothing if it is there.
    Link {
        model: String,
        field: String,
        id: String,
        by: String,
        at: DateTime<Utc>,
    },
    /// Takes `id` out of the relation `field`; nothing if it is not there.
    Unlink {
        model: String,
        field: String,
        id: String,
        by: String,
        at: DateTime<Utc>,
    },
    /// Appends (entity, preview) couples to the entries `field` (Zou's add-entity on a
    /// playlist): a couple already there is skipped, an entry without preview is stored as
    /// `{entity_id}` alone, as Zou stores it; nothing if every couple is there.
    AddEntries {
        model: String,
        field: String,
        couples: Vec<(String, Option<String>)>,
        by: String,
        at: DateTime<Utc>,
    },
    /// Moves the value under the key `from` of the JSON object `field` to the key `to` (over
    /// what is there), or takes it out (`to` none): a metadata descriptor renamed or removed
    /// (Zou moves or strips its values in the records' `data`). Nothing when the key holds no
    /// value.
    MoveKey {
        model: String,
        field: String,
        from: String,
        to: Option<String>,
        by: String,
        at: DateTime<Utc>,
    },
}

/// One field's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// The record a new record is about (a comment's task) as the writer saw it when it made the
/// new one, and what making it changed there (in the same transaction): what a feed of such
/// records (Zou's news) needs, kept in the event so a rebuild reads it as live processing did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Subject {
    /// The other record's model route (`tasks`).
    pub model: String,
    pub id: String,
    /// Some of its fields, before the change.
    pub fields: BTreeMap<String, Value>,
    /// What the new record changed in it (the task's status, say); empty if nothing.
    pub changes: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum RecordEvent {
    /// A record created with every field of its model (defaults filled in).
    RecordCreated {
        /// The model's route (`project-status`).
        model: String,
        fields: BTreeMap<String, Value>,
        /// The person who acted.
        by: String,
        at: DateTime<Utc>,
        /// Only for a record made about another (a comment on a task): see `Subject`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<Subject>,
    },
    RecordUpdated {
        model: String,
        /// Only the fields whose value changed (none when the record was only touched).
        changes: Vec<FieldChange>,
        by: String,
        at: DateTime<Utc>,
    },
    /// The record is gone; `fields` are its last values.
    RecordDeleted {
        model: String,
        fields: BTreeMap<String, Value>,
        by: String,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for RecordEvent {
    fn event_type(&self) -> String {
        match self {
            RecordEvent::RecordCreated { .. } => "RecordCreated",
            RecordEvent::RecordUpdated { .. } => "RecordUpdated",
            RecordEvent::RecordDeleted { .. } => "RecordDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    #[error("no model is served at {0}")]
    UnknownModel(String),
    /// Zou's constructor refusing a keyword.
    #[error("'{field}' is an invalid keyword argument for {type_name}")]
    UnknownField {
        field: String,
        type_name: &'static str,
    },
    #[error("{field}: is required")]
    Missing { field: String },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: &'static str },
    /// A malformed value refused with Zou's own words for that field.
    #[error("{message}")]
    Refused {
        field: String,
        message: &'static str,
    },
    #[error("the record already exists")]
    AlreadyExists,
    #[error("no such record")]
    NotFound,
}

fn known_model(route: &str) -> Result<&'static Model, RecordError> {
    model(route).ok_or_else(|| RecordError::UnknownModel(route.to_string()))
}

fn checked(field: &super::Field, value: &Value) -> Result<(), RecordError> {
    check(field, value).map_err(|reason| match reason {
        "is required" => RecordError::Missing {
            field: field.name.to_string(),
        },
        reason => match field.refusal {
            Some(message) => RecordError::Refused {
                field: field.name.to_string(),
                message,
            },
            None => RecordError::Invalid {
                field: field.name.to_string(),
                reason,
            },
        },
    })
}

impl Model {
    /// A client's create input as the model takes it: without the values only the server
    /// sets, and with lenient references that are not UUIDs as null.
    pub fn client_input(&self, mut input: Map<String, Value>) -> Map<String, Value> {
        for field in self.fields.iter().filter(|f| f.server) {
            input.remove(field.name);
        }
        for field in self.fields.iter().filter(|f| f.lenient) {
            if let Some(value) = input.get_mut(field.name)
                && value
                    .as_str()
                    .is_none_or(|s| uuid::Uuid::try_parse(s).is_err())
            {
                *value = Value::Null;
            }
        }
        input
    }

    /// Every field of a new record from a create's input: unknown keys refused, defaults
    /// filled in, types checked.
    pub fn prepare_create(
        &self,
        input: &Map<String, Value>,
    ) -> Result<BTreeMap<String, Value>, RecordError> {
        if let Some(key) = input
            .keys()
            .find(|k| !SERVER_KEYS.contains(&k.as_str()) && self.field(k).is_none())
        {
            return Err(RecordError::UnknownField {
                field: key.clone(),
                type_name: self.type_name,
            });
        }
        let mut fields = BTreeMap::new();
        for field in self.fields {
            let relation = matches!(field.ty, FieldType::Relation(_));
            let value = match input.get(field.name) {
                Some(Value::Null) | None if relation => Value::Array(vec![]),
                Some(Value::Null) | None => field.default.value(),
                Some(v) if relation => relation_ids(v),
                Some(v) if field.ty == FieldType::Entries => entries(v),
                Some(v) => v.clone(),
            };
            checked(field, &value)?;
            fields.insert(field.name.to_string(), value);
        }
        self.check_order(&fields)?;
        Ok(fields)
    }

    /// Refuses a record of a model with [`Periods`](super::Periods) that ends before it starts
    /// (Zou's check constraint). Dates are `YYYY-MM-DD`, so their text order is theirs.
    fn check_order(&self, fields: &BTreeMap<String, Value>) -> Result<(), RecordError> {
        let Some(periods) = self.periods else {
            return Ok(());
        };
        let day = |name: &str| fields.get(name).and_then(Value::as_str);
        match (day(periods.start), day(periods.end)) {
            (Some(start), Some(end)) if start > end => Err(RecordError::Refused {
                field: periods.end.to_string(),
                message: super::registry::INTEGRITY,
            }),
            _ => Ok(()),
        }
    }

    /// The changes an update's input makes to `current`: server keys, `project_id`, protected
    /// fields, relations (Zou writes them through their own routes, but for the updatable
    /// ones) and unknown keys are ignored; unchanged values are not changes.
    pub fn prepare_update(
        &self,
        current: &BTreeMap<String, Value>,
        input: &Map<String, Value>,
    ) -> Result<Vec<FieldChange>, RecordError> {
        let mut changes = Vec::new();
        for (key, new) in input {
            let Some(field) = self.field(key) else {
                continue;
            };
            let relation = matches!(field.ty, FieldType::Relation(_));
            if field.protected || (relation && !field.updatable) || key == "project_id" {
                continue;
            }
            let given;
            let new = if relation {
                given = relation_ids(new);
                &given
            } else if field.ty == FieldType::Entries {
                given = entries(new);
                &given
            } else {
                new
            };
            checked(field, new)?;
            let old = current.get(key).cloned().unwrap_or(Value::Null);
            let new = match (&old, new) {
                (Value::Object(stored), Value::Object(given)) if field.merged => {
                    let mut both = stored.clone();
                    both.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
                    Value::Object(both)
                }
                _ => new.clone(),
            };
            if old != new {
                changes.push(FieldChange {
                    field: key.clone(),
                    old,
                    new,
                });
            }
        }
        let mut after = current.clone();
        after.extend(changes.iter().map(|c| (c.field.clone(), c.new.clone())));
        self.check_order(&after)?;
        Ok(changes)
    }
}

impl Decide for Record {
    fn decide(&self, command: RecordCommand) -> Result<Vec<RecordEvent>, RecordError> {
        Ok(match command {
            RecordCommand::Create {
                model,
                input,
                by,
                at,
                subject,
            } => {
                let definition = known_model(&model)?;
                if self.model.is_some() {
                    return Err(RecordError::AlreadyExists);
                }
                let mut fields = definition.prepare_create(&input)?;
                for field in definition.fields {
                    if field.default == super::Default::Author {
                        fields.insert(field.name.to_string(), Value::String(by.clone()));
                    }
                }
                vec![RecordEvent::RecordCreated {
                    model,
                    fields,
                    by,
                    at,
                    subject,
                }]
            }
            RecordCommand::Update {
                model,
                input,
                by,
                at,
            } => {
                let definition = known_model(&model)?;
                if !self.is_live(&model) {
                    return Err(RecordError::NotFound);
                }
                let changes = definition.prepare_update(&self.fields, &input)?;
                if changes.is_empty() {
                    return Ok(vec![]);
                }
                vec![RecordEvent::RecordUpdated {
                    model,
                    changes,
                    by,
                    at,
                }]
            }
            RecordCommand::Link {
                model,
                field,
                id,
                by,
                at,
            } => self.relink(&model, &field, by, at, |ids| {
                if !ids.contains(&Value::String(id.clone())) {
                    ids.push(Value::String(id));
                }
            })?,
            RecordCommand::Unlink {
                model,
                field,
                id,
                by,
                at,
            } => self.relink(&model, &field, by, at, |ids| {
                ids.retain(|held| held.as_str() != Some(id.as_str()))
            })?,
            RecordCommand::AddEntries {
                model,
                field,
                couples,
                by,
                at,
            } => self.add_entries(&model, &field, couples, by, at)?,
            RecordCommand::MoveKey {
                model,
                field,
                from,
                to,
                by,
                at,
            } => self.move_key(&model, &field, &from, to, by, at)?,
            RecordCommand::Touch { model, by, at } => {
                known_model(&model)?;
                if !self.is_live(&model) {
                    return Err(RecordError::NotFound);
                }
                vec![RecordEvent::RecordUpdated {
                    model,
                    changes: vec![],
                    by,
                    at,
                }]
            }
            RecordCommand::Delete { model, by, at } => {
                if !self.is_live(&model) {
                    return Err(RecordError::NotFound);
                }
                vec![RecordEvent::RecordDeleted {
                    model,
                    fields: self.fields.clone(),
                    by,
                    at,
                }]
            }
        })
    }
}

impl Record {
    /// The update that moves (or takes out) the key `from` of the object `field`.
    fn move_key(
        &self,
        model: &str,
        field: &str,
        from: &str,
        to: Option<String>,
        by: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<RecordEvent>, RecordError> {
        let definition = known_model(model)?;
        if !self.is_live(model) {
            return Err(RecordError::NotFound);
        }
        if !definition
            .field(field)
            .is_some_and(|f| f.ty == FieldType::Json)
        {
            return Err(RecordError::UnknownField {
                field: field.to_string(),
                type_name: definition.type_name,
            });
        }
        let old = self.fields.get(field).cloned().unwrap_or(Value::Null);
        let Value::Object(mut object) = old.clone() else {
            return Ok(vec![]);
        };
        // Zou's `pop(key, None)`: a null value is no value, and nothing moves.
        let Some(value) = object.remove(from).filter(|v| !v.is_null()) else {
            return Ok(vec![]);
        };
        if let Some(to) = to {
            object.insert(to, value);
        }
        let new = Value::Object(object);
        if new == old {
            return Ok(vec![]);
        }
        Ok(vec![RecordEvent::RecordUpdated {
            model: model.to_string(),
            changes: vec![FieldChange {
                field: field.to_string(),
                old,
                new,
            }],
            by,
            at,
        }])
    }

    /// The update that appends the couples not yet in the entries `field`.
    fn add_entries(
        &self,
        model: &str,
        field: &str,
        couples: Vec<(String, Option<String>)>,
        by: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<RecordEvent>, RecordError> {
        let definition = known_model(model)?;
        if !self.is_live(model) {
            return Err(RecordError::NotFound);
        }
        if !definition
            .field(field)
            .is_some_and(|f| f.ty == FieldType::Entries)
        {
            return Err(RecordError::UnknownField {
                field: field.to_string(),
                type_name: definition.type_name,
            });
        }
        let old = self.fields.get(field).cloned().unwrap_or(Value::Null);
        let mut held: Vec<Value> = old.as_array().cloned().unwrap_or_default();
        let couple_of = |entry: &Value| {
            (
                entry["entity_id"].as_str().map(str::to_string),
                entry["preview_file_id"].as_str().map(str::to_string),
            )
        };
        for (entity, preview) in couples {
            let couple = (Some(entity.clone()), preview.clone());
            if held.iter().any(|entry| couple_of(entry) == couple) {
                continue;
            }
            held.push(match preview {
                Some(preview) => json!({"entity_id": entity, "preview_file_id": preview}),
                None => json!({"entity_id": entity}),
            });
        }
        let new = Value::Array(held);
        if new == old || (old.is_null() && new == json!([])) {
            return Ok(vec![]);
        }
        Ok(vec![RecordEvent::RecordUpdated {
            model: model.to_string(),
            changes: vec![FieldChange {
                field: field.to_string(),
                old,
                new,
            }],
            by,
            at,
        }])
    }

    /// The update that changes the ids of the relation `field` as `change` does (none when
    /// they stay the same).
    fn relink(
        &self,
        model: &str,
        field: &str,
        by: String,
        at: DateTime<Utc>,
        change: impl FnOnce(&mut Vec<Value>),
    ) -> Result<Vec<RecordEvent>, RecordError> {
        let definition = known_model(model)?;
        if !self.is_live(model) {
            return Err(RecordError::NotFound);
        }
        if !definition
            .field(field)
            .is_some_and(|f| matches!(f.ty, FieldType::Relation(_)))
        {
            return Err(RecordError::UnknownField {
                field: field.to_string(),
                type_name: definition.type_name,
            });
        }
        let old = self
            .fields
            .get(field)
            .cloned()
            .unwrap_or(Value::Array(vec![]));
        let mut ids = old.as_array().cloned().unwrap_or_default();
        change(&mut ids);
        let new = Value::Array(ids);
        if new == old {
            return Ok(vec![]);
        }
        Ok(vec![RecordEvent::RecordUpdated {
            model: model.to_string(),
            changes: vec![FieldChange {
                field: field.to_string(),
                old,
                new,
            }],
            by,
            at,
        }])
    }
}

impl Aggregate for Record {
    const TYPE: &'static str = super::RECORD_TYPE;
    type Command = RecordCommand;
    type Event = RecordEvent;
    type Error = RecordError;
    type Services = ();

    async fn handle(
        &mut self,
        command: RecordCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), RecordError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: RecordEvent) {
        match event {
            RecordEvent::RecordCreated {
                model, fields, at, ..
            } => {
                self.model = Some(model);
                self.fields = fields;
                self.created_at = Some(at);
                self.updated_at = Some(at);
            }
            RecordEvent::RecordUpdated { changes, at, .. } => {
                for change in changes {
                    self.fields.insert(change.field, change.new);
                }
                self.updated_at = Some(at);
            }
            RecordEvent::RecordDeleted { at, .. } => {
                self.deleted = true;
                self.updated_at = Some(at);
            }
        }
    }
}
