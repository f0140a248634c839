use chrono::{DateTime, Duration, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::names::check_name;
use super::{RegisteredVia, SecondFactor, UserCommand, UserError, UserEvent};
use crate::decide::Decide;

/// Failed logins from one client inside [`LOCKOUT_WINDOW_SECS`] that lock the account for
/// that client.
pub const LOCKOUT_THRESHOLD: u32 = 5;
pub const LOCKOUT_WINDOW_SECS: i64 = 60;
pub const LOCKOUT_DURATION_SECS: i64 = 60;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub registered: bool,
    pub user_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: String,
    pub role: String,
    pub registered_via: RegisteredVia,
    pub verified: bool,
    /// Per client address ("" when unknown): times of the failed logins still inside the
    /// lockout window.
    pub recent_failures: BTreeMap<String, Vec<DateTime<Utc>>>,
    /// Per client address: logins refused until then.
    pub locked_until: BTreeMap<String, DateTime<Utc>>,
    /// Inactive accounts cannot log in (Kitsu's "unactive").
    pub active: bool,
    pub pending_reset: Option<PendingReset>,
    pub totp: SecondFactorState,
    pub email_otp: SecondFactorState,
    /// The mailed email code: HOTP counter and expiry; cleared once used.
    pub email_otp_sent: Option<(u64, DateTime<Utc>)>,
    pub email_otp_counter: u64,
    pub recovery_code_hashes: Vec<String>,
    /// Erased: the account is gone for good (its history stays, its personal data reads as
    /// erased) and every command is refused as for an unknown user.
    pub erased: bool,
    /// The person's details as the tracker knows them (see [`super::person`]): the fields
    /// set so far; the others are at their defaults.
    #[serde(default)]
    pub details: BTreeMap<String, Value>,
    /// When the account was registered.
    #[serde(default)]
    pub registered_at: Option<DateTime<Utc>>,
    /// When the person as the tracker shows it last changed (names, role, active, second
    /// factors, details).
    #[serde(default)]
    pub changed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingReset {
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// One second factor: a secret being set up, then enabled.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondFactorState {
    pub secret: Option<String>,
    pub enabled: bool,
}

impl User {
    pub fn factor(&self, method: SecondFactor) -> &SecondFactorState {
        match method {
            SecondFactor::Totp => &self.totp,
            SecondFactor::EmailOtp => &self.email_otp,
        }
    }

    fn factor_mut(&mut self, method: SecondFactor) -> &mut SecondFactorState {
        match method {
            SecondFactor::Totp => &mut self.totp,
            SecondFactor::EmailOtp => &mut self.email_otp,
        }
    }

    /// The enabled second factors, in the order Kitsu lists them.
    pub fn enabled_factors(&self) -> Vec<SecondFactor> {
        [SecondFactor::Totp, SecondFactor::EmailOtp]
            .into_iter()
            .filter(|m| self.factor(*m).enabled)
            .collect()
    }

    /// Until when logins from `client` are refused, if they are at `at`.
    pub fn locked_for(&self, client: Option<&str>, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until
            .get(client.unwrap_or_default())
            .copied()
            .filter(|until| at < *until)
    }

    /// Every field of the person as the tracker shows it (Zou's person, see
    /// [`super::person::PERSON`]).
    pub fn person_fields(&self) -> BTreeMap<String, Value> {
        let mut fields =
            super::person::registered(&self.email, &self.first_name, &self.last_name, &self.role);
        fields.insert("active".into(), json!(self.active));
        fields.insert("totp_enabled".into(), json!(self.totp.enabled));
        fields.insert("email_otp_enabled".into(), json!(self.email_otp.enabled));
        fields.extend(self.details.clone());
        fields
    }

    /// The person as Zou serializes it (with relations), the same document as the persons'
    /// read model holds once it has caught up (and the derived second factor).
    pub fn person_document(&self) -> Value {
        let created = self
            .registered_at
            .or_else(|| created_from_id(&self.user_id))
            .unwrap_or_default();
        let changed = self.changed_at.filter(|t| *t >= created).unwrap_or(created);
        super::person::person_document(&self.user_id, &self.person_fields(), created, changed)
    }

    fn failures_within_window(&self, client: Option<&str>, at: DateTime<Utc>) -> u32 {
        let since = at - Duration::seconds(LOCKOUT_WINDOW_SECS);
        self.recent_failures
            .get(client.unwrap_or_default())
            .map_or(0, |times| {
                times.iter().filter(|t| **t > since).count() as u32
            })
    }
}

/// The creation time carried by a UUIDv7 user id (every registration issues one).
fn created_from_id(user_id: &str) -> Option<DateTime<Utc>> {
    let (secs, nanos) = uuid::Uuid::parse_str(user_id)
        .ok()?
        .get_timestamp()?
        .to_unix();
    DateTime::from_timestamp(secs as i64, nanos)
}

impl Decide for User {
    fn decide(&self, command: UserCommand) -> Result<Vec<UserEvent>, UserError> {
        if self.erased {
            return match command {
                UserCommand::Erase { .. } => Ok(vec![]),
                _ => Err(UserError::NotRegistered),
            };
        }
        Ok(match command {
            UserCommand::Register {
                user_id,
                email,
                first_name,
                last_name,
                password_hash,
                role,
                registered_via,
                at,
            } => {
                if self.registered {
                    return Err(UserError::AlreadyRegistered);
                }
                check_name("firstName", &first_name)?;
                check_name("lastName", &last_name)?;
                vec![UserEvent::UserRegistered {
                    user_id,
                    email,
                    first_name,
                    last_name,
                    password_hash,
                    role,
                    registered_via,
                    at,
                }]
            }
            UserCommand::RecordLoginAttempt {
                password_ok,
                at,
                client,
            } => {
                if !self.registered {
                    return Err(UserError::NotRegistered);
                }
                if let Some(until) = self.locked_for(client.as_deref(), at) {
                    return Err(UserError::Locked { until });
                }
                if password_ok {
                    vec![UserEvent::UserLoggedIn { at, client }]
                } else {
                    // The failures before this one plus this one: the lock needs no state
                    // after `LoginFailed` is applied.
                    let recent_failures = self.failures_within_window(client.as_deref(), at) + 1;
                    let mut events = vec![UserEvent::LoginFailed {
                        at,
                        recent_failures,
                        client: client.clone(),
                    }];
                    if recent_failures >= LOCKOUT_THRESHOLD {
                        let until = at + Duration::seconds(LOCKOUT_DURATION_SECS);
                        events.push(UserEvent::AccountLocked { at, until, client });
                    }
                    events
                }
            }
            UserCommand::VerifyEmail { at } => {
                if !self.registered {
                    return Err(UserError::NotRegistered);
                }
                // Following the link twice is harmless: nothing new happened.
                if self.verified {
                    vec![]
                } else {
                    vec![UserEvent::EmailVerified { at }]
                }
            }
            UserCommand::Erase { at } => {
                if !self.registered {
                    return Err(UserError::NotRegistered);
                }
                vec![UserEvent::UserErased {
                    email: crate::personal::erased_email(&self.email),
                    at,
                }]
            }
            UserCommand::UpdateProfile {
                first_name,
                last_name,
                at,
            } => {
                if !self.registered {
                    return Err(UserError::NotRegistered);
                }
                let first_name = first_name.unwrap_or_else(|| self.first_name.clone());
                let last_name = last_name.unwrap_or_else(|| self.last_name.clone());
                check_name("firstName", &first_name)?;
                check_name("lastName", &last_name)?;
                vec![UserEvent::ProfileUpdated {
                    first_name,
                    last_name,
                    at,
                }]
            }
            UserCommand::RegisterPerson {
                user_id,
                input,
                password_hash,
                by,
                at,
            } => super::tracker::register(self, user_id, input, password_hash, by, at)?,
            UserCommand::UpdatePerson {
                input,
                as_admin,
                by,
                at,
            } => super::tracker::update(self, input, as_admin, by, at)?,
            other => {
                if !self.registered {
                    return Err(UserError::NotRegistered);
                }
                super::security::decide(self, other)?
            }
        })
    }
}

impl Aggregate for User {
    const TYPE: &'static str = "user";
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;
    type Services = ();

    async fn handle(
        &mut self,
        command: UserCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), UserError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: UserEvent) {
        match event {
            UserEvent::UserRegistered {
                user_id,
                email,
                first_name,
                last_name,
                password_hash,
                role,
                registered_via,
                at,
            } => {
                self.registered_at = Some(at);
                self.changed_at = Some(at);
                self.registered = true;
                self.registered_via = registered_via;
                self.user_id = user_id;
                self.email = email;
                self.first_name = first_name;
                self.last_name = last_name;
                self.password_hash = password_hash;
                self.role = role;
                self.active = true;
            }
            UserEvent::UserLoggedIn { client, .. } => {
                let client = client.unwrap_or_default();
                self.recent_failures.remove(&client);
                self.locked_until.remove(&client);
            }
            UserEvent::LoginFailed { at, client, .. } => {
                // Only what is still inside the window is kept, for every client: the state
                // stays as small as the recent attempts.
                let since = at - Duration::seconds(LOCKOUT_WINDOW_SECS);
                self.recent_failures.retain(|_, times| {
                    times.retain(|t| *t > since);
                    !times.is_empty()
                });
                self.locked_until.retain(|_, until| *until > at);
                self.recent_failures
                    .entry(client.unwrap_or_default())
                    .or_default()
                    .push(at);
            }
            UserEvent::AccountLocked { until, client, .. } => {
                let client = client.unwrap_or_default();
                self.recent_failures.remove(&client);
                self.locked_until.insert(client, until);
            }
            UserEvent::EmailVerified { .. } => self.verified = true,
            UserEvent::ProfileUpdated {
                first_name,
                last_name,
                at,
            } => {
                self.first_name = first_name;
                self.last_name = last_name;
                self.changed_at = Some(at);
            }
            UserEvent::PersonDetailsChanged { changes, at, .. } => {
                for change in changes {
                    self.details.insert(change.field, change.new);
                }
                self.changed_at = Some(at);
            }
            UserEvent::PasswordChanged { password_hash, .. }
            | UserEvent::PasswordReset { password_hash, .. } => {
                self.password_hash = password_hash;
                self.pending_reset = None;
                self.recent_failures.clear();
                self.locked_until.clear();
            }
            UserEvent::PasswordResetRequested {
                token_hash,
                expires_at,
                ..
            } => {
                self.pending_reset = Some(PendingReset {
                    token_hash,
                    expires_at,
                })
            }
            UserEvent::RoleChanged { role, at } => {
                self.role = role;
                self.changed_at = Some(at);
            }
            UserEvent::UserDeactivated { at } => {
                self.active = false;
                self.changed_at = Some(at);
            }
            UserEvent::UserReactivated { at } => {
                self.active = true;
                self.changed_at = Some(at);
            }
            UserEvent::SecondFactorSetupStarted {
                method, otp_secret, ..
            } => {
                let factor = self.factor_mut(method);
                factor.secret = Some(otp_secret);
                factor.enabled = false;
            }
            UserEvent::SecondFactorEnabled { method, at } => {
                self.factor_mut(method).enabled = true;
                self.changed_at = Some(at);
            }
            UserEvent::SecondFactorDisabled { method, at } => {
                self.changed_at = Some(at);
                *self.factor_mut(method) = SecondFactorState::default();
                if method == SecondFactor::EmailOtp {
                    self.email_otp_sent = None;
                }
            }
            UserEvent::EmailOtpSent {
                counter,
                expires_at,
                ..
            } => {
                self.email_otp_counter = counter;
                self.email_otp_sent = Some((counter, expires_at));
            }
            UserEvent::EmailOtpConsumed { .. } => self.email_otp_sent = None,
            UserEvent::RecoveryCodesGenerated { code_hashes, .. } => {
                self.recovery_code_hashes = code_hashes;
            }
            UserEvent::RecoveryCodeUsed { code_hash, .. } => {
                self.recovery_code_hashes.retain(|h| *h != code_hash);
            }
            UserEvent::UserErased { email, .. } => {
                self.email = email;
                self.first_name = crate::personal::ERASED_TEXT.to_string();
                self.last_name = crate::personal::ERASED_TEXT.to_string();
                self.erased = true;
                self.active = false;
            }
        }
    }
}
