//! What a model definition holds: its fields (type, default, required, protected, unique) and
//! who may do what with its records. Definitions are static data (see `models`).
use serde_json::{Value, json};

use super::access::Rules;

/// The type of a field's value, as Zou's column types accept it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldType {
    /// A string of at most `max` characters (`None`: unbounded text).
    Text {
        max: Option<usize>,
    },
    Bool,
    Int,
    Float,
    /// Any JSON value (Zou's JSONB columns).
    Json,
    /// One of these codes.
    Choice(&'static [&'static str]),
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A naive UTC date and time, `YYYY-MM-DDTHH:MM:SS` (a space for the `T`, and a fraction,
    /// are accepted as Zou's parser does).
    DateTime,
    /// The id (a UUID) of a record of the model with this route (`persons`: a person of the
    /// identity store). Routes outside the registry are checked as UUIDs only.
    Reference(&'static str),
    /// A collection relationship: a list of ids of records of the model with this route,
    /// serialized only with `relations` and never written by an update (Zou's `team`,
    /// `task_types`...).
    Relation(&'static str),
    /// A list of entries `{entity_id, preview_file_id}` (Zou's playlist `shots`): each given
    /// entry is kept as those two keys (`id` read as `entity_id`, a missing preview as null),
    /// what is not an entry is dropped, and a value that is not a list is an empty one.
    Entries,
}

impl FieldType {
    /// The route of the records this field points at, for references and relations.
    pub fn target(self) -> Option<&'static str> {
        match self {
            FieldType::Reference(route) | FieldType::Relation(route) => Some(route),
            _ => None,
        }
    }
}

/// A field's value when a create does not give one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Default {
    Null,
    Text(&'static str),
    Bool(bool),
    Int(i64),
    Float(f64),
    /// The id of the record of model `route` whose `name` is this one, made (with this
    /// `color`) when there is none: Zou's "Open" project status. Resolved by the service, so
    /// the domain sees it given.
    Named {
        route: &'static str,
        name: &'static str,
        color: &'static str,
    },
    /// The acting person's id, whatever the input says (Zou's `created_by`).
    Author,
    /// An empty JSON list (Zou's `replies`, `checklist`).
    EmptyList,
    /// The id of a record of model `route` whose boolean `field` is true (Zou's default task
    /// status, the one flagged `is_default`); null when none is. Resolved by the service, so
    /// the domain sees it given.
    Flagged {
        route: &'static str,
        field: &'static str,
    },
    /// The kind of the record the reference `field` points at: its `name` when it is one of
    /// `kinds`, else `otherwise` (Zou's entity base type: `Shot`, ..., else `Asset`).
    /// Resolved by the service, so the domain sees it given.
    KindOf {
        field: &'static str,
        kinds: &'static [&'static str],
        otherwise: &'static str,
    },
}

impl Default {
    pub fn value(self) -> Value {
        match self {
            Default::Null
            | Default::Named { .. }
            | Default::Author
            | Default::KindOf { .. }
            | Default::Flagged { .. } => Value::Null,
            Default::EmptyList => json!([]),
            Default::Text(s) => json!(s),
            Default::Bool(b) => json!(b),
            Default::Int(i) => json!(i),
            Default::Float(f) => json!(f),
        }
    }
}

/// How a unique field compares values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unique {
    Exact,
    /// Zou refuses a name that differs only in case (task types, entity types).
    CaseInsensitive,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    /// Refused as missing when absent or null on create.
    pub required: bool,
    pub default: Default,
    /// Silently dropped from updates (Zou's per-model protected fields).
    pub protected: bool,
    pub unique: Option<Unique>,
    /// Set by the server only: a client's value is dropped on create, and updates ignore it.
    pub server: bool,
    /// An update's object is merged into the stored object, key by key (Zou's entity `data`).
    pub merged: bool,
    /// A relation an update may set as a whole (Zou's task `assignees`); other relations are
    /// written through their own routes only.
    pub updatable: bool,
    /// On create, a reference that is not a UUID is taken as null (Zou's playlist
    /// `episode_id` of "main" or "all", and `task_type_id`).
    pub lenient: bool,
    /// Zou's own refusal of a malformed value, when it has one (a playlist's `for_entity`).
    pub refusal: Option<&'static str>,
    /// A boolean at most one record holds true: a write that leaves a record's value true
    /// sets it false on every other record (Zou's default preview background).
    pub exclusive: bool,
}

impl Field {
    /// An optional field without default, nothing special.
    pub const fn new(name: &'static str, ty: FieldType) -> Self {
        Field {
            name,
            ty,
            required: false,
            default: Default::Null,
            protected: false,
            unique: None,
            server: false,
            merged: false,
            updatable: false,
            lenient: false,
            refusal: None,
            exclusive: false,
        }
    }

    /// See [`Field::exclusive`].
    pub const fn exclusive(mut self) -> Self {
        self.exclusive = true;
        self
    }

    /// See [`Field::refusal`].
    pub const fn refusal(mut self, message: &'static str) -> Self {
        self.refusal = Some(message);
        self
    }

    /// See [`Field::lenient`].
    pub const fn lenient(mut self) -> Self {
        self.lenient = true;
        self
    }

    /// See [`Field::updatable`].
    pub const fn updatable(mut self) -> Self {
        self.updatable = true;
        self
    }

    /// See [`Field::merged`].
    pub const fn merged(mut self) -> Self {
        self.merged = true;
        self
    }

    /// A value the server sets (see [`Field::server`]); never changed by an update.
    pub const fn server(mut self) -> Self {
        self.server = true;
        self.protected = true;
        self
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn default(mut self, default: Default) -> Self {
        self.default = default;
        self
    }

    pub const fn protected(mut self) -> Self {
        self.protected = true;
        self
    }

    pub const fn unique(mut self, unique: Unique) -> Self {
        self.unique = Some(unique);
        self
    }

    /// The key a unique value is claimed under: the value itself, lower-cased when the field
    /// compares without case. `None` for non-unique fields and null values (Zou's unique
    /// columns admit many nulls).
    pub fn unique_key(&self, value: &Value) -> Option<String> {
        let unique = self.unique?;
        let text = match value {
            Value::Null => return None,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Some(match unique {
            Unique::Exact => text,
            Unique::CaseInsensitive => text.to_lowercase(),
        })
    }
}

/// Where a record's project (and so its team) is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProjectLink {
    /// Not part of a project.
    None,
    /// The record is a project: the team is its own `team` field.
    Itself,
    /// The project whose id is in this field.
    Field(&'static str),
    /// The project of the record of model `route` whose id is in `field` (a comment's task).
    Via {
        field: &'static str,
        route: &'static str,
    },
}

/// A rule between two records a new record refers to: the field `left_field` of the record
/// its reference `left` points at must equal the field `right_field` of the record `right`
/// points at (Zou: a task's task type is `for_entity` the kind of its entity).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    pub left: &'static str,
    pub left_field: &'static str,
    pub right: &'static str,
    pub right_field: &'static str,
    /// Zou's refusal.
    pub message: &'static str,
}

/// A model whose records are open or closed by a status record (Zou's projects): open when
/// the status named in `field` is named `open_name`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lifecycle {
    pub field: &'static str,
    pub open_name: &'static str,
    /// Zou's refusal to delete an open record.
    pub delete_open_message: &'static str,
}

/// Zou's answer when a write breaks a check constraint of its table (a day off ending
/// before it starts).
pub const INTEGRITY: &str = "The data conflicts with database integrity rules.";

/// Records holding a range of days that may not overlap while they have the same owner (Zou's
/// day offs of one person). Every record starts on or before it ends; the days each owner
/// holds are a [`super::Calendar`] stream, which decides between concurrent writers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Periods {
    /// The field naming the owner (`person_id`).
    pub owner: &'static str,
    /// The first and last day (`date`, `end_date`), both `Date` fields.
    pub start: &'static str,
    pub end: &'static str,
    /// Zou's refusal of an overlap.
    pub overlap_message: &'static str,
    /// Records of another model that a record's days wipe out (see [`Clears`]).
    pub clears: Option<Clears>,
}

/// The records of model `route` whose `owner` field names a period's owner and whose `date`
/// falls on its days: deleted once a record holds those days (Zou: a day off wipes the time
/// spent on the days it covers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clears {
    pub route: &'static str,
    pub owner: &'static str,
    pub date: &'static str,
}

impl Periods {
    /// The owner and the days a record with these fields holds; `None` while one of them is
    /// null (a create refuses that first, as a missing field).
    pub fn of(
        &self,
        fields: &std::collections::BTreeMap<String, Value>,
    ) -> Option<(String, String, String)> {
        let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_string);
        Some((text(self.owner)?, text(self.start)?, text(self.end)?))
    }
}

/// Two list parameters, given together, that keep the records whose date `field` is between
/// them, both included (Zou's time spents).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DateRange {
    pub field: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

/// The field `into` of the record of model `route` that a record's reference `via` points at
/// holds the sum of the field `of` over the records pointing at it, recomputed after each
/// create, update and delete through the data routes (Zou's task `duration`, the sum of its
/// time spents).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Total {
    pub of: &'static str,
    pub via: &'static str,
    pub route: &'static str,
    pub into: &'static str,
}

#[derive(Debug, PartialEq)]
pub struct Model {
    /// The name in `/data/<route>`.
    pub route: &'static str,
    /// Zou's class name, serialized as `type`.
    pub type_name: &'static str,
    /// The read-model collection of its records.
    pub collection: &'static str,
    pub fields: &'static [Field],
    pub rules: Rules,
    /// Zou's message for a duplicate unique value, when it has its own.
    pub duplicate_message: Option<&'static str>,
    pub project: ProjectLink,
    /// Reference fields (`x_id`) whose record's name a single read adds (as `x_name`).
    pub named_references: &'static [&'static str],
    pub lifecycle: Option<Lifecycle>,
    /// When set, a record listed only in other records' relations is refused deletion with
    /// this message, and `?force=true` takes it out of those lists first (Zou's task types).
    pub detach_on_force: Option<&'static str>,
    /// Sets of fields unique together while none of them is null (Zou's composite unique
    /// constraints, which admit any number of rows with a null in them), but for the fields
    /// of `nulls_match`.
    pub unique_together: &'static [&'static [&'static str]],
    /// The fields of `unique_together` sets whose null is a value like any other (Zou's
    /// partial unique indexes, as those of metadata descriptors on a null task type).
    pub nulls_match: &'static [&'static str],
    /// Routes of the models whose records pointing at one of this model's are deleted with
    /// it by `?force=true` (Zou's removal of a project and its entities); without `force`
    /// they refuse the delete like any reference.
    pub owns_on_force: &'static [&'static str],
    /// Rules between the records a new record refers to, checked on create.
    pub agreements: &'static [Agreement],
    /// Ranges of days that may not overlap per owner (Zou's day offs).
    pub periods: Option<Periods>,
    /// The pair of list parameters that keeps the records of a range of days (Zou's time
    /// spents' `start_date` and `end_date`).
    pub date_range: Option<DateRange>,
    /// A number of another record kept as the sum of its records' values (see [`Total`]).
    pub total: Option<Total>,
    /// What a single read of a record adds (Zou's comment `person`).
    pub extras: &'static [super::views::Extra],
}

impl Model {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The collection relationships (serialized only with `relations`).
    pub fn relations(&self) -> impl Iterator<Item = &'static Field> + '_ {
        self.fields
            .iter()
            .filter(|f| matches!(f.ty, FieldType::Relation(_)))
    }

    /// The claims the composite unique sets of a record with these `fields` need: the set's
    /// first field (named in a refusal) and the key of its values; none for a set holding a
    /// null (but in a field of `nulls_match`).
    pub fn together_keys(
        &self,
        fields: &std::collections::BTreeMap<String, Value>,
    ) -> Vec<(&'static str, String)> {
        self.unique_together
            .iter()
            .filter_map(|set| {
                let values: Option<Vec<&Value>> = set
                    .iter()
                    .map(|name| match fields.get(*name) {
                        Some(v) if !v.is_null() => Some(v),
                        _ if self.nulls_match.contains(name) => Some(&Value::Null),
                        _ => None,
                    })
                    .collect();
                Some((set[0], serde_json::to_string(&values?).ok()?))
            })
            .collect()
    }

    /// Whether a write of one of its records changes others, which are found in the read
    /// models (exclusive flags, days that clear other records, the total it counts towards).
    pub fn writes_others(&self) -> bool {
        self.exclusive_fields().next().is_some()
            || self.periods.is_some_and(|p| p.clears.is_some())
            || self.total.is_some()
    }

    /// The boolean fields at most one record holds true (see [`Field::exclusive`]).
    pub fn exclusive_fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        self.fields.iter().filter(|f| f.exclusive)
    }

    /// The unique fields.
    pub fn unique_fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        self.fields.iter().filter(|f| f.unique.is_some())
    }
}
