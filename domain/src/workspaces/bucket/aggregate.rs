use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    BucketCommand, BucketError, BucketEvent, Invitation, Member, NotificationState, PaymentMethod,
    Person, Plan, Role, Server,
};

const NAME_MAX: usize = 100;
const TEXT_MAX: usize = 2000;
const FEEDBACK_MAX: usize = 10_000;

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

fn check_text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<(), BucketError> {
    if required && value.trim().is_empty() {
        return Err(BucketError::Invalid {
            field,
            message: "is required",
        });
    }
    if value.chars().count() > max {
        return Err(BucketError::Invalid {
            field,
            message: "is too long",
        });
    }
    if field != "feedback" && field != "comment" && value.chars().any(char::is_control) {
        return Err(BucketError::Invalid {
            field,
            message: "must not contain control characters",
        });
    }
    Ok(())
}

fn same_email(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl Bucket {
    fn exists(&self) -> bool {
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

    fn at_least(
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

    fn decide(&self, command: BucketCommand) -> Result<Vec<BucketEvent>, BucketError> {
        use BucketCommand as C;
        use BucketEvent as E;
        Ok(match command {
            C::Create {
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
                if self.created {
                    return Err(BucketError::AlreadyExists);
                }
                check_text("name", &name, NAME_MAX, true)?;
                check_text("comment", &comment, TEXT_MAX, false)?;
                check_text("app_url", &app_url, TEXT_MAX, false)?;
                vec![E::BucketCreated {
                    bucket_id,
                    name: name.trim().to_string(),
                    comment,
                    app_url,
                    configuration,
                    public_id,
                    secret_id,
                    owner,
                    plan,
                    at,
                }]
            }
            C::Update {
                actor,
                name,
                comment,
                app_url,
                configuration,
                at,
            } => {
                self.at_least(
                    &actor,
                    Role::Admin,
                    "only an admin or the owner can update the bucket",
                )?;
                let name = name.map_or_else(|| self.name.clone(), |n| n.trim().to_string());
                let comment = comment.unwrap_or_else(|| self.comment.clone());
                let app_url = app_url.unwrap_or_else(|| self.app_url.clone());
                check_text("name", &name, NAME_MAX, true)?;
                check_text("comment", &comment, TEXT_MAX, false)?;
                check_text("app_url", &app_url, TEXT_MAX, false)?;
                vec![E::BucketUpdated {
                    name,
                    comment,
                    app_url,
                    configuration: configuration.unwrap_or_else(|| self.configuration.clone()),
                    by: actor,
                    at,
                }]
            }
            C::Invite {
                actor,
                email,
                existing,
                at,
            } => {
                self.at_least(
                    &actor,
                    Role::Admin,
                    "only an admin or the owner can invite users",
                )?;
                check_text("email", &email, 254, true)?;
                let known = existing
                    .as_ref()
                    .is_some_and(|p| self.member(&p.user_id).is_some());
                // Inviting again is not an error, and changes nothing.
                if known || self.member_by_email(&email).is_some() {
                    return Ok(vec![]);
                }
                if existing.is_none() && self.invitation(&email).is_some() {
                    return Ok(vec![]);
                }
                let limit = self.plan_at(at).map_or(0, |p| p.limits.max_members) as usize;
                // A pending invitation of an address that now has an account turns into a
                // membership: it already holds its seat.
                let holds_seat = self.invitation(&email).is_some();
                if !holds_seat && self.seats_taken() >= limit {
                    return Err(BucketError::MemberLimitReached);
                }
                match existing {
                    Some(person) if holds_seat => vec![E::InvitationAccepted {
                        email: person.email,
                        user_id: person.user_id,
                        role: Role::User,
                        at,
                    }],
                    Some(person) => vec![E::MemberAdded {
                        user_id: person.user_id,
                        email: person.email,
                        role: Role::User,
                        added_by: actor,
                        at,
                    }],
                    None => vec![E::MemberInvited {
                        email,
                        invited_by: actor,
                        at,
                    }],
                }
            }
            C::AcceptInvitation { person, at } => {
                if !self.exists() {
                    return Err(BucketError::NotFound);
                }
                match self.invitation(&person.email) {
                    Some(invitation) if self.member(&person.user_id).is_none() => {
                        vec![E::InvitationAccepted {
                            email: invitation.email.clone(),
                            user_id: person.user_id,
                            role: Role::User,
                            at,
                        }]
                    }
                    Some(invitation) => vec![E::InvitationRemoved {
                        email: invitation.email.clone(),
                        by: person.user_id,
                        at,
                    }],
                    None => vec![],
                }
            }
            C::RemoveInvitation { actor, email, at } => {
                self.at_least(
                    &actor,
                    Role::Admin,
                    "only an admin or the owner can cancel invitations",
                )?;
                let invitation = self
                    .invitation(&email)
                    .ok_or(BucketError::InvitationNotFound)?;
                vec![E::InvitationRemoved {
                    email: invitation.email.clone(),
                    by: actor,
                    at,
                }]
            }
            C::RemoveMember { actor, email, at } => {
                let caller = self.as_member(&actor)?;
                let target = self
                    .member_by_email(&email)
                    .ok_or(BucketError::UserNotFound)?;
                if target.role == Role::Owner {
                    return Err(BucketError::Forbidden(
                        "impossible to remove the owner from the bucket",
                    ));
                }
                let leaving = target.user_id == caller.user_id;
                let allowed = leaving
                    || caller.role == Role::Owner
                    || (caller.role == Role::Admin && target.role < Role::Admin);
                if !allowed {
                    return Err(BucketError::Forbidden(
                        "you are not allowed to remove this user",
                    ));
                }
                vec![E::MemberRemoved {
                    user_id: target.user_id.clone(),
                    email: target.email.clone(),
                    by: actor,
                    at,
                }]
            }
            C::SetRole {
                actor,
                email,
                role,
                at,
            } => {
                self.at_least(
                    &actor,
                    Role::Owner,
                    "only the owner can change a user's role",
                )?;
                let target = self
                    .member_by_email(&email)
                    .ok_or(BucketError::UserNotFound)?;
                if target.role == Role::Owner {
                    return Err(BucketError::Forbidden(
                        "impossible to set the role of the owner",
                    ));
                }
                if role == Role::Owner {
                    return Err(BucketError::Invalid {
                        field: "role",
                        message: "use transfer_ownership to change the owner",
                    });
                }
                if target.role == role {
                    return Ok(vec![]);
                }
                vec![E::RoleChanged {
                    user_id: target.user_id.clone(),
                    email: target.email.clone(),
                    role,
                    by: actor,
                    at,
                }]
            }
            C::SetNotification {
                actor,
                email,
                state,
                at,
            } => {
                let caller = self.as_member(&actor)?;
                let target = self.member_by_email(&email);
                let own = target.is_some_and(|t| t.user_id == caller.user_id);
                if !own && caller.role < Role::Admin {
                    return Err(BucketError::Forbidden(
                        "only an admin or the owner can change another member's notifications",
                    ));
                }
                let target = target.ok_or(BucketError::UserNotFound)?;
                if target.notification == state {
                    return Ok(vec![]);
                }
                vec![E::NotificationStateChanged {
                    user_id: target.user_id.clone(),
                    email: target.email.clone(),
                    state,
                    by: actor,
                    at,
                }]
            }
            C::SetUserOptions { actor, options, at } => {
                self.as_member(&actor)?;
                if !options.is_object() {
                    return Err(BucketError::Invalid {
                        field: "options",
                        message: "must be an object",
                    });
                }
                vec![E::UserOptionsChanged {
                    user_id: actor,
                    options,
                    at,
                }]
            }
            C::TransferOwnership {
                actor,
                new_owner_email,
                at,
            } => {
                let owner = self.at_least(
                    &actor,
                    Role::Owner,
                    "only the owner can transfer the bucket",
                )?;
                let target = self
                    .member_by_email(&new_owner_email)
                    .ok_or(BucketError::UserNotFound)?;
                if target.user_id == owner.user_id {
                    return Err(BucketError::Invalid {
                        field: "new_owner",
                        message: "is already the owner",
                    });
                }
                if self.is_paid_at(at) && self.methods_of(&target.user_id).next().is_none() {
                    return Err(BucketError::PaymentRequired(
                        "the new owner need to have a active credit card",
                    ));
                }
                vec![E::OwnershipTransferred {
                    from: Person {
                        user_id: owner.user_id.clone(),
                        email: owner.email.clone(),
                    },
                    to: Person {
                        user_id: target.user_id.clone(),
                        email: target.email.clone(),
                    },
                    at,
                }]
            }
            C::SendFeedback {
                actor,
                feedback,
                at,
            } => {
                self.as_member(&actor)?;
                check_text("feedback", &feedback, FEEDBACK_MAX, true)?;
                vec![E::FeedbackSent {
                    user_id: actor,
                    feedback,
                    at,
                }]
            }
            C::AttachPaymentMethod { actor, method, at } => {
                self.as_member(&actor)?;
                if self
                    .payment_methods
                    .iter()
                    .any(|h| h.method.id == method.id)
                {
                    return Ok(vec![]);
                }
                vec![E::PaymentMethodAttached {
                    user_id: actor,
                    method,
                    at,
                }]
            }
            C::DetachPaymentMethod {
                actor,
                method_id,
                at,
            } => {
                let caller = self.as_member(&actor)?;
                let held = self
                    .payment_methods
                    .iter()
                    .find(|h| h.method.id == method_id && h.user_id == actor)
                    .ok_or(BucketError::PaymentMethodNotFound)?;
                let last = self.methods_of(&actor).count() == 1;
                if caller.role == Role::Owner && last && self.is_paid_at(at) {
                    return Err(BucketError::Forbidden(
                        "the owner of a paid bucket must keep a payment method",
                    ));
                }
                vec![E::PaymentMethodDetached {
                    user_id: actor,
                    method_id: held.method.id.clone(),
                    at,
                }]
            }
            C::ChangePlan {
                actor,
                plan,
                new_method,
                charge,
                at,
            } => {
                self.check_plan_change(&actor, &plan, at)?;
                let mut events = Vec::new();
                if plan.is_paid() {
                    let has_method =
                        new_method.is_some() || self.methods_of(&actor).next().is_some();
                    if !has_method {
                        return Err(BucketError::PaymentRequired(
                            "need a credit card to subscribe to this plan",
                        ));
                    }
                    if charge.is_none() {
                        return Err(BucketError::PaymentRequired(
                            "the subscription needs an accepted charge",
                        ));
                    }
                }
                if let Some(method) = new_method
                    && !self
                        .payment_methods
                        .iter()
                        .any(|h| h.method.id == method.id)
                {
                    events.push(E::PaymentMethodAttached {
                        user_id: actor.clone(),
                        method,
                        at,
                    });
                }
                events.push(E::PlanChanged {
                    plan: plan.clone(),
                    by: actor.clone(),
                    at,
                });
                if let Some(charge) = charge {
                    events.push(E::ChargeRecorded {
                        charge,
                        plan: plan.name,
                        by: actor,
                        at,
                    });
                }
                events
            }
            C::StartTrial {
                actor,
                plan,
                ends_at,
                at,
            } => {
                self.check_trial(&actor, at)?;
                if ends_at <= at {
                    return Err(BucketError::Invalid {
                        field: "ends_at",
                        message: "must be in the future",
                    });
                }
                vec![E::TrialStarted {
                    plan,
                    ends_at,
                    by: actor,
                    at,
                }]
            }
            C::ConnectServer {
                secret_id,
                server_name,
                hostname,
                pm2_version,
                at,
            } => {
                if !self.exists() {
                    return Err(BucketError::NotFound);
                }
                if secret_id != self.secret_id {
                    return Err(BucketError::BadSecret);
                }
                check_text("server_name", &server_name, NAME_MAX * 2, true)?;
                if self.servers.iter().any(|s| s.name == server_name) {
                    return Ok(vec![]);
                }
                let limit = self.plan_at(at).map_or(0, |p| p.limits.max_servers) as usize;
                if self.servers.len() >= limit {
                    return Err(BucketError::ServerLimitReached);
                }
                vec![E::ServerConnected {
                    server_name,
                    hostname,
                    pm2_version,
                    at,
                }]
            }
            C::RemoveServer {
                actor,
                server_name,
                at,
            } => {
                self.at_least(
                    &actor,
                    Role::Admin,
                    "only an admin or the owner can delete servers",
                )?;
                if !self.servers.iter().any(|s| s.name == server_name) {
                    return Err(BucketError::ServerNotFound);
                }
                vec![E::ServerRemoved {
                    server_name,
                    by: actor,
                    at,
                }]
            }
            C::Delete { actor, at } => {
                self.at_least(&actor, Role::Owner, "only the owner can delete the bucket")?;
                vec![E::BucketDeleted {
                    by: actor,
                    member_ids: self.members.iter().map(|m| m.user_id.clone()).collect(),
                    invitations: self.invitations.iter().map(|i| i.email.clone()).collect(),
                    servers: self.servers.iter().map(|s| s.name.clone()).collect(),
                    payment_methods: self
                        .payment_methods
                        .iter()
                        .map(|h| h.method.id.clone())
                        .collect(),
                    charges: self.charges.clone(),
                    at,
                }]
            }
        })
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
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
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
