//! What a studio manager does to another person's account (Zou's person actions): set their
//! password, turn their second factors off, and invite them by mail to choose a password.
//! Each is a command on the person's stream, so the history says who did it and when.
use chrono::{Duration, Utc};

use annals_domain::identity::UserCommand;
use annals_domain::identity::user::SecondFactor;

use super::Identity;
use crate::adapters::mail::Mail;
use crate::es::commands::Metadata;
use crate::services::error::AppError;

/// How long an invitation's link works (Zou: a week).
pub const INVITATION_LIFETIME_DAYS: i64 = 7;

impl Identity {
    /// Sets `user_id`'s password without the current one (the caller checked who may).
    pub async fn set_password(
        &self,
        user_id: &str,
        new_password: String,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        let user = self.user(user_id).await?;
        self.store_password(&user, new_password, metadata).await
    }

    /// Turns off every second factor `user_id` has on; `false` if none was.
    pub async fn disable_second_factors(
        &self,
        user_id: &str,
        metadata: &Metadata,
    ) -> Result<bool, AppError> {
        let user = self.user(user_id).await?;
        let enabled: Vec<SecondFactor> = [SecondFactor::Totp, SecondFactor::EmailOtp]
            .into_iter()
            .filter(|method| user.factor(*method).enabled)
            .collect();
        for method in &enabled {
            let disable = UserCommand::DisableSecondFactor {
                method: *method,
                at: Utc::now(),
            };
            self.users.execute(user_id, disable, metadata).await?;
        }
        Ok(!enabled.is_empty())
    }

    /// Mails `user_id` an invitation with a link to choose a password (the reset token's
    /// mechanism, valid [`INVITATION_LIFETIME_DAYS`] days).
    pub async fn invite(&self, user_id: &str, metadata: &Metadata) -> Result<(), AppError> {
        let user = self.user(user_id).await?;
        let (_, link) = self
            .issue_password_link(
                &user,
                Duration::days(INVITATION_LIFETIME_DAYS),
                "&type=new",
                metadata,
            )
            .await?;
        let mail = Mail {
            to: user.email.clone(),
            subject: "You are invited".into(),
            body: format!(
                "Hello {},\n\nAn account was made for you ({}). Choose your password here: {link}\n\nThe link is valid for {INVITATION_LIFETIME_DAYS} days and works once.",
                user.first_name, user.email
            ),
        };
        self.mailer
            .send(mail)
            .await
            .map_err(|e| AppError::Unavailable(e.to_string()))
    }
}
