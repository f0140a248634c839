//! The contracts between the write side and the read side of annals: where an event sits in
//! the global order ([`Position`]), how it is stored and published ([`StoredEvent`],
//! [`Envelope`]), the log reader ([`EventReader`]), the bus ([`EventBus`]), and the view store
//! ([`ViewStore`]) with its filter language ([`filter`]). Both sides and every adapter import
//! these; none of them is implemented here.
mod bus;
mod checkpoint;
mod envelope;
pub mod filter;
pub mod integrity;
mod leadership;
mod log;
mod position;
mod progress;
mod store;

pub use bus::{BusError, Delivery, EventBus, Subscription};
pub use checkpoint::{IDLE, QUIET_FLUSH, StoredCheckpoint};
pub use envelope::{Envelope, SOURCE, StoredEvent, chain, chain_owned, is_secret, redact};
pub use leadership::{Leadership, Lease, SoleProcess};
pub use log::{EventReader, LogError};
pub use position::{Position, PositionParseError};
pub use progress::ProgressBoard;
pub use store::{CommitError, Nested, Page, Run, StoreError, ViewOp, ViewStore};
