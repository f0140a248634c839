//! The production tracker's records (Zou's data API): one registry of model definitions and
//! one generic [`Record`] aggregate validated against it, so that a new model is a registry
//! entry, not a new aggregate. Uniqueness across records is a [`UniqueClaim`] stream per
//! (model, field, value), like the email claims of the identity store.
mod access;
mod calendar;
#[cfg(test)]
mod calendar_tests;
mod models;
mod record;
mod registry;
mod slug;
mod task_action;
mod task_comment;
#[cfg(test)]
mod task_comment_tests;
#[cfg(test)]
mod tests;
mod unique_claim;
mod values;
mod views;

pub use access::{
    Access, Author, Clients, DepartmentOf, Departments, EntityOf, Facts, Listing, Rule, Rules,
    Vendors, supervises,
};
pub use calendar::{Calendar, CalendarCommand, CalendarError, CalendarEvent, Days};
pub(crate) use models::plain;
pub use models::{METADATA_DATA_TYPES, METADATA_ENTITY_TYPES, MODELS, model};
pub use record::{FieldChange, Record, RecordCommand, RecordError, RecordEvent, Subject};
pub use registry::{
    Agreement, Clears, DateRange, Default, Field, FieldType, INTEGRITY, Lifecycle, Model, Periods,
    ProjectLink, Total, Unique,
};
pub use slug::slug;
pub use task_action::{TaskAction, TaskActor, task_action};
pub use task_comment::{Commented, TaskComment, changed_status, comment_on_task, mentioned};
pub use unique_claim::{UniqueClaim, UniqueClaimCommand, UniqueClaimError, UniqueClaimEvent};
pub(crate) use values::check as check_value;
pub use values::{derived_id, document, entries, parse_datetime, relation_ids, zou_datetime};
pub use views::{Extra, Only, TEMPORAL_KINDS, VIEWS, View, view};

/// The type of a record's stream: one stream per record, keyed by its UUID, whatever its model.
pub const RECORD_TYPE: &str = "kitsu_record";
