//! Kitsu authentication: the caller extractor, login, logout, token refresh, "who am I".
use axum::Json;
use axum::extract::{FromRequestParts, OriginalUri, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use annals_domain::identity::User;

use super::body::KitsuArgs;
use super::errors::{KitsuError, KitsuResult, UNAUTHORIZED_MESSAGE};
use super::persons::{self, factor_name};
use crate::http::auth::{AuthPolicy, Authenticated, TokenSource, token};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::identity::{LoginFailure, LoginRequest, Proof, TokenError, TokenKind};

pub const ACCESS_COOKIE: &str = "access_token_cookie";
pub const REFRESH_COOKIE: &str = "refresh_token_cookie";
/// flask-jwt-extended's cookie lifetime when cookies are not session cookies (365 days).
const COOKIE_MAX_AGE: i64 = 31_540_000;

/// How Kitsu authenticates: the cookie first, then `Authorization: Bearer` (flask-jwt-extended
/// with `JWT_TOKEN_LOCATION = ["cookies", "headers"]`); annals API keys work on every surface.
pub struct Kitsu;

impl AuthPolicy for Kitsu {
    type Error = KitsuError;
    const TOKENS: TokenSource = TokenSource::CookieThenHeader(ACCESS_COOKIE);
    const API_KEYS: bool = true;
    // A Kitsu bot's access token is an API key, which gazu sends as a bearer token.
    const BEARER_API_KEYS: bool = true;
    // flask-jwt-extended: "Bad Authorization header" (422).
    const BLANK_BEARER: TokenError = TokenError::Malformed;

    fn token_refused(error: AppError, token: &str) -> KitsuError {
        match error {
            AppError::Token(t) => KitsuError::token_with(t, TokenKind::Access, token),
            other => other.into(),
        }
    }
}

/// The authenticated Kitsu caller, with the person as the log has it now.
#[derive(Debug, Clone)]
pub struct KitsuCaller {
    pub user_id: String,
    /// The login session (absent for API-key callers).
    pub session_id: Option<String>,
    pub user: User,
}

/// The JWT of a request as Kitsu looks for it, `cookie` naming the access or refresh cookie.
pub fn jwt<'a>(headers: &'a HeaderMap, cookie: &'static str) -> Option<&'a str> {
    token(headers, TokenSource::CookieThenHeader(cookie))
}

/// A person whose token is valid but who cannot act (gone or deactivated): Zou answers 401.
fn unusable_person() -> KitsuError {
    KitsuError::message(StatusCode::UNAUTHORIZED, UNAUTHORIZED_MESSAGE)
}

/// Loads the person behind a valid credential; inactive persons are refused.
async fn usable_user(state: &AppState, user_id: &str) -> KitsuResult<User> {
    match state.identity.user(user_id).await {
        Ok(user) if user.active => Ok(user),
        Ok(_) | Err(AppError::NotFound(_)) => Err(unusable_person()),
        Err(e) => Err(e.into()),
    }
}

impl FromRequestParts<AppState> for KitsuCaller {
    type Rejection = KitsuError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> KitsuResult<Self> {
        let who = Authenticated::<Kitsu>::from_request_parts(parts, state).await?;
        let user = usable_user(state, &who.user_id).await?;
        Ok(KitsuCaller {
            user_id: who.user_id,
            session_id: who.session_id,
            user,
        })
    }
}

/// Whether the User-Agent is a web browser (Zou sets cookies for browsers only; gazu,
/// python-requests, curl and other scripts get tokens in the body alone).
pub fn is_browser(headers: &HeaderMap) -> bool {
    let Some(ua) = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ua = ua.to_ascii_lowercase();
    if !(ua.starts_with("mozilla/") || ua.starts_with("opera/")) {
        return false;
    }
    if ["bot", "spider", "crawler", "headless"]
        .iter()
        .any(|m| ua.contains(m))
    {
        return false;
    }
    [
        "chrome",
        "chromium",
        "crios",
        "firefox",
        "fxios",
        "safari",
        "edg",
        "opr/",
        "opera",
        "brave",
        "vivaldi",
        "msie",
        "trident",
        "samsungbrowser",
        "yabrowser",
    ]
    .iter()
    .any(|b| ua.contains(b))
}

/// Whether cookies should be `Secure` (the public URL is https).
fn secure(state: &AppState) -> bool {
    state.identity.public_url.starts_with("https://")
}

fn cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}");
    if max_age == 0 {
        c.push_str("; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("tokens and paths are valid header text")
}

/// The refresh cookie's path: the refresh route under the prefix the request came by
/// (`/api` behind Kitsu's proxy layout, or none), so the browser sends it there.
fn refresh_path(uri: &OriginalUri) -> &'static str {
    if uri.0.path().starts_with("/api/") {
        "/api/auth/refresh-token"
    } else {
        "/auth/refresh-token"
    }
}

fn add_header(response: &mut Response, name: header::HeaderName, value: HeaderValue) {
    response.headers_mut().append(name, value);
}

pub use crate::http::consistency::with_position;

/// `{"error": true, "login": false, "missing_OTP": true, ...}`: the methods the person can
/// prove themselves with.
pub fn missing_otp(user: &User) -> KitsuError {
    let factors = user.enabled_factors();
    let mut enabled: Vec<&str> = Vec::new();
    if !user.recovery_code_hashes.is_empty() {
        enabled.push("recovery_code");
    }
    enabled.extend(factors.iter().map(|m| factor_name(*m)));
    KitsuError::Body(
        StatusCode::BAD_REQUEST,
        json!({
            "error": true,
            "login": false,
            "missing_OTP": true,
            "preferred_two_factor_authentication": factors.first().map(|m| factor_name(*m)),
            "two_factor_authentication_enabled": enabled,
        }),
    )
}

/// `{"error": true, "login": false, "wrong_OTP": true}`.
pub fn wrong_otp() -> KitsuError {
    KitsuError::Body(
        StatusCode::BAD_REQUEST,
        json!({"error": true, "login": false, "wrong_OTP": true}),
    )
}

/// A second-factor proof from the arguments: `totp`, `email_otp` or `recovery_code`.
pub fn proof(args: &KitsuArgs) -> KitsuResult<Proof> {
    Ok(Proof {
        totp: args.optional("totp")?,
        email_otp: args.optional("email_otp")?,
        recovery_code: args.optional("recovery_code")?,
    })
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // documents the body; the handler reads it leniently (JSON, form or query)
pub struct LoginBody {
    #[schema(example = "artist@example.com")]
    email: String,
    #[schema(example = "a-strong-and-secure-password")]
    password: Option<String>,
    /// A code from an authenticator app.
    totp: Option<String>,
    /// A code mailed by `GET /auth/email-otp`.
    email_otp: Option<String>,
    /// One of the recovery codes (each works once).
    recovery_code: Option<String>,
    /// Accepted and ignored: FIDO is not enabled.
    fido_authentication_response: Option<Value>,
}

#[utoipa::path(post, path = "/auth/login", tag = "kitsu: auth",
    description = "Also served under `/api`. Browsers (by User-Agent) also get `access_token_cookie` and `refresh_token_cookie`.",
    request_body = LoginBody,
    responses(
        (status = 200, description = "`{user, organisation, login: true, access_token, refresh_token}`"),
        (status = 400, description = "`{login: false}` for an unknown email or a wrong password (indistinguishable); `too_many_failed_login_attemps`, `missing_OTP` or `wrong_OTP` flags; or a missing email"),
        (status = 401, description = "The account is inactive (`unactive: true`)"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    uri: OriginalUri,
    headers: HeaderMap,
    args: KitsuArgs,
) -> KitsuResult<Response> {
    let email = args.required("email")?;
    // Zou's schema defaults an absent password to "default"; here that is just a wrong one.
    let password = args.raw("password")?.unwrap_or_else(|| "default".into());
    let request = LoginRequest {
        email: email.clone(),
        password,
        second_factor: proof(&args)?,
    };
    let bad_credentials = || KitsuError::Body(StatusCode::BAD_REQUEST, json!({"login": false}));
    let ok = match state
        .identity
        .login(request, "kitsu", &meta.metadata(None))
        .await
    {
        Ok(ok) => ok,
        Err(LoginFailure::BadCredentials) => return Err(bad_credentials()),
        Err(LoginFailure::Inactive) => {
            return Err(KitsuError::Body(
                StatusCode::UNAUTHORIZED,
                json!({
                    "error": true,
                    "login": false,
                    "unactive": true,
                    "message": "User is unactive, he cannot log in.",
                }),
            ));
        }
        Err(LoginFailure::Locked { .. }) => {
            return Err(KitsuError::Body(
                StatusCode::BAD_REQUEST,
                json!({"error": true, "login": false, "too_many_failed_login_attemps": true}),
            ));
        }
        Err(LoginFailure::SecondFactorMissing { .. }) => {
            let user = state
                .identity
                .user_by_email(&email)
                .await?
                .ok_or_else(bad_credentials)?;
            return Err(missing_otp(&user));
        }
        Err(LoginFailure::SecondFactorWrong) => return Err(wrong_otp()),
        Err(LoginFailure::Failed(AppError::Unavailable(detail))) => {
            tracing::error!(%detail, "kitsu login failed: dependency unavailable");
            return Err(KitsuError::Body(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": true, "login": false, "message": "Internal server error."}),
            ));
        }
        Err(LoginFailure::Failed(e)) => return Err(e.into()),
    };
    let body = json!({
        "user": persons::person(&ok.user),
        "organisation": persons::organisation(ok.user.role == "admin"),
        "login": true,
        "access_token": ok.tokens.access,
        "refresh_token": ok.tokens.refresh,
    });
    let mut response = with_position(Json(body).into_response(), ok.position);
    if is_browser(&headers) {
        let secure = secure(&state);
        let access = cookie(
            ACCESS_COOKIE,
            &ok.tokens.access,
            "/",
            COOKIE_MAX_AGE,
            secure,
        );
        let refresh = cookie(
            REFRESH_COOKIE,
            &ok.tokens.refresh,
            refresh_path(&uri),
            COOKIE_MAX_AGE,
            secure,
        );
        add_header(&mut response, header::SET_COOKIE, access);
        add_header(&mut response, header::SET_COOKIE, refresh);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/auth/logout", tag = "kitsu: auth",
    description = "Also served under `/api`. Ends the session: its access and refresh tokens are refused from now on.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{logout: true}` (browsers: cookies cleared)"),
        (status = 401, description = "Missing, expired or revoked token"),
        (status = 422, description = "Malformed token, or a refresh token"),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    caller: KitsuCaller,
    meta: RequestMeta,
    uri: OriginalUri,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let mut response = Json(json!({"logout": true})).into_response();
    if let Some(session_id) = &caller.session_id {
        let position = state
            .identity
            .revoke_session(session_id, "logout", &meta.metadata(Some(&caller.user_id)))
            .await?;
        response = with_position(response, position);
    }
    if is_browser(&headers) {
        let secure = secure(&state);
        add_header(
            &mut response,
            header::SET_COOKIE,
            cookie(ACCESS_COOKIE, "", "/", 0, secure),
        );
        add_header(
            &mut response,
            header::SET_COOKIE,
            cookie(REFRESH_COOKIE, "", refresh_path(&uri), 0, secure),
        );
    }
    Ok(response)
}

#[utoipa::path(get, path = "/auth/refresh-token", tag = "kitsu: auth",
    description = "Also served under `/api`. Takes the refresh token as `Authorization: Bearer` or in `refresh_token_cookie`.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{access_token}` (browsers: `{refresh: true}` and a new `access_token_cookie`)"),
        (status = 401, description = "Missing, expired or revoked refresh token (after logout)"),
        (status = 422, description = "Malformed token, or an access token"),
    ))]
pub async fn refresh_token(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let token = jwt(&headers, REFRESH_COOKIE)
        .ok_or(KitsuError::token(TokenError::Missing, TokenKind::Refresh))?;
    let pair = state.identity.refresh(token).await.map_err(|e| match e {
        AppError::Token(t) => KitsuError::token_with(t, TokenKind::Refresh, token),
        other => KitsuError::from_app(other, TokenKind::Refresh),
    })?;
    usable_user(&state, &pair.user_id).await?;
    if is_browser(&headers) {
        let mut response = Json(json!({"refresh": true})).into_response();
        let access = cookie(
            ACCESS_COOKIE,
            &pair.access,
            "/",
            COOKIE_MAX_AGE,
            secure(&state),
        );
        add_header(&mut response, header::SET_COOKIE, access);
        Ok(response)
    } else {
        Ok(Json(json!({"access_token": pair.access})).into_response())
    }
}

#[utoipa::path(get, path = "/auth/authenticated", tag = "kitsu: auth",
    description = "Also served under `/api`.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{authenticated: true, user, organisation}`"),
        (status = 401, description = "Missing, expired or revoked token"),
        (status = 422, description = "Malformed token, or a refresh token"),
    ))]
pub async fn authenticated(caller: KitsuCaller) -> KitsuResult<Json<Value>> {
    let mut user = persons::person(&caller.user);
    user["fido_devices"] = json!([]);
    Ok(Json(json!({
        "authenticated": true,
        "user": user,
        "organisation": persons::organisation(caller.user.role == "admin"),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ua(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::USER_AGENT, value.parse().unwrap());
        h
    }

    #[test]
    fn the_cookie_comes_before_the_header() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer hdr".parse().unwrap());
        assert_eq!(jwt(&headers, REFRESH_COOKIE), Some("hdr"));
        headers.insert(
            header::COOKIE,
            "a=1; refresh_token_cookie=ck; access_token_cookie="
                .parse()
                .unwrap(),
        );
        assert_eq!(jwt(&headers, REFRESH_COOKIE), Some("ck"));
        assert_eq!(jwt(&headers, ACCESS_COOKIE), Some("hdr"));
    }

    #[test]
    fn browsers_are_told_from_scripts() {
        for browser in [
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0",
        ] {
            assert!(is_browser(&ua(browser)), "{browser}");
        }
        for script in [
            "CGWire Gazu 1.3.1",
            "python-requests/2.32.3",
            "curl/8.5.0",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ] {
            assert!(!is_browser(&ua(script)), "{script}");
        }
        assert!(!is_browser(&HeaderMap::new()));
    }
}
