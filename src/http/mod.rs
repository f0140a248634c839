//! The HTTP edge: router, middleware, error mapping, read-your-writes.
pub mod admin;
pub mod answers;
pub mod auth;
pub mod body;
pub mod consistency;
pub mod datacube;
pub mod errors;
pub mod fallback;
pub mod history;
pub mod kitsu;
pub mod openapi;
pub mod ops;
pub mod rate_limit;
pub mod request;
#[cfg(test)]
mod served;
pub mod state;
pub mod workspaces;

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::{Extension, Router};
use tower_http::normalize_path::NormalizePath;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::http::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every route with its documentation: operations and the three surfaces. Each route is
/// declared once, by its handler's `#[utoipa::path]` (path, method, docs) and one `routes!` in
/// its surface's `routes()`; the few undocumented aliases are listed in the surfaces'
/// `UNDOCUMENTED` (and Kitsu's `/api` mirror in `kitsu::MIRROR`, DataCube's `/api/v2` forms in
/// `datacube::aliases`). Trailing-slash forms are not routes: [`router`] trims the slash.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::frame())
        .merge(ops::routes())
        .merge(datacube::routes())
        .merge(history::routes())
        .merge(admin::routes())
        .merge(kitsu::routes())
        .merge(workspaces::routes())
}

/// The served routes, with each surface's answers for unknown paths and methods, and the
/// OpenAPI document they were built with (served at `/openapi.json`).
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, doc) = api().split_for_parts();
    let routes = routes
        .fallback(fallback::not_found)
        // After every route: it sets the method fallback of the routes present.
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(Extension(openapi::Document::new(&doc)));
    (routes, doc)
}

/// The app as served: [`routes`] with state and middleware, every path answered with and
/// without a trailing slash.
pub fn router(state: AppState) -> Router {
    // Zou (`strict_slashes = False`), the original DataCube and @pm2/js-api's `retrieveAll` send
    // paths with a trailing slash: it is trimmed before routing, so every route, present and
    // future, answers both forms (a layer of the router itself would run after routing).
    Router::new().fallback_service(NormalizePath::trim_trailing_slash(app(state)))
}

fn app(state: AppState) -> Router {
    let limiter = state.login_limiter.clone();
    routes()
        .0
        .with_state(state)
        .layer(middleware::from_fn_with_state(
            limiter,
            rate_limit::limit_logins,
        ))
        .layer(middleware::from_fn(refuse_unstorable_urls))
        .layer(middleware::from_fn(record_metrics))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Request count and latency per route template (not per concrete URL, to bound cardinality).
async fn record_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("annals_http_requests_total", &labels).increment(1);
    metrics::histogram!("annals_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Refuses a URL whose path or query decodes to a NUL character (Postgres cannot store it,
/// SQLite can: both refuse it here, identically), in the surface's own error shape.
async fn refuse_unstorable_urls(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let decoded_path = percent_decode(uri.path());
    let field = if decoded_path.contains('\0') {
        Some("path".to_string())
    } else {
        uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, v)| k.contains('\0') || v.contains('\0'))
                .map(|(k, _)| body::escape_nul(&k))
        })
    };
    match field {
        Some(field) => {
            fallback::Surface::of(uri.path()).answer(crate::services::error::AppError::invalid(
                field,
                "must not contain the NUL character (%00)",
            ))
        }
        None => next.run(req).await,
    }
}

fn percent_decode(path: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", path.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
