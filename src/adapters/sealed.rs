//! Sealed personal fields: how a value declared personal (`annals_domain::personal`) is stored
//! in an event, and read back.
//!
//! A sealed value names the subject whose key sealed it, so rows describe themselves and a
//! reader needs no declaration to open them:
//!
//! ```json
//! {"$pii": {"s": "user:0193…", "k": "3f9a0c1b", "ct": "<base64: nonce ‖ ChaCha20-Poly1305(JSON value)>"}}
//! ```
//!
//! `k` names the key (a subject whose key was deleted and later made again, say an address
//! invited anew, gets another one), the subject is the cipher's associated data (a value
//! cannot be moved to another subject), and the nonce is random per value. When the subject's
//! key is gone, or is another key than `k`, the value reads as the subject's erased form.
use std::collections::HashMap;

use annals_domain::personal;
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde_json::{Map, Value, json};

/// The member naming a sealed value.
const TAG: &str = "$pii";
const NONCE_LEN: usize = 12;

/// A subject's key.
#[derive(Clone)]
pub struct PersonKey {
    /// Short random name, stored with every value it seals.
    pub id: String,
    pub secret: [u8; 32],
}

impl std::fmt::Debug for PersonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PersonKey({})", self.id)
    }
}

impl PersonKey {
    pub fn generate() -> Self {
        PersonKey {
            id: hex::encode(rand::random::<[u8; 4]>()),
            secret: rand::random(),
        }
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(&Key::from(self.secret))
    }
}

/// The keys a batch of rows needs, by subject (absent: erased).
pub type Keys = HashMap<String, PersonKey>;

/// `value`, sealed for `subject` with its key.
pub fn seal(subject: &str, key: &PersonKey, value: &Value) -> Value {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let plain = serde_json::to_vec(value).expect("a JSON value serializes");
    let sealed = key
        .cipher()
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &plain,
                aad: subject.as_bytes(),
            },
        )
        .expect("ChaCha20-Poly1305 seals any length a row can hold");
    let mut bytes = nonce.to_vec();
    bytes.extend(sealed);
    json!({TAG: {"s": subject, "k": key.id, "ct": BASE64.encode(bytes)}})
}

/// The subject and key id of a sealed value.
fn sealed_parts(value: &Value) -> Option<(&str, &str, &str)> {
    let Value::Object(map) = value else {
        return None;
    };
    if map.len() != 1 {
        return None;
    }
    let inner = map.get(TAG)?;
    Some((
        inner.get("s")?.as_str()?,
        inner.get("k")?.as_str()?,
        inner.get("ct")?.as_str()?,
    ))
}

/// The subjects of every sealed value inside `payloads`.
pub fn subjects_of<'a>(payloads: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    let mut found = Vec::new();
    for payload in payloads {
        subjects(payload, &mut found);
    }
    found
}

/// The subjects of every sealed value inside `value`.
pub fn subjects(value: &Value, into: &mut Vec<String>) {
    if let Some((subject, _, _)) = sealed_parts(value) {
        into.push(subject.to_string());
        return;
    }
    match value {
        Value::Object(map) => map.values().for_each(|v| subjects(v, into)),
        Value::Array(items) => items.iter().for_each(|v| subjects(v, into)),
        _ => {}
    }
}

/// What a sealed value reads as with `keys`: its plaintext, or its subject's erased form.
fn open_one(subject: &str, key_id: &str, ciphertext: &str, keys: &Keys) -> Value {
    let opened = keys
        .get(subject)
        .filter(|k| k.id == key_id)
        .and_then(|key| {
            let bytes = BASE64.decode(ciphertext).ok()?;
            if bytes.len() < NONCE_LEN {
                return None;
            }
            let (nonce, sealed) = bytes.split_at(NONCE_LEN);
            let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
            let plain = key
                .cipher()
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: sealed,
                        aad: subject.as_bytes(),
                    },
                )
                .ok()?;
            serde_json::from_slice(&plain).ok()
        });
    opened.unwrap_or_else(|| personal::erased_value(subject))
}

/// Whether some sealed value inside `value` cannot be opened with `keys` (its subject was
/// erased): it will read as erased.
pub fn has_erased(value: &Value, keys: &Keys) -> bool {
    if let Some((subject, key_id, _)) = sealed_parts(value) {
        return keys.get(subject).is_none_or(|k| k.id != key_id);
    }
    match value {
        Value::Object(map) => map.values().any(|v| has_erased(v, keys)),
        Value::Array(items) => items.iter().any(|v| has_erased(v, keys)),
        _ => false,
    }
}

/// Replaces every sealed value inside `value` by what it reads as with `keys`.
pub fn open(value: &mut Value, keys: &Keys) {
    if let Some((subject, key_id, ciphertext)) = sealed_parts(value) {
        *value = open_one(subject, key_id, ciphertext, keys);
        return;
    }
    match value {
        Value::Object(map) => map.values_mut().for_each(|v| open(v, keys)),
        Value::Array(items) => items.iter_mut().for_each(|v| open(v, keys)),
        _ => {}
    }
}

/// The subjects of the personal fields of one event (its fields, untagged).
pub fn personal_subjects(
    aggregate_type: &str,
    aggregate_id: &str,
    event_type: &str,
    fields: &mut Map<String, Value>,
) -> Vec<String> {
    let mut found = Vec::new();
    personal::for_each_personal(aggregate_type, aggregate_id, event_type, fields, |s, _| {
        found.push(s.to_string())
    });
    found
}

/// Seals the personal fields of one event in place, with `keys` holding every subject's key.
pub fn seal_personal(
    aggregate_type: &str,
    aggregate_id: &str,
    event_type: &str,
    fields: &mut Map<String, Value>,
    keys: &Keys,
) {
    personal::for_each_personal(aggregate_type, aggregate_id, event_type, fields, |s, v| {
        if let Some(key) = keys.get(s) {
            *v = seal(s, key, v);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(subject: &str, key: &PersonKey) -> Keys {
        Keys::from([(subject.to_string(), key.clone())])
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_holds_no_plaintext() {
        let key = PersonKey::generate();
        let mut value = json!({"email": seal("user:u1", &key, &json!("ada@example.com"))});
        assert!(!value.to_string().contains("ada"), "{value}");
        let mut found = Vec::new();
        subjects(&value, &mut found);
        assert_eq!(found, vec!["user:u1".to_string()]);
        open(&mut value, &keys_of("user:u1", &key));
        assert_eq!(value, json!({"email": "ada@example.com"}));
    }

    #[test]
    fn without_its_key_a_value_reads_as_erased() {
        let key = PersonKey::generate();
        let address = personal::address_subject("ada@example.com");
        let sealed = json!([
            seal(&address, &key, &json!("ada@example.com")),
            seal("user:u1", &key, &json!("Ada"))
        ]);
        // No keys at all
        let mut gone = sealed.clone();
        assert!(has_erased(&gone, &Keys::new()));
        let mut both = keys_of(&address, &key);
        both.insert("user:u1".into(), key.clone());
        assert!(!has_erased(&gone, &both));
        assert!(has_erased(&gone, &keys_of("user:u1", &key)));
        open(&mut gone, &Keys::new());
        assert_eq!(
            gone,
            json!([personal::erased_email("ada@example.com"), "erased"])
        );
        // A newer key of the same subject does not open what the old one sealed
        let mut renewed = sealed.clone();
        open(&mut renewed, &keys_of("user:u1", &PersonKey::generate()));
        assert_eq!(renewed[1], json!("erased"));
    }

    #[test]
    fn a_value_cannot_be_moved_to_another_subject() {
        let key = PersonKey::generate();
        let mut moved = seal("user:u1", &key, &json!("Ada"));
        moved[TAG]["s"] = json!("user:u2");
        open(&mut moved, &keys_of("user:u2", &key));
        assert_eq!(moved, json!("erased"));
    }

    #[test]
    fn personal_fields_of_an_event_are_sealed_and_the_rest_left() {
        let key = PersonKey::generate();
        let mut fields = match json!({"first_name": "Ada", "last_name": "L", "at": "2026-01-01T00:00:00Z"})
        {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let subjects = personal_subjects("user", "u1", "ProfileUpdated", &mut fields);
        assert_eq!(subjects, vec!["user:u1".to_string(), "user:u1".to_string()]);
        seal_personal(
            "user",
            "u1",
            "ProfileUpdated",
            &mut fields,
            &keys_of("user:u1", &key),
        );
        assert_eq!(fields["at"], json!("2026-01-01T00:00:00Z"));
        assert!(fields["first_name"].get(TAG).is_some());
        let mut value = Value::Object(fields);
        open(&mut value, &keys_of("user:u1", &key));
        assert_eq!(value["first_name"], json!("Ada"));
    }
}
