//! Read-your-writes: a read waits (bounded) until the projections it reads from have passed
//! the position the caller asked for, or, without `X-Annals-Position`, the newest event
//! committed when the read arrived. The latter covers clients that send nothing special and
//! holds across any number of API processes: whatever a caller wrote before reading is at or
//! below that head.
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use tokio::time::Instant;

use annals_contracts::{Position, ProgressBoard, ViewStore};

use crate::adapters::shared_head::SharedHead;
use crate::http::answers::Answers;
use crate::services::error::AppError;

pub const POSITION_HEADER: &str = "x-annals-position";
/// Set on a read answered before the read models caught up (the wait timed out).
pub const CONSISTENCY_HEADER: &str = "x-annals-consistency";

const POLL: Duration = Duration::from_millis(3);

#[derive(Clone)]
pub struct ReadGate {
    /// The log's head, one query for all the reads that wait on it together.
    pub head: Arc<SharedHead>,
    pub views: Arc<dyn ViewStore>,
    pub progress: Arc<ProgressBoard>,
    pub max_wait: Duration,
    /// Answers kept while the projections they were read from stand still.
    pub answers: Arc<Answers>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    Stale,
}

impl ReadGate {
    pub async fn wait(
        &self,
        headers: &HeaderMap,
        projections: &[&str],
    ) -> Result<Freshness, AppError> {
        let asked = headers
            .get(POSITION_HEADER)
            .map(|v| {
                v.to_str()
                    .ok()
                    .and_then(|s| s.parse::<Position>().ok())
                    .ok_or_else(|| {
                        AppError::invalid("X-Annals-Position", "must look like <tx>.<gid>")
                    })
            })
            .transpose()?;
        let target = match asked {
            Some(p) => p,
            None => match self.head.head().await? {
                Some(p) => p,
                None => return Ok(Freshness::Fresh),
            },
        };
        let deadline = Instant::now() + self.max_wait;
        for projection in projections {
            if !self.reached(projection, target, deadline).await? {
                metrics::counter!("annals_stale_reads_total", "projection" => projection.to_string())
                    .increment(1);
                return Ok(Freshness::Stale);
            }
        }
        Ok(Freshness::Fresh)
    }

    async fn reached(
        &self,
        projection: &str,
        target: Position,
        deadline: Instant,
    ) -> Result<bool, AppError> {
        // A worker in this process tells us directly; otherwise ask the store.
        if let Some(mut progress) = self.progress.watch(projection) {
            loop {
                if *progress.borrow_and_update() >= target {
                    return Ok(true);
                }
                match tokio::time::timeout_at(deadline, progress.changed()).await {
                    Ok(Ok(())) => continue,
                    // The local worker stood down (another process leads now): ask the store.
                    Ok(Err(_)) => break,
                    Err(_) => return Ok(false),
                }
            }
        }
        loop {
            let checkpoint = self.views.checkpoint(projection).await?;
            if checkpoint >= target {
                return Ok(true);
            }
            if Instant::now() + POLL > deadline {
                return Ok(false);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// A write's answer, with the position a later read can wait for (`X-Annals-Position`).
pub fn with_position(mut response: Response, position: Position) -> Response {
    if let Ok(v) = HeaderValue::from_str(&position.to_string()) {
        response.headers_mut().insert(POSITION_HEADER, v);
    }
    response
}

/// A read's answer, marked `X-Annals-Consistency: stale` if the wait for the read models timed out.
pub fn with_freshness(mut response: Response, freshness: Freshness) -> Response {
    if freshness == Freshness::Stale {
        response
            .headers_mut()
            .insert(CONSISTENCY_HEADER, HeaderValue::from_static("stale"));
    }
    response
}
