use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::decide::Decide;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailClaim {
    /// The user holding the address, if any.
    pub holder: Option<String>,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EmailClaimCommand {
    Claim {
        email: String,
        user_id: String,
        at: DateTime<Utc>,
    },
    /// Gives the address back, e.g. when the registration that claimed it failed.
    Release { user_id: String, at: DateTime<Utc> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum EmailClaimEvent {
    EmailClaimed {
        email: String,
        user_id: String,
        at: DateTime<Utc>,
    },
    EmailReleased {
        user_id: String,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for EmailClaimEvent {
    fn event_type(&self) -> String {
        match self {
            EmailClaimEvent::EmailClaimed { .. } => "EmailClaimed",
            EmailClaimEvent::EmailReleased { .. } => "EmailReleased",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmailClaimError {
    #[error("email is already registered")]
    Taken,
    #[error("email is not held by this user")]
    NotHolder,
}

impl Decide for EmailClaim {
    fn decide(&self, command: EmailClaimCommand) -> Result<Vec<EmailClaimEvent>, EmailClaimError> {
        Ok(match command {
            EmailClaimCommand::Claim { email, user_id, at } => match &self.holder {
                // A retried claim by the same user is not a conflict.
                Some(holder) if *holder == user_id => vec![],
                Some(_) => return Err(EmailClaimError::Taken),
                None => vec![EmailClaimEvent::EmailClaimed { email, user_id, at }],
            },
            EmailClaimCommand::Release { user_id, at } => {
                if self.holder.as_deref() != Some(user_id.as_str()) {
                    return Err(EmailClaimError::NotHolder);
                }
                vec![EmailClaimEvent::EmailReleased { user_id, at }]
            }
        })
    }
}

impl Aggregate for EmailClaim {
    const TYPE: &'static str = "email_claim";
    type Command = EmailClaimCommand;
    type Event = EmailClaimEvent;
    type Error = EmailClaimError;
    type Services = ();

    async fn handle(
        &mut self,
        command: EmailClaimCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), EmailClaimError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: EmailClaimEvent) {
        match event {
            EmailClaimEvent::EmailClaimed { email, user_id, .. } => {
                self.email = email;
                self.holder = Some(user_id);
            }
            EmailClaimEvent::EmailReleased { .. } => self.holder = None,
        }
    }
}
