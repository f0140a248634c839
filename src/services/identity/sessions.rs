//! Sessions: tokens are issued per session and checked against the session's stream, so a
//! logout or revocation refuses them at once, in every process.
use chrono::Utc;

use annals_contracts::Position;
use annals_domain::identity::{SessionCommand, SessionError};

use super::tokens::TokenError;
use super::{Identity, TokenKind, TokenPair};
use crate::es::commands::{CommandError, Metadata};
use crate::services::error::AppError;

/// Who a valid access token speaks for.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: String,
    pub session_id: String,
}

impl From<CommandError<SessionError>> for AppError {
    fn from(e: CommandError<SessionError>) -> Self {
        match e {
            CommandError::Domain(SessionError::Unknown) => AppError::Token(TokenError::Revoked),
            CommandError::Domain(SessionError::AlreadyStarted) => AppError::Conflict,
            CommandError::Conflict => AppError::Conflict,
            CommandError::Unavailable(detail) => AppError::Unavailable(detail),
        }
    }
}

impl Identity {
    /// Opens a session for a user who proved who they are, and issues its tokens.
    pub async fn start_session(
        &self,
        user_id: &str,
        surface: &str,
        metadata: &Metadata,
    ) -> Result<(TokenPair, Position), AppError> {
        let session_id = uuid::Uuid::new_v4().to_string();
        let start = SessionCommand::Start {
            user_id: user_id.to_string(),
            surface: surface.to_string(),
            at: Utc::now(),
        };
        let position = self.sessions.execute(&session_id, start, metadata).await?;
        let pair = TokenPair {
            user_id: user_id.to_string(),
            access: self
                .tokens
                .issue(TokenKind::Access, user_id, Some(&session_id), None),
            refresh: self
                .tokens
                .issue(TokenKind::Refresh, user_id, Some(&session_id), None),
            session_id,
        };
        Ok((pair, position))
    }

    async fn check_session(
        &self,
        user_id: &str,
        session_id: Option<&str>,
    ) -> Result<String, AppError> {
        let session_id = session_id.ok_or(AppError::Token(TokenError::Revoked))?;
        let session = self.sessions.load(session_id).await?;
        if !session.is_active_for(user_id) {
            return Err(AppError::Token(TokenError::Revoked));
        }
        Ok(session_id.to_string())
    }

    /// Checks an access token: signature, expiry, kind, and that its session is still open.
    pub async fn authenticate(&self, access_token: &str) -> Result<Authenticated, AppError> {
        let claims = self.tokens.verify(access_token, TokenKind::Access)?;
        let session_id = self
            .check_session(&claims.sub, claims.sid.as_deref())
            .await?;
        Ok(Authenticated {
            user_id: claims.sub,
            session_id,
        })
    }

    /// A new access token for a refresh token whose session is still open.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AppError> {
        let claims = self.tokens.verify(refresh_token, TokenKind::Refresh)?;
        let session_id = self.check_session(&claims.sub, Some(&claims.jti)).await?;
        // An erased account's sessions end with their access tokens (checked here, not on
        // every request: refreshing is rare).
        if self.users.load(&claims.sub).await?.erased {
            return Err(AppError::Token(TokenError::Revoked));
        }
        Ok(TokenPair {
            access: self
                .tokens
                .issue(TokenKind::Access, &claims.sub, Some(&session_id), None),
            refresh: refresh_token.to_string(),
            user_id: claims.sub,
            session_id,
        })
    }

    /// Ends a session: its access and refresh tokens stop working.
    pub async fn revoke_session(
        &self,
        session_id: &str,
        reason: &str,
        metadata: &Metadata,
    ) -> Result<Position, AppError> {
        let revoke = SessionCommand::Revoke {
            reason: reason.to_string(),
            at: Utc::now(),
        };
        Ok(self.sessions.execute(session_id, revoke, metadata).await?)
    }

    /// Revokes the session of any token of it (access or refresh), as OAuth revocation does.
    /// Unknown or invalid tokens are ignored (RFC 7009).
    pub async fn revoke_token(&self, token: &str, metadata: &Metadata) -> Result<(), AppError> {
        let session = self
            .tokens
            .verify(token, TokenKind::Refresh)
            .map(|c| (c.sub, Some(c.jti)))
            .or_else(|_| {
                self.tokens
                    .verify(token, TokenKind::Access)
                    .map(|c| (c.sub, c.sid))
            });
        if let Ok((user_id, Some(session_id))) = session {
            let owned = self.sessions.load(&session_id).await?;
            if owned.is_active_for(&user_id) {
                self.revoke_session(&session_id, "revoked", metadata)
                    .await?;
            }
        }
        Ok(())
    }
}
