//! The document-database surface (DataCube style), under `/core` and `/api`.
pub mod accounts;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/core/register", post(accounts::register))
        .route("/core/login", post(accounts::login))
        .route("/core/token/refresh", post(accounts::refresh))
        .route("/core/verify-email", get(accounts::verify_email))
        .route("/core/me", get(accounts::me).patch(accounts::update_me))
}
