//! The tracker's commands on an account (Zou's person routes): a person made by a studio
//! manager, then changed by one or by themselves, each decided in one go so that a request
//! records all of its changes or none.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::names::check_name;
use super::person::{Writer, account_value, check_create_keys, detail_changes};
use super::{RegisteredVia, User, UserError, UserEvent};
use crate::identity::normalize_email;

const MISSING: &str = "A required field is missing.";

fn required_text(
    input: &Map<String, Value>,
    key: &'static str,
    at: DateTime<Utc>,
) -> Result<String, UserError> {
    match account_value(input, key, at.date_naive())? {
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        _ => Err(UserError::Invalid {
            field: key,
            message: MISSING,
        }),
    }
}

fn optional(
    input: &Map<String, Value>,
    key: &'static str,
    at: DateTime<Utc>,
) -> Result<Option<Value>, UserError> {
    Ok(account_value(input, key, at.date_naive())?.filter(|v| !v.is_null()))
}

/// The events of a person's creation: the registration, the details given, and the
/// deactivation of a person made inactive.
pub(super) fn register(
    user: &User,
    user_id: String,
    input: Map<String, Value>,
    password_hash: String,
    by: String,
    at: DateTime<Utc>,
) -> Result<Vec<UserEvent>, UserError> {
    if user.registered {
        return Err(UserError::AlreadyRegistered);
    }
    check_create_keys(&input)?;
    let first_name = required_text(&input, "first_name", at)?;
    let last_name = match optional(&input, "last_name", at)? {
        Some(Value::String(s)) => s.trim().to_string(),
        _ => String::new(),
    };
    let email = required_text(&input, "email", at)?;
    let role = match optional(&input, "role", at)? {
        Some(Value::String(role)) => role,
        _ => "user".to_string(),
    };
    let active = optional(&input, "active", at)?
        .and_then(|v| v.as_bool())
        .unwrap_or(true);
    check_name("firstName", &first_name)?;
    check_name("lastName", &last_name)?;
    let changes = detail_changes(&BTreeMap::new(), &input, Writer::Creating, at.date_naive())?;
    let mut events = vec![UserEvent::UserRegistered {
        user_id,
        email,
        first_name,
        last_name,
        password_hash,
        role,
        registered_via: RegisteredVia::Operator,
        at,
    }];
    if !changes.is_empty() {
        events.push(UserEvent::PersonDetailsChanged { changes, by, at });
    }
    if !active {
        events.push(UserEvent::UserDeactivated { at });
    }
    Ok(events)
}

/// The events of a change of a person: names, role, active and details, each only when it
/// changes. A different email is refused (see `PUT /data/persons/<id>`).
pub(super) fn update(
    user: &User,
    input: Map<String, Value>,
    as_admin: bool,
    by: String,
    at: DateTime<Utc>,
) -> Result<Vec<UserEvent>, UserError> {
    if !user.registered {
        return Err(UserError::NotRegistered);
    }
    if let Some(Value::String(email)) = input.get("email")
        && normalize_email(email) != normalize_email(&user.email)
    {
        return Err(UserError::Invalid {
            field: "email",
            message: "Changing a person's email is not supported.",
        });
    }
    let mut events = Vec::new();
    let first_name = match input.get("first_name") {
        Some(_) => required_text(&input, "first_name", at)?,
        None => user.first_name.clone(),
    };
    let last_name = match optional(&input, "last_name", at)? {
        Some(Value::String(s)) => s.trim().to_string(),
        _ => user.last_name.clone(),
    };
    if first_name != user.first_name || last_name != user.last_name {
        check_name("firstName", &first_name)?;
        check_name("lastName", &last_name)?;
        events.push(UserEvent::ProfileUpdated {
            first_name,
            last_name,
            at,
        });
    }
    if as_admin {
        if let Some(Value::String(role)) = optional(&input, "role", at)?
            && role != user.role
        {
            events.push(UserEvent::RoleChanged { role, at });
        }
        match optional(&input, "active", at)?.and_then(|v| v.as_bool()) {
            Some(false) if user.active => events.push(UserEvent::UserDeactivated { at }),
            Some(true) if !user.active => events.push(UserEvent::UserReactivated { at }),
            _ => {}
        }
    }
    let writer = if as_admin {
        Writer::Admin
    } else {
        Writer::Themselves
    };
    let changes = detail_changes(&user.details, &input, writer, at.date_naive())?;
    if !changes.is_empty() {
        events.push(UserEvent::PersonDetailsChanged { changes, by, at });
    }
    Ok(events)
}
