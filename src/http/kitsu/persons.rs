//! Kitsu serializations of a person and of the (single) organisation.
//!
//! A person is built from the `User` aggregate (the write side, so a login answers with what
//! it just checked), as the domain defines Zou's person
//! (`annals_domain::identity::user::person`). Secrets (password hash, OTP secrets, recovery
//! codes) are never part of it.
use serde_json::{Value, json};

use annals_domain::identity::User;
use annals_domain::identity::user::SecondFactor;

/// The one organisation of an annals instance (multi-organisation is out of scope). Its id
/// is fixed so that clients caching it see the same record on every call.
pub const ORGANISATION_ID: &str = "2a4c8e1f-6b3d-4f5a-9c7e-0d1b3a5c7e9f";
const ORGANISATION_CREATED_AT: &str = "2024-01-01T00:00:00";

/// The name Kitsu gives a second factor.
pub fn factor_name(method: SecondFactor) -> &'static str {
    match method {
        SecondFactor::Totp => "totp",
        SecondFactor::EmailOtp => "email_otp",
    }
}

/// A person as Kitsu serializes it (`Person.serialize_safe(relations=True)`): every column
/// but the sensitive ones, `type`, `full_name`, and `departments` as a list of ids.
pub fn person(user: &User) -> Value {
    user.person_document()
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
        let p = person(&user);
        assert_eq!(p["full_name"], "Ada Lovelace");
        assert_eq!(p["type"], "Person");
        assert_eq!(p["created_at"].as_str().unwrap().len(), 19);
        // Without a recorded registration time, the one in the UUIDv7 id.
        let created = chrono::NaiveDateTime::parse_from_str(
            p["created_at"].as_str().unwrap(),
            "%Y-%m-%dT%H:%M:%S",
        )
        .unwrap();
        assert!(
            (chrono::Utc::now().naive_utc() - created)
                .num_seconds()
                .abs()
                < 5
        );
        assert!(!p.to_string().contains("argon2"));
        assert_eq!(p["preferred_two_factor_authentication"], Value::Null);
        assert!(organisation(false).get("chat_token_slack").is_none());
        assert_eq!(organisation(true)["chat_token_slack"], json!(""));
    }
}
