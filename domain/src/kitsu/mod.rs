//! The production tracker's records (Zou's data API): one registry of model definitions and
//! one generic [`Record`] aggregate validated against it, so that a new model is a registry
//! entry, not a new aggregate. Uniqueness across records is a [`UniqueClaim`] stream per
//! (model, field, value), like the email claims of the identity store.
mod models;
mod record;
mod registry;
#[cfg(test)]
mod tests;
mod unique_claim;
mod values;
mod views;

pub use models::{MODELS, TEMPORAL_KINDS, model};
pub use record::{FieldChange, Record, RecordCommand, RecordError, RecordEvent};
pub use registry::{
    Access, Default, Field, FieldType, Lifecycle, Model, ProjectLink, Rules, Unique,
};
pub use unique_claim::{UniqueClaim, UniqueClaimCommand, UniqueClaimError, UniqueClaimEvent};
pub use values::{document, relation_ids, zou_datetime};
pub use views::{Extra, Only, VIEWS, View, view};

/// The type of a record's stream: one stream per record, keyed by its UUID, whatever its model.
pub const RECORD_TYPE: &str = "kitsu_record";
