//! Enabling, using and disabling second factors: TOTP apps, mailed codes, recovery codes.
use chrono::{Duration, Utc};

use annals_domain::identity::UserCommand;
use annals_domain::identity::user::SecondFactor;

use super::login::Proof;
use super::{Identity, otp};
use crate::adapters::mail::Mail;
use crate::es::commands::Metadata;
use crate::services::error::AppError;

pub const RECOVERY_CODES: usize = 16;
pub const RECOVERY_CODE_LENGTH: usize = 10;
pub const EMAIL_OTP_LIFETIME_MINUTES: i64 = 5;

/// What an authenticator app needs to start.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    pub secret: String,
    pub uri: String,
}

impl Identity {
    pub async fn begin_totp(
        &self,
        user_id: &str,
        metadata: &Metadata,
    ) -> Result<TotpSetup, AppError> {
        let user = self.user(user_id).await?;
        let secret = otp::new_secret();
        let start = UserCommand::StartSecondFactorSetup {
            method: SecondFactor::Totp,
            secret: secret.clone(),
            at: Utc::now(),
        };
        self.users.execute(user_id, start, metadata).await?;
        let uri = otp::provisioning_uri(&secret, &user.email)
            .ok_or_else(|| AppError::Unavailable("cannot build the TOTP URI".into()))?;
        Ok(TotpSetup { secret, uri })
    }

    /// Mails a code to a person with email OTP being set up or enabled. Quiet otherwise.
    pub async fn send_email_otp(&self, email: &str, metadata: &Metadata) -> Result<(), AppError> {
        let Some(user) = self.user_by_email(email).await? else {
            return Ok(());
        };
        let Some(secret) = user.email_otp.secret.clone().filter(|_| user.active) else {
            return Ok(());
        };
        let counter = user.email_otp_counter + 1;
        let now = Utc::now();
        let send = UserCommand::SendEmailOtp {
            counter,
            expires_at: now + Duration::minutes(EMAIL_OTP_LIFETIME_MINUTES),
            at: now,
        };
        self.users.execute(&user.user_id, send, metadata).await?;
        let code = otp::hotp(&secret, counter)
            .ok_or_else(|| AppError::Unavailable("cannot compute the code".into()))?;
        let mail = Mail {
            to: user.email.clone(),
            subject: "Your one-time code".into(),
            body: format!(
                "Your one-time code: {code}\n\nIt is valid for {EMAIL_OTP_LIFETIME_MINUTES} minutes and works once."
            ),
        };
        if let Err(e) = self.mailer.send(mail).await {
            tracing::error!(error = %e, "one-time code mail not sent");
        }
        Ok(())
    }

    /// Starts email OTP and mails the first code.
    pub async fn begin_email_otp(
        &self,
        user_id: &str,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        let user = self.user(user_id).await?;
        let start = UserCommand::StartSecondFactorSetup {
            method: SecondFactor::EmailOtp,
            secret: otp::new_secret(),
            at: Utc::now(),
        };
        self.users.execute(user_id, start, metadata).await?;
        self.send_email_otp(&user.email, metadata).await
    }

    /// Enables a factor whose setup began, given a code from it. Returns fresh recovery codes
    /// when this is the first factor (they are shown once).
    pub async fn enable_second_factor(
        &self,
        user_id: &str,
        method: SecondFactor,
        code: &str,
        metadata: &Metadata,
    ) -> Result<Option<Vec<String>>, AppError> {
        let user = self.user(user_id).await?;
        let state = user.factor(method);
        let secret = state
            .secret
            .as_deref()
            .filter(|_| !state.enabled)
            .ok_or_else(|| AppError::invalid(field_of(method), "start the setup first"))?;
        let now = Utc::now();
        let ok = match method {
            SecondFactor::Totp => otp::verify_totp(secret, code, now.timestamp().max(0) as u64),
            SecondFactor::EmailOtp => match user.email_otp_sent {
                Some((counter, expires_at)) if now < expires_at => {
                    otp::same_code(&otp::hotp(secret, counter).unwrap_or_default(), code.trim())
                }
                _ => false,
            },
        };
        if !ok {
            return Err(AppError::invalid(field_of(method), "wrong or expired code"));
        }
        let first = user.enabled_factors().is_empty();
        let enable = UserCommand::EnableSecondFactor { method, at: now };
        self.users.execute(user_id, enable, metadata).await?;
        if first {
            Ok(Some(self.store_recovery_codes(user_id, metadata).await?))
        } else {
            Ok(None)
        }
    }

    pub async fn disable_second_factor(
        &self,
        user_id: &str,
        method: SecondFactor,
        proof: &Proof,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        let user = self.user(user_id).await?;
        if !user.factor(method).enabled {
            return Err(AppError::invalid(field_of(method), "is not enabled"));
        }
        if !self.check_proof(&user, proof, metadata).await? {
            return Err(AppError::invalid(
                "otp",
                "wrong or missing second-factor proof",
            ));
        }
        let disable = UserCommand::DisableSecondFactor {
            method,
            at: Utc::now(),
        };
        self.users.execute(user_id, disable, metadata).await?;
        Ok(())
    }

    /// Replaces the recovery codes, given a second-factor proof.
    pub async fn regenerate_recovery_codes(
        &self,
        user_id: &str,
        proof: &Proof,
        metadata: &Metadata,
    ) -> Result<Vec<String>, AppError> {
        let user = self.user(user_id).await?;
        if user.enabled_factors().is_empty() {
            return Err(AppError::invalid(
                "otp",
                "No two factor authentication enabled.",
            ));
        }
        if !self.check_proof(&user, proof, metadata).await? {
            return Err(AppError::invalid(
                "otp",
                "wrong or missing second-factor proof",
            ));
        }
        self.store_recovery_codes(user_id, metadata).await
    }

    async fn store_recovery_codes(
        &self,
        user_id: &str,
        metadata: &Metadata,
    ) -> Result<Vec<String>, AppError> {
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| otp::random_code(RECOVERY_CODE_LENGTH))
            .collect();
        let generate = UserCommand::GenerateRecoveryCodes {
            code_hashes: codes.iter().map(|c| otp::digest(user_id, c)).collect(),
            at: Utc::now(),
        };
        self.users.execute(user_id, generate, metadata).await?;
        Ok(codes)
    }
}

fn field_of(method: SecondFactor) -> &'static str {
    match method {
        SecondFactor::Totp => "totp",
        SecondFactor::EmailOtp => "email_otp",
    }
}
