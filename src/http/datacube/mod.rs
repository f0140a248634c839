//! The document-database surface (DataCube style), under `/core` and `/api`.
pub mod accounts;
pub mod api_keys;
pub mod auth;
pub mod caller;
pub mod databases;
pub mod documents;
pub mod errors;
pub mod history;
pub mod import;
pub mod params;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::state::AppState;

/// The DataCube routes, each declared once: path and method come from the handler's
/// `#[utoipa::path]`. One `routes!` per path.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::refresh))
        .routes(routes!(accounts::verify_email))
        .routes(routes!(accounts::me, accounts::update_me))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(databases::create_database))
        .routes(routes!(databases::list_databases))
        .routes(routes!(databases::get_metadata))
        .routes(routes!(databases::list_collections))
        .routes(routes!(databases::create_collection))
        .routes(routes!(databases::drop_database))
        .routes(routes!(databases::drop_collections))
        .routes(routes!(
            documents::insert,
            documents::find,
            documents::update,
            documents::delete
        ))
        .routes(routes!(history::history))
        .merge(
            // The import counts its file against its own limit as it streams.
            OpenApiRouter::new()
                .routes(routes!(import::import_data))
                .layer(DefaultBodyLimit::disable()),
        )
}
