//! An annals subscriber, as an integrator would write one: it follows the event stream
//! durably and keeps one derived table, the members of every bucket, in its own database.
//!
//! Read in this order:
//! - [`envelope`]: what an event looks like on the wire, and positions in the global order;
//! - [`members`]: which events change the table, and how (pure);
//! - [`store`]: the table and the checkpoint, changed in one transaction, idempotently, with
//!   gap detection through `prevposition`;
//! - [`history`]: the REST history (`GET /api/history/events`), for catching up;
//! - [`stream`]: the JetStream durable consumer;
//! - [`follow`]: the loop that ties them together: history to the newest event, then the
//!   stream, and back to the history whenever the stream misses something.
//!
//! It depends on nothing of annals: only on the published contract (`docs/events.md`).
pub mod config;
pub mod envelope;
pub mod follow;
pub mod history;
pub mod members;
pub mod store;
pub mod stream;

pub use config::Config;
pub use envelope::{Envelope, Position};
pub use follow::run;
pub use store::{Checkpoint, Member, Store};

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the subscriber's database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("annals unreachable: {0}")]
    Http(#[from] reqwest::Error),
    #[error("annals answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("NATS: {0}")]
    Nats(String),
    #[error(
        "the history does not continue the checkpoint {}: its next event {} follows {}",
        .0.checkpoint, .0.position, .0.prevposition
    )]
    Gap(store::Gap),
    #[error(
        "this database follows log {ours}, but the events come from log {theirs}: \
         give each log its own subscriber database"
    )]
    OtherLog { ours: String, theirs: String },
    #[error("cannot read {id}: {reason}")]
    Event { id: String, reason: String },
}

impl Error {
    /// Whether retrying cannot help: credentials or request refused, another log, an
    /// unreadable event, an unusable database.
    pub fn is_fatal(&self) -> bool {
        match self {
            Error::Refused { status, .. } => (400..500).contains(status) && *status != 429,
            Error::OtherLog { .. } | Error::Event { .. } | Error::Database(_) => true,
            Error::Http(_) | Error::Nats(_) | Error::Gap(_) => false,
        }
    }
}
