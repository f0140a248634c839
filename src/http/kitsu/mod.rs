//! The Kitsu surface: Zou's API (the production tracker behind Kitsu and gazu), served at the
//! root and under `/api` (Kitsu's reverse proxy strips `/api`; gazu hosts end with it).
//!
//! Out of scope, answered as Zou answers when they are not configured: FIDO/WebAuthn, SAML,
//! OIDC, the "default password" login flow (annals has no default passwords), desktop-login
//! lookups, and more than one organisation (every person belongs to the "Kitsu" one).
pub mod auth;
pub mod body;
pub mod errors;
pub mod index;
pub mod passwords;
pub mod persons;
pub mod second_factor;

use axum::Router;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware;
use axum::response::Response;
use axum::routing::get;

use crate::http::state::AppState;

/// The headers Zou puts on every response.
const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "SAMEORIGIN"),
    ("content-security-policy", "frame-ancestors 'self'"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
];

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// The Kitsu routes, relative to the API root.
fn surface() -> Router<AppState> {
    Router::new()
        .route("/", get(index::index))
        .route("/auth/login", axum::routing::post(auth::login))
        .route("/auth/logout", get(auth::logout))
        .route("/auth/authenticated", get(auth::authenticated))
        .route("/auth/refresh-token", get(auth::refresh_token))
        .route(
            "/auth/change-password",
            axum::routing::post(passwords::change_password),
        )
        .route(
            "/auth/reset-password",
            axum::routing::post(passwords::request_reset).put(passwords::reset),
        )
        .route(
            "/auth/totp",
            axum::routing::put(second_factor::pre_enable_totp)
                .post(second_factor::enable_totp)
                .delete(second_factor::disable_totp),
        )
        .route(
            "/auth/email-otp",
            get(second_factor::send_email_otp)
                .put(second_factor::pre_enable_email_otp)
                .post(second_factor::enable_email_otp)
                .delete(second_factor::disable_email_otp),
        )
        .route(
            "/auth/recovery-codes",
            axum::routing::put(second_factor::recovery_codes),
        )
        .route(
            "/auth/fido",
            get(second_factor::fido)
                .put(second_factor::fido)
                .post(second_factor::fido)
                .delete(second_factor::fido),
        )
        .route("/auth/saml/login", get(second_factor::saml))
        .route("/auth/saml/sso", axum::routing::post(second_factor::saml))
        .route("/auth/oidc/login", get(second_factor::oidc))
        .route("/auth/oidc/callback", get(second_factor::oidc))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(surface())
        .nest("/api", surface())
        // gazu asks `<host>/api/` for the version (its URL join keeps the trailing slash).
        .route("/api/", get(index::index))
        .layer(middleware::map_response(security_headers))
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use super::*;

    /// The paths the lead registers in `http::openapi` document without trouble.
    #[derive(OpenApi)]
    #[openapi(paths(
        index::index,
        auth::login,
        auth::logout,
        auth::refresh_token,
        auth::authenticated,
        passwords::change_password,
        passwords::request_reset,
        passwords::reset,
        second_factor::pre_enable_totp,
        second_factor::enable_totp,
        second_factor::disable_totp,
        second_factor::send_email_otp,
        second_factor::pre_enable_email_otp,
        second_factor::enable_email_otp,
        second_factor::disable_email_otp,
        second_factor::recovery_codes,
        second_factor::fido,
        second_factor::saml,
        second_factor::oidc,
    ))]
    struct KitsuDoc;

    #[test]
    fn the_kitsu_paths_document() {
        let doc = KitsuDoc::openapi();
        let json = doc.to_json().unwrap();
        for path in [
            "\"/auth/login\"",
            "\"/auth/email-otp\"",
            "\"/auth/recovery-codes\"",
            "\"/\"",
        ] {
            assert!(json.contains(path), "{path}");
        }
        assert!(json.contains("LoginBody"));
    }
}
