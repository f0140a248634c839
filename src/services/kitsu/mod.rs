//! Production-tracker use cases (Zou's data API): records of the registry models.
mod records;

pub use records::{Records, unique_claim_id};
