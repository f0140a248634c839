//! Billing: payment methods, plan changes (with their charge), trials.
use chrono::{DateTime, Utc};

use crate::workspaces::bucket::{
    Bucket, BucketError, BucketEvent, Charge, PaymentMethod, Plan, Role,
};

impl Bucket {
    pub(super) fn attach_payment_method(
        &self,
        actor: String,
        method: PaymentMethod,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        self.as_member(&actor)?;
        if self
            .payment_methods
            .iter()
            .any(|h| h.method.id == method.id)
        {
            return Ok(vec![]);
        }
        Ok(vec![BucketEvent::PaymentMethodAttached {
            user_id: actor,
            method,
            at,
        }])
    }

    pub(super) fn detach_payment_method(
        &self,
        actor: String,
        method_id: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
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
        Ok(vec![BucketEvent::PaymentMethodDetached {
            user_id: actor,
            method_id: held.method.id.clone(),
            at,
        }])
    }

    /// Records, in this order, the new payment method (if not on file yet), the plan, and the
    /// charge that paid for it.
    pub(super) fn change_plan(
        &self,
        actor: String,
        plan: Plan,
        new_method: Option<PaymentMethod>,
        charge: Option<Charge>,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        self.check_plan_change(&actor, &plan, at)?;
        let mut events = Vec::new();
        if plan.is_paid() {
            let has_method = new_method.is_some() || self.methods_of(&actor).next().is_some();
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
            events.push(BucketEvent::PaymentMethodAttached {
                user_id: actor.clone(),
                method,
                at,
            });
        }
        events.push(BucketEvent::PlanChanged {
            plan: plan.clone(),
            by: actor.clone(),
            at,
        });
        if let Some(charge) = charge {
            events.push(BucketEvent::ChargeRecorded {
                charge,
                plan: plan.name,
                by: actor,
                at,
            });
        }
        Ok(events)
    }

    pub(super) fn start_trial(
        &self,
        actor: String,
        plan: Plan,
        ends_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        self.check_trial(&actor, at)?;
        if ends_at <= at {
            return Err(BucketError::Invalid {
                field: "ends_at",
                message: "must be in the future",
            });
        }
        Ok(vec![BucketEvent::TrialStarted {
            plan,
            ends_at,
            by: actor,
            at,
        }])
    }
}
