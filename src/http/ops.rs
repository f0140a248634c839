//! Operations endpoints: liveness, readiness with lag, Prometheus metrics, OpenAPI.
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::openapi::Document;
use crate::http::state::AppState;

/// The operations routes, each declared once by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

/// How long `/readyz` waits for NATS to answer.
const NATS_PING: std::time::Duration = std::time::Duration::from_secs(1);

/// Events counted at most when reporting lag (the count stays cheap when far behind).
const LAG_CAP: i64 = 100_000;

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Followers of the log besides the projections, whose checkpoints live in the view store too.
const REACTORS: &[&str] = &[crate::services::workspaces::invitations::REACTOR];

/// How far a follower of the log (projection or reactor) has got: its stored checkpoint and the
/// events after it. `None` if the checkpoint could not be read.
async fn follower_lag(state: &AppState, name: &str) -> Option<(Value, i64)> {
    let checkpoint = state.gate.views.checkpoint(name).await.ok()?;
    let pending = state
        .log
        .count_after(checkpoint, LAG_CAP)
        .await
        .unwrap_or(-1);
    let report = json!({"name": name, "checkpoint": checkpoint, "pending_events": pending});
    Some((report, pending))
}

/// Lag in events of the relay, the projections and the reactors, also written to the lag
/// gauges; `false` if a position could not be read.
async fn lag(state: &AppState) -> (Option<Value>, Vec<Value>, Vec<Value>, bool) {
    let mut all_read = true;
    let relay = match &state.relay_state {
        Some(relay) => match relay.load().await {
            Ok(cursor) => {
                let pending = state.log.count_after(cursor, LAG_CAP).await.unwrap_or(-1);
                metrics::gauge!("annals_relay_lag_events").set(pending as f64);
                Some(json!({"cursor": cursor, "pending_events": pending}))
            }
            Err(_) => {
                all_read = false;
                None
            }
        },
        None => None,
    };
    let mut projections = Vec::new();
    for projection in annals_projections::all() {
        let name = projection.name();
        match follower_lag(state, name).await {
            Some((report, pending)) => {
                metrics::gauge!("annals_projection_lag_events", "projection" => name)
                    .set(pending as f64);
                projections.push(report);
            }
            None => all_read = false,
        }
    }
    let mut reactors = Vec::new();
    for &name in REACTORS {
        match follower_lag(state, name).await {
            Some((report, pending)) => {
                metrics::gauge!("annals_reactor_lag_events", "reactor" => name).set(pending as f64);
                reactors.push(report);
            }
            None => all_read = false,
        }
    }
    (relay, projections, reactors, all_read)
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "The database is reachable; NATS (if configured: `nats` is `ok` or `unreachable`, which does not stop the API), relay, projection and reactor lag"),
              (status = 503, description = "The database is unreachable")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = state.log.ping().await.is_ok();
    // NATS is a fan-out and a wake-up, not a dependency of the API: writes go to the log and
    // reads wait for projections that follow the log while the bus is down. An unreachable NATS
    // is reported here (and in `annals_relay_lag_*`), but keeps the process in rotation.
    let nats = match &state.stream {
        Some(stream) => Some(matches!(
            tokio::time::timeout(NATS_PING, stream.ping()).await,
            Ok(Ok(()))
        )),
        None => None,
    };
    let mut ready = database;
    let mut body = json!({
        "storage": state.storage,
        "database": if database { "ok" } else { "unreachable" },
        "bus": if nats.is_some() { "nats-jetstream" } else { "in-process" },
        "nats": match nats { None => "disabled", Some(true) => "ok", Some(false) => "unreachable" },
    });
    if database {
        body["head"] = json!(state.log.head().await.ok().flatten());
        let (relay, projections, reactors, all_read) = lag(&state).await;
        ready &= all_read;
        if let Some(relay) = relay {
            body["relay"] = relay;
        }
        body["projections"] = json!(projections);
        body["reactors"] = json!(reactors);
    }
    body["status"] = json!(match (ready, nats) {
        (false, _) => "unavailable",
        (true, Some(false)) => "degraded",
        (true, _) => "ready",
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    // Refresh the lag gauges so that every scrape sees current values.
    lag(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This OpenAPI 3.1 document")))]
pub async fn openapi(Extension(Document(doc)): Extension<Document>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc).into_response()
}
