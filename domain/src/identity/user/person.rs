//! The account as the production tracker shows it: Zou's `Person`.
//!
//! The definition is a model of the Kitsu registry's kind ([`PERSON`]: fields, types,
//! defaults), so the data routes filter persons and serialize them as they do any tracker
//! record. The account's own fields (names, email, role, active, second factors) come from the
//! user stream's identity events; the rest, the person's *details* (phone, desktop login,
//! contract, departments, ...), from `PersonDetailsChanged`, which keeps each changed field
//! before and after.
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::{ROLES, UserError};
use crate::kitsu::{
    Default as D, Field, FieldChange, FieldType as T, Model, Rules, document, plain, relation_ids,
};

/// The route of persons in the data API (`/data/persons`).
pub const ROUTE: &str = "persons";
/// The read model of persons, one document per live account, shaped as Zou serializes it.
pub const COLLECTION: &str = "kitsu_persons";

/// Zou's `DEFAULT_TIMEZONE` and `DEFAULT_LOCALE`.
pub const DEFAULT_TIMEZONE: &str = "Europe/Paris";
pub const DEFAULT_LOCALE: &str = "en_US";

const CONTRACT_TYPES: &[&str] = &[
    "open-ended",
    "fixed-term",
    "short-term",
    "freelance",
    "apprentice",
    "internship",
];
const POSITIONS: &[&str] = &["supervisor", "lead", "artist"];
const SENIORITIES: &[&str] = &["senior", "mid", "junior"];
const DATE_FORMATS: &[&str] = &["YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY"];
const SECOND_FACTORS: &[&str] = &["totp", "email_otp", "fido"];

const fn text(max: usize) -> T {
    T::Text { max: Some(max) }
}

const fn flag(name: &'static str) -> Field {
    Field::new(name, T::Bool).default(D::Bool(false))
}

/// Zou 1.0.97's person columns but the sensitive ones (see [`SENSITIVE`]), and `full_name`.
const FIELDS: &[Field] = &[
    Field::new("first_name", text(80)).required(),
    Field::new("last_name", text(80)).default(D::Text("")),
    Field::new("email", text(254)),
    Field::new("phone", text(30)).default(D::Text("")),
    Field::new("country", text(2)),
    Field::new("contract_type", T::Choice(CONTRACT_TYPES)).default(D::Text("open-ended")),
    Field::new("active", T::Bool).default(D::Bool(true)),
    flag("archived"),
    Field::new("last_presence", T::Date),
    Field::new("desktop_login", text(80)).default(D::Text("")),
    Field::new("shotgun_id", T::Int),
    Field::new("timezone", text(64)).default(D::Text(DEFAULT_TIMEZONE)),
    Field::new("locale", text(10)).default(D::Text(DEFAULT_LOCALE)),
    flag("use_12_hour_clock"),
    Field::new("display_date_format", T::Choice(DATE_FORMATS)).default(D::Text("YYYY-MM-DD")),
    Field::new("data", T::Json),
    Field::new("role", T::Choice(ROLES)).default(D::Text("user")),
    Field::new("position", T::Choice(POSITIONS)).default(D::Text("artist")),
    Field::new("seniority", T::Choice(SENIORITIES)).default(D::Text("mid")),
    Field::new("daily_salary", T::Int).default(D::Int(0)),
    flag("has_avatar").server(),
    flag("notifications_enabled"),
    flag("notifications_slack_enabled"),
    Field::new("notifications_slack_userid", text(60)).default(D::Text("")),
    flag("notifications_mattermost_enabled"),
    Field::new("notifications_mattermost_userid", text(60)).default(D::Text("")),
    flag("notifications_discord_enabled"),
    Field::new("notifications_discord_userid", text(60)).default(D::Text("")),
    flag("totp_enabled").server(),
    flag("email_otp_enabled").server(),
    flag("fido_enabled").server(),
    Field::new(
        "preferred_two_factor_authentication",
        T::Choice(SECOND_FACTORS),
    )
    .server(),
    flag("is_bot"),
    flag("is_guest"),
    Field::new("expiration_date", T::Date),
    flag("is_generated_from_ldap").server(),
    Field::new("ldap_uid", text(60)).server(),
    Field::new("studio_id", T::Reference("studios")),
    Field::new("preview_project_id", T::Reference("projects")).server(),
    Field::new("preview_opened_at", T::DateTime).server(),
    Field::new("preview_open_until", T::DateTime).server(),
    Field::new("departments", T::Relation("departments")).updatable(),
    Field::new("full_name", text(161)).server(),
];

/// Zou's message when a person others refer to is deleted without `force`.
pub const LINKED: &str = "Some data are still linked to given person.";

/// Persons as a model: everyone lists and reads them, studio managers make, change and delete
/// them (a person also changes their own record: see [`ADMIN_ONLY`]).
pub static PERSON: Model = Model {
    duplicate_message: Some("Email already in use."),
    detach_on_force: Some(LINKED),
    ..plain(ROUTE, "Person", COLLECTION, FIELDS, Rules::REFERENCE)
};

/// Held by the account itself (its identity events), not by the details.
const ACCOUNT: &[&str] = &["first_name", "last_name", "email", "role", "active"];

/// Only a studio manager changes these of a person; Zou drops them from anyone else's update.
pub const ADMIN_ONLY: &[&str] = &[
    "role",
    "departments",
    "active",
    "is_bot",
    "archived",
    "last_presence",
    "studio_id",
    "expiration_date",
    "is_generated_from_ldap",
    "ldap_uid",
];

/// Set when the account is made, never changed: a bot stays a bot (its access is an API key
/// made with it), a person stays a person.
const CREATE_ONLY: &[&str] = &["is_bot", "is_guest"];

/// Zou's sensitive person columns: never served, never a filter, ignored in a write.
pub const SENSITIVE: &[&str] = &[
    "password",
    "totp_secret",
    "email_otp_secret",
    "otp_recovery_codes",
    "fido_credentials",
    "fido_devices",
    "jti",
    "login_failed_attemps",
    "last_login_failed",
    "oidc_issuer",
    "oidc_subject",
    "saml_issuer",
    "saml_subject",
];

/// What a person who is not a studio manager may filter persons on (Zou 1.0.97's minimal
/// columns, and `email` for gazu's `get_person_by_email`).
pub const MINIMAL_FILTERS: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "full_name",
    "has_avatar",
    "active",
    "departments",
    "studio_id",
    "role",
    "desktop_login",
    "email",
    "is_bot",
    "is_guest",
];

/// The keys of Zou's minimal person (`present_minimal`), what non-managers read.
const MINIMAL: &[&str] = &[
    "id",
    "type",
    "first_name",
    "last_name",
    "full_name",
    "has_avatar",
    "active",
    "departments",
    "studio_id",
    "role",
    "desktop_login",
    "is_bot",
];

/// The keys of Zou's client person (`present_client`): a name and an avatar.
const CLIENT: &[&str] = &[
    "id",
    "type",
    "first_name",
    "last_name",
    "full_name",
    "has_avatar",
    "active",
    "role",
    "is_bot",
];

/// Keys a write may carry that are no field: the server's.
const SERVER_KEYS: &[&str] = &["id", "created_at", "updated_at", "type"];

const INVALID: &str = "One of the provided values has an invalid format.";
const MISSING: &str = "A required field is missing.";

/// Zou's full name: both names with a space, or whichever is not empty.
pub fn full_name(first_name: &str, last_name: &str) -> String {
    if first_name.is_empty() || last_name.is_empty() {
        format!("{first_name}{last_name}")
    } else {
        format!("{first_name} {last_name}")
    }
}

fn default_of(field: &Field) -> Value {
    match field.ty {
        T::Relation(_) => json!([]),
        _ => field.default.value(),
    }
}

/// Every field of a person newly registered with these values, the rest at its default.
pub fn registered(
    email: &str,
    first_name: &str,
    last_name: &str,
    role: &str,
) -> BTreeMap<String, Value> {
    let mut fields: BTreeMap<String, Value> = FIELDS
        .iter()
        .map(|f| (f.name.to_string(), default_of(f)))
        .collect();
    for (key, value) in [
        ("email", email),
        ("first_name", first_name),
        ("last_name", last_name),
        ("role", role),
        ("full_name", &full_name(first_name, last_name)),
    ] {
        fields.insert(key.into(), json!(value));
    }
    fields
}

/// A person's document as Zou serializes it (`serialize_safe`, with relations).
pub fn person_document(
    id: &str,
    fields: &BTreeMap<String, Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> Value {
    let mut doc = document(&PERSON, id, fields, created_at, updated_at);
    complete(&mut doc);
    doc
}

/// Sets what a person's document derives from its other fields: the preferred second factor,
/// the first enabled in Kitsu's order.
pub fn complete(doc: &mut Value) {
    let enabled = |key: &str| doc.get(key).and_then(Value::as_bool) == Some(true);
    let preferred = if enabled("totp_enabled") {
        json!("totp")
    } else if enabled("email_otp_enabled") {
        json!("email_otp")
    } else {
        Value::Null
    };
    if let Value::Object(map) = doc {
        map.insert("preferred_two_factor_authentication".into(), preferred);
    }
}

fn keep(doc: &Value, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .map(|k| (k.to_string(), doc.get(*k).cloned().unwrap_or(Value::Null)))
            .collect(),
    )
}

/// Zou's minimal person (what a person who is not a manager reads): `departments` is empty
/// unless the document carries them (relations asked).
pub fn minimal(doc: &Value) -> Value {
    let mut kept = keep(doc, MINIMAL);
    if kept["departments"].is_null() {
        kept["departments"] = json!([]);
    }
    kept
}

/// How much of a person a caller reads (Zou 1.0.97): studio and production managers the
/// whole person, clients the client person, everyone else the minimal one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonView {
    Full,
    Minimal,
    Client,
}

impl PersonView {
    /// The view of a person read by id by someone of global `role`.
    pub fn of(role: &str) -> Self {
        match role {
            "admin" | "manager" => PersonView::Full,
            "client" => PersonView::Client,
            _ => PersonView::Minimal,
        }
    }

    /// Whether the view holds the person's `key` (never a sensitive column).
    pub fn shows(self, key: &str) -> bool {
        match self {
            PersonView::Full => !SENSITIVE.contains(&key),
            PersonView::Minimal => MINIMAL.contains(&key),
            PersonView::Client => CLIENT.contains(&key),
        }
    }
}

/// Zou's client person: a name and an avatar.
pub fn for_client(doc: &Value) -> Value {
    keep(doc, CLIENT)
}

/// Whether `key` is an attribute of Zou's person (a field, a server key, a sensitive column).
pub fn is_attribute(key: &str) -> bool {
    PERSON.field(key).is_some() || SERVER_KEYS.contains(&key) || SENSITIVE.contains(&key)
}

fn invalid(field: &'static str, message: &'static str) -> UserError {
    UserError::Invalid { field, message }
}

/// A value for `field` as Zou takes it: Zou's own refusals for the fields it checks, the
/// model's types for the rest; the value as stored (a country upper-cased, ids listed once).
fn checked(
    field: &'static Field,
    value: &Value,
    current: &Value,
    today: NaiveDate,
) -> Result<Value, UserError> {
    let name = field.name;
    let text = value.as_str().map(str::trim);
    Ok(match name {
        "role" => match text {
            Some(role) if ROLES.contains(&role) => json!(role),
            _ => return Err(invalid(name, "Invalid role")),
        },
        "contract_type" => match text {
            Some(kind) if CONTRACT_TYPES.contains(&kind) => json!(kind),
            _ => return Err(invalid(name, "Invalid contract_type")),
        },
        "country" => match text {
            None if value.is_null() => Value::Null,
            Some("") => Value::Null,
            Some(code) if code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()) => {
                json!(code.to_ascii_uppercase())
            }
            _ => {
                return Err(invalid(
                    name,
                    "Invalid country code, expected an ISO 3166-1 alpha-2 code.",
                ));
            }
        },
        "locale" => match text {
            None if value.is_null() => Value::Null,
            Some("") => Value::Null,
            Some(locale) if is_locale(locale) => json!(locale),
            _ => {
                return Err(invalid(
                    name,
                    "Invalid locale, expected a name available in Python Babel (e.g. en_US, fr_FR).",
                ));
            }
        },
        "display_date_format" => match text {
            None if value.is_null() => default_of(field),
            Some(format) if DATE_FORMATS.contains(&format) => json!(format),
            _ => {
                return Err(invalid(
                    name,
                    "Invalid display_date_format, expected one of: YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY.",
                ));
            }
        },
        "expiration_date" => {
            if value.is_null() {
                return Ok(Value::Null);
            }
            let date = text
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .ok_or_else(|| invalid(name, "Expiration date is not valid."))?;
            let changed = current.as_str() != text;
            if changed && date < today {
                return Err(invalid(name, "Expiration date can't be in the past."));
            }
            json!(date.format("%Y-%m-%d").to_string())
        }
        _ => {
            let value = match field.ty {
                T::Relation(_) => relation_ids(value),
                _ => value.clone(),
            };
            crate::kitsu::check_value(field, &value).map_err(|reason| match reason {
                "is required" => invalid(name, MISSING),
                _ => invalid(name, INVALID),
            })?;
            value
        }
    })
}

/// A locale name Babel parses: a language (2 or 3 letters), then optionally a script and a
/// territory (`en`, `en_US`, `zh_Hant_TW`, `es_419`).
fn is_locale(name: &str) -> bool {
    let mut parts = name.split('_');
    let language = parts.next().unwrap_or_default();
    if !(2..=3).contains(&language.len()) || !language.chars().all(|c| c.is_ascii_lowercase()) {
        return false;
    }
    parts.all(|part| match part.len() {
        2 => part.chars().all(|c| c.is_ascii_uppercase()),
        3 => part.chars().all(|c| c.is_ascii_digit()),
        4 => {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_lowercase())
        }
        _ => false,
    }) && name.len() <= 10
}

/// One account field of a write, checked (`None` when the input does not give it).
pub(super) fn account_value(
    input: &Map<String, Value>,
    key: &'static str,
    today: NaiveDate,
) -> Result<Option<Value>, UserError> {
    let Some(value) = input.get(key) else {
        return Ok(None);
    };
    let field = PERSON.field(key).expect("account fields are person fields");
    checked(field, value, &Value::Null, today).map(Some)
}

/// How a write may touch the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Writer {
    /// The create: every field a client sets.
    Creating,
    /// A studio manager's update: all but the fields set once.
    Admin,
    /// The person's own update: not the fields only managers change.
    Themselves,
}

/// Refuses the keys of a create that Zou's constructor refuses: what is no person attribute.
pub(super) fn check_create_keys(input: &Map<String, Value>) -> Result<(), UserError> {
    match input.keys().find(|k| !is_attribute(k)) {
        Some(key) => Err(UserError::UnknownField(key.clone())),
        None => Ok(()),
    }
}

/// The changes a write's input makes to the details (`current`, the values set so far; the
/// others are at their defaults). Account fields, server fields, sensitive columns and what
/// is no field are not details and are left out; so are the fields `writer` may not change.
pub(super) fn detail_changes(
    current: &BTreeMap<String, Value>,
    input: &Map<String, Value>,
    writer: Writer,
    today: NaiveDate,
) -> Result<Vec<FieldChange>, UserError> {
    let mut changes = Vec::new();
    for field in FIELDS {
        let Some(given) = input.get(field.name) else {
            continue;
        };
        let skipped = ACCOUNT.contains(&field.name)
            || field.server
            || (writer != Writer::Creating && CREATE_ONLY.contains(&field.name))
            || (writer == Writer::Themselves && ADMIN_ONLY.contains(&field.name));
        if skipped {
            continue;
        }
        let old = current
            .get(field.name)
            .cloned()
            .unwrap_or_else(|| default_of(field));
        let new = checked(field, given, &old, today)?;
        if new != old {
            changes.push(FieldChange {
                field: field.name.to_string(),
                old,
                new,
            });
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    fn input(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn details_are_checked_as_zou_checks_them_and_only_changes_are_kept() {
        // Given a person whose phone is set
        let current = [("phone".to_string(), json!("555"))].into();
        // When a manager sends the person back with a new desktop login and a lower-case country
        let changes = detail_changes(
            &current,
            &input(
                json!({"phone": "555", "desktop_login": "ada", "country": "fr",
                          "first_name": "Ada", "full_name": "x", "type": "Person",
                          "departments": [{"id": "3f0f3bb3-8d1c-4a4e-9a57-2f6a4b0c9d11"}]}),
            ),
            Writer::Admin,
            today(),
        )
        .unwrap();
        // Then only the details that changed are, with before and after
        assert_eq!(
            changes,
            vec![
                FieldChange {
                    field: "country".into(),
                    old: Value::Null,
                    new: json!("FR"),
                },
                FieldChange {
                    field: "desktop_login".into(),
                    old: json!(""),
                    new: json!("ada"),
                },
                FieldChange {
                    field: "departments".into(),
                    old: json!([]),
                    new: json!(["3f0f3bb3-8d1c-4a4e-9a57-2f6a4b0c9d11"]),
                },
            ]
        );
    }

    #[test]
    fn a_person_changing_themselves_cannot_touch_what_managers_decide() {
        let changes = detail_changes(
            &BTreeMap::new(),
            &input(json!({"archived": true, "studio_id": null, "phone": "1", "is_bot": true})),
            Writer::Themselves,
            today(),
        )
        .unwrap();
        assert_eq!(
            changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
            ["phone"]
        );
        // A bot is one from its creation.
        let changes = detail_changes(
            &BTreeMap::new(),
            &input(json!({"is_bot": true})),
            Writer::Admin,
            today(),
        )
        .unwrap();
        assert!(changes.is_empty());
    }

    #[test]
    fn zou_refuses_with_its_own_messages() {
        for (body, field, message) in [
            (
                json!({"contract_type": "forever"}),
                "contract_type",
                "Invalid contract_type",
            ),
            (
                json!({"country": "France"}),
                "country",
                "Invalid country code, expected an ISO 3166-1 alpha-2 code.",
            ),
            (
                json!({"locale": "english"}),
                "locale",
                "Invalid locale, expected a name available in Python Babel (e.g. en_US, fr_FR).",
            ),
            (
                json!({"expiration_date": "2020-01-01"}),
                "expiration_date",
                "Expiration date can't be in the past.",
            ),
            (
                json!({"expiration_date": "soon"}),
                "expiration_date",
                "Expiration date is not valid.",
            ),
            (json!({"daily_salary": "a lot"}), "daily_salary", INVALID),
            (json!({"phone": "0".repeat(31)}), "phone", INVALID),
            (json!({"departments": ["nope"]}), "departments", INVALID),
        ] {
            let refused = detail_changes(&BTreeMap::new(), &input(body), Writer::Admin, today());
            assert_eq!(refused, Err(UserError::Invalid { field, message }));
        }
        let role = account_value(&input(json!({"role": "emperor"})), "role", today());
        assert_eq!(
            role,
            Err(UserError::Invalid {
                field: "role",
                message: "Invalid role"
            })
        );
    }

    #[test]
    fn an_expired_date_may_be_sent_back_unchanged() {
        let current = [("expiration_date".to_string(), json!("2020-01-01"))].into();
        let changes = detail_changes(
            &current,
            &input(json!({"expiration_date": "2020-01-01"})),
            Writer::Admin,
            today(),
        );
        assert_eq!(changes, Ok(vec![]));
    }

    #[test]
    fn locales_are_babel_names() {
        for good in ["en", "en_US", "fr_FR", "zh_Hant_TW", "es_419"] {
            assert!(is_locale(good), "{good}");
        }
        for bad in ["english", "EN_us", "en-US", "e", "en_US_POSIX_X"] {
            assert!(!is_locale(bad), "{bad}");
        }
    }

    #[test]
    fn documents_derive_the_full_name_and_the_preferred_factor() {
        let mut fields = registered("ada@example.com", "Ada", "", "user");
        assert_eq!(fields["full_name"], "Ada");
        fields.insert("email_otp_enabled".into(), json!(true));
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let doc = person_document("p1", &fields, at, at);
        assert_eq!(doc["type"], "Person");
        assert_eq!(doc["preferred_two_factor_authentication"], "email_otp");
        assert_eq!(doc["contract_type"], "open-ended");
        assert_eq!(doc["departments"], json!([]));
        let mut bare = doc.clone();
        bare.as_object_mut().unwrap().remove("departments");
        let minimal = minimal(&bare);
        assert_eq!(minimal["departments"], json!([]));
        assert!(minimal.get("email").is_none());
        assert_eq!(for_client(&doc).as_object().unwrap().len(), CLIENT.len());
        assert_eq!(full_name("Ada", "Lovelace"), "Ada Lovelace");
    }
}
