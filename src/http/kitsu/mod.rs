//! The Kitsu surface: Zou's API (the production tracker behind Kitsu and gazu), served at the
//! root and under `/api` (Kitsu's reverse proxy strips `/api`; gazu hosts end with it).
//!
//! Out of scope, answered as Zou answers when they are not configured: FIDO/WebAuthn, SAML,
//! OIDC, the "default password" login flow (annals has no default passwords), desktop-login
//! lookups, and more than one organisation (every person belongs to the "Kitsu" one).
pub mod auth;
pub mod body;
pub mod data;
pub mod errors;
pub mod index;
pub mod passwords;
pub mod persons;
pub mod second_factor;

use axum::http::{HeaderName, HeaderValue};
use axum::middleware;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::state::AppState;

/// The headers Zou puts on every response.
pub(crate) const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "SAMEORIGIN"),
    ("content-security-policy", "frame-ancestors 'self'"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
];

pub(crate) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// The prefix under which the whole surface is served a second time (gazu's hosts end with
/// `/api`). Only the root form is documented: see [`routes`].
pub const MIRROR: &str = "/api";

/// Routes served but not documented besides the [`MIRROR`] copies: `(method, path, why)`. The
/// router test in `crate::http` compares every served route with `/openapi.json` and accepts
/// only these besides.
pub const UNDOCUMENTED: &[(&str, &str, &str)] = &[];

/// The Kitsu routes, relative to the API root, each declared once: path and method come from
/// the handler's `#[utoipa::path]`. One `routes!` per path.
pub fn surface() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index::index))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::authenticated))
        .routes(routes!(auth::refresh_token))
        .routes(routes!(passwords::change_password))
        .routes(routes!(passwords::request_reset, passwords::reset))
        .routes(routes!(
            second_factor::pre_enable_totp,
            second_factor::enable_totp,
            second_factor::disable_totp
        ))
        .routes(routes!(
            second_factor::send_email_otp,
            second_factor::pre_enable_email_otp,
            second_factor::enable_email_otp,
            second_factor::disable_email_otp
        ))
        .routes(routes!(second_factor::recovery_codes))
        .routes(routes!(second_factor::fido))
        .routes(routes!(second_factor::saml))
        .routes(routes!(second_factor::saml_sso))
        .routes(routes!(second_factor::oidc))
        .routes(routes!(second_factor::oidc_callback))
        .routes(routes!(data::list, data::create))
        .routes(routes!(data::read, data::update, data::delete))
        .routes(routes!(data::persons::list, data::persons::create))
        .routes(routes!(
            data::persons::read,
            data::persons::update,
            data::persons::delete
        ))
        .routes(routes!(data::history::history))
        .routes(routes!(data::person_actions::change_password_for_person))
        .routes(routes!(data::person_actions::add_to_department))
        .routes(routes!(data::person_actions::remove_from_department))
        .routes(routes!(data::person_actions::disable_two_factor))
        .routes(routes!(data::person_actions::invite))
        .routes(routes!(data::organisations::list))
        .routes(routes!(data::person_work::tasks))
        .routes(routes!(data::person_work::done_tasks))
        .routes(routes!(data::person_work::related_tasks))
        .routes(routes!(data::person_day_offs::all_day_offs))
        .routes(routes!(data::person_day_offs::year_day_offs))
        .routes(routes!(data::person_day_offs::month_day_offs))
        .routes(routes!(data::person_day_offs::week_day_offs))
        .routes(routes!(data::person_time_spents::day_time_spents))
        .routes(routes!(data::person_time_spents::range_time_spents))
        .routes(routes!(data::person_time_spents::year_time_spents))
        .routes(routes!(data::person_time_spents::week_time_spents))
        .routes(routes!(data::person_time_spents::month_all_time_spents))
        .routes(routes!(data::projects::open))
        .routes(routes!(
            data::project_settings::team,
            data::projects::add_member
        ))
        .routes(routes!(
            data::project_settings::settings_list,
            data::project_settings::add_setting
        ))
        .routes(routes!(data::project_settings::remove_setting))
        .routes(routes!(data::project_lists::task_types))
        .routes(routes!(data::project_lists::comments))
        .routes(routes!(data::project_lists::type_assets))
        .routes(routes!(data::project_lists::entity_type_tasks))
        .routes(routes!(data::projects::remove_member))
        .routes(routes!(data::entity_links::project_links))
        .routes(routes!(data::entity_links::remove_project_link))
        .routes(routes!(data::budgets::list, data::budgets::create))
        .routes(routes!(
            data::budgets::read,
            data::budgets::update,
            data::budgets::delete
        ))
        .routes(routes!(data::budgets::entries, data::budgets::create_entry))
        .routes(routes!(
            data::budgets::read_entry,
            data::budgets::update_entry,
            data::budgets::delete_entry
        ))
        .routes(routes!(data::metadata::list, data::metadata::create))
        .routes(routes!(data::metadata::reorder))
        .routes(routes!(
            data::metadata::read,
            data::metadata::update,
            data::metadata::delete
        ))
        .routes(routes!(
            data::casting::entity_casting,
            data::casting::changes::replace_casting
        ))
        .routes(routes!(data::casting::changes::cast_asset))
        .routes(routes!(data::casting::lists::episodes_casting))
        .routes(routes!(data::casting::lists::sequence_casting))
        .routes(routes!(data::casting::lists::episode_shots_casting))
        .routes(routes!(data::casting::lists::asset_type_casting))
        .routes(routes!(data::casting::lists::cast_in))
        .routes(routes!(data::casting::lists::shot_assets_list))
        .routes(routes!(data::casting::lists::shot_asset_types))
        .routes(routes!(data::entities::all))
        .routes(routes!(data::entities::child_list))
        .routes(routes!(
            data::entities::project_list,
            data::entities::create_child
        ))
        .routes(routes!(data::entities::create_asset))
        .routes(routes!(data::playlists::episode_playlists))
        .routes(routes!(data::playlists::add_entity))
        .routes(routes!(data::playlists::entity_previews))
        .routes(routes!(data::assignations::assign))
        .routes(routes!(data::assignations::clear))
        .routes(routes!(data::tasks::full))
        .routes(routes!(data::tasks::comments))
        .routes(routes!(data::tasks::comment))
        .routes(routes!(data::task_time_spents::task_time_spents))
        .routes(routes!(data::task_time_spents::task_day_time_spents))
        .routes(routes!(
            data::task_time_spents::set_time_spent,
            data::task_time_spents::delete_time_spent
        ))
        .routes(routes!(data::task_time_spents::add_time_spent))
        .routes(routes!(data::comment_actions::acknowledge))
        .routes(routes!(data::comment_actions::reply))
        .routes(routes!(data::comment_actions::delete_reply))
        .routes(routes!(data::versions::shot_versions))
        .routes(routes!(data::versions::edit_versions))
        .routes(routes!(data::news::project_news))
        .routes(routes!(data::news::all_news))
        .routes(routes!(data::news::one_news))
}

/// The surface served at the root and under [`MIRROR`], with Zou's security headers.
///
/// The document describes the root form only (`/auth/login`), the form the README documents;
/// every operation's description says "Also served under `/api`".
pub fn routes() -> OpenApiRouter<AppState> {
    let (root, doc) = surface().split_for_parts();
    let served = root.clone().nest(MIRROR, root);
    OpenApiRouter::with_openapi(doc)
        .merge(OpenApiRouter::from(served))
        .layer(middleware::map_response(security_headers))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_kitsu_paths_document() {
        let json = super::routes().into_openapi().to_json().unwrap();
        for path in [
            "\"/auth/login\"",
            "\"/auth/email-otp\"",
            "\"/auth/recovery-codes\"",
            "\"/\"",
        ] {
            assert!(json.contains(path), "{path}");
        }
        assert!(json.contains("LoginBody"));
        assert!(
            !json.contains("\"/api/auth/login\""),
            "the mirror is not documented"
        );
    }
}
