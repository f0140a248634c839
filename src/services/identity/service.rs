//! Identity use cases, shared by every surface.
use std::sync::Arc;

use chrono::Utc;

use annals_contracts::Position;
use annals_domain::identity::{
    ApiKey, EmailClaim, EmailClaimCommand, RegisteredVia, Session, User, UserCommand,
    normalize_email,
};

use super::tokens::TokenError;
use super::{PasswordError, Passwords, TokenKind, Tokens};
use crate::adapters::mail::{Mail, Mailer};
use crate::es::commands::{Commands, Metadata};
use crate::services::error::AppError;

pub struct Identity {
    pub users: Commands<User>,
    pub claims: Commands<EmailClaim>,
    pub sessions: Commands<Session>,
    /// Shared with background "last used" recording.
    pub api_keys: std::sync::Arc<Commands<ApiKey>>,
    pub passwords: Passwords,
    pub tokens: Tokens,
    pub mailer: Arc<dyn Mailer>,
    pub public_url: String,
}

/// What registration needs; validated here, not in the HTTP layer.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    /// Kitsu person role; `user` for self-registration.
    pub role: String,
    pub via: RegisteredVia,
}

#[derive(Debug, Clone)]
pub struct TokenPair {
    pub user_id: String,
    pub session_id: String,
    pub access: String,
    pub refresh: String,
}

/// Email claims are keyed by a digest of the address: stable, and no address in subjects
/// (the digest that also names the address's personal-data subject).
pub fn claim_id(email: &str) -> String {
    annals_domain::personal::email_digest(email)
}

pub fn validate_email(email: &str) -> Result<String, AppError> {
    let email = email.trim();
    if email.is_empty() {
        return Err(AppError::invalid("email", "is required"));
    }
    if email.len() > 254 || !email_address::EmailAddress::is_valid(email) {
        return Err(AppError::invalid("email", "is not a valid email address"));
    }
    Ok(email.to_string())
}

impl From<PasswordError> for AppError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Weak(m) => AppError::invalid("password", m),
            PasswordError::Internal(m) => AppError::Unavailable(m),
        }
    }
}

impl From<TokenError> for AppError {
    fn from(e: TokenError) -> Self {
        AppError::Token(e)
    }
}

impl Identity {
    /// Registers a person. The email claim is taken first so that concurrent registrations of
    /// one address race on a single stream (see [`Identity::under_claim`]).
    pub async fn register(
        &self,
        registration: Registration,
        metadata: &Metadata,
    ) -> Result<(String, Position), AppError> {
        let email = validate_email(&registration.email)?;
        let inputs = [
            email.as_str(),
            registration.first_name.as_str(),
            registration.last_name.as_str(),
        ];
        self.passwords
            .check_strength(&registration.password, &inputs)?;
        let user_id = uuid::Uuid::now_v7().to_string();
        let at = Utc::now();
        let record = async {
            let password_hash = self.passwords.hash(registration.password).await?;
            let command = UserCommand::Register {
                user_id: user_id.clone(),
                email: email.clone(),
                first_name: registration.first_name.trim().to_string(),
                last_name: registration.last_name.trim().to_string(),
                password_hash,
                role: registration.role.clone(),
                registered_via: registration.via,
                at,
            };
            Ok::<_, AppError>(self.users.execute(&user_id, command, metadata).await?)
        };
        let position = self
            .under_claim(&email, &user_id, at, metadata, record)
            .await?;
        self.send_verification(&user_id, &email).await;
        Ok((user_id, position))
    }

    /// Records the registration of `user_id` (`record`) while holding the claim on `email`:
    /// concurrent registrations of one address race on the claim's stream, and the claim is
    /// released again if the user cannot be recorded.
    pub(super) async fn under_claim(
        &self,
        email: &str,
        user_id: &str,
        at: chrono::DateTime<Utc>,
        metadata: &Metadata,
        record: impl std::future::Future<Output = Result<Position, AppError>>,
    ) -> Result<Position, AppError> {
        let claim = claim_id(email);
        self.claims
            .execute(
                &claim,
                EmailClaimCommand::Claim {
                    email: normalize_email(email),
                    user_id: user_id.to_string(),
                    at,
                },
                metadata,
            )
            .await?;
        match record.await {
            Ok(position) => Ok(position),
            Err(e) => {
                let release = EmailClaimCommand::Release {
                    user_id: user_id.to_string(),
                    at: Utc::now(),
                };
                if let Err(release_error) = self.claims.execute(&claim, release, metadata).await {
                    tracing::error!(error = %release_error, "email claim left held after a failed registration");
                }
                Err(e)
            }
        }
    }

    /// The user holding `email`, from the log (consistent with every earlier write).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, AppError> {
        let Some(holder) = self.claims.load(&claim_id(email)).await?.holder else {
            return Ok(None);
        };
        let user = self.users.load(&holder).await?;
        Ok((user.registered && !user.erased).then_some(user))
    }

    pub async fn user(&self, user_id: &str) -> Result<User, AppError> {
        let user = self.users.load(user_id).await?;
        if !user.registered || user.erased {
            return Err(AppError::NotFound("user not found".into()));
        }
        Ok(user)
    }

    /// A failed mail does not undo the registration; the failure is logged.
    async fn send_verification(&self, user_id: &str, email: &str) {
        let token = self
            .tokens
            .issue(TokenKind::VerifyEmail, user_id, None, Some(email));
        let link = format!("{}/core/verify-email?token={token}", self.public_url);
        let mail = Mail {
            to: email.to_string(),
            subject: "Verify your email address".into(),
            body: format!(
                "Welcome to annals.\n\nConfirm your email address by opening this link:\n{link}\n\nThe link is valid for 7 days."
            ),
        };
        if let Err(e) = self.mailer.send(mail).await {
            tracing::error!(error = %e, "verification mail not sent");
        }
    }

    pub async fn verify_email(
        &self,
        token: &str,
        metadata: &Metadata,
    ) -> Result<Position, AppError> {
        let claims = self
            .tokens
            .verify(token, TokenKind::VerifyEmail)
            .map_err(|e| AppError::invalid("token", e.to_string()))?;
        let user = self.users.load(&claims.sub).await?;
        // A link for an address the account no longer has is stale.
        if !user.registered || Some(user.email.as_str()) != claims.email.as_deref() {
            return Err(AppError::invalid("token", "does not match an account"));
        }
        Ok(self
            .users
            .execute(
                &claims.sub,
                UserCommand::VerifyEmail { at: Utc::now() },
                metadata,
            )
            .await?)
    }

    pub async fn update_profile(
        &self,
        user_id: &str,
        first_name: Option<String>,
        last_name: Option<String>,
        metadata: &Metadata,
    ) -> Result<Position, AppError> {
        let command = UserCommand::UpdateProfile {
            first_name: first_name.map(|s| s.trim().to_string()),
            last_name: last_name.map(|s| s.trim().to_string()),
            at: Utc::now(),
        };
        Ok(self.users.execute(user_id, command, metadata).await?)
    }
}
