//! Read-your-writes: a read waits (bounded) until the projections it reads from have passed
//! the position the caller asked for, or, without `X-Annals-Position`, the newest event
//! committed when the read arrived. The latter covers clients that send nothing special and
//! holds across any number of API processes: whatever a caller wrote before reading is at or
//! below that head.
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
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

/// A read of `projections` (after the read-your-writes wait), answered from the answer kept
/// under `key` while the projections stand where they stood when it was computed. `key` must
/// name everything else the answer depends on: the caller, the route, the query.
pub async fn kept<E, Fut>(
    gate: &ReadGate,
    headers: &HeaderMap,
    projections: &[&str],
    key: String,
    compute: impl FnOnce() -> Fut,
) -> Result<Response, E>
where
    E: From<AppError>,
    Fut: Future<Output = Result<Value, E>>,
{
    let freshness = gate.wait(headers, projections).await?;
    let answers = &gate.answers;
    let stamp = match freshness {
        Freshness::Fresh => answers.stamp(projections),
        Freshness::Stale => None,
    };
    if let Some(stamp) = &stamp
        && let Some(body) = answers.get(&key, stamp)
    {
        return Ok(json_bytes(body));
    }
    let body = serde_json::to_vec(&compute().await?)
        .map_err(|e| AppError::Unavailable(format!("answer not serialized: {e}")))?;
    let body = Bytes::from(body);
    if let Some(stamp) = stamp {
        answers.put(key, stamp, body.clone());
    }
    Ok(with_freshness(json_bytes(body), freshness))
}

fn json_bytes(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
