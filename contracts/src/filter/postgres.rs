//! Postgres compiler: [`Filter`]/[`Query`] -> SQL over the `jsonb` column
//! `doc` of the `views` table (row id column `id`).
//!
//! User values and path segments only ever travel as bind parameters; the
//! SQL text holds nothing but fixed fragments and `$n` placeholders. Every
//! predicate is two-valued (never SQL `NULL`), so `NOT` is exact, and every
//! fragment is safe to embed as an operand of `AND`/`OR`/`NOT`.
//!
//! Equality and array membership of scalars compile to `doc @> $n::jsonb`
//! (a nested object built from the path), which the
//! `gin (doc jsonb_path_ops)` index serves; jsonb containment compares
//! numbers numerically, so `1` matches a stored `1.0`. A path with an index
//! segment (`#>` indexes arrays there, and reads a member of an object) or the
//! element itself inside `$elemMatch` (where `@>` would also find a scalar in
//! an array) compares with `=` instead, which also compares numbers by value.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{FieldPath, Filter, JsonType, Query, Sort, SortDirection};
use crate::StoreError;

/// A bind parameter, in placeholder order; the SQL casts each placeholder
/// (`::jsonb`, `::text`, `::text[]`, `::bigint`), so bind them as
/// `serde_json::Value`, `String`, `Vec<String>` and `i64`.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    Json(Value),
    Text(String),
    TextArray(Vec<String>),
    Int(i64),
}

/// A compiled filter: a boolean SQL expression and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledFilter {
    pub sql: String,
    pub params: Vec<SqlParam>,
}

/// A compiled query, used as
/// `SELECT id, doc FROM views WHERE collection = $1 AND {where_sql}
/// ORDER BY {order_by_sql} {limit_offset_sql}` with `params` bound after the
/// caller's own, starting at placeholder `first_param`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledQuery {
    /// The filter, and the cursor's "after" condition if the query has one.
    pub where_sql: String,
    pub order_by_sql: String,
    /// `LIMIT $n::bigint OFFSET $m::bigint`.
    pub limit_offset_sql: String,
    pub params: Vec<SqlParam>,
}

/// Compiles a filter whose first placeholder is `$first_param`.
pub fn compile_filter(filter: &Filter, first_param: usize) -> CompiledFilter {
    let mut b = Builder::new(first_param);
    let sql = b.filter(filter);
    CompiledFilter {
        sql,
        params: b.params,
    }
}

/// Compiles a whole query whose first placeholder is `$first_param`; a cursor
/// of another sort is [`StoreError::InvalidQuery`].
pub fn compile(query: &Query, first_param: usize) -> Result<CompiledQuery, StoreError> {
    let mut b = Builder::new(first_param);
    let mut where_sql = b.filter(&query.filter);
    if let Some(cursor) = &query.after {
        let (keys, id) = cursor.position(&query.sort)?;
        let after = b.after(&query.sort, keys, id);
        where_sql = format!("({where_sql} AND {after})");
    }
    let order_by_sql = b.order_by(query);
    let limit = b.param(SqlParam::Int(i64::from(query.limit)), "bigint");
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let offset = b.param(SqlParam::Int(offset), "bigint");
    Ok(CompiledQuery {
        where_sql,
        order_by_sql,
        limit_offset_sql: format!("LIMIT {limit} OFFSET {offset}"),
        params: b.params,
    })
}

/// The rank of a value's type in a sort key (see [`Builder::rank`]).
fn rank_of(v: &Value, direction: SortDirection) -> i64 {
    let asc = match v {
        Value::Null => return 4,
        Value::Number(_) => 0,
        Value::String(_) => 1,
        Value::Bool(_) => 2,
        Value::Array(_) | Value::Object(_) => 3,
    };
    match direction {
        SortDirection::Asc => asc,
        SortDirection::Desc => 3 - asc,
    }
}

struct Builder {
    next: usize,
    params: Vec<SqlParam>,
    /// A path used twice binds once.
    paths: HashMap<FieldPath, String>,
    /// The jsonb value paths start from: the row's `doc`, or an array element in
    /// [`Filter::ElemMatch`].
    root: String,
    /// Counter for unique aliases of array elements.
    aliases: usize,
}

/// The `jsonb_typeof` name of a type.
fn pg_type(t: JsonType) -> &'static str {
    match t {
        JsonType::Null => "'null'",
        JsonType::Boolean => "'boolean'",
        JsonType::Number => "'number'",
        JsonType::String => "'string'",
        JsonType::Array => "'array'",
        JsonType::Object => "'object'",
    }
}

/// `{"a": {"b": leaf}}` for path `a.b`: the containment probe for `@>`.
fn nest(path: &FieldPath, leaf: Value) -> Value {
    path.segments().iter().rev().fold(leaf, |inner, segment| {
        Value::Object(Map::from_iter([(segment.clone(), inner)]))
    })
}

/// Collects the `(path, scalar)` equalities whose disjunction `f` implies (an equality, a
/// scalar's array membership, `$in`, and `OR`s of those); `false` if `f` is anything else.
fn implied_equalities<'a>(f: &'a Filter, terms: &mut Vec<(&'a FieldPath, &'a Value)>) -> bool {
    let scalar = |v: &Value| matches!(v, Value::Bool(_) | Value::Number(_) | Value::String(_));
    let plain = |p: &FieldPath| !p.is_element() && !p.has_index();
    match f {
        Filter::Eq(p, v) | Filter::Contains(p, v) if plain(p) && scalar(v) => {
            terms.push((p, v));
            true
        }
        Filter::In(p, vs) if plain(p) && vs.iter().all(scalar) => {
            terms.extend(vs.iter().map(|v| (p, v)));
            true
        }
        Filter::Or(fs) => fs.iter().all(|f| implied_equalities(f, terms)),
        _ => false,
    }
}

fn join(parts: Vec<String>, op: &str, empty: &str) -> String {
    match parts.len() {
        0 => empty.to_owned(),
        1 => parts.into_iter().next().expect("one part"),
        _ => format!("({})", parts.join(op)),
    }
}

impl Builder {
    fn new(first_param: usize) -> Self {
        Self {
            next: first_param,
            params: Vec::new(),
            paths: HashMap::new(),
            root: "doc".to_owned(),
            aliases: 0,
        }
    }

    fn param(&mut self, p: SqlParam, cast: &str) -> String {
        let placeholder = format!("${}::{cast}", self.next);
        self.next += 1;
        self.params.push(p);
        placeholder
    }

    /// `doc #> $p::text[]`: the jsonb value at the path, SQL NULL if missing.
    fn at(&mut self, path: &FieldPath) -> String {
        if path.is_element() {
            return self.root.clone();
        }
        let path = self.path(path);
        format!("{} #> {path}", self.root)
    }

    /// `doc #>> $p::text[]`: the same value as text (strings unquoted).
    fn text_at(&mut self, path: &FieldPath) -> String {
        if path.is_element() {
            return format!("{} #>> '{{}}'", self.root);
        }
        let path = self.path(path);
        format!("{} #>> {path}", self.root)
    }

    fn path(&mut self, path: &FieldPath) -> String {
        if let Some(p) = self.paths.get(path) {
            return p.clone();
        }
        let p = self.param(SqlParam::TextArray(path.segments().to_vec()), "text[]");
        self.paths.insert(path.clone(), p.clone());
        p
    }

    fn contains_probe(&mut self, path: &FieldPath, leaf: Value) -> String {
        let probe = self.param(SqlParam::Json(nest(path, leaf)), "jsonb");
        format!("{} @> {probe}", self.root)
    }

    /// `f` with its paths starting at each element of the array at `path`.
    fn elem_match(&mut self, path: &FieldPath, f: &Filter) -> String {
        let at = self.at(path);
        self.aliases += 1;
        let element = format!("e{}", self.aliases);
        let outer = std::mem::replace(&mut self.root, format!("{element}.v"));
        let inner = self.filter(f);
        self.root = outer;
        // CASE guards jsonb_array_elements, which fails on non-arrays.
        format!(
            "CASE WHEN jsonb_typeof({at}) = 'array' THEN EXISTS \
             (SELECT 1 FROM jsonb_array_elements({at}) AS {element}(v) WHERE {inner}) \
             ELSE FALSE END"
        )
    }

    fn filter(&mut self, f: &Filter) -> String {
        match f {
            Filter::All => "TRUE".to_owned(),
            Filter::And(fs) => {
                let parts = fs.iter().map(|f| self.filter(f)).collect();
                join(parts, " AND ", "TRUE")
            }
            Filter::Or(fs) => {
                let parts = fs.iter().map(|f| self.filter(f)).collect();
                let any = join(parts, " OR ", "FALSE");
                self.with_index_hint(f, any)
            }
            Filter::Not(f) => format!("(NOT {})", self.filter(f)),
            Filter::Eq(p, v) => self.eq(p, v),
            Filter::Ne(p, v) => format!("(NOT {})", self.eq(p, v)),
            Filter::In(p, vs) => {
                let parts = vs.iter().map(|v| self.eq(p, v)).collect();
                let any = join(parts, " OR ", "FALSE");
                self.with_index_hint(f, any)
            }
            Filter::IEq(p, s) => self.text_match(p, s, |x, s| format!("{x} = {s}")),
            Filter::ILike(p, s) => self.text_match(p, s, |x, s| format!("strpos({x}, {s}) > 0")),
            Filter::Range {
                path,
                gt,
                gte,
                lt,
                lte,
            } => self.range(path, [(">", gt), (">=", gte), ("<", lt), ("<=", lte)]),
            Filter::Contains(p, v) => self.contains(p, v),
            Filter::Regex(p, r) => {
                let at = self.at(p);
                let text = self.text_at(p);
                let pattern = self.param(SqlParam::Text(r.as_str().to_owned()), "text");
                format!("COALESCE(jsonb_typeof({at}) = 'string' AND ({text}) ~ {pattern}, FALSE)")
            }
            Filter::Exists(p, present) => {
                let at = self.at(p);
                let op = if *present { "IS NOT NULL" } else { "IS NULL" };
                format!("({at} {op})")
            }
            Filter::Size(p, n) => {
                let at = self.at(p);
                let n = self.param(SqlParam::Int(i64::from(*n)), "bigint");
                format!(
                    "CASE WHEN jsonb_typeof({at}) = 'array' \
                     THEN jsonb_array_length({at}) = {n} ELSE FALSE END"
                )
            }
            Filter::Type(p, types) => {
                let at = self.at(p);
                let names: Vec<&str> = types.iter().map(|t| pg_type(*t)).collect();
                format!(
                    "COALESCE(jsonb_typeof({at}) IN ({}), FALSE)",
                    names.join(", ")
                )
            }
            Filter::ElemMatch(p, f) => self.elem_match(p, f),
        }
    }

    /// `any` (the SQL of `f`, a disjunction) behind a condition it implies that the document
    /// index serves: the planner takes no `OR` of containment probes to the index, so
    /// Mongo's "equal, or an array holding it" and `$in` lists would read the whole
    /// collection. The condition is a lax jsonpath (`$."a"."b" == v || ...`), true for a
    /// value and for an array holding it; it is never true where `any` is false-only-by-SQL
    /// `NULL`, and `NULL AND FALSE` is `FALSE`, so the result stays two-valued.
    fn with_index_hint(&mut self, f: &Filter, any: String) -> String {
        if self.root != "doc" {
            return any;
        }
        let mut terms = Vec::new();
        if !implied_equalities(f, &mut terms) || terms.is_empty() {
            return any;
        }
        let path = terms
            .iter()
            .map(|(p, v)| {
                let accessors: String = p
                    .segments()
                    .iter()
                    .map(|s| format!(".{}", Value::String(s.clone())))
                    .collect();
                format!("${accessors} == {v}")
            })
            .collect::<Vec<_>>()
            .join(" || ");
        let hint = self.param(SqlParam::Text(path), "jsonpath");
        format!("(doc @@ {hint} AND {any})")
    }

    fn eq(&mut self, path: &FieldPath, v: &Value) -> String {
        if path.is_element() || path.has_index() {
            let at = self.at(path);
            if v.is_null() {
                // Missing (SQL NULL) or JSON null.
                return format!("COALESCE(jsonb_typeof({at}) = 'null', TRUE)");
            }
            let value = self.param(SqlParam::Json(v.clone()), "jsonb");
            return format!("COALESCE({at} = {value}, FALSE)");
        }
        match v {
            // Null also matches a missing value.
            Value::Null => {
                let probe = self.contains_probe(path, Value::Null);
                let at = self.at(path);
                format!("({probe} OR {at} IS NULL)")
            }
            // Containment is not equality for compounds (`[1,2] @> [1]`):
            // the probe narrows through the index, `=` decides.
            Value::Array(_) | Value::Object(_) => {
                let probe = self.contains_probe(path, v.clone());
                let at = self.at(path);
                let value = self.param(SqlParam::Json(v.clone()), "jsonb");
                format!("({probe} AND COALESCE({at} = {value}, FALSE))")
            }
            _ => self.contains_probe(path, v.clone()),
        }
    }

    /// ASCII-only case folding: `lower` under the "C" collation.
    fn text_match(
        &mut self,
        path: &FieldPath,
        s: &str,
        cmp: impl Fn(&str, &str) -> String,
    ) -> String {
        let at = self.at(path);
        let text = self.text_at(path);
        let arg = self.param(SqlParam::Text(s.to_owned()), "text");
        let cond = cmp(
            &format!("lower(({text}) COLLATE \"C\")"),
            &format!("lower({arg} COLLATE \"C\")"),
        );
        format!("COALESCE(jsonb_typeof({at}) = 'string' AND {cond}, FALSE)")
    }

    fn range(&mut self, path: &FieldPath, bounds: [(&str, &Option<Value>); 4]) -> String {
        let bounds: Vec<(&str, &Value)> = bounds
            .into_iter()
            .filter_map(|(op, b)| b.as_ref().map(|b| (op, b)))
            .collect();
        if bounds.is_empty() {
            return "TRUE".to_owned();
        }
        // A value has one type: bounds of different types (or of a type
        // without an order) can never all hold.
        let number = bounds.iter().all(|(_, b)| b.is_number());
        let string = bounds.iter().all(|(_, b)| b.is_string());
        if !number && !string {
            return "FALSE".to_owned();
        }
        let at = self.at(path);
        let (json_type, operand) = if number {
            ("number", at.clone())
        } else {
            ("string", format!("({}) COLLATE \"C\"", self.text_at(path)))
        };
        let mut conds = vec![format!("jsonb_typeof({at}) = '{json_type}'")];
        for (op, b) in bounds {
            let bound = match b {
                Value::String(s) => self.param(SqlParam::Text(s.clone()), "text"),
                _ => self.param(SqlParam::Json(b.clone()), "jsonb"),
            };
            conds.push(format!("{operand} {op} {bound}"));
        }
        format!("COALESCE({}, FALSE)", conds.join(" AND "))
    }

    fn contains(&mut self, path: &FieldPath, v: &Value) -> String {
        if path.has_index() {
            // No probe: `@>` cannot say "at this index".
            let at = self.at(path);
            let value = self.param(SqlParam::Json(v.clone()), "jsonb");
            return format!(
                "CASE WHEN jsonb_typeof({at}) = 'array' THEN EXISTS \
                 (SELECT 1 FROM jsonb_array_elements({at}) AS e(v) WHERE e.v = {value}) \
                 ELSE FALSE END"
            );
        }
        let probe = self.contains_probe(path, Value::Array(vec![v.clone()]));
        if !(v.is_array() || v.is_object()) {
            // For a scalar element, array containment is membership.
            return probe;
        }
        // Compound elements: containment would accept `{"a":1,"b":2}` for
        // `{"a":1}`, so compare elements exactly. CASE guards
        // jsonb_array_elements, which fails on non-arrays.
        let at = self.at(path);
        let value = self.param(SqlParam::Json(v.clone()), "jsonb");
        format!(
            "({probe} AND CASE WHEN jsonb_typeof({at}) = 'array' THEN EXISTS \
             (SELECT 1 FROM jsonb_array_elements({at}) AS e(v) WHERE e.v = {value}) \
             ELSE FALSE END)"
        )
    }

    /// The sort key's type rank, direction included (missing/null last
    /// either way): an integer compared ascending.
    fn rank(&mut self, s: &Sort) -> String {
        let ty = format!("jsonb_typeof({})", self.at(&s.path));
        let [number, string, boolean, compound] =
            [json!(0), json!(""), json!(false), json!([])].map(|v| rank_of(&v, s.direction));
        format!(
            "CASE {ty} WHEN 'number' THEN {number} WHEN 'string' THEN {string} \
             WHEN 'boolean' THEN {boolean} WHEN 'array' THEN {compound} \
             WHEN 'object' THEN {compound} ELSE 4 END"
        )
    }

    /// The sort key's value within each ordered type: `[number, string,
    /// boolean]`, each SQL `NULL` unless the value has that type.
    fn typed_values(&mut self, s: &Sort) -> [String; 3] {
        let at = self.at(&s.path);
        let text = self.text_at(&s.path);
        let ty = format!("jsonb_typeof({at})");
        [
            format!("CASE WHEN {ty} = 'number' THEN ({at})::numeric END"),
            format!("CASE WHEN {ty} = 'string' THEN ({text}) COLLATE \"C\" END"),
            format!("CASE WHEN {ty} = 'boolean' THEN ({at})::boolean END"),
        ]
    }

    /// One key per sort: type rank (missing/null last either way), then the
    /// value within its type, then the row id.
    fn order_by(&mut self, query: &Query) -> String {
        let mut keys = Vec::new();
        for s in &query.sort {
            let dir = match s.direction {
                SortDirection::Asc => "ASC",
                SortDirection::Desc => "DESC",
            };
            keys.push(format!("{} ASC", self.rank(s)));
            for value in self.typed_values(s) {
                keys.push(format!("{value} {dir}"));
            }
        }
        // Byte order like the reference, whatever the database collation.
        keys.push("id COLLATE \"C\" ASC".to_owned());
        keys.join(", ")
    }

    /// Rows strictly after the cursor's row in [`Builder::order_by`]'s order:
    /// `rank > r OR (rank = r AND (value > v OR (value = v AND ... id > i)))`,
    /// key by key, with `<` for descending values. Only rows whose rank equals
    /// the cursor's compare values, and those have the cursor value's type, so
    /// the typed key is never `NULL` there and the NULL placement of the
    /// `ORDER BY` never matters; arrays, objects and missing values tie.
    fn after(&mut self, sort: &[Sort], keys: &[Value], id: &str) -> String {
        let id = self.param(SqlParam::Text(id.to_owned()), "text");
        let mut rest = format!("id COLLATE \"C\" > {id}");
        for (s, v) in sort.iter().zip(keys).rev() {
            let rank = self.rank(s);
            let r = rank_of(v, s.direction);
            let [number, string, boolean] = self.typed_values(s);
            let (value, bound) = match v {
                Value::Number(_) => (number, self.param(SqlParam::Json(v.clone()), "jsonb")),
                Value::String(t) => (string, self.param(SqlParam::Text(t.clone()), "text")),
                Value::Bool(_) => (boolean, self.param(SqlParam::Json(v.clone()), "jsonb")),
                _ => {
                    rest = format!("({rank} > {r} OR ({rank} = {r} AND {rest}))");
                    continue;
                }
            };
            let bound = match v {
                Value::Number(_) => format!("({bound})::numeric"),
                Value::Bool(_) => format!("({bound})::boolean"),
                _ => bound,
            };
            let op = match s.direction {
                SortDirection::Asc => ">",
                SortDirection::Desc => "<",
            };
            rest = format!(
                "({rank} > {r} OR ({rank} = {r} AND \
                 ({value} {op} {bound} OR ({value} = {bound} AND {rest}))))"
            );
        }
        rest
    }
}
