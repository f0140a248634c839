//! Authentication of callers: `Authorization: Bearer <access JWT>`, the Kitsu
//! `access_token_cookie`, or `Authorization: Api-Key <key>`.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::identity::TokenError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Token,
    ApiKey,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    /// The login session, for token callers (logout revokes it).
    pub session_id: Option<String>,
    pub via: Credential,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The bearer token of a request: the Authorization header, else the given cookie.
pub fn bearer<'a>(headers: &'a HeaderMap, cookie_name: &str) -> Option<&'a str> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match header {
        Some(h) => {
            let (scheme, token) = h.split_once(' ').unwrap_or((h, ""));
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        }
        None => cookie(headers, cookie_name),
    }
}

fn api_key(headers: &HeaderMap) -> Option<&str> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("api-key").then(|| key.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(key) = api_key(&parts.headers) {
            let user_id = state.identity.authenticate_api_key(key).await?;
            return Ok(Caller {
                user_id,
                session_id: None,
                via: Credential::ApiKey,
            });
        }
        let token = bearer(&parts.headers, "access_token_cookie")
            .ok_or(AppError::Token(TokenError::Missing))?;
        let who = state.identity.authenticate(token).await?;
        Ok(Caller {
            user_id: who.user_id,
            session_id: Some(who.session_id),
            via: Credential::Token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_the_header_or_the_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; access_token_cookie=tok; b=2".parse().unwrap(),
        );
        assert_eq!(bearer(&headers, "access_token_cookie"), Some("tok"));
        headers.insert(header::AUTHORIZATION, "Bearer hdr".parse().unwrap());
        assert_eq!(bearer(&headers, "access_token_cookie"), Some("hdr"));
        headers.insert(header::AUTHORIZATION, "Api-Key dc_x_y".parse().unwrap());
        assert_eq!(bearer(&headers, "access_token_cookie"), None);
        assert_eq!(api_key(&headers), Some("dc_x_y"));
    }
}
