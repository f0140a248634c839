//! The workspaces surface (Keymetrics / PM2 Plus style, as `@pm2/js-api` 0.8 drives it),
//! under `/api`. One base URL serves both the client's `OAUTH` and `API` services.
//!
//! Errors: `{msg, fields?}` on ordinary routes, `{error, error_description}` on `/api/oauth/*`
//! (see [`errors`]).
//!
//! Buckets are event-sourced (`annals_domain::workspaces`): every change is a command on the
//! bucket's stream, reads come from the `annals_projections::workspaces` read models. The
//! permission matrix is documented on `annals_domain::workspaces::bucket`.
pub mod auth;
pub mod billing;
pub mod buckets;
pub mod errors;
pub mod members;
pub mod oauth;
pub mod request;
pub mod servers;
pub mod users;
pub mod views;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::state::AppState;

/// Routes served but not documented: `(method, path, why)`. The router test in `crate::http`
/// compares every served route with `/openapi.json` and accepts only these besides.
pub const UNDOCUMENTED: &[(&str, &str, &str)] = &[];

/// The workspaces routes, each declared once: path and method come from the handler's
/// `#[utoipa::path]`. One `routes!` per path.
// The deprecated billing routes are served on purpose (they still work).
#[allow(deprecated)]
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(oauth::token))
        .routes(routes!(oauth::revoke))
        .routes(routes!(users::is_logged))
        .routes(routes!(billing::plans))
        .routes(routes!(servers::verify_pm2))
        .routes(routes!(buckets::list))
        .routes(routes!(buckets::create))
        .routes(routes!(
            buckets::retrieve,
            buckets::update,
            buckets::destroy
        ))
        .routes(routes!(buckets::current_role))
        .routes(routes!(members::users_authorized))
        .routes(routes!(members::add_user))
        .routes(routes!(members::remove_invitation))
        .routes(routes!(members::remove_invitation_by_path))
        .routes(routes!(members::remove_user))
        .routes(routes!(members::promote_user))
        .routes(routes!(members::manage_notif))
        .routes(routes!(members::transfer_ownership))
        .routes(routes!(members::user_options))
        .routes(routes!(members::feedback))
        .routes(routes!(servers::meta_servers))
        .routes(routes!(servers::delete_server))
        .routes(routes!(billing::subscription))
        .routes(routes!(billing::upgrade))
        .routes(routes!(billing::start_trial))
        .routes(routes!(billing::charges))
        .routes(routes!(billing::list_cards, billing::attach_card))
        .routes(routes!(billing::delete_card))
}

#[cfg(test)]
mod tests {
    fn doc() -> utoipa::openapi::OpenApi {
        super::routes().into_openapi()
    }

    #[test]
    fn the_handlers_are_documented() {
        let doc = doc();
        for path in [
            "/api/oauth/token",
            "/api/oauth/revoke",
            "/api/users/isLogged",
            "/api/bucket",
            "/api/bucket/create_classic",
            "/api/bucket/{id}",
            "/api/bucket/{id}/transfer_ownership",
            "/api/bucket/{id}/invitation/{email}",
            "/api/misc/plans",
            "/api/node/verifyPM2",
        ] {
            assert!(
                doc.paths.paths.contains_key(path),
                "{path} is not documented"
            );
        }
        let json = doc.to_json().unwrap();
        assert!(json.contains("application/x-www-form-urlencoded"), "{json}");
    }

    #[test]
    fn the_old_billing_routes_are_marked_deprecated() {
        let json: serde_json::Value = serde_json::from_str(&doc().to_json().unwrap()).unwrap();
        for (path, method) in [
            ("/api/bucket/{id}/subscription", "get"),
            ("/api/bucket/{id}/upgrade", "post"),
            ("/api/bucket/{id}/start_trial", "put"),
            ("/api/bucket/{id}/payment/charges", "get"),
        ] {
            assert_eq!(json["paths"][path][method]["deprecated"], true, "{path}");
        }
        assert!(json["paths"]["/api/bucket/{id}"]["get"]["deprecated"].is_null());
    }
}
