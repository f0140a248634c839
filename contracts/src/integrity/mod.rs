//! Tamper evidence: the hashes that chain every stream of the log and seal its global order.
//! Pure (no IO): the writers (both log adapters), the relay (seals) and `annals verify` all
//! compute them here, so there is one definition of what is hashed.
//!
//! - **Content digest** of an event: `SHA-256(canonical(event))`, the canonical encoding of
//!   what is stored ([`canonical`]): a JSON array `["annals/1", aggregate type, aggregate id,
//!   sequence, event type, event version, payload, metadata, recorded time]`, without
//!   whitespace, object keys sorted by their UTF-8 bytes, numbers by value (`100`, `100.0` and
//!   `1e2` are all `1e2`: Postgres' `jsonb` keeps numbers as `numeric` and writes them back in
//!   its own form), strings escaped as serde_json does, the time in RFC 3339 UTC with exactly
//!   six fractional digits. The writer sets the time (truncated to microseconds, which both
//!   databases keep exactly), so the digest can be computed before the row exists.
//! - **Chain link**: `hash = SHA-256(previous hash ‖ digest)`, the previous hash being the one
//!   of the event before it in its stream (32 zero bytes for a stream's first event). An event
//!   edited, removed or inserted in the middle of a stream breaks the link of itself or of its
//!   successor.
//! - **Seals** ([`Seal`]): the relay, which reads the global order, folds the chain hashes of
//!   the events it has published into a running hash, `running = SHA-256(running ‖ hash)` from
//!   32 zero bytes at the log's first event, and every N events or T seconds stores a seal
//!   (first and last position, count, running hash). The end of a stream, and the order of
//!   the streams between themselves, are covered by the seals only.
//!
//! What it does not give: there is no secret, so someone who can write to the database and
//! knows this algorithm can append well-formed events after the newest seal (as any writer
//! can), or rewrite every hash and seal consistently. The seals published on NATS
//! (`annals.seals`) are the copy outside the database that shows the latter.
mod canonical;
mod chain;

pub use canonical::{Canonical, encode_event, write_canonical};
pub use chain::{EventContent, GENESIS, Hash, Seal, fold, link, recorded_now, to_hash};
