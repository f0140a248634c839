//! Read models of the production tracker (Kitsu data API).
mod records;

pub use records::{KitsuRecords, RECORDS};
