//! A consumer's checkpoint as the store holds it (projection workers, the relay, reactors).
use std::time::Duration;

use crate::Position;

/// How long the bus may stay silent before a consumer checks the log for missed events.
pub const IDLE: Duration = Duration::from_millis(500);
/// How long the stored checkpoint may trail behind events that changed nothing in this
/// projection (most events, for most projections): they are not worth a transaction each.
pub const QUIET_FLUSH: Duration = Duration::from_millis(50);

/// What the store holds of a consumer's checkpoint, and since when. A consumer moves past
/// events that changed nothing without a write; the store follows within `quiet`.
#[derive(Debug, Clone, Copy)]
pub struct StoredCheckpoint {
    position: Position,
    since: std::time::Instant,
    quiet: Duration,
}

impl StoredCheckpoint {
    pub fn new(position: Position) -> Self {
        Self::with_quiet(position, QUIET_FLUSH)
    }

    /// One that is `due` once `quiet` has passed since it was last set.
    pub fn with_quiet(position: Position, quiet: Duration) -> Self {
        Self {
            position,
            since: std::time::Instant::now(),
            quiet,
        }
    }

    pub fn position(&self) -> Position {
        self.position
    }

    /// Records that the store now holds `position`.
    pub fn set(&mut self, position: Position) {
        *self = Self::with_quiet(position, self.quiet);
    }

    /// Whether a change-less advance should be written now.
    pub fn due(&self) -> bool {
        self.since.elapsed() >= self.quiet
    }

    /// How long a consumer at `current` waits on a silent bus: briefly while the store trails
    /// behind (then it writes), else until it checks the log.
    pub fn idle(&self, current: Position) -> Duration {
        if current == self.position {
            IDLE
        } else {
            self.quiet.min(IDLE)
        }
    }
}
