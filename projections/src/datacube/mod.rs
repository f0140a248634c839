//! DataCube read models: databases with their collections, and documents.
mod databases;
mod documents;

pub use databases::{DATABASES, DatabaseViews, physical_name};
pub use documents::{DOCUMENTS, DocumentViews, META, document_view_id};
