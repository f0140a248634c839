use chrono::{DateTime, Duration, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::{UserCommand, UserError, UserEvent};

/// Failed logins inside [`LOCKOUT_WINDOW_SECS`] that lock the account.
pub const LOCKOUT_THRESHOLD: u32 = 5;
pub const LOCKOUT_WINDOW_SECS: i64 = 60;
pub const LOCKOUT_DURATION_SECS: i64 = 60;

const NAME_MAX: usize = 100;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub registered: bool,
    pub user_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: String,
    pub role: String,
    pub verified: bool,
    /// Times of the failed logins still inside the lockout window.
    pub recent_failures: Vec<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl User {
    pub fn is_locked(&self, at: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| at < until)
    }

    fn failures_within_window(&self, at: DateTime<Utc>) -> u32 {
        let since = at - Duration::seconds(LOCKOUT_WINDOW_SECS);
        self.recent_failures.iter().filter(|t| **t > since).count() as u32
    }
}

fn check_name(field: &'static str, value: &str) -> Result<(), UserError> {
    if value.chars().count() > NAME_MAX {
        return Err(UserError::Invalid {
            field,
            message: "must be at most 100 characters",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(UserError::Invalid {
            field,
            message: "must not contain control characters",
        });
    }
    Ok(())
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
        match command {
            UserCommand::Register {
                user_id,
                email,
                first_name,
                last_name,
                password_hash,
                role,
                at,
            } => {
                if self.registered {
                    return Err(UserError::AlreadyRegistered);
                }
                check_name("firstName", &first_name)?;
                check_name("lastName", &last_name)?;
                let event = UserEvent::UserRegistered {
                    user_id,
                    email,
                    first_name,
                    last_name,
                    password_hash,
                    role,
                    at,
                };
                sink.write(event, self).await;
            }
            UserCommand::RecordLoginAttempt { password_ok, at } => {
                if !self.registered {
                    return Err(UserError::NotRegistered);
                }
                if let Some(until) = self.locked_until.filter(|until| at < *until) {
                    return Err(UserError::Locked { until });
                }
                if password_ok {
                    sink.write(UserEvent::UserLoggedIn { at }, self).await;
                } else {
                    let recent_failures = self.failures_within_window(at) + 1;
                    sink.write(
                        UserEvent::LoginFailed {
                            at,
                            recent_failures,
                        },
                        self,
                    )
                    .await;
                    if recent_failures >= LOCKOUT_THRESHOLD {
                        let until = at + Duration::seconds(LOCKOUT_DURATION_SECS);
                        sink.write(UserEvent::AccountLocked { at, until }, self)
                            .await;
                    }
                }
            }
            UserCommand::VerifyEmail { at } => {
                if !self.registered {
                    return Err(UserError::NotRegistered);
                }
                // Following the link twice is harmless: nothing new happened.
                if !self.verified {
                    sink.write(UserEvent::EmailVerified { at }, self).await;
                }
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
                sink.write(
                    UserEvent::ProfileUpdated {
                        first_name,
                        last_name,
                        at,
                    },
                    self,
                )
                .await;
            }
        }
        Ok(())
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
                ..
            } => {
                self.registered = true;
                self.user_id = user_id;
                self.email = email;
                self.first_name = first_name;
                self.last_name = last_name;
                self.password_hash = password_hash;
                self.role = role;
            }
            UserEvent::UserLoggedIn { .. } => {
                self.recent_failures.clear();
                self.locked_until = None;
            }
            UserEvent::LoginFailed { at, .. } => {
                let since = at - Duration::seconds(LOCKOUT_WINDOW_SECS);
                self.recent_failures.retain(|t| *t > since);
                self.recent_failures.push(at);
            }
            UserEvent::AccountLocked { until, .. } => {
                self.locked_until = Some(until);
                self.recent_failures.clear();
            }
            UserEvent::EmailVerified { .. } => self.verified = true,
            UserEvent::ProfileUpdated {
                first_name,
                last_name,
                ..
            } => {
                self.first_name = first_name;
                self.last_name = last_name;
            }
        }
    }
}
