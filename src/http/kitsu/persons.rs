//! Kitsu serializations of a person and of the (single) organisation.
//!
//! A person is built from the `User` aggregate (the write side, so a login answers with what
//! it just checked). Secrets (password hash, OTP secrets, recovery codes) are never part of it.
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use annals_domain::identity::User;
use annals_domain::identity::user::SecondFactor;
use annals_projections::identity::PROFILES;

use crate::http::state::AppState;

/// Zou's `DEFAULT_TIMEZONE` and `DEFAULT_LOCALE`.
pub const DEFAULT_TIMEZONE: &str = "Europe/Paris";
pub const DEFAULT_LOCALE: &str = "en_US";

/// The one organisation of an annals instance (multi-organisation is out of scope). Its id
/// is fixed so that clients caching it see the same record on every call.
pub const ORGANISATION_ID: &str = "2a4c8e1f-6b3d-4f5a-9c7e-0d1b3a5c7e9f";
const ORGANISATION_CREATED_AT: &str = "2024-01-01T00:00:00";

/// Zou's datetime format: naive UTC, ISO-8601, no fraction, no offset.
pub fn zou_datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The name Kitsu gives a second factor.
pub fn factor_name(method: SecondFactor) -> &'static str {
    match method {
        SecondFactor::Totp => "totp",
        SecondFactor::EmailOtp => "email_otp",
    }
}

/// When a person was created and last changed.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The creation time carried by a UUIDv7 user id (every registration issues one).
fn created_from_id(user_id: &str) -> Option<DateTime<Utc>> {
    let (secs, nanos) = uuid::Uuid::parse_str(user_id)
        .ok()?
        .get_timestamp()?
        .to_unix();
    DateTime::from_timestamp(secs as i64, nanos)
}

fn view_time(doc: &Value, key: &str) -> Option<DateTime<Utc>> {
    doc.get(key)?.as_str()?.parse::<DateTime<Utc>>().ok()
}

/// Creation and update times of a person. The aggregate keeps no timestamps: creation comes
/// from the UUIDv7 id; the last update from the profile read model when it has caught up
/// (never earlier than the creation).
pub async fn times(state: &AppState, user: &User) -> Times {
    let doc = match state.gate.views.get(PROFILES, &user.user_id).await {
        Ok(doc) => doc,
        Err(e) => {
            tracing::debug!(error = %e, "profile view unavailable for person timestamps");
            None
        }
    };
    let created_at = created_from_id(&user.user_id)
        .or_else(|| doc.as_ref().and_then(|d| view_time(d, "createdAt")))
        .unwrap_or_else(Utc::now);
    let updated_at = doc
        .as_ref()
        .and_then(|d| view_time(d, "updatedAt"))
        .filter(|t| *t >= created_at)
        .unwrap_or(created_at);
    Times {
        created_at,
        updated_at,
    }
}

/// A person as Kitsu serializes it (`Person.serialize_safe(relations=True)`): every column
/// but the sensitive ones, `type`, `full_name`, and `departments` as a list of ids.
pub fn person(user: &User, times: Times) -> Value {
    let full_name = format!("{} {}", user.first_name, user.last_name)
        .trim()
        .to_string();
    let enabled = user.enabled_factors();
    let mut person = json!({
        "id": user.user_id,
        "type": "Person",
        "created_at": zou_datetime(times.created_at),
        "updated_at": zou_datetime(times.updated_at),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "full_name": full_name,
        "email": user.email,
        "phone": "",
        "country": null,
        "contract_type": "open-ended",
        "active": user.active,
        "archived": false,
        "last_presence": null,
        "desktop_login": "",
        "shotgun_id": null,
        "timezone": DEFAULT_TIMEZONE,
        "locale": DEFAULT_LOCALE,
        "use_12_hour_clock": false,
        "display_date_format": "YYYY-MM-DD",
        "data": null,
        "role": user.role,
    });
    let more = json!({
        "position": "artist",
        "seniority": "mid",
        "daily_salary": 0,
        "has_avatar": false,
        "notifications_enabled": false,
        "notifications_slack_enabled": false,
        "notifications_slack_userid": "",
        "notifications_mattermost_enabled": false,
        "notifications_mattermost_userid": "",
        "notifications_discord_enabled": false,
        "notifications_discord_userid": "",
        "totp_enabled": user.totp.enabled,
        "email_otp_enabled": user.email_otp.enabled,
        "fido_enabled": false,
        "preferred_two_factor_authentication": enabled.first().map(|m| factor_name(*m)),
        "is_bot": false,
        "is_guest": false,
        "expiration_date": null,
        "is_generated_from_ldap": false,
        "ldap_uid": null,
        "studio_id": null,
        "departments": [],
    });
    if let (Some(person), Value::Object(more)) = (person.as_object_mut(), more) {
        person.extend(more);
    }
    person
}

/// The organisation as Kitsu serializes it; the chat settings only for administrators.
pub fn organisation(for_admin: bool) -> Value {
    let mut org = json!({
        "id": ORGANISATION_ID,
        "type": "Organisation",
        "created_at": ORGANISATION_CREATED_AT,
        "updated_at": ORGANISATION_CREATED_AT,
        "name": "Kitsu",
        "hours_by_day": 8.0,
        "has_avatar": false,
        "use_original_file_name": false,
        "timesheets_locked": false,
        "format_duration_in_hours": false,
        "hd_by_default": false,
        "dark_theme_by_default": false,
    });
    if for_admin {
        org["chat_token_slack"] = json!("");
        org["chat_webhook_mattermost"] = json!("");
        org["chat_token_discord"] = json!("");
    }
    org
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_carries_no_secret_and_zou_dates() {
        let user = User {
            registered: true,
            user_id: uuid::Uuid::now_v7().to_string(),
            email: "ada@example.com".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            password_hash: "$argon2id$secret".into(),
            role: "user".into(),
            active: true,
            ..User::default()
        };
        let created = created_from_id(&user.user_id).unwrap();
        assert!((Utc::now() - created).num_seconds().abs() < 5);
        let p = person(
            &user,
            Times {
                created_at: created,
                updated_at: created,
            },
        );
        assert_eq!(p["full_name"], "Ada Lovelace");
        assert_eq!(p["type"], "Person");
        assert_eq!(p["created_at"].as_str().unwrap().len(), 19);
        assert!(!p.to_string().contains("argon2"));
        assert_eq!(p["preferred_two_factor_authentication"], Value::Null);
    }
}
