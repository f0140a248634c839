use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::decide::Decide;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: Option<String>,
    /// Which front door opened it: `kitsu`, `workspaces` or `datacube`.
    pub surface: String,
    pub revoked: bool,
}

impl Session {
    /// Whether tokens of this session may be used by `user_id`.
    pub fn is_active_for(&self, user_id: &str) -> bool {
        !self.revoked && self.user_id.as_deref() == Some(user_id)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionCommand {
    Start {
        user_id: String,
        surface: String,
        at: DateTime<Utc>,
    },
    Revoke {
        reason: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum SessionEvent {
    SessionStarted {
        user_id: String,
        surface: String,
        at: DateTime<Utc>,
    },
    SessionRevoked {
        user_id: String,
        reason: String,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for SessionEvent {
    fn event_type(&self) -> String {
        match self {
            SessionEvent::SessionStarted { .. } => "SessionStarted",
            SessionEvent::SessionRevoked { .. } => "SessionRevoked",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    #[error("session already started")]
    AlreadyStarted,
    #[error("no such session")]
    Unknown,
}

impl Decide for Session {
    fn decide(&self, command: SessionCommand) -> Result<Vec<SessionEvent>, SessionError> {
        Ok(match command {
            SessionCommand::Start {
                user_id,
                surface,
                at,
            } => {
                if self.user_id.is_some() {
                    return Err(SessionError::AlreadyStarted);
                }
                vec![SessionEvent::SessionStarted {
                    user_id,
                    surface,
                    at,
                }]
            }
            SessionCommand::Revoke { reason, at } => {
                let Some(user_id) = self.user_id.clone() else {
                    return Err(SessionError::Unknown);
                };
                // Revoking twice (logout, then revoke) is not an error and records nothing new.
                if self.revoked {
                    vec![]
                } else {
                    vec![SessionEvent::SessionRevoked {
                        user_id,
                        reason,
                        at,
                    }]
                }
            }
        })
    }
}

impl Aggregate for Session {
    const TYPE: &'static str = "session";
    type Command = SessionCommand;
    type Event = SessionEvent;
    type Error = SessionError;
    type Services = ();

    async fn handle(
        &mut self,
        command: SessionCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), SessionError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::SessionStarted {
                user_id, surface, ..
            } => {
                self.user_id = Some(user_id);
                self.surface = surface;
            }
            SessionEvent::SessionRevoked { .. } => self.revoked = true,
        }
    }
}
