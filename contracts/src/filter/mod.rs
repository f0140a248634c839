//! The read-model filter language: one small AST that both public query
//! syntaxes (Kitsu-style query strings, DataCube-style JSON filters) compile
//! to, and that each SQL dialect compiles from.
//!
//! # Semantics (dialect-neutral)
//!
//! A filter is evaluated against one read-model document `doc` (a JSON
//! object). Every filter is two-valued: it either matches a document or it
//! does not (there is no SQL-style "unknown"), so `Not(f)` matches exactly
//! the documents `f` does not.
//!
//! **Value at a path.** A [`FieldPath`] `a.b.c` walks object members:
//! `doc["a"]["b"]["c"]`. An index segment (`items.1.name`: digits, no sign or
//! leading zero) also steps into an array, to its element at that index (on an
//! object it names a member, as any segment does). If any step meets anything
//! else (a scalar, an array under a name, a missing member or index), the value
//! is *missing*. Missing is distinct from an explicit JSON `null`, except where
//! an operator says otherwise.
//!
//! **JSON equality** (`Eq`, `Ne`, `In`, `Contains`): same JSON type and same
//! value; numbers compare numerically (`1 == 1.0 == 1e0`), strings exactly
//! (case-sensitive), arrays element-wise in order, objects by the same key set
//! with equal values. `true` is not `1`, `"1"` is not `1`.
//!
//! **Case-insensitive text** (`IEq`, `ILike`): only ASCII letters are folded
//! (`A`-`Z` == `a`-`z`); other characters compare exactly (`É` != `é`). This
//! is the folding both Postgres (`lower` under the `"C"` collation) and
//! SQLite (built-in `lower`) do identically, independent of server locale.
//! Only string values match; numbers etc. never do.
//!
//! **Ordering** (`Range`, [`Sort`]): numbers numerically; strings by Unicode
//! code point (= UTF-8 byte order, Postgres `COLLATE "C"`, SQLite `BINARY`),
//! which orders ISO-8601 dates/timestamps chronologically when they share a
//! format.
//!
//! | filter | matches when |
//! |---|---|
//! | `All` | always |
//! | `And(fs)` | every `f` matches (`And([])` matches everything) |
//! | `Or(fs)` | some `f` matches (`Or([])` matches nothing) |
//! | `Not(f)` | `f` does not match |
//! | `Eq(p, v)`, `v` not null | value at `p` is present and JSON-equal to `v` |
//! | `Eq(p, null)` | value at `p` is explicit `null` **or missing** (like Mongo) |
//! | `Ne(p, v)` | exactly `Not(Eq(p, v))`: so a missing value is "not equal" to any non-null `v` |
//! | `In(p, vs)` | `Or` of `Eq(p, v)` for each `v` (so `In(p, [])` matches nothing; a `null` in `vs` matches missing) |
//! | `IEq(p, s)` | value at `p` is a string equal to `s` under ASCII case folding |
//! | `ILike(p, s)` | value at `p` is a string containing `s` as a substring under ASCII case folding; `s` is literal text (`%`, `_` are ordinary characters; `""` matches every string) |
//! | `Range{p, ..}` | every present bound holds; a bound holds only for a value of the bound's own type (number or string, compared as above); a bound of any other type never holds; with no bound at all, matches everything (vacuous, like `And([])`) |
//! | `Contains(p, v)` | value at `p` is an array with an element JSON-equal to `v` |
//! | `Exists(p, true)` | value at `p` is present (an explicit `null` counts as present) |
//! | `Exists(p, false)` | value at `p` is missing |
//! | `Regex(p, r)` | value at `p` is a string in which `r` finds a match (unanchored; `(?i)`: case-insensitive, ASCII letters only guaranteed alike in every dialect) |
//! | `Size(p, n)` | value at `p` is an array of exactly `n` elements |
//! | `Type(p, ts)` | value at `p` is present and of one of the JSON types `ts` (numbers are one type) |
//! | `ElemMatch(p, f)` | value at `p` is an array with an element that `f` matches, `f` being evaluated with that element as its document (its paths start inside the element; [`FieldPath::element`] is the element itself) |
//!
//! Strings in filter values never contain U+0000: Postgres cannot store or
//! bind it. The JSON parser refuses it; other producers of a [`Filter`] must
//! too.
//!
//! **Sort** ([`Sort`], [`Query`]): keys compare in order; a key orders values
//! by type rank `number < string < boolean < (array = object) < missing/null`,
//! then within the type (booleans: `false < true`; arrays and objects tie).
//! `Desc` reverses everything except that missing/null always sort last.
//! After all keys, rows are ordered by the row id ascending (byte order), so
//! pagination with `limit`/`offset` is stable.
//!
//! **Pages.** A [`Query`] returns `limit` rows of that order, starting after
//! the row its [`Cursor`] (`after`) names if any (keyset pagination: the rows
//! that sort strictly after the cursor's sort values and id), then skipping
//! `offset` rows. A cursor holds the sort values of one row (missing as
//! `null`, arrays and objects only by their rank) and its id; it belongs to
//! one sort (a cursor of another sort is refused), not to a filter.
//!
//! [`Filter::matches`] and [`Query::evaluate`] are the executable reference of
//! these rules; every SQL compiler must agree with them on the shared fixtures
//! (`fixtures`, behind the `testing` feature).

mod cursor;
mod eval;
#[cfg(any(test, feature = "testing"))]
pub mod fixtures;
mod json;
pub mod postgres;
pub mod sqlite;
#[cfg(test)]
mod tests;

use std::fmt;

use serde_json::Value;

pub use cursor::Cursor;

/// Deepest nesting of `$and`/`$or`/`$not` the JSON parser accepts.
pub const MAX_DEPTH: usize = 16;
/// Most conditions (each `$in`/`$nin` element counts as one) one JSON filter may hold.
pub const MAX_CLAUSES: usize = 200;
/// Most segments in a [`FieldPath`].
pub const MAX_PATH_SEGMENTS: usize = 16;
/// Most index segments in a [`FieldPath`] (SQLite picks array or object at each at run time,
/// which doubles the path's SQL per index).
pub const MAX_INDEX_SEGMENTS: usize = 4;
/// Most digits of an index segment.
const MAX_INDEX_DIGITS: usize = 9;

/// A dotted path into a document's JSON (`"a.b.c"` -> `["a", "b", "c"]`).
///
/// Segments are object member names, or array indexes (see the module docs).
/// Rejected: empty segments, segments starting with `$` (reserved for
/// operators), segments that look like an integer without being a plain index
/// (SQL engines would read them as other indexes, e.g. Postgres `#>` reads
/// `"01"`, `"+1"`, `" 1"` or `"-1"` as an index), indexes of more than 9
/// digits, more than [`MAX_INDEX_SEGMENTS`] indexes, and segments with `"`,
/// `\` or control characters (not expressible in SQLite JSON paths).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<String>);

/// Why a [`FieldPath`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("empty path")]
    Empty,
    #[error("empty segment")]
    EmptySegment,
    #[error("segment \"{0}\" starts with '$'")]
    DollarSegment(String),
    #[error("segment \"{0}\" looks like an array index")]
    IndexSegment(String),
    #[error("segment \"{0}\" contains a forbidden character")]
    ForbiddenCharacter(String),
    #[error("more than {max} segments")]
    TooManySegments { max: usize },
    #[error("more than {max} array indexes")]
    TooManyIndexes { max: usize },
}

impl FieldPath {
    /// Parses `"a.b.c"`.
    pub fn parse(path: &str) -> Result<Self, PathError> {
        if path.is_empty() {
            return Err(PathError::Empty);
        }
        let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
        if segments.len() > MAX_PATH_SEGMENTS {
            return Err(PathError::TooManySegments {
                max: MAX_PATH_SEGMENTS,
            });
        }
        for s in &segments {
            check_segment(s)?;
        }
        if segments.iter().filter(|s| is_index(s)).count() > MAX_INDEX_SEGMENTS {
            return Err(PathError::TooManyIndexes {
                max: MAX_INDEX_SEGMENTS,
            });
        }
        Ok(Self(segments))
    }

    /// The path of no segments: the value itself (inside [`Filter::ElemMatch`], the element).
    pub fn element() -> Self {
        Self(Vec::new())
    }

    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// Whether this is [`FieldPath::element`].
    pub fn is_element(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a segment may step into an array.
    pub fn has_index(&self) -> bool {
        self.0.iter().any(|s| is_index(s))
    }
}

/// An index segment: ASCII digits without a leading zero (or `0` alone). Only those, of
/// segments made of digits, pass [`FieldPath::parse`].
pub fn is_index(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= MAX_INDEX_DIGITS
        && segment.bytes().all(|b| b.is_ascii_digit())
        && (segment == "0" || !segment.starts_with('0'))
}

fn check_segment(s: &str) -> Result<(), PathError> {
    if s.is_empty() {
        return Err(PathError::EmptySegment);
    }
    if s.starts_with('$') {
        return Err(PathError::DollarSegment(s.to_owned()));
    }
    if s.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
        return Err(PathError::ForbiddenCharacter(s.to_owned()));
    }
    // Mirrors what strtol accepts fully: leading spaces, a sign, digits.
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && !is_index(s) {
        return Err(PathError::IndexSegment(s.to_owned()));
    }
    Ok(())
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

impl std::str::FromStr for FieldPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A filter over one document; see the module docs for exact semantics.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    All,
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Eq(FieldPath, Value),
    Ne(FieldPath, Value),
    In(FieldPath, Vec<Value>),
    IEq(FieldPath, String),
    ILike(FieldPath, String),
    Range {
        path: FieldPath,
        gt: Option<Value>,
        gte: Option<Value>,
        lt: Option<Value>,
        lte: Option<Value>,
    },
    Contains(FieldPath, Value),
    Exists(FieldPath, bool),
    /// The value is a string in which the regular expression finds a match (unanchored).
    Regex(FieldPath, Pattern),
    /// The value is an array of exactly this many elements.
    Size(FieldPath, u32),
    /// The value is present and of one of these types.
    Type(FieldPath, Vec<JsonType>),
    /// The value is an array with an element the filter matches (evaluated on the element).
    ElemMatch(FieldPath, Box<Filter>),
}

/// A JSON value's type, as [`Filter::Type`] tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonType {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    pub fn of(value: &Value) -> JsonType {
        match value {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    /// Mongo's names and numeric codes for the types JSON has; `None` for the BSON types it
    /// does not (and for `int`/`double`, which JSON numbers do not tell apart).
    pub fn from_mongo(alias: &Value) -> Option<JsonType> {
        Some(match alias {
            Value::String(name) => match name.as_str() {
                "null" => JsonType::Null,
                "bool" | "boolean" => JsonType::Boolean,
                "number" => JsonType::Number,
                "string" => JsonType::String,
                "array" => JsonType::Array,
                "object" => JsonType::Object,
                _ => return None,
            },
            Value::Number(code) => match code.as_i64()? {
                2 => JsonType::String,
                3 => JsonType::Object,
                4 => JsonType::Array,
                8 => JsonType::Boolean,
                10 => JsonType::Null,
                _ => return None,
            },
            _ => return None,
        })
    }
}

/// A regular expression as a filter holds it: checked when parsed, in the syntax both SQL
/// dialects and the reference read alike (Rust `regex`, Postgres AREs, SQLite's `REGEXP`
/// through sqlx, itself Rust `regex`); `(?i)` in front for case-insensitive matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    /// Refuses what `regex` cannot compile, and look-around or backreferences (which Rust
    /// `regex` does not have either way).
    pub fn new(pattern: &str, case_insensitive: bool) -> Result<Pattern, String> {
        let pattern = if case_insensitive {
            format!("(?i){pattern}")
        } else {
            pattern.to_owned()
        };
        regex::Regex::new(&pattern).map_err(|e| e.to_string())?;
        Ok(Pattern(pattern))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Filter {
    /// Parses a DataCube/Mongo-style JSON filter; error locations start at `filters`.
    pub fn from_json(value: &Value) -> Result<Filter, FilterError> {
        json::parse(value, "filters")
    }

    /// Like [`Filter::from_json`], naming the root of error locations `root`.
    pub fn from_json_at(value: &Value, root: &str) -> Result<Filter, FilterError> {
        json::parse(value, root)
    }
}

/// A refused JSON filter; `at` names the offending field, e.g. `filters.age`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("{at}: expected a JSON object")]
    NotAnObject { at: String },
    #[error("{at}: unknown operator \"{op}\"")]
    UnknownOperator { at: String, op: String },
    #[error("{at}: \"{op}\" expects {expected}")]
    InvalidOperand {
        at: String,
        op: String,
        expected: &'static str,
    },
    #[error("{at}: invalid field path: {source}")]
    InvalidPath { at: String, source: PathError },
    #[error("{at}: cannot mix operators and field names in one object")]
    MixedOperators { at: String },
    #[error("{at}: literal values cannot contain keys starting with '$' (use a dotted path)")]
    DollarKeyInLiteral { at: String },
    #[error("{at}: strings cannot contain the NUL character")]
    NulCharacter { at: String },
    #[error("{at}: nested deeper than {max} levels")]
    TooDeep { at: String, max: usize },
    #[error("{at}: more than {max} conditions")]
    TooManyClauses { at: String, max: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    Asc,
    Desc,
}

/// One sort key; see the module docs for the ordering of mixed types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub path: FieldPath,
    pub direction: SortDirection,
}

impl Sort {
    /// Parses `"created_at"` (ascending) or `"-created_at"` (descending).
    pub fn parse(spec: &str) -> Result<Self, PathError> {
        let (direction, path) = match spec.strip_prefix('-') {
            Some(rest) => (SortDirection::Desc, rest),
            None => (SortDirection::Asc, spec),
        };
        Ok(Self {
            path: FieldPath::parse(path)?,
            direction,
        })
    }
}

impl fmt::Display for Sort {
    /// The form [`Sort::parse`] reads: `created_at` or `-created_at`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.direction == SortDirection::Desc {
            f.write_str("-")?;
        }
        self.path.fmt(f)
    }
}

/// A filtered, sorted page of one collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub filter: Filter,
    pub sort: Vec<Sort>,
    pub limit: u32,
    /// Rows skipped (after `after`, if given).
    pub offset: u64,
    /// Keyset pagination: start after this row (a [`Page::next`](crate::Page::next) of the
    /// same sort). Unlike `offset`, no rows are sorted and skipped before the page, so a
    /// page does not get dearer the deeper it is.
    pub after: Option<Cursor>,
    /// Whether the page carries the number of matching documents
    /// ([`Page::total`](crate::Page::total)); counting reads every match, so ask only when
    /// the answer shows it.
    pub count: bool,
    /// Only the rows of one owner, which stores read through their (collection, owner, ord)
    /// index; see [`Within`].
    pub within: Option<Within>,
}

/// Rows of one owner (the store's `owner` column, written by the projection with the
/// document), whose `ord` column holds each document's number at the path `ord`: a query
/// sorted by that path alone may walk the index in order and stop after its page instead of
/// sorting every match. [`Query::evaluate`] sees documents, not columns, and ignores it: its
/// callers pass one owner's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Within {
    pub owner: String,
    pub ord: FieldPath,
}

impl Within {
    /// Whether `sort` is this owner's order (its `ord` path, ascending) and nothing else.
    pub fn is_order(&self, sort: &[Sort]) -> bool {
        matches!(sort, [only] if only.path == self.ord && only.direction == SortDirection::Asc)
    }
}

impl Query {
    /// The first page (`limit` rows, no cursor, no offset, not counted) of `filter` in `sort`
    /// order.
    pub fn new(filter: Filter, sort: Vec<Sort>, limit: u32) -> Self {
        Self {
            filter,
            sort,
            limit,
            offset: 0,
            after: None,
            count: false,
            within: None,
        }
    }

    /// The cursor of a page holding `items` (rows of this query, in order): the last row's,
    /// when the page is full; `None` for a short or empty page (nothing follows).
    pub fn next_cursor(&self, items: &[(String, Value)]) -> Option<Cursor> {
        if self.limit == 0 || items.len() < self.limit as usize {
            return None;
        }
        let (id, doc) = items.last()?;
        Some(Cursor::of_row(&self.sort, id, doc))
    }
}
