//! The workspace account: one stream per user (keyed by user id) for the rules that span all
//! of a user's buckets. Creating a bucket first reserves a slot here, so the cap on owned
//! buckets holds under concurrent creations; the trial is claimed here, once per account.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::decide::Decide;

#[cfg(test)]
mod tests;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceAccount {
    /// The buckets the user owns (or is creating), with when the slot was taken.
    pub owned: BTreeMap<String, DateTime<Utc>>,
    /// The bucket the account's one trial went to.
    pub trial_bucket: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AccountCommand {
    /// Takes a slot for a bucket about to be created, unless `max` are taken.
    ReserveBucket {
        bucket_id: String,
        max: u32,
        at: DateTime<Utc>,
    },
    /// Takes a slot for a bucket received by a transfer: no cap (the transfer was agreed).
    AdoptBucket {
        bucket_id: String,
        at: DateTime<Utc>,
    },
    /// Gives a slot back (bucket deleted, transferred away, or never created).
    ReleaseBucket {
        bucket_id: String,
        at: DateTime<Utc>,
    },
    ClaimTrial {
        bucket_id: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum AccountEvent {
    BucketSlotReserved {
        bucket_id: String,
        at: DateTime<Utc>,
    },
    BucketSlotAdopted {
        bucket_id: String,
        at: DateTime<Utc>,
    },
    BucketSlotReleased {
        bucket_id: String,
        at: DateTime<Utc>,
    },
    TrialClaimed {
        bucket_id: String,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        match self {
            AccountEvent::BucketSlotReserved { .. } => "BucketSlotReserved",
            AccountEvent::BucketSlotAdopted { .. } => "BucketSlotAdopted",
            AccountEvent::BucketSlotReleased { .. } => "BucketSlotReleased",
            AccountEvent::TrialClaimed { .. } => "TrialClaimed",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccountError {
    #[error("you cant create any more bucket")]
    BucketLimitReached,
    #[error("can't claim trial: only one trial per account is allowed")]
    TrialAlreadyUsed,
}

impl Decide for WorkspaceAccount {
    fn decide(&self, command: AccountCommand) -> Result<Vec<AccountEvent>, AccountError> {
        let event = match command {
            AccountCommand::ReserveBucket { bucket_id, max, at } => {
                if self.owned.contains_key(&bucket_id) {
                    return Ok(vec![]);
                }
                if self.owned.len() >= max as usize {
                    return Err(AccountError::BucketLimitReached);
                }
                AccountEvent::BucketSlotReserved { bucket_id, at }
            }
            AccountCommand::AdoptBucket { bucket_id, at } => {
                if self.owned.contains_key(&bucket_id) {
                    return Ok(vec![]);
                }
                AccountEvent::BucketSlotAdopted { bucket_id, at }
            }
            AccountCommand::ReleaseBucket { bucket_id, at } => {
                if !self.owned.contains_key(&bucket_id) {
                    return Ok(vec![]);
                }
                AccountEvent::BucketSlotReleased { bucket_id, at }
            }
            AccountCommand::ClaimTrial { bucket_id, at } => match &self.trial_bucket {
                Some(b) if *b == bucket_id => return Ok(vec![]),
                Some(_) => return Err(AccountError::TrialAlreadyUsed),
                None => AccountEvent::TrialClaimed { bucket_id, at },
            },
        };
        Ok(vec![event])
    }
}

impl Aggregate for WorkspaceAccount {
    const TYPE: &'static str = "workspace_account";
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;
    type Services = ();

    async fn handle(
        &mut self,
        command: AccountCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), AccountError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: AccountEvent) {
        match event {
            AccountEvent::BucketSlotReserved { bucket_id, at }
            | AccountEvent::BucketSlotAdopted { bucket_id, at } => {
                self.owned.insert(bucket_id, at);
            }
            AccountEvent::BucketSlotReleased { bucket_id, .. } => {
                self.owned.remove(&bucket_id);
            }
            AccountEvent::TrialClaimed { bucket_id, .. } => self.trial_bucket = Some(bucket_id),
        }
    }
}
