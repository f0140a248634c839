//! A logical database: one stream per database (its 24-hex id), holding its name, owner and
//! collections with their schemas. Its name is unique per owner through [`DatabaseName`], a
//! stream per owner and name, claimed in the same append as the creation.
//!
//! Anyone but the owner is told the database does not exist ([`DatabaseError::NotFound`]).
mod aggregate;
mod events;
mod name;
#[cfg(test)]
mod tests;

pub use aggregate::{Database, DatabaseCommand, DatabaseError};
pub use events::DatabaseEvent;
pub use name::{DatabaseName, DatabaseNameCommand, DatabaseNameEvent, name_stream};
