//! The document-database surface (DataCube style), under `/core` and `/api`.
pub mod accounts;
pub mod api_keys;
pub mod auth;
pub mod errors;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::http::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/core/register", post(accounts::register))
        .route("/core/login", post(accounts::login))
        .route("/core/token/refresh", post(accounts::refresh))
        .route("/core/verify-email", get(accounts::verify_email))
        .route("/core/me", get(accounts::me).patch(accounts::update_me))
        .route("/api/api_keys", get(api_keys::list).post(api_keys::create))
        .route("/api/api_keys/{id}", delete(api_keys::revoke))
}
