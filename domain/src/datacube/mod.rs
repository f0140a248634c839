//! The document database (DataCube): logical databases with collections and their schemas
//! ([`database`]), and JSON documents, one stream each ([`document`]).
pub mod database;
pub mod document;
pub mod schema;

pub use database::{
    Database, DatabaseCommand, DatabaseError, DatabaseEvent, DatabaseName, DatabaseNameCommand,
    DatabaseNameEvent,
};
pub use document::{Document, DocumentCommand, DocumentError, DocumentEvent, Update};
pub use schema::{Collection, Field, FieldType, normalize_name, valid_name};
