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

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::http::state::AppState;

// The deprecated billing routes are served on purpose (they still work).
#[allow(deprecated)]
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/oauth/token", post(oauth::token))
        .route("/api/oauth/revoke", post(oauth::revoke))
        .route("/api/users/isLogged", get(users::is_logged))
        .route("/api/misc/plans", get(billing::plans))
        .route("/api/node/verifyPM2", post(servers::verify_pm2))
        // The client's post-login check uses no trailing slash; `retrieveAll` uses one.
        .route("/api/bucket", get(buckets::list))
        .route("/api/bucket/", get(buckets::list))
        .route("/api/bucket/create_classic", post(buckets::create))
        .route(
            "/api/bucket/{id}",
            get(buckets::retrieve)
                .put(buckets::update)
                .delete(buckets::destroy),
        )
        .route("/api/bucket/{id}/current_role", get(buckets::current_role))
        .route(
            "/api/bucket/{id}/users_authorized",
            get(members::users_authorized),
        )
        .route("/api/bucket/{id}/add_user", post(members::add_user))
        .route(
            "/api/bucket/{id}/invitation",
            delete(members::remove_invitation),
        )
        .route(
            "/api/bucket/{id}/invitation/{email}",
            delete(members::remove_invitation_by_path),
        )
        .route("/api/bucket/{id}/remove_user", post(members::remove_user))
        .route("/api/bucket/{id}/promote_user", post(members::promote_user))
        .route("/api/bucket/{id}/manage_notif", post(members::manage_notif))
        .route(
            "/api/bucket/{id}/transfer_ownership",
            post(members::transfer_ownership),
        )
        .route("/api/bucket/{id}/user_options", put(members::user_options))
        .route("/api/bucket/{id}/feedback", put(members::feedback))
        .route("/api/bucket/{id}/meta_servers", get(servers::meta_servers))
        .route(
            "/api/bucket/{id}/data/deleteServer",
            post(servers::delete_server),
        )
        .route("/api/bucket/{id}/subscription", get(billing::subscription))
        .route("/api/bucket/{id}/upgrade", post(billing::upgrade))
        .route("/api/bucket/{id}/start_trial", put(billing::start_trial))
        .route("/api/bucket/{id}/payment/charges", get(billing::charges))
        .route(
            "/api/bucket/{id}/payment/cards",
            get(billing::list_cards).post(billing::attach_card),
        )
        .route(
            "/api/bucket/{id}/payment/card/{card_id}",
            delete(billing::delete_card),
        )
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use super::{billing, buckets, members, oauth, servers, users};

    #[derive(OpenApi)]
    #[openapi(paths(
        oauth::token,
        oauth::revoke,
        users::is_logged,
        buckets::list,
        buckets::create,
        buckets::retrieve,
        buckets::update,
        buckets::destroy,
        buckets::current_role,
        members::users_authorized,
        members::add_user,
        members::remove_invitation,
        members::remove_user,
        members::promote_user,
        members::manage_notif,
        members::transfer_ownership,
        members::user_options,
        members::feedback,
        servers::meta_servers,
        servers::delete_server,
        servers::verify_pm2,
        billing::plans,
        billing::subscription,
        billing::upgrade,
        billing::start_trial,
        billing::charges,
        billing::attach_card,
        billing::list_cards,
        billing::delete_card,
    ))]
    struct Doc;

    #[test]
    fn the_handlers_are_documented() {
        let doc = Doc::openapi();
        for path in [
            "/api/oauth/token",
            "/api/oauth/revoke",
            "/api/users/isLogged",
            "/api/bucket",
            "/api/bucket/create_classic",
            "/api/bucket/{id}",
            "/api/bucket/{id}/transfer_ownership",
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
        let json: serde_json::Value =
            serde_json::from_str(&Doc::openapi().to_json().unwrap()).unwrap();
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
