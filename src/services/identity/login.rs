//! Logging in, shared by the three front doors; each maps the outcome to its own answer.
use chrono::Utc;

use annals_contracts::Position;
use annals_domain::identity::user::SecondFactor;
use annals_domain::identity::{User, UserCommand, UserError};

use super::otp;
use super::{Identity, TokenPair};
use crate::es::commands::{CommandError, Metadata};
use crate::services::error::AppError;

#[derive(Debug, Clone, Default)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    pub second_factor: Proof,
}

/// A second-factor proof: any one of these.
#[derive(Debug, Clone, Default)]
pub struct Proof {
    pub totp: Option<String>,
    pub email_otp: Option<String>,
    pub recovery_code: Option<String>,
}

impl Proof {
    pub fn is_empty(&self) -> bool {
        self.totp.is_none() && self.email_otp.is_none() && self.recovery_code.is_none()
    }
}

#[derive(Debug)]
pub struct LoginSuccess {
    pub user: User,
    pub tokens: TokenPair,
    pub position: Position,
}

#[derive(Debug)]
pub enum LoginFailure {
    /// Unknown account or wrong password: deliberately indistinguishable.
    BadCredentials,
    Locked {
        until: chrono::DateTime<Utc>,
    },
    Inactive,
    SecondFactorMissing {
        preferred: SecondFactor,
        enabled: Vec<SecondFactor>,
    },
    SecondFactorWrong,
    Failed(AppError),
}

impl From<AppError> for LoginFailure {
    fn from(e: AppError) -> Self {
        LoginFailure::Failed(e)
    }
}

impl Identity {
    pub async fn login(
        &self,
        request: LoginRequest,
        surface: &str,
        metadata: &Metadata,
    ) -> Result<LoginSuccess, LoginFailure> {
        let now = Utc::now();
        let Some(user) = self.user_by_email(&request.email).await? else {
            // Same work as a wrong password, so timing tells nothing.
            self.passwords.verify(request.password, None).await;
            return Err(LoginFailure::BadCredentials);
        };
        // Locks hold per (account, client address): whoever guesses passwords locks out
        // only themselves.
        if let Some(until) = user.locked_for(metadata.origin.as_deref(), now) {
            return Err(LoginFailure::Locked { until });
        }
        let password_ok = self
            .passwords
            .verify(request.password, Some(user.password_hash.clone()))
            .await;
        if !password_ok {
            self.record_attempt(&user, false, metadata).await?;
            return Err(LoginFailure::BadCredentials);
        }
        if !user.active {
            return Err(LoginFailure::Inactive);
        }
        let enabled = user.enabled_factors();
        if let Some(preferred) = enabled.first().copied() {
            if request.second_factor.is_empty() {
                return Err(LoginFailure::SecondFactorMissing { preferred, enabled });
            }
            if !self
                .check_proof(&user, &request.second_factor, metadata)
                .await?
            {
                self.record_attempt(&user, false, metadata).await?;
                return Err(LoginFailure::SecondFactorWrong);
            }
        }
        self.record_attempt(&user, true, metadata).await?;
        let (tokens, position) = self
            .start_session(&user.user_id, surface, &metadata.acting_as(&user.user_id))
            .await?;
        Ok(LoginSuccess {
            user,
            tokens,
            position,
        })
    }

    async fn record_attempt(
        &self,
        user: &User,
        password_ok: bool,
        metadata: &Metadata,
    ) -> Result<(), LoginFailure> {
        let attempt = UserCommand::RecordLoginAttempt {
            password_ok,
            at: Utc::now(),
            client: metadata.origin.clone(),
        };
        match self.users.execute(&user.user_id, attempt, metadata).await {
            Ok(_) => Ok(()),
            Err(CommandError::Domain(UserError::Locked { until })) => {
                Err(LoginFailure::Locked { until })
            }
            Err(e) => Err(LoginFailure::Failed(e.into())),
        }
    }

    /// Checks a second-factor proof and consumes what is single-use (mailed codes, recovery
    /// codes). `false` for a wrong or expired proof.
    pub async fn check_proof(
        &self,
        user: &User,
        proof: &Proof,
        metadata: &Metadata,
    ) -> Result<bool, AppError> {
        let now = Utc::now();
        if let (Some(code), Some(secret)) = (&proof.totp, &user.totp.secret)
            && user.totp.enabled
            && otp::verify_totp(secret, code, now.timestamp().max(0) as u64)
        {
            return Ok(true);
        }
        if let (Some(code), Some(secret), Some((counter, expires_at))) = (
            &proof.email_otp,
            &user.email_otp.secret,
            user.email_otp_sent,
        ) {
            let expected = otp::hotp(secret, counter).unwrap_or_default();
            if user.email_otp.enabled && now < expires_at && otp::same_code(&expected, code.trim())
            {
                let consume = UserCommand::ConsumeEmailOtp { at: now };
                return match self.users.execute(&user.user_id, consume, metadata).await {
                    Ok(_) => Ok(true),
                    Err(CommandError::Domain(_)) => Ok(false),
                    Err(e) => Err(e.into()),
                };
            }
        }
        if let Some(code) = &proof.recovery_code {
            let code_hash = otp::digest(&user.user_id, code);
            let use_code = UserCommand::UseRecoveryCode { code_hash, at: now };
            return match self.users.execute(&user.user_id, use_code, metadata).await {
                Ok(_) => Ok(true),
                Err(CommandError::Domain(_)) => Ok(false),
                Err(e) => Err(e.into()),
            };
        }
        Ok(false)
    }
}
