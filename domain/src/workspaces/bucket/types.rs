use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A member's role. The order is the order of power: `user < developer < admin < owner`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Developer,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::User, Role::Developer, Role::Admin, Role::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Developer => "developer",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Whether a member gets the bucket's notifications by email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NotificationState {
    #[default]
    Email,
    None,
}

impl NotificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationState::Email => "email",
            NotificationState::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationState> {
        match s {
            "email" => Some(NotificationState::Email),
            "none" => Some(NotificationState::None),
            _ => None,
        }
    }
}

/// An account, as the bucket knows it: its id and (normalised) email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Person {
    pub user_id: String,
    pub email: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanLimits {
    /// Members plus pending invitations.
    pub max_members: u32,
    /// Connected servers.
    pub max_servers: u32,
}

/// A plan as it was when the bucket took it: the limits and price in force are part of the
/// event, so a later change of the catalogue never rewrites history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    pub name: String,
    pub limits: PlanLimits,
    /// Per month, in the smallest unit of `currency`. Zero for free plans.
    pub price: u64,
    pub currency: String,
}

impl Plan {
    pub fn is_paid(&self) -> bool {
        self.price > 0
    }
}

/// A payment method recorded with a payment provider; never the card number or the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentMethod {
    pub id: String,
    pub provider: String,
    pub brand: String,
    pub last4: String,
}

/// A charge a payment provider accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Charge {
    pub id: String,
    pub provider: String,
    pub amount: u64,
    pub currency: String,
    pub payment_method: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub notification: NotificationState,
    pub options: Value,
    pub joined_at: DateTime<Utc>,
}

/// A pending invitation of an email address without an account (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub email: String,
    pub invited_by: String,
    pub at: DateTime<Utc>,
}

/// A server that linked to the bucket with its public and secret ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    pub name: String,
    pub hostname: String,
    pub pm2_version: String,
    pub connected_at: DateTime<Utc>,
}
