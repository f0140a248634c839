//! Waiting until a projection has applied the log up to a position, whichever process applies
//! it: a worker of this process says so through the progress board, otherwise its stored
//! checkpoint does.
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use annals_contracts::{Position, ProgressBoard, StoreError, ViewStore};

#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    #[error("{projection} did not reach {target} in time (at {reached})")]
    TimedOut {
        projection: String,
        target: Position,
        reached: Position,
    },
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Returns once `projection` has applied everything up to `target`; fails after `timeout`.
pub async fn applied(
    views: &dyn ViewStore,
    progress: &ProgressBoard,
    projection: &str,
    target: Position,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<(), CatchUpError> {
    let deadline = Instant::now() + timeout;
    loop {
        let reached = match progress.watch(projection) {
            Some(progress) => *progress.borrow(),
            None => views.checkpoint(projection).await?,
        };
        if reached >= target {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(CatchUpError::TimedOut {
                projection: projection.to_string(),
                target,
                reached,
            });
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(CatchUpError::Cancelled),
            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    }
}
