//! A JSON document: one stream per document, keyed `<collection id>:<document id>`, so a
//! collection dropped and created again starts empty while the old documents keep their
//! history. Declared fields are type-checked on insert and update; others are free.
mod aggregate;
mod body;
mod events;
#[cfg(test)]
mod tests;
mod update;

pub use aggregate::{Document, DocumentCommand, DocumentError, stream_id};
pub use body::{MAX_DEPTH, RESERVED_KEYS, check_body};
pub use events::DocumentEvent;
pub use update::Update;
