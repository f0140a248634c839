//! Who is calling a document-service route: `Authorization: Bearer <access token>` (or the
//! shared `access_token_cookie` when no `Authorization` header is sent), or
//! `Authorization: Api-Key <key>`.
use super::errors::DatacubeError;
use crate::http::auth::{AuthPolicy, Authenticated, TokenSource};
use crate::services::error::AppError;
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

/// What a request does with the database it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Caller {
    /// Refuses (403) a key limited to another database, or limited to reads when `access`
    /// writes. Whose database it is, is checked where it is read (404 for another owner's).
    pub fn may_use(&self, database_id: &str, access: Access) -> Result<(), AppError> {
        let Some(scope) = &self.scope else {
            return Ok(());
        };
        if scope.database_id != database_id.trim() {
            return Err(AppError::Forbidden(
                "this API key is limited to another database".into(),
            ));
        }
        if scope.read_only && access == Access::Write {
            return Err(AppError::Forbidden("this API key may only read".into()));
        }
        Ok(())
    }

    /// Refuses (403) a key limited to one database: it cannot create others.
    pub fn may_create_databases(&self) -> Result<(), AppError> {
        match &self.scope {
            None => Ok(()),
            Some(_) => Err(AppError::Forbidden(
                "this API key is limited to one database".into(),
            )),
        }
    }

    /// The one database a limited key may see, if it is limited.
    pub fn only_database(&self) -> Option<&str> {
        self.scope.as_ref().map(|s| s.database_id.as_str())
    }
}
