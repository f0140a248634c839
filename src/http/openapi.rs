//! The OpenAPI 3.1 document, generated from the handlers' annotations.
use std::sync::OnceLock;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::datacube::{accounts, api_keys};
use crate::http::kitsu;
use crate::http::ops;
use crate::http::workspaces::{
    billing as ws_billing, buckets as ws_buckets, members as ws_members, oauth,
    servers as ws_servers, users as ws_users,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "annals", description = "Event-sourced backend: workspaces, production tracker and document database APIs over one history of events. Every write answers with `X-Annals-Position`; reads wait for the read models to pass it (or, without the header, the newest committed event)."),
    paths(
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
        accounts::register, accounts::login, accounts::refresh, accounts::verify_email,
        accounts::me, accounts::update_me,
        api_keys::create, api_keys::list, api_keys::revoke,
        oauth::token, oauth::revoke, ws_users::is_logged, ws_buckets::list,
        ws_buckets::create, ws_buckets::retrieve, ws_buckets::update, ws_buckets::destroy,
        ws_buckets::current_role, ws_members::users_authorized, ws_members::add_user,
        ws_members::remove_invitation, ws_members::remove_user, ws_members::promote_user,
        ws_members::manage_notif, ws_members::transfer_ownership, ws_members::user_options,
        ws_members::feedback, ws_servers::meta_servers, ws_servers::delete_server,
        ws_servers::verify_pm2, ws_billing::plans, ws_billing::subscription, ws_billing::upgrade,
        ws_billing::start_trial, ws_billing::charges, ws_billing::attach_card,
        ws_billing::list_cards, ws_billing::delete_card,
        kitsu::index::index,
        kitsu::auth::login, kitsu::auth::logout, kitsu::auth::refresh_token, kitsu::auth::authenticated,
        kitsu::passwords::change_password, kitsu::passwords::request_reset, kitsu::passwords::reset,
        kitsu::second_factor::pre_enable_totp, kitsu::second_factor::enable_totp, kitsu::second_factor::disable_totp,
        kitsu::second_factor::send_email_otp, kitsu::second_factor::pre_enable_email_otp,
        kitsu::second_factor::enable_email_otp, kitsu::second_factor::disable_email_otp,
        kitsu::second_factor::recovery_codes, kitsu::second_factor::fido, kitsu::second_factor::saml,
        kitsu::second_factor::oidc,
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

pub fn document() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .expect("the OpenAPI document serializes")
    })
    .clone()
}
