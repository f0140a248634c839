//! Projections: turn the ordered event history into read models.
pub mod filter;
