//! Credentials and second factors: what each command is allowed to record, given the state.
use super::{SecondFactor, User, UserCommand, UserError, UserEvent};

/// Kitsu's person roles, and `auditor`: reads the whole history of events
/// (`/api/history`), nothing else beyond what a `user` may.
pub const ROLES: &[&str] = &[
    "admin",
    "manager",
    "supervisor",
    "user",
    "client",
    "vendor",
    "auditor",
];

/// Byte-wise comparison whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decides the events of the security commands (the caller checked the user is registered).
pub(super) fn decide(user: &User, command: UserCommand) -> Result<Vec<UserEvent>, UserError> {
    Ok(match command {
        UserCommand::ChangePassword { password_hash, at } => {
            vec![UserEvent::PasswordChanged { password_hash, at }]
        }
        UserCommand::RequestPasswordReset {
            token_hash,
            expires_at,
            at,
        } => {
            if !user.active {
                return Err(UserError::Inactive);
            }
            vec![UserEvent::PasswordResetRequested {
                token_hash,
                expires_at,
                at,
            }]
        }
        UserCommand::CompletePasswordReset {
            token_hash,
            password_hash,
            at,
        } => {
            let valid = user.pending_reset.as_ref().is_some_and(|pending| {
                at < pending.expires_at
                    && constant_time_eq(pending.token_hash.as_bytes(), token_hash.as_bytes())
            });
            if !valid {
                return Err(UserError::BadResetToken);
            }
            vec![UserEvent::PasswordReset { password_hash, at }]
        }
        UserCommand::ChangeRole { role, at } => {
            if !ROLES.contains(&role.as_str()) {
                return Err(UserError::Invalid {
                    field: "role",
                    message: "must be one of admin, manager, supervisor, user, client, vendor, auditor",
                });
            }
            if role == user.role {
                vec![]
            } else {
                vec![UserEvent::RoleChanged { role, at }]
            }
        }
        UserCommand::SetActive { active, at } => match (user.active, active) {
            (true, false) => vec![UserEvent::UserDeactivated { at }],
            (false, true) => vec![UserEvent::UserReactivated { at }],
            _ => vec![],
        },
        UserCommand::StartSecondFactorSetup { method, secret, at } => {
            if user.factor(method).enabled {
                return Err(UserError::AlreadyEnabled);
            }
            vec![UserEvent::SecondFactorSetupStarted {
                method,
                otp_secret: secret,
                at,
            }]
        }
        UserCommand::EnableSecondFactor { method, at } => {
            let factor = user.factor(method);
            if factor.enabled {
                return Err(UserError::AlreadyEnabled);
            }
            if factor.secret.is_none() {
                return Err(UserError::NoSetupStarted);
            }
            let mut events = vec![UserEvent::SecondFactorEnabled { method, at }];
            // The code that proved the new factor must not work a second time.
            if method == SecondFactor::EmailOtp && user.email_otp_sent.is_some() {
                events.push(UserEvent::EmailOtpConsumed { at });
            }
            events
        }
        UserCommand::DisableSecondFactor { method, at } => {
            if !user.factor(method).enabled {
                return Err(UserError::NotEnabled);
            }
            vec![UserEvent::SecondFactorDisabled { method, at }]
        }
        UserCommand::SendEmailOtp {
            counter,
            expires_at,
            at,
        } => {
            if user.email_otp.secret.is_none() {
                return Err(UserError::NotEnabled);
            }
            if counter <= user.email_otp_counter {
                return Err(UserError::Invalid {
                    field: "counter",
                    message: "must grow with every code",
                });
            }
            vec![UserEvent::EmailOtpSent {
                counter,
                expires_at,
                at,
            }]
        }
        UserCommand::ConsumeEmailOtp { at } => match user.email_otp_sent {
            Some((_, expires_at)) if at < expires_at => vec![UserEvent::EmailOtpConsumed { at }],
            _ => return Err(UserError::NoCodeSent),
        },
        UserCommand::GenerateRecoveryCodes { code_hashes, at } => {
            if user.enabled_factors().is_empty() {
                return Err(UserError::NotEnabled);
            }
            vec![UserEvent::RecoveryCodesGenerated { code_hashes, at }]
        }
        UserCommand::UseRecoveryCode { code_hash, at } => {
            if !user.recovery_code_hashes.contains(&code_hash) {
                return Err(UserError::BadRecoveryCode);
            }
            vec![UserEvent::RecoveryCodeUsed { code_hash, at }]
        }
        UserCommand::Register { .. }
        | UserCommand::RecordLoginAttempt { .. }
        | UserCommand::VerifyEmail { .. }
        | UserCommand::UpdateProfile { .. }
        | UserCommand::RegisterPerson { .. }
        | UserCommand::UpdatePerson { .. }
        | UserCommand::Erase { .. } => unreachable!("handled by the aggregate"),
    })
}
