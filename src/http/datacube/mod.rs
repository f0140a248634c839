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
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::http::state::AppState;

/// The other path the original's clients use for a documented DataCube path, served alike but
/// not documented: the `/api/v2/<name>` form of every `/api/<name>` (the original moved there).
/// Trailing-slash forms, which the original accepts everywhere, are trimmed before routing
/// (`crate::http::router`).
pub fn aliases(path: &str) -> Vec<String> {
    path.strip_prefix("/api/")
        .map(|rest| format!("/api/v2/{rest}"))
        .into_iter()
        .collect()
}

/// Adds a route at its documented path and at its [`aliases`].
trait Aliased {
    fn aliased(self, route: UtoipaMethodRouter<AppState>) -> Self;
}

impl Aliased for OpenApiRouter<AppState> {
    fn aliased(self, route: UtoipaMethodRouter<AppState>) -> Self {
        let (_, paths, method_router) = &route;
        let forms: Vec<String> = paths.paths.keys().flat_map(|p| aliases(p)).collect();
        let method_router = method_router.clone();
        forms.iter().fold(self.routes(route), |router, form| {
            router.route(form, method_router.clone())
        })
    }
}

/// The DataCube routes, each declared once: path and method come from the handler's
/// `#[utoipa::path]`. One `routes!` per path, served at its [`aliases`] too.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .aliased(routes!(accounts::register))
        .aliased(routes!(accounts::login))
        .aliased(routes!(accounts::refresh))
        .aliased(routes!(accounts::verify_email))
        .aliased(routes!(accounts::me, accounts::update_me))
        .aliased(routes!(api_keys::list, api_keys::create))
        .aliased(routes!(api_keys::revoke))
        .aliased(routes!(databases::create_database))
        .aliased(routes!(databases::list_databases))
        .aliased(routes!(databases::get_metadata))
        .aliased(routes!(databases::list_collections))
        .aliased(routes!(databases::create_collection))
        .aliased(routes!(databases::drop_database))
        .aliased(routes!(databases::drop_collections))
        .aliased(routes!(
            documents::insert,
            documents::find,
            documents::update,
            documents::delete
        ))
        .aliased(routes!(history::history))
        .merge(
            // The import counts its file against its own limit as it streams.
            OpenApiRouter::new()
                .aliased(routes!(import::import_data))
                .layer(DefaultBodyLimit::disable()),
        )
}
