//! A login session: one stream per session id (the refresh token's `jti`). Access and refresh
//! tokens name their session; revoking it refuses both at once, in every process, because
//! authentication reads this stream rather than a read model.
mod aggregate;
#[cfg(test)]
mod tests;

pub use aggregate::{Session, SessionCommand, SessionError, SessionEvent};
