//! Passwords: change, and reset by mailed token (2 h, single use, only its hash stored).
use chrono::{Duration, Utc};

use annals_domain::identity::{User, UserCommand, UserError};

use super::{Identity, otp};
use crate::adapters::mail::Mail;
use crate::es::commands::{CommandError, Metadata};
use crate::services::error::AppError;

pub const RESET_TOKEN_LENGTH: usize = 64;
pub const RESET_TOKEN_LIFETIME_HOURS: i64 = 2;

impl Identity {
    /// Changes the caller's password after checking the current one.
    pub async fn change_password(
        &self,
        user_id: &str,
        current: String,
        new_password: String,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        let user = self.user(user_id).await?;
        if !self
            .passwords
            .verify(current, Some(user.password_hash.clone()))
            .await
        {
            return Err(AppError::invalid("old_password", "is wrong"));
        }
        self.store_password(&user, new_password, metadata).await
    }

    /// Checks `new_password`'s strength against `user`'s names and stores its hash (the
    /// caller decided who may).
    pub(super) async fn store_password(
        &self,
        user: &User,
        new_password: String,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        self.passwords.check_strength(
            &new_password,
            &[&user.email, &user.first_name, &user.last_name],
        )?;
        let password_hash = self.passwords.hash(new_password).await?;
        let change = UserCommand::ChangePassword {
            password_hash,
            at: Utc::now(),
        };
        self.users.execute(&user.user_id, change, metadata).await?;
        Ok(())
    }

    /// Mails a reset link if the account exists and is active; says nothing either way.
    pub async fn request_password_reset(
        &self,
        email: &str,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        let Some(user) = self.user_by_email(email).await? else {
            return Ok(());
        };
        if !user.active {
            return Ok(());
        }
        let (token, link) = self
            .issue_password_link(
                &user,
                Duration::hours(RESET_TOKEN_LIFETIME_HOURS),
                "",
                metadata,
            )
            .await?;
        let mail = Mail {
            to: user.email.clone(),
            subject: "Reset your password".into(),
            body: format!(
                "Someone asked to reset the password of this account.\n\nReset token: {token}\n\nOr open: {link}\n\nThe token is valid for {RESET_TOKEN_LIFETIME_HOURS} hours and works once. If it was not you, ignore this mail."
            ),
        };
        if let Err(e) = self.mailer.send(mail).await {
            tracing::error!(error = %e, "reset mail not sent");
        }
        Ok(())
    }

    /// Sets a new password with a mailed token. Any failure reads "wrong or expired token".
    pub async fn reset_password(
        &self,
        email: &str,
        token: &str,
        new_password: String,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        let bad_token = || AppError::invalid("token", "Wrong or expired token.");
        let user = self.user_by_email(email).await?.ok_or_else(bad_token)?;
        self.passwords.check_strength(
            &new_password,
            &[&user.email, &user.first_name, &user.last_name],
        )?;
        let password_hash = self.passwords.hash(new_password).await?;
        let complete = UserCommand::CompletePasswordReset {
            token_hash: otp::digest(&user.user_id, token),
            password_hash,
            at: Utc::now(),
        };
        match self.users.execute(&user.user_id, complete, metadata).await {
            Ok(_) => Ok(()),
            Err(CommandError::Domain(UserError::BadResetToken)) => Err(bad_token()),
            Err(e) => Err(e.into()),
        }
    }

    /// A single-use token for `user` to choose a password within `lifetime` (only its hash
    /// is stored, on the user's stream), and the link that carries it (`query` appended:
    /// `&type=new` for an invitation).
    pub(super) async fn issue_password_link(
        &self,
        user: &User,
        lifetime: Duration,
        query: &str,
        metadata: &Metadata,
    ) -> Result<(String, String), AppError> {
        let token = otp::random_code(RESET_TOKEN_LENGTH);
        let now = Utc::now();
        let request = UserCommand::RequestPasswordReset {
            token_hash: otp::digest(&user.user_id, &token),
            expires_at: now + lifetime,
            at: now,
        };
        self.users.execute(&user.user_id, request, metadata).await?;
        let link = format!(
            "{}/reset-change-password?email={}&token={token}{query}",
            self.public_url,
            url::form_urlencoded::byte_serialize(user.email.as_bytes()).collect::<String>()
        );
        Ok((token, link))
    }
}
