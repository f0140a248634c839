//! API keys of the document service: one stream per key, keyed by its public id. The secret
//! part is only ever stored as a hash.
mod aggregate;
#[cfg(test)]
mod tests;

pub use aggregate::{
    ApiKey, ApiKeyCommand, ApiKeyError, ApiKeyEvent, KeyScope, USE_RECORD_INTERVAL_SECS,
};
