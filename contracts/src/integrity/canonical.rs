//! The canonical encoding of JSON values and of an event's hashed content (see the module
//! above for why each rule).
use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// Tags the encoding, so that a future change of it cannot be confused with this one.
const VERSION: &str = "annals/1";

/// JSON that can be written in the canonical encoding: a parsed [`Value`], or the text a
/// database stores (`str`), which is encoded without building a `Value` (verification reads
/// every row of the log, and the tree's allocations were most of its time).
pub trait Canonical {
    fn write_canonical(&self, out: &mut Vec<u8>);
}

impl Canonical for Value {
    fn write_canonical(&self, out: &mut Vec<u8>) {
        write_canonical(out, self)
    }
}

impl Canonical for str {
    /// The same bytes as the canonical encoding of the parsed value. Text that is not JSON
    /// (no database holds such a payload) is written as it is: it can match no digest.
    fn write_canonical(&self, out: &mut Vec<u8>) {
        match serde_json::from_str::<Node>(self) {
            Ok(node) => node.write(out),
            Err(_) => out.extend_from_slice(self.as_bytes()),
        }
    }
}

/// A parsed JSON value that borrows its strings from the text where it can, and keeps an
/// object as a vector (sorted when written).
enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl Node<'_> {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Node::Null => out.extend_from_slice(b"null"),
            Node::Bool(true) => out.extend_from_slice(b"true"),
            Node::Bool(false) => out.extend_from_slice(b"false"),
            Node::Number(n) => write_number(out, n),
            Node::String(s) => write_string(out, s),
            Node::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Node::Object(entries) => {
                // Stable sort, then the last of equal keys wins, as when parsing into a map.
                let mut sorted: Vec<&(Cow<str>, Node)> = entries.iter().collect();
                sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                out.push(b'{');
                let mut first = true;
                for (i, (key, item)) in sorted.iter().map(|e| (&e.0, &e.1)).enumerate() {
                    if sorted.get(i + 1).is_some_and(|next| next.0 == *key) {
                        continue;
                    }
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    write_string(out, key);
                    out.push(b':');
                    item.write(out);
                }
                out.push(b'}');
            }
        }
    }
}

/// A string borrowed from the text unless it had escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// Numbers take the same path as in serde_json's own `Value`, so they encode the same.
struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Number::from_f64(v).map_or(Node::Null, Node::Number))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Node::String(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Node::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Node::String(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((key, value)) = map.next_entry::<Text, Node>()? {
            entries.push((key.0, value));
        }
        Ok(Node::Object(entries))
    }
}

/// Appends the canonical encoding of `value` to `out`.
pub fn write_canonical(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // serde_json's map is a BTreeMap (no `preserve_order`), but sort anyway: the
            // encoding must not depend on a feature another crate may switch on.
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, key);
                out.push(b':');
                write_canonical(out, item);
            }
            out.push(b'}');
        }
    }
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

/// A number by its decimal value: `-`, the significant digits (no leading or trailing zeros),
/// then `e<exponent>` unless it is 0; zero is `0`. serde_json writes a float as its shortest
/// round-tripping decimal, which is also what a `numeric` holding it reads back as.
fn write_number(out: &mut Vec<u8>, n: &Number) {
    let text = n.to_string();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let (mantissa, mut exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.trim_start_matches('+').parse::<i64>().unwrap_or(0)),
        None => (unsigned, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    exponent -= frac.len() as i64;
    let digits: String = int.chars().chain(frac.chars()).collect();
    let digits = digits.trim_start_matches('0');
    let significant = digits.trim_end_matches('0');
    if significant.is_empty() {
        out.push(b'0');
        return;
    }
    exponent += (digits.len() - significant.len()) as i64;
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(significant.as_bytes());
    if exponent != 0 {
        out.extend_from_slice(format!("e{exponent}").as_bytes());
    }
}

/// The canonical encoding of an event's hashed content, appended to `out`.
#[allow(clippy::too_many_arguments)]
pub fn encode_event<J: Canonical + ?Sized>(
    out: &mut Vec<u8>,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
    event_type: &str,
    event_version: &str,
    payload: &J,
    metadata: &J,
    recorded_at: DateTime<Utc>,
) {
    out.push(b'[');
    for (i, text) in [VERSION, aggregate_type, aggregate_id].iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, text);
    }
    out.extend_from_slice(format!(",{sequence},").as_bytes());
    write_string(out, event_type);
    out.push(b',');
    write_string(out, event_version);
    out.push(b',');
    payload.write_canonical(out);
    out.push(b',');
    metadata.write_canonical(out);
    out.push(b',');
    write_string(
        out,
        &recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true),
    );
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(value: &Value) -> String {
        let mut out = Vec::new();
        write_canonical(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn objects_are_sorted_and_compact() {
        let value: Value = serde_json::from_str(
            r#"{ "b": [1, {"z": null, "a": true}], "a": "x\"y", "é": 1, "Z": false }"#,
        )
        .unwrap();
        assert_eq!(
            canonical(&value),
            r#"{"Z":false,"a":"x\"y","b":[1,{"a":true,"z":null}],"é":1}"#
        );
    }

    #[test]
    fn numbers_are_written_by_value() {
        for (given, expected) in [
            ("0", "0"),
            ("-0.0", "0"),
            ("12", "12"),
            ("120", "12e1"),
            ("100.0", "1e2"),
            ("1e2", "1e2"),
            ("1.5", "15e-1"),
            ("-0.000125", "-125e-6"),
            ("1.0e-7", "1e-7"),
            ("18446744073709551615", "18446744073709551615"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("1e300", "1e300"),
        ] {
            let value: Value = serde_json::from_str(given).unwrap();
            assert_eq!(canonical(&value), expected, "{given}");
        }
    }

    #[test]
    fn a_number_reads_the_same_however_a_database_wrote_it_back() {
        // What jsonb's `numeric` gives back for floats serde_json wrote: all digits, or
        // trailing zeros kept from the scale.
        for (written, read_back) in [
            ("1e20", "100000000000000000000"),
            ("9.223372036854776e18", "9223372036854776000"),
            ("1.5e-7", "0.00000015"),
            ("2.50", "2.5"),
            (
                "-1.7976931348623157e308",
                &format!("-17976931348623157{}", "0".repeat(292)),
            ),
        ] {
            let a: Value = serde_json::from_str(written).unwrap();
            let b: Value = serde_json::from_str(read_back).unwrap();
            assert_eq!(canonical(&a), canonical(&b), "{written} / {read_back}");
        }
    }

    #[test]
    fn stored_text_encodes_as_its_parsed_value() {
        for text in [
            r#"{"b":[1,{"z":null,"a":true}],"a":"x\"y","é":1,"Z":false}"#,
            r#"{ "score": 0.142857142857142857142857, "n": 120, "neg": -0.000125 }"#,
            r#"{"big":18446744073709551615,"small":-9223372036854775808,"f":1e300}"#,
            r#"{"esc":"tab\tnew\nline \u00e9 \ud83d\ude00 \/","k\u0065y":"v"}"#,
            r#"{"dup":1,"dup":2,"a":{"dup":[3],"dup":{"x":1}}}"#,
            r#"[[],{},"",0,-0.0,true,false,null]"#,
            r#""just a string""#,
            "9223372036854776000",
            r#"{"UserRegistered":{"at":"2026-11-28T04:05:06.123456+00:00","score":1e-7}}"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            let mut from_text = Vec::new();
            text.write_canonical(&mut from_text);
            assert_eq!(
                String::from_utf8(from_text).unwrap(),
                canonical(&value),
                "{text}"
            );
        }
    }

    #[test]
    fn text_that_is_not_json_is_written_as_it_is() {
        let mut out = Vec::new();
        "{not json".write_canonical(&mut out);
        assert_eq!(out, b"{not json");
    }

    #[test]
    fn an_event_is_a_tagged_array_of_its_fields() {
        let mut out = Vec::new();
        encode_event(
            &mut out,
            "user",
            "u/1",
            3,
            "Renamed",
            "1.0",
            &json!({"Renamed": {"name": "Ada", "age": 36.0}}),
            &json!({"request_id": "r", "actor": "a"}),
            "2026-11-28T04:05:06.1234567Z".parse().unwrap(),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"["annals/1","user","u/1",3,"Renamed","1.0",{"Renamed":{"age":36,"name":"Ada"}},{"actor":"a","request_id":"r"},"2026-11-28T04:05:06.123456Z"]"#
        );
    }
}
