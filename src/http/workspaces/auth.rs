//! Who is calling a workspaces route: `Authorization: Bearer <access token>`.
//!
//! Only the header counts (no cookie), and the token is any access token of the shared
//! identity: one issued by `POST /api/oauth/token` here, or by another surface's login.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::errors::WorkspacesError;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::identity::TokenError;

/// The authenticated caller of a workspaces route.
#[derive(Debug, Clone)]
pub struct WorkspacesCaller {
    pub user_id: String,
    pub session_id: String,
}

/// The token of an `Authorization: Bearer <token>` header, if any and not blank.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for WorkspacesCaller {
    type Rejection = WorkspacesError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, WorkspacesError> {
        let token = bearer_token(&parts.headers).ok_or(AppError::Token(TokenError::Missing))?;
        let who = state.identity.authenticate(token).await?;
        Ok(WorkspacesCaller {
            user_id: who.user_id,
            session_id: who.session_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bearer_header_carries_a_token() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::COOKIE, "access_token_cookie=tok".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
    }
}
