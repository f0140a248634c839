use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    BucketCommand, BucketError, BucketEvent, Invitation, Member, NotificationState, PaymentMethod,
    Plan, Role, Server,
};

/// A trial: the bucket runs on `plan` until `ends_at`, then on `previous` again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub plan: Plan,
    pub previous: Plan,
    pub ends_at: DateTime<Utc>,
}

/// A payment method and the member it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldMethod {
    pub user_id: String,
    pub method: PaymentMethod,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub created: bool,
    pub deleted: bool,
    pub bucket_id: String,
    pub name: String,
    pub comment: String,
    pub app_url: String,
    pub configuration: Value,
    pub public_id: String,
    pub secret_id: String,
    pub owner: String,
    /// In the order they joined; the owner included.
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
    pub plan: Option<Plan>,
    pub trial: Option<Trial>,
    pub trial_used: bool,
    pub payment_methods: Vec<HeldMethod>,
    pub servers: Vec<Server>,
    pub charges: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// Moves with the changes read models show as `updated_at` (settings, membership,
    /// ownership, plan).
    pub updated_at: Option<DateTime<Utc>>,
}

fn same_email(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl Bucket {
    pub(super) fn exists(&self) -> bool {
        self.created && !self.deleted
    }

    pub fn member(&self, user_id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.user_id == user_id)
    }

    pub fn member_by_email(&self, email: &str) -> Option<&Member> {
        self.members.iter().find(|m| same_email(&m.email, email))
    }

    fn member_mut(&mut self, user_id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.user_id == user_id)
    }

    pub fn invitation(&self, email: &str) -> Option<&Invitation> {
        self.invitations
            .iter()
            .find(|i| same_email(&i.email, email))
    }

    /// The caller as a member: anyone else is told the bucket does not exist.
    pub fn as_member(&self, user_id: &str) -> Result<&Member, BucketError> {
        if !self.exists() {
            return Err(BucketError::NotFound);
        }
        self.member(user_id).ok_or(BucketError::NotFound)
    }

    pub(super) fn at_least(
        &self,
        user_id: &str,
        role: Role,
        refusal: &'static str,
    ) -> Result<&Member, BucketError> {
        let member = self.as_member(user_id)?;
        if member.role < role {
            return Err(BucketError::Forbidden(refusal));
        }
        Ok(member)
    }

    /// The plan in force at `at` (a finished trial falls back to the plan before it).
    pub fn plan_at(&self, at: DateTime<Utc>) -> Option<&Plan> {
        match &self.trial {
            Some(trial) if at >= trial.ends_at => Some(&trial.previous),
            Some(trial) => Some(&trial.plan),
            None => self.plan.as_ref(),
        }
    }

    /// Whether the bucket is on a paid subscription at `at` (a trial is not one).
    pub fn is_paid_at(&self, at: DateTime<Utc>) -> bool {
        self.trial.is_none() && self.plan_at(at).is_some_and(Plan::is_paid)
    }

    /// Members plus pending invitations: what the member cap counts.
    pub fn seats_taken(&self) -> usize {
        self.members.len() + self.invitations.len()
    }

    pub fn methods_of(&self, user_id: &str) -> impl Iterator<Item = &PaymentMethod> {
        self.payment_methods
            .iter()
            .filter(move |h| h.user_id == user_id)
            .map(|h| &h.method)
    }

    /// The rules of [`BucketCommand::ChangePlan`] that do not depend on a payment: who may,
    /// and whether the bucket fits the plan. Callers check this before charging anyone.
    pub fn check_plan_change(
        &self,
        actor: &str,
        plan: &Plan,
        at: DateTime<Utc>,
    ) -> Result<(), BucketError> {
        self.at_least(actor, Role::Owner, "only the owner can change the plan")?;
        if self.trial.is_none() && self.plan_at(at).is_some_and(|p| p.name == plan.name) {
            return Err(BucketError::Invalid {
                field: "plan",
                message: "is already the bucket's plan",
            });
        }
        if self.seats_taken() > plan.limits.max_members as usize {
            return Err(BucketError::PlanNotAllowed(
                "not allowed to subscribe to the plan: the bucket has more members than it allows",
            ));
        }
        if self.servers.len() > plan.limits.max_servers as usize {
            return Err(BucketError::PlanNotAllowed(
                "not allowed to subscribe to the plan: the bucket has more servers than it allows",
            ));
        }
        Ok(())
    }

    /// The rules of [`BucketCommand::StartTrial`] on this bucket.
    pub fn check_trial(&self, actor: &str, at: DateTime<Utc>) -> Result<(), BucketError> {
        self.at_least(actor, Role::Owner, "only the owner can start a trial")?;
        if self.trial_used || self.is_paid_at(at) {
            return Err(BucketError::TrialNotAllowed);
        }
        Ok(())
    }
}

impl Aggregate for Bucket {
    const TYPE: &'static str = "bucket";
    type Command = BucketCommand;
    type Event = BucketEvent;
    type Error = BucketError;
    type Services = ();

    async fn handle(
        &mut self,
        command: BucketCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), BucketError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: BucketEvent) {
        use BucketEvent as E;
        match event {
            E::BucketCreated {
                bucket_id,
                name,
                comment,
                app_url,
                configuration,
                public_id,
                secret_id,
                owner,
                plan,
                at,
            } => {
                self.created = true;
                self.bucket_id = bucket_id;
                self.name = name;
                self.comment = comment;
                self.app_url = app_url;
                self.configuration = configuration;
                self.public_id = public_id;
                self.secret_id = secret_id;
                self.owner = owner.user_id.clone();
                self.members = vec![Member {
                    user_id: owner.user_id,
                    email: owner.email,
                    role: Role::Owner,
                    notification: NotificationState::Email,
                    options: json!({}),
                    joined_at: at,
                }];
                self.plan = Some(plan);
                self.created_at = Some(at);
                self.updated_at = Some(at);
            }
            E::BucketUpdated {
                name,
                comment,
                app_url,
                configuration,
                at,
                ..
            } => {
                self.name = name;
                self.comment = comment;
                self.app_url = app_url;
                self.configuration = configuration;
                self.updated_at = Some(at);
            }
            E::MemberInvited {
                email,
                invited_by,
                at,
            } => {
                self.invitations.push(Invitation {
                    email,
                    invited_by,
                    at,
                });
                self.updated_at = Some(at);
            }
            E::MemberAdded {
                user_id,
                email,
                role,
                at,
                ..
            } => {
                self.members.push(Member {
                    user_id,
                    email,
                    role,
                    notification: NotificationState::Email,
                    options: json!({}),
                    joined_at: at,
                });
                self.updated_at = Some(at);
            }
            E::InvitationAccepted {
                email,
                user_id,
                role,
                at,
            } => {
                self.invitations.retain(|i| !same_email(&i.email, &email));
                self.members.push(Member {
                    user_id,
                    email,
                    role,
                    notification: NotificationState::Email,
                    options: json!({}),
                    joined_at: at,
                });
                self.updated_at = Some(at);
            }
            E::InvitationRemoved { email, at, .. } => {
                self.invitations.retain(|i| !same_email(&i.email, &email));
                self.updated_at = Some(at);
            }
            // A removed member's payment methods stay on file (listed when the bucket goes).
            E::MemberRemoved { user_id, at, .. } => {
                self.members.retain(|m| m.user_id != user_id);
                self.updated_at = Some(at);
            }
            E::RoleChanged {
                user_id, role, at, ..
            } => {
                if let Some(m) = self.member_mut(&user_id) {
                    m.role = role;
                }
                self.updated_at = Some(at);
            }
            E::NotificationStateChanged { user_id, state, .. } => {
                if let Some(m) = self.member_mut(&user_id) {
                    m.notification = state;
                }
            }
            E::UserOptionsChanged {
                user_id, options, ..
            } => {
                if let Some(m) = self.member_mut(&user_id) {
                    m.options = options;
                }
            }
            E::MemberErased { user_id, email, .. } => {
                if let Some(m) = self.member_mut(&user_id) {
                    m.email = email;
                }
            }
            E::OwnershipTransferred { from, to, at } => {
                self.owner = to.user_id.clone();
                if let Some(m) = self.member_mut(&to.user_id) {
                    m.role = Role::Owner;
                }
                if let Some(m) = self.member_mut(&from.user_id) {
                    m.role = Role::Admin;
                }
                self.updated_at = Some(at);
            }
            E::FeedbackSent { .. } => {}
            E::PaymentMethodAttached {
                user_id, method, ..
            } => self.payment_methods.push(HeldMethod { user_id, method }),
            E::PaymentMethodDetached { method_id, .. } => {
                self.payment_methods.retain(|h| h.method.id != method_id);
            }
            E::PlanChanged { plan, at, .. } => {
                self.plan = Some(plan);
                self.trial = None;
                self.updated_at = Some(at);
            }
            E::ChargeRecorded { charge, .. } => self.charges.push(charge.id),
            E::TrialStarted {
                plan, ends_at, at, ..
            } => {
                let previous = self.plan_at(at).cloned().unwrap_or_else(|| plan.clone());
                self.trial = Some(Trial {
                    plan,
                    previous,
                    ends_at,
                });
                self.trial_used = true;
                self.updated_at = Some(at);
            }
            E::ServerConnected {
                server_name,
                hostname,
                pm2_version,
                at,
            } => self.servers.push(Server {
                name: server_name,
                hostname,
                pm2_version,
                connected_at: at,
            }),
            E::ServerRemoved { server_name, .. } => {
                self.servers.retain(|s| s.name != server_name);
            }
            E::BucketDeleted { at, .. } => {
                self.deleted = true;
                self.updated_at = Some(at);
            }
        }
    }
}
