//! Who is calling a document-service route: `Authorization: Bearer <access token>` (or the
//! shared `access_token_cookie` when no `Authorization` header is sent), or
//! `Authorization: Api-Key <key>`.
use super::errors::DatacubeError;
use crate::http::auth::{AuthPolicy, Authenticated, TokenSource};
use crate::services::identity::TokenError;

pub struct Datacube;

impl AuthPolicy for Datacube {
    type Error = DatacubeError;
    const TOKENS: TokenSource = TokenSource::HeaderThenCookie("access_token_cookie");
    const API_KEYS: bool = true;
    const BLANK_BEARER: TokenError = TokenError::Malformed;
}

/// The authenticated caller of a document-service route.
pub type Caller = Authenticated<Datacube>;
