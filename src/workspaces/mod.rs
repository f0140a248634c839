//! The workspaces surface (Keymetrics / PM2 Plus style, as `@pm2/js-api` 0.8 drives it),
//! under `/api`. One base URL serves both the client's `OAUTH` and `API` services.
//!
//! Errors: `{msg, fields?}` on ordinary routes, `{error, error_description}` on `/api/oauth/*`
//! (see [`errors`]).
pub mod auth;
pub mod buckets;
pub mod errors;
pub mod oauth;
pub mod users;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/oauth/token", post(oauth::token))
        .route("/api/oauth/revoke", post(oauth::revoke))
        .route("/api/users/isLogged", get(users::is_logged))
        // The client's post-login check uses no trailing slash; `retrieveAll` uses one.
        .route("/api/bucket", get(buckets::list))
        .route("/api/bucket/", get(buckets::list))
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use super::{buckets, oauth, users};

    #[derive(OpenApi)]
    #[openapi(paths(oauth::token, oauth::revoke, users::is_logged, buckets::list))]
    struct Doc;

    #[test]
    fn the_handlers_are_documented() {
        let doc = Doc::openapi();
        for path in [
            "/api/oauth/token",
            "/api/oauth/revoke",
            "/api/users/isLogged",
            "/api/bucket",
        ] {
            assert!(
                doc.paths.paths.contains_key(path),
                "{path} is not documented"
            );
        }
        let json = doc.to_json().unwrap();
        assert!(json.contains("application/x-www-form-urlencoded"), "{json}");
    }
}
