//! Settings of the workspaces surface: the plan catalogue and the per-account limits.
//!
//! Read from the environment when the configuration is resolved:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ANNALS_MAX_OWNED_BUCKETS` | `2` | buckets one account may own (`create_classic` answers 403 beyond) |
//! | `ANNALS_PLANS` | the catalogue below | JSON object keyed by plan name: `{"free": {"max_members": 5, "max_servers": 2, "price": 0, "currency": "eur"}, ...}`; must contain the free plan |
//! | `ANNALS_FREE_PLAN` | `free` | the plan new buckets start on (price 0) |
//! | `ANNALS_TRIAL_PLAN` | `pro_8` | the plan a trial runs on |
//! | `ANNALS_TRIAL_DAYS` | `14` | how long a trial lasts |
//!
//! Default catalogue (prices per month, in cents):
//!
//! | plan | members (incl. pending invitations) | servers | price |
//! |---|---|---|---|
//! | `free` | 5 | 2 | 0 |
//! | `pro_8` | 10 | 8 | 3900 |
//! | `pro_16` | 20 | 16 | 7900 |
//! | `pro_32` | 50 | 32 | 14900 |
//! | `pro_64` | 100 | 64 | 27900 |
use std::collections::BTreeMap;

use serde::Deserialize;

use annals_domain::workspaces::{Plan, PlanLimits};

#[derive(Debug, Clone, PartialEq)]
pub struct WorkspacesConfig {
    /// By name; served at `GET /api/misc/plans`.
    pub plans: BTreeMap<String, Plan>,
    pub free_plan: String,
    pub trial_plan: String,
    pub trial_days: u32,
    pub max_owned_buckets: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct WorkspacesConfigError {
    pub variable: &'static str,
    pub reason: String,
}

/// One plan of `ANNALS_PLANS`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanSpec {
    max_members: u32,
    max_servers: u32,
    #[serde(default)]
    price: u64,
    #[serde(default = "default_currency")]
    currency: String,
}

fn default_currency() -> String {
    "eur".into()
}

fn plan(name: &str, max_members: u32, max_servers: u32, price: u64) -> (String, Plan) {
    (
        name.to_string(),
        Plan {
            name: name.to_string(),
            limits: PlanLimits {
                max_members,
                max_servers,
            },
            price,
            currency: default_currency(),
        },
    )
}

impl Default for WorkspacesConfig {
    fn default() -> Self {
        WorkspacesConfig {
            plans: [
                plan("free", 5, 2, 0),
                plan("pro_8", 10, 8, 3900),
                plan("pro_16", 20, 16, 7900),
                plan("pro_32", 50, 32, 14900),
                plan("pro_64", 100, 64, 27900),
            ]
            .into_iter()
            .collect(),
            free_plan: "free".into(),
            trial_plan: "pro_8".into(),
            trial_days: 14,
            max_owned_buckets: 2,
        }
    }
}

impl WorkspacesConfig {
    /// The defaults, overridden by the environment variables of the module docs.
    pub fn from_env() -> Result<Self, WorkspacesConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, WorkspacesConfigError> {
        let mut config = WorkspacesConfig::default();
        let number = |variable: &'static str| -> Result<Option<u32>, WorkspacesConfigError> {
            lookup(variable)
                .map(|v| {
                    v.trim().parse::<u32>().map_err(|_| WorkspacesConfigError {
                        variable,
                        reason: format!("{v:?} is not a whole number"),
                    })
                })
                .transpose()
        };
        if let Some(max) = number("ANNALS_MAX_OWNED_BUCKETS")? {
            config.max_owned_buckets = max;
        }
        if let Some(days) = number("ANNALS_TRIAL_DAYS")? {
            config.trial_days = days.max(1);
        }
        if let Some(json) = lookup("ANNALS_PLANS") {
            let specs: BTreeMap<String, PlanSpec> =
                serde_json::from_str(&json).map_err(|e| WorkspacesConfigError {
                    variable: "ANNALS_PLANS",
                    reason: e.to_string(),
                })?;
            config.plans = specs
                .into_iter()
                .map(|(name, spec)| {
                    let plan = Plan {
                        name: name.clone(),
                        limits: PlanLimits {
                            max_members: spec.max_members,
                            max_servers: spec.max_servers,
                        },
                        price: spec.price,
                        currency: spec.currency.to_lowercase(),
                    };
                    (name, plan)
                })
                .collect();
        }
        if let Some(name) = lookup("ANNALS_FREE_PLAN") {
            config.free_plan = name.trim().to_string();
        }
        if let Some(name) = lookup("ANNALS_TRIAL_PLAN") {
            config.trial_plan = name.trim().to_string();
        }
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), WorkspacesConfigError> {
        match self.plans.get(&self.free_plan) {
            Some(plan) if !plan.is_paid() && plan.limits.max_members >= 1 => {}
            Some(_) => {
                return Err(WorkspacesConfigError {
                    variable: "ANNALS_PLANS",
                    reason: format!(
                        "the free plan {:?} must cost 0 and allow at least one member",
                        self.free_plan
                    ),
                });
            }
            None => {
                return Err(WorkspacesConfigError {
                    variable: "ANNALS_PLANS",
                    reason: format!("the free plan {:?} is missing", self.free_plan),
                });
            }
        }
        if !self.plans.contains_key(&self.trial_plan) {
            return Err(WorkspacesConfigError {
                variable: "ANNALS_TRIAL_PLAN",
                reason: format!("{:?} is not a plan of the catalogue", self.trial_plan),
            });
        }
        if let Some(name) = self.plans.keys().find(|n| {
            n.is_empty()
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }) {
            return Err(WorkspacesConfigError {
                variable: "ANNALS_PLANS",
                reason: format!("plan name {name:?} must be letters, digits, '_' or '-'"),
            });
        }
        Ok(())
    }

    pub fn plan(&self, name: &str) -> Option<&Plan> {
        self.plans.get(name)
    }

    pub fn free(&self) -> &Plan {
        &self.plans[&self.free_plan]
    }

    pub fn trial(&self) -> &Plan {
        &self.plans[&self.trial_plan]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn the_defaults_hold_free_and_pro_plans() {
        let config = WorkspacesConfig::from_lookup(env(&[])).unwrap();
        assert_eq!(config.max_owned_buckets, 2);
        assert_eq!(config.free().price, 0);
        assert!(config.plan("pro_8").unwrap().is_paid());
        assert!(config.plan("pro_16").is_some());
    }

    #[test]
    fn the_catalogue_and_caps_are_configurable() {
        let config = WorkspacesConfig::from_lookup(env(&[
            ("ANNALS_MAX_OWNED_BUCKETS", "5"),
            (
                "ANNALS_PLANS",
                r#"{"free": {"max_members": 3, "max_servers": 1}, "team": {"max_members": 30, "max_servers": 10, "price": 1000, "currency": "USD"}}"#,
            ),
            ("ANNALS_TRIAL_PLAN", "team"),
        ]))
        .unwrap();
        assert_eq!(config.max_owned_buckets, 5);
        assert_eq!(config.plans.len(), 2);
        assert_eq!(config.trial().currency, "usd");
        assert_eq!(config.free().limits.max_members, 3);
    }

    #[test]
    fn a_catalogue_without_its_free_plan_is_refused() {
        let err = WorkspacesConfig::from_lookup(env(&[(
            "ANNALS_PLANS",
            r#"{"team": {"max_members": 30, "max_servers": 10, "price": 1000}}"#,
        )]))
        .unwrap_err();
        assert_eq!(err.variable, "ANNALS_PLANS");
        let err =
            WorkspacesConfig::from_lookup(env(&[("ANNALS_MAX_OWNED_BUCKETS", "two")])).unwrap_err();
        assert_eq!(err.variable, "ANNALS_MAX_OWNED_BUCKETS");
    }
}
