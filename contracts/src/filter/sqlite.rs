//! SQLite compiler: [`Filter`]/[`Query`] -> SQL over the JSON text column
//! `doc` of the `views` table (row id column `id`), using the JSON1
//! functions of the SQLite bundled with sqlx (3.38+ for `->`).
//!
//! User values and JSON paths only ever travel as bind parameters; the SQL
//! text holds nothing but fixed fragments and numbered `?NNN` placeholders
//! (so a path used several times binds once). Every predicate is two-valued
//! (never SQL `NULL`), so `NOT` is exact, and every fragment is safe to
//! embed as an operand of `AND`/`OR`/`NOT`.
//!
//! How the module-doc semantics map onto SQLite:
//! - a [`FieldPath`] becomes the JSON path `$."a"."b"` (every segment quoted;
//!   [`FieldPath`] refuses `"`, `\` and control characters, so quoting is
//!   total). SQLite paths walk object members only through `."key"` steps,
//!   so anything that is not an object on the way is *missing*, as required.
//!   An index segment becomes `[i]` or `."i"`, chosen at run time by the type
//!   of the value before it (an array or not), so a path is then an SQL
//!   expression rather than one bound string;
//! - inside `$elemMatch` paths start from the element (`doc -> '$[k]'`, the
//!   element's JSON text) instead of `doc`;
//! - `json_type(doc, path)` tells the value's JSON type apart (`'null'`,
//!   `'true'`, `'false'`, `'integer'`, `'real'`, `'text'`, `'array'`,
//!   `'object'`, SQL `NULL` when missing), and `json_extract(doc, path)`
//!   gives its SQL value (where booleans are 0/1 and JSON null is `NULL`), so
//!   every comparison first checks the type;
//! - SQLite compares INTEGER and REAL numerically and exactly, and TEXT with
//!   the `BINARY` collation (byte order = code point order for UTF-8);
//! - SQLite's built-in `lower` folds ASCII letters only, matching `IEq` and
//!   `ILike`; `ILike` is a literal substring test with `instr`;
//! - arrays and objects are equal when their `json_tree`s match node for
//!   node (same relative `fullkey`s, same type with integer = real, equal
//!   atoms), which is JSON equality with numbers compared numerically.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{FieldPath, Filter, JsonType, Query, Sort, SortDirection, is_index};
use crate::StoreError;

/// A bind parameter. Placeholder `?N` is `params[N - first_param]`; bind
/// them in order as `String`, `i64` and `f64`.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    Text(String),
    Int(i64),
    Real(f64),
}

/// A compiled filter: a boolean SQL expression and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledFilter {
    pub sql: String,
    pub params: Vec<SqlParam>,
}

/// A compiled query, used as
/// `SELECT id, doc FROM views WHERE collection = ?1 AND ({where_sql})
/// ORDER BY {order_by_sql} {limit_offset_sql}` with `params` bound after the
/// caller's own, the first of them being placeholder `?{first_param}`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledQuery {
    /// The filter, and the cursor's "after" condition if the query has one.
    pub where_sql: String,
    pub order_by_sql: String,
    /// `LIMIT ?n OFFSET ?m`.
    pub limit_offset_sql: String,
    pub params: Vec<SqlParam>,
}

/// Compiles a filter whose first placeholder is `?{first_param}` (`first_param >= 1`).
pub fn compile_filter(filter: &Filter, first_param: usize) -> CompiledFilter {
    let mut b = Builder::new(first_param);
    let sql = b.filter(filter);
    CompiledFilter {
        sql,
        params: b.params,
    }
}

/// Compiles a whole query whose first placeholder is `?{first_param}` (`first_param >= 1`);
/// a cursor of another sort is [`StoreError::InvalidQuery`].
pub fn compile(query: &Query, first_param: usize) -> Result<CompiledQuery, StoreError> {
    let mut b = Builder::new(first_param);
    let mut where_sql = b.filter(&query.filter);
    if let Some(cursor) = &query.after {
        let (keys, id) = cursor.position(&query.sort)?;
        let after = b.after(&query.sort, keys, id);
        where_sql = format!("({where_sql} AND {after})");
    }
    let order_by_sql = b.order_by(query);
    let limit = b.param(SqlParam::Int(i64::from(query.limit)));
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let offset = b.param(SqlParam::Int(offset));
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

/// The SQLite JSON path of a field: `a.b` -> `$."a"."b"`.
pub fn json_path(path: &FieldPath) -> String {
    let mut p = String::from("$");
    for segment in path.segments() {
        p.push_str(".\"");
        p.push_str(segment);
        p.push('"');
    }
    p
}

/// SQL condition: the JSON type `ty` (a `json_type` result) is a number.
fn is_number(ty: &str) -> String {
    format!("{ty} IN ('integer', 'real')")
}

/// A JSON type name with `integer` and `real` merged into `number`.
fn type_class(ty: &str) -> String {
    format!("CASE WHEN {ty} IN ('integer', 'real') THEN 'number' ELSE {ty} END")
}

/// Nodes `json_tree` yields for `v`: itself plus all its descendants.
fn tree_size(v: &Value) -> i64 {
    1 + match v {
        Value::Array(items) => items.iter().map(tree_size).sum(),
        Value::Object(members) => members.values().map(tree_size).sum(),
        _ => 0,
    }
}

fn join(parts: Vec<String>, op: &str, empty: &str) -> String {
    match parts.len() {
        0 => empty.to_owned(),
        1 => parts.into_iter().next().expect("one part"),
        _ => format!("({})", parts.join(op)),
    }
}

/// A value seen from SQL: its JSON type, its SQL value and its JSON text.
struct Operand {
    /// `json_type` style name, SQL `NULL` when missing.
    ty: String,
    /// The SQL value (text unescaped, numbers, booleans as 0/1).
    atom: String,
    /// JSON text, or `NULL`; only evaluated when `ty` is an array or object.
    json: String,
}

struct Builder {
    next: usize,
    params: Vec<SqlParam>,
    /// A path used twice (from the same root) binds once.
    paths: HashMap<(String, FieldPath), String>,
    /// Counter for unique table aliases in subqueries.
    aliases: usize,
    /// The JSON paths start from: the row's `doc`, or an array element's JSON text in
    /// [`Filter::ElemMatch`].
    root: String,
}

/// The `json_type` names of a type.
fn sqlite_types(t: JsonType) -> &'static [&'static str] {
    match t {
        JsonType::Null => &["'null'"],
        JsonType::Boolean => &["'true'", "'false'"],
        JsonType::Number => &["'integer'", "'real'"],
        JsonType::String => &["'text'"],
        JsonType::Array => &["'array'"],
        JsonType::Object => &["'object'"],
    }
}

impl Builder {
    fn new(first_param: usize) -> Self {
        Self {
            next: first_param.max(1),
            params: Vec::new(),
            paths: HashMap::new(),
            aliases: 0,
            root: "doc".to_owned(),
        }
    }

    fn param(&mut self, p: SqlParam) -> String {
        let placeholder = format!("?{}", self.next);
        self.next += 1;
        self.params.push(p);
        placeholder
    }

    fn number(&mut self, n: &serde_json::Number) -> String {
        let p = match n.as_i64() {
            Some(i) => SqlParam::Int(i),
            // u64 above i64::MAX and floats: SQLite reads those as REAL too.
            None => SqlParam::Real(n.as_f64().unwrap_or(f64::NAN)),
        };
        self.param(p)
    }

    fn alias(&mut self, prefix: &str) -> String {
        self.aliases += 1;
        format!("{prefix}{}", self.aliases)
    }

    /// The JSON path of `path` from the root, as SQL: a bound string, or for a path with
    /// index segments an expression choosing `[i]` or `."i"` at each of them.
    fn path(&mut self, path: &FieldPath) -> String {
        let key = (self.root.clone(), path.clone());
        if let Some(p) = self.paths.get(&key) {
            return p.clone();
        }
        let p = if path.has_index() {
            let mut expr: Option<String> = None;
            let mut pending = String::from("$");
            for segment in path.segments() {
                if !is_index(segment) {
                    pending.push_str(&format!(".\"{segment}\""));
                    continue;
                }
                let head = self.param(SqlParam::Text(std::mem::take(&mut pending)));
                let prefix = match expr {
                    Some(e) => format!("({e} || {head})"),
                    None => head,
                };
                let array = self.param(SqlParam::Text(format!("[{segment}]")));
                let member = self.param(SqlParam::Text(format!(".\"{segment}\"")));
                expr = Some(format!(
                    "({prefix} || CASE json_type({}, {prefix}) WHEN 'array' THEN {array} \
                     ELSE {member} END)",
                    self.root
                ));
            }
            let expr = expr.expect("a path with an index");
            if pending.is_empty() {
                expr
            } else {
                let tail = self.param(SqlParam::Text(pending));
                format!("({expr} || {tail})")
            }
        } else {
            self.param(SqlParam::Text(json_path(path)))
        };
        self.paths.insert(key, p.clone());
        p
    }

    /// The value at `path` from the root (the row's `doc`, or an element).
    fn at(&mut self, path: &FieldPath) -> Operand {
        let p = self.path(path);
        let root = &self.root;
        Operand {
            ty: format!("json_type({root}, {p})"),
            atom: format!("json_extract({root}, {p})"),
            json: format!("({root} -> {p})"),
        }
    }

    /// `f` with its paths starting at each element of the array at `path`.
    fn elem_match(&mut self, path: &FieldPath, f: &Filter) -> String {
        let p = self.path(path);
        let e = self.alias("e");
        let root = self.root.clone();
        // The element's JSON text (json_each's `value` is unquoted for strings).
        let element = format!("({root} -> ({p} || '[' || {e}.key || ']'))");
        let outer = std::mem::replace(&mut self.root, element);
        let inner = self.filter(f);
        self.root = outer;
        format!(
            "COALESCE(json_type({root}, {p}) = 'array' AND EXISTS \
             (SELECT 1 FROM json_each({root}, {p}) AS {e} WHERE {inner}), FALSE)"
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
                join(parts, " OR ", "FALSE")
            }
            Filter::Not(f) => format!("(NOT {})", self.filter(f)),
            Filter::Eq(p, v) => self.eq(p, v),
            Filter::Ne(p, v) => format!("(NOT {})", self.eq(p, v)),
            Filter::In(p, vs) => {
                let parts = vs.iter().map(|v| self.eq(p, v)).collect();
                join(parts, " OR ", "FALSE")
            }
            Filter::IEq(p, s) => self.text_match(p, s, |x, s| format!("lower({x}) = {s}")),
            Filter::ILike(p, s) => {
                self.text_match(p, s, |x, s| format!("instr(lower({x}), {s}) > 0"))
            }
            Filter::Range {
                path,
                gt,
                gte,
                lt,
                lte,
            } => self.range(path, [(">", gt), (">=", gte), ("<", lt), ("<=", lte)]),
            Filter::Contains(p, v) => self.contains(p, v),
            // `REGEXP` is registered on every connection (sqlx's `with_regexp`, Rust `regex`).
            Filter::Regex(p, r) => {
                let at = self.at(p);
                let pattern = self.param(SqlParam::Text(r.as_str().to_owned()));
                format!(
                    "COALESCE({} = 'text' AND {} REGEXP {pattern}, FALSE)",
                    at.ty, at.atom
                )
            }
            Filter::Exists(p, present) => {
                let at = self.at(p);
                let op = if *present { "IS NOT NULL" } else { "IS NULL" };
                format!("({} {op})", at.ty)
            }
            Filter::Size(p, n) => {
                let path = self.path(p);
                let n = self.param(SqlParam::Int(i64::from(*n)));
                let root = &self.root;
                format!(
                    "COALESCE(json_type({root}, {path}) = 'array' \
                     AND json_array_length({root}, {path}) = {n}, FALSE)"
                )
            }
            Filter::Type(p, types) => {
                let at = self.at(p);
                let names: Vec<&str> = types
                    .iter()
                    .flat_map(|t| sqlite_types(*t).iter().copied())
                    .collect();
                format!("COALESCE({} IN ({}), FALSE)", at.ty, names.join(", "))
            }
            Filter::ElemMatch(p, f) => self.elem_match(p, f),
        }
    }

    fn eq(&mut self, path: &FieldPath, v: &Value) -> String {
        let at = self.at(path);
        if v.is_null() {
            // Null also matches a missing value.
            return format!("(IFNULL({}, 'null') = 'null')", at.ty);
        }
        let cond = self.value_eq(&at, v);
        format!("COALESCE({cond}, FALSE)")
    }

    /// `x` is JSON-equal to `v`; may be SQL `NULL` when `x` is missing.
    fn value_eq(&mut self, x: &Operand, v: &Value) -> String {
        let ty = &x.ty;
        match v {
            Value::Null => format!("{ty} = 'null'"),
            Value::Bool(true) => format!("{ty} = 'true'"),
            Value::Bool(false) => format!("{ty} = 'false'"),
            Value::Number(n) => {
                let n = self.number(n);
                format!("({} AND {} = {n})", is_number(ty), x.atom)
            }
            Value::String(s) => {
                let s = self.param(SqlParam::Text(s.clone()));
                format!("({ty} = 'text' AND {} = {s})", x.atom)
            }
            Value::Array(_) | Value::Object(_) => {
                let kind = if v.is_array() { "array" } else { "object" };
                let tree = self.tree_eq(&x.json, v);
                format!("({ty} = '{kind}' AND {tree})")
            }
        }
    }

    /// The JSON text `json` has the same tree as `v`: as many nodes, and each
    /// of its nodes has a node of `v` at the same place with the same type
    /// (integer = real) and an equal atom. `fullkey`s are unique in a tree,
    /// so this is a one-to-one match, i.e. JSON equality.
    fn tree_eq(&mut self, json: &str, v: &Value) -> String {
        let size = self.param(SqlParam::Int(tree_size(v)));
        let value = self.param(SqlParam::Text(v.to_string()));
        let a = self.alias("t");
        let b = self.alias("t");
        format!(
            "((SELECT count(*) FROM json_tree({json})) = {size} AND NOT EXISTS \
             (SELECT 1 FROM json_tree({json}) AS {a} WHERE NOT EXISTS \
             (SELECT 1 FROM json_tree({value}) AS {b} WHERE {b}.fullkey = {a}.fullkey \
             AND {} = {} AND {a}.atom IS {b}.atom)))",
            type_class(&format!("{a}.type")),
            type_class(&format!("{b}.type")),
        )
    }

    /// A string value compared under ASCII case folding: `lower` is
    /// ASCII-only in SQLite, and the operand is folded the same way here.
    fn text_match(
        &mut self,
        path: &FieldPath,
        s: &str,
        cmp: impl Fn(&str, &str) -> String,
    ) -> String {
        let at = self.at(path);
        let arg = self.param(SqlParam::Text(s.to_ascii_lowercase()));
        let cond = cmp(&at.atom, &arg);
        format!("COALESCE({} = 'text' AND {cond}, FALSE)", at.ty)
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
        let mut conds = vec![if number {
            is_number(&at.ty)
        } else {
            format!("{} = 'text'", at.ty)
        }];
        for (op, b) in bounds {
            let bound = match b {
                Value::Number(n) => self.number(n),
                Value::String(s) => self.param(SqlParam::Text(s.clone())),
                _ => unreachable!("bounds are all numbers or all strings"),
            };
            conds.push(format!("{} {op} {bound}", at.atom));
        }
        format!("COALESCE({}, FALSE)", conds.join(" AND "))
    }

    fn contains(&mut self, path: &FieldPath, v: &Value) -> String {
        let p = self.path(path);
        let e = self.alias("e");
        let element = Operand {
            ty: format!("{e}.type"),
            atom: format!("{e}.atom"),
            // `value` is JSON text for arrays and objects only.
            json: format!("(CASE WHEN {e}.type IN ('array', 'object') THEN {e}.value END)"),
        };
        let cond = self.value_eq(&element, v);
        // json_each would also walk an object's members: check the type.
        let root = &self.root;
        format!(
            "COALESCE(json_type({root}, {p}) = 'array' AND EXISTS \
             (SELECT 1 FROM json_each({root}, {p}) AS {e} WHERE {cond}), FALSE)"
        )
    }

    /// The sort key's type rank, direction included (missing/null last
    /// either way): an integer compared ascending.
    fn rank(&mut self, s: &Sort) -> String {
        let at = self.at(&s.path);
        let [number, string, boolean, compound] =
            [json!(0), json!(""), json!(false), json!([])].map(|v| rank_of(&v, s.direction));
        format!(
            "CASE {} WHEN 'integer' THEN {number} WHEN 'real' THEN {number} \
             WHEN 'text' THEN {string} WHEN 'true' THEN {boolean} \
             WHEN 'false' THEN {boolean} WHEN 'array' THEN {compound} \
             WHEN 'object' THEN {compound} ELSE 4 END",
            at.ty
        )
    }

    /// Two keys per sort: type rank (missing/null last either way), then the
    /// value within its type (numbers numerically, text bytewise, `false` 0
    /// before `true` 1; arrays and objects tie), then the row id.
    fn order_by(&mut self, query: &Query) -> String {
        let mut keys = Vec::new();
        for s in &query.sort {
            let at = self.at(&s.path);
            let dir = match s.direction {
                SortDirection::Asc => "ASC",
                SortDirection::Desc => "DESC",
            };
            keys.push(format!("{} ASC", self.rank(s)));
            // Within one rank the values share a type, so one key serves all.
            keys.push(format!(
                "(CASE WHEN {} IN ('array', 'object') THEN NULL ELSE {} END) \
                 COLLATE BINARY {dir}",
                at.ty, at.atom
            ));
        }
        // Byte order like the reference.
        keys.push("id COLLATE BINARY ASC".to_owned());
        keys.join(", ")
    }

    /// Rows strictly after the cursor's row in [`Builder::order_by`]'s order:
    /// `rank > r OR (rank = r AND (value > v OR (value = v AND ... id > i)))`,
    /// key by key, with `<` for descending values. Only rows whose rank equals
    /// the cursor's compare values, and those have the cursor value's type
    /// (booleans as 0/1), so the value is never `NULL` there and the NULL
    /// placement of the `ORDER BY` never matters; arrays, objects and missing
    /// values tie.
    fn after(&mut self, sort: &[Sort], keys: &[Value], id: &str) -> String {
        let id = self.param(SqlParam::Text(id.to_owned()));
        let mut rest = format!("id COLLATE BINARY > {id}");
        for (s, v) in sort.iter().zip(keys).rev() {
            let rank = self.rank(s);
            let r = rank_of(v, s.direction);
            let bound = match v {
                Value::Number(n) => self.number(n),
                Value::String(t) => self.param(SqlParam::Text(t.clone())),
                Value::Bool(b) => self.param(SqlParam::Int(i64::from(*b))),
                _ => {
                    rest = format!("({rank} > {r} OR ({rank} = {r} AND {rest}))");
                    continue;
                }
            };
            let value = format!("{} COLLATE BINARY", self.at(&s.path).atom);
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
