//! Production-tracker use cases (Zou's data API): records of the registry models.
mod history;
mod records;
mod references;

pub use history::{RecordHistory, record_history};

pub use records::{Records, unique_claim_id};
pub use references::{REFERENCED, Referrers, Refusal};
