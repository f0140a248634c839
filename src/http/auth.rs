//! Who is calling: one extractor for every surface, [`Authenticated<S>`], with the surfaces'
//! differences as configuration ([`AuthPolicy`]): where the token may come from (the
//! `Authorization` header, a cookie before or after it), whether `Authorization: Api-Key`
//! is accepted, how a blank bearer counts, and the surface's own rejection body.
use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;

use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::identity::TokenError;

/// Where a surface looks for the access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `Authorization: Bearer` only.
    Header,
    /// The header; without an `Authorization` header, this cookie.
    HeaderThenCookie(&'static str),
    /// This cookie when set and not empty, else the header (flask-jwt-extended with
    /// `JWT_TOKEN_LOCATION = ["cookies", "headers"]`).
    CookieThenHeader(&'static str),
}

/// How one surface authenticates.
pub trait AuthPolicy: Send + Sync + 'static {
    /// The surface's error type: every refusal answers in its body shape.
    type Error: From<AppError> + IntoResponse;
    const TOKENS: TokenSource;
    /// Whether `Authorization: Api-Key <key>` is accepted.
    const API_KEYS: bool;
    /// Whether an API key is also accepted where a token is (`Authorization: Bearer
    /// dc_...`): clients that only know bearer tokens (gazu, with a Kitsu bot's token) use
    /// keys that way. A JWT never has a key's shape.
    const BEARER_API_KEYS: bool = false;
    /// What `Authorization: Bearer ` with nothing after it is: `Missing` where clients treat
    /// it as no token, `Malformed` where the reference answers so (flask-jwt-extended: 422).
    const BLANK_BEARER: TokenError;

    /// A refused token; surfaces that describe the token itself (Kitsu, as PyJWT does)
    /// override this.
    fn token_refused(error: AppError, _token: &str) -> Self::Error {
        error.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Token,
    ApiKey,
}

/// The authenticated caller, as seen by the surface `S`.
#[derive(Debug)]
pub struct Authenticated<S> {
    pub user_id: String,
    /// The login session, for token callers (logout revokes it); `None` for API keys.
    pub session_id: Option<String>,
    /// The API key's id, for key callers.
    pub key_id: Option<String>,
    /// The database a key caller is limited to, if its key is; `None` for tokens.
    pub scope: Option<annals_domain::identity::KeyScope>,
    pub via: Credential,
    surface: PhantomData<fn() -> S>,
}

impl<S> Clone for Authenticated<S> {
    fn clone(&self) -> Self {
        Self {
            user_id: self.user_id.clone(),
            session_id: self.session_id.clone(),
            key_id: self.key_id.clone(),
            scope: self.scope.clone(),
            via: self.via,
            surface: PhantomData,
        }
    }
}

/// The value of request cookie `name` (empty values count as absent).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v)
}

/// The credential of an `Authorization: <scheme> <credential>` header when its scheme is
/// `scheme` (case-insensitive); `Some("")` when the scheme is there without a credential.
fn authorization<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (given, credential) = value.split_once(' ').unwrap_or((value, ""));
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| credential.trim())
}

/// The bearer token of `Authorization: Bearer <token>` (`Some("")` when blank).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    authorization(headers, "bearer")
}

/// The key of `Authorization: Api-Key <key>`.
pub fn api_key(headers: &HeaderMap) -> Option<&str> {
    authorization(headers, "api-key").filter(|k| !k.is_empty())
}

/// The token of a request as `source` says, `Some("")` for a blank bearer.
pub fn token(headers: &HeaderMap, source: TokenSource) -> Option<&str> {
    match source {
        TokenSource::Header => bearer(headers),
        TokenSource::HeaderThenCookie(name) => match headers.get(header::AUTHORIZATION) {
            Some(_) => bearer(headers),
            None => cookie(headers, name),
        },
        TokenSource::CookieThenHeader(name) => cookie(headers, name).or_else(|| bearer(headers)),
    }
}

impl<S: AuthPolicy> FromRequestParts<AppState> for Authenticated<S> {
    type Rejection = S::Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, S::Error> {
        if S::API_KEYS
            && let Some(key) = api_key(&parts.headers)
        {
            return Ok(Self::by_key(state, key).await?);
        }
        let token = match token(&parts.headers, S::TOKENS) {
            None => return Err(AppError::Token(TokenError::Missing).into()),
            Some("") => return Err(S::token_refused(AppError::Token(S::BLANK_BEARER), "")),
            Some(token) => token,
        };
        if S::BEARER_API_KEYS && crate::services::identity::api_keys::key_id(token).is_some() {
            return Ok(Self::by_key(state, token).await?);
        }
        let who = state
            .identity
            .authenticate(token)
            .await
            .map_err(|e| S::token_refused(e, token))?;
        Ok(Authenticated {
            user_id: who.user_id,
            session_id: Some(who.session_id),
            key_id: None,
            scope: None,
            via: Credential::Token,
            surface: PhantomData,
        })
    }
}

impl<S> Authenticated<S> {
    /// The caller an API key authenticates.
    async fn by_key(state: &AppState, key: &str) -> Result<Self, AppError> {
        let (user_id, scope) = state.identity.authenticate_api_key(key).await?;
        Ok(Authenticated {
            user_id,
            scope,
            session_id: None,
            key_id: crate::services::identity::api_keys::key_id(key).map(str::to_string),
            via: Credential::ApiKey,
            surface: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(name.clone(), value.parse().unwrap());
        }
        h
    }

    #[test]
    fn bearer_and_api_key_schemes_are_told_apart() {
        let h = headers(&[(header::AUTHORIZATION, "bearer  abc ")]);
        assert_eq!(bearer(&h), Some("abc"));
        assert_eq!(api_key(&h), None);
        let h = headers(&[(header::AUTHORIZATION, "Api-Key dc_x_y")]);
        assert_eq!(bearer(&h), None);
        assert_eq!(api_key(&h), Some("dc_x_y"));
        let h = headers(&[(header::AUTHORIZATION, "Bearer ")]);
        assert_eq!(bearer(&h), Some(""));
        let h = headers(&[(header::AUTHORIZATION, "Basic abc")]);
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn each_source_looks_where_it_says() {
        let cookie_only = headers(&[(header::COOKIE, "a=1; access_token_cookie=ck; b=2")]);
        assert_eq!(token(&cookie_only, TokenSource::Header), None);
        let after = TokenSource::HeaderThenCookie("access_token_cookie");
        let before = TokenSource::CookieThenHeader("access_token_cookie");
        assert_eq!(token(&cookie_only, after), Some("ck"));
        assert_eq!(token(&cookie_only, before), Some("ck"));

        let both = headers(&[
            (header::COOKIE, "access_token_cookie=ck"),
            (header::AUTHORIZATION, "Bearer hdr"),
        ]);
        assert_eq!(token(&both, after), Some("hdr"));
        assert_eq!(token(&both, before), Some("ck"));

        // An empty cookie does not hide the header.
        let empty_cookie = headers(&[
            (header::COOKIE, "access_token_cookie="),
            (header::AUTHORIZATION, "Bearer hdr"),
        ]);
        assert_eq!(token(&empty_cookie, before), Some("hdr"));

        // Another scheme in the header hides the cookie where the header comes first.
        let api_key_and_cookie = headers(&[
            (header::COOKIE, "access_token_cookie=ck"),
            (header::AUTHORIZATION, "Api-Key k"),
        ]);
        assert_eq!(token(&api_key_and_cookie, after), None);
    }
}
