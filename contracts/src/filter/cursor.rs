//! Keyset cursors: where a page ends, as an opaque token a client can hold.
//!
//! A cursor names one row by its sort values (one per [`Sort`] key) and its
//! id, and the sort it belongs to. Its token is base64url (no padding) of a
//! small JSON object; it never carries SQL: the compilers bind its values as
//! parameters like any filter value. A token that does not decode, or whose
//! values do not fit the query's sort, is [`StoreError::InvalidQuery`].

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Sort;
use crate::StoreError;

/// Longest token [`Cursor::decode`] reads.
pub const MAX_CURSOR_LEN: usize = 16 * 1024;

/// "Start after this row" for [`Query::after`](super::Query::after); see the module docs of
/// [`filter`](super) for what "after" means. Build one from a page
/// ([`Page::next`](crate::Page::next)) or from a client's token ([`Cursor::decode`], or
/// `str::parse`); hand it out with [`Cursor::encode`] (or `to_string`, or serde, which use
/// the token).
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor(Body);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    /// The sort, as [`Sort`]'s display form (`-created_at`).
    s: Vec<String>,
    /// The row's value at each sort key: `null` when missing or null, `[]` for any array or
    /// object (they tie), the value itself otherwise.
    k: Vec<Value>,
    /// The row id.
    i: String,
}

fn invalid(why: &str) -> StoreError {
    StoreError::InvalidQuery(format!("invalid cursor: {why}"))
}

/// What a sort compares of a value: compounds tie, missing is null.
fn sort_value(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Array(_) | Value::Object(_)) => Value::Array(Vec::new()),
        Some(v) => v.clone(),
    }
}

impl Cursor {
    /// The cursor of the row `(id, doc)` in `sort` order.
    pub fn of_row(sort: &[Sort], id: &str, doc: &Value) -> Self {
        Self(Body {
            s: sort.iter().map(Sort::to_string).collect(),
            k: sort
                .iter()
                .map(|s| sort_value(s.path.lookup(doc)))
                .collect(),
            i: id.to_owned(),
        })
    }

    /// The opaque token: base64url of JSON.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(&self.0).expect("a cursor serializes");
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Reads a token made by [`Cursor::encode`]; anything else is
    /// [`StoreError::InvalidQuery`].
    pub fn decode(token: &str) -> Result<Self, StoreError> {
        if token.len() > MAX_CURSOR_LEN {
            return Err(invalid("too long"));
        }
        let json = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| invalid("not base64url"))?;
        let body: Body = serde_json::from_slice(&json).map_err(|_| invalid("malformed"))?;
        if body.k.len() != body.s.len() {
            return Err(invalid("malformed"));
        }
        // Postgres cannot bind U+0000 (and no stored string holds it).
        let nul = |s: &str| s.contains('\0');
        if nul(&body.i) || body.k.iter().any(|v| v.as_str().is_some_and(nul)) {
            return Err(invalid("malformed"));
        }
        Ok(Self(body))
    }

    /// The row's sort values (`null` for missing or null; only the type of arrays and
    /// objects counts) and id, if this cursor belongs to `sort`.
    pub fn position(&self, sort: &[Sort]) -> Result<(&[Value], &str), StoreError> {
        let same = self.0.s.len() == sort.len()
            && self.0.s.iter().zip(sort).all(|(a, b)| *a == b.to_string());
        if !same {
            return Err(invalid("it belongs to another sort"));
        }
        Ok((&self.0.k, &self.0.i))
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl FromStr for Cursor {
    type Err = StoreError;
    fn from_str(token: &str) -> Result<Self, Self::Err> {
        Self::decode(token)
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let token = String::deserialize(deserializer)?;
        Self::decode(&token).map_err(serde::de::Error::custom)
    }
}
