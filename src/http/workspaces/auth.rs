//! Who is calling a workspaces route: `Authorization: Bearer <access token>` only (no cookie,
//! no API key), any access token of the shared identity: one issued by `POST /api/oauth/token`
//! here, or by another surface's login.
use super::errors::WorkspacesError;
use crate::http::auth::{AuthPolicy, Authenticated, TokenSource};
use crate::services::identity::TokenError;

pub struct Workspaces;

impl AuthPolicy for Workspaces {
    type Error = WorkspacesError;
    const TOKENS: TokenSource = TokenSource::Header;
    const API_KEYS: bool = false;
    // `@pm2/js-api` sends `Bearer ` before it has a token: that is no token.
    const BLANK_BEARER: TokenError = TokenError::Missing;
}

/// The authenticated caller of a workspaces route.
pub type WorkspacesCaller = Authenticated<Workspaces>;
