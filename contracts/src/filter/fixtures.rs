//! Shared conformance table: documents plus filters and queries with their
//! exact expected ids. The reference evaluator and every SQL compiler
//! (Postgres now, SQLite later) must produce exactly these results.

use serde_json::{Value, json};

use super::{FieldPath, Filter, Query, Sort};

/// A filter and the ids it matches, ascending.
pub struct FilterCase {
    pub name: &'static str,
    pub filter: Filter,
    pub expected: Vec<&'static str>,
}

/// A query and the ids of its page, in order.
pub struct QueryCase {
    pub name: &'static str,
    pub query: Query,
    pub expected: Vec<&'static str>,
}

/// A sort paged through with cursors, `page` rows at a time: the pages,
/// concatenated, must be `expected`, which is also the order of the same query
/// paged with offsets.
pub struct KeysetCase {
    pub name: &'static str,
    pub filter: Filter,
    pub sort: Vec<Sort>,
    pub page: u32,
    pub expected: Vec<&'static str>,
}

impl KeysetCase {
    /// The first page's query; the next ones set `after` to the previous
    /// page's [`Query::next_cursor`].
    pub fn query(&self) -> Query {
        Query::new(self.filter.clone(), self.sort.clone(), self.page)
    }
}

/// `(id, doc)` rows: int/float numbers, mixed case, `%`/`_`, non-ASCII,
/// ISO dates, arrays of every kind, nested objects, nulls, missing fields.
pub fn documents() -> Vec<(&'static str, Value)> {
    vec![
        (
            "d01",
            json!({"name": "Alice", "email": "alice@example.com", "age": 30, "score": 9.5,
                   "tags": ["admin", "ops"], "address": {"city": "Paris", "zip": "75001"},
                   "created_at": "2024-01-15T10:00:00Z", "active": true}),
        ),
        (
            "d02",
            json!({"name": "bob", "email": "bob@example.com", "age": 25, "score": 7,
                   "tags": ["dev"], "address": {"city": "Lyon"},
                   "created_at": "2024-03-01T08:30:00Z", "active": false}),
        ),
        (
            "d03",
            json!({"name": "ALICE", "age": 30.0, "score": 7.0, "tags": [],
                   "address": {"city": "paris"}, "created_at": "2023-12-31T23:59:59Z",
                   "active": true, "nickname": null}),
        ),
        (
            "d04",
            json!({"name": "Carol 100%", "age": "30", "tags": ["dev", "ops"],
                   "created_at": "2024-06-10", "note": "under_score"}),
        ),
        (
            "d05",
            json!({"name": "dave_x", "age": 41.5, "score": -3, "tags": "dev", "address": null,
                   "created_at": "2024-02-29T12:00:00Z"}),
        ),
        (
            "d06",
            json!({"name": "Ève", "age": null, "tags": [1, 2.0, 3],
                   "address": {"city": "Paris", "geo": {"lat": 48.85}}, "active": "true"}),
        ),
        (
            "d07",
            json!({"name": "ève", "age": 18, "tags": [{"k": "a", "v": 1}, {"k": "b"}],
                   "created_at": "2024-01-15"}),
        ),
        (
            "d08",
            json!({"name": "50% off", "age": 17.999, "tags": ["1", "2"],
                   "address": {"city": "Paris", "zip": 75001}}),
        ),
        (
            "d09",
            json!({"name": "x", "age": 100, "tags": [null], "meta": {"a": 1, "b": [1, 2]}}),
        ),
        (
            "d10",
            json!({"age": 0, "tags": ["DEV"], "meta": {"a": 1.0, "b": [1, 2], "c": true}}),
        ),
        (
            "d11",
            json!({"name": "Zed", "age": -1, "score": 1e2, "items": [{"b": 1}], "meta": {"a": 1}}),
        ),
        (
            "d12",
            json!({"name": "under%score_", "age": 30, "flags": [true, false], "tags": [["dev"]]}),
        ),
        (
            "d13",
            json!({"name": "alice_b", "age": 1e3, "tags": ["ops", {"k": "a", "v": 1, "w": 2}],
                   "score": true}),
        ),
        ("d14", json!({})),
        (
            "d15",
            json!({"name": "", "age": [30], "tags": null, "address": "Paris"}),
        ),
    ]
}

/// Mongo's equality as the document service compiles it: equal, or an array holding it.
fn member(p: &str, v: Value) -> Filter {
    Filter::Or(vec![
        Filter::Eq(path(p), v.clone()),
        Filter::Contains(path(p), v),
    ])
}

fn ids(list: &'static str) -> Vec<&'static str> {
    list.split_whitespace().collect()
}

fn all_except(excluded: &'static str) -> Vec<&'static str> {
    let excluded = ids(excluded);
    documents()
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| !excluded.contains(id))
        .collect()
}

fn path(p: &str) -> FieldPath {
    FieldPath::parse(p).expect("fixture path")
}

/// Every operator, through the JSON parser where it can express the case.
pub fn filter_cases() -> Vec<FilterCase> {
    let j = |name, filter: Value, expected| FilterCase {
        name,
        filter: Filter::from_json(&filter).expect("fixture filter"),
        expected,
    };
    let ast = |name, filter, expected| FilterCase {
        name,
        filter,
        expected,
    };
    vec![
        j("all", json!({}), all_except("")),
        j("eq string", json!({"name": "Alice"}), ids("d01")),
        j("eq is case-sensitive", json!({"name": "alice"}), ids("")),
        j(
            "eq int matches float",
            json!({"age": 30}),
            ids("d01 d03 d12"),
        ),
        j(
            "eq float matches int",
            json!({"score": 7.0}),
            ids("d02 d03"),
        ),
        j("eq exponent", json!({"score": 100}), ids("d11")),
        j(
            "eq bool is not string",
            json!({"active": true}),
            ids("d01 d03"),
        ),
        j(
            "eq null matches null or missing",
            json!({"address": null}),
            ids("d04 d05 d07 d09 d10 d11 d12 d13 d14"),
        ),
        j(
            "eq nested",
            json!({"address.city": "Paris"}),
            ids("d01 d06 d08"),
        ),
        j(
            "eq nested number is not string",
            json!({"address.zip": 75001}),
            ids("d08"),
        ),
        j(
            "eq nested null",
            json!({"address.city": null}),
            ids("d04 d05 d07 d09 d10 d11 d12 d13 d14 d15"),
        ),
        j(
            "eq deep path",
            json!({"address.geo.lat": 48.85}),
            ids("d06"),
        ),
        j(
            "eq object is exact",
            json!({"meta": {"a": 1, "b": [1, 2]}}),
            ids("d09"),
        ),
        j(
            "eq object compares numbers numerically",
            json!({"meta": {"a": 1.0, "b": [1.0, 2]}}),
            ids("d09"),
        ),
        j("eq array is exact", json!({"tags": ["dev"]}), ids("d02")),
        j(
            "eq array is ordered",
            json!({"tags": ["ops", "admin"]}),
            ids(""),
        ),
        j("eq empty array", json!({"tags": []}), ids("d03")),
        j("eq through array", json!({"items.b": 1}), ids("")),
        j(
            "eq null through array",
            json!({"items.b": null}),
            all_except(""),
        ),
        j("$eq", json!({"name": {"$eq": "bob"}}), ids("d02")),
        j(
            "$ne includes missing",
            json!({"name": {"$ne": "Alice"}}),
            all_except("d01"),
        ),
        j(
            "$ne null",
            json!({"address": {"$ne": null}}),
            ids("d01 d02 d03 d06 d08 d15"),
        ),
        j(
            "$ne number",
            json!({"age": {"$ne": 30}}),
            all_except("d01 d03 d12"),
        ),
        j(
            "$in",
            json!({"name": {"$in": ["bob", "Zed", "nobody"]}}),
            ids("d02 d11"),
        ),
        j(
            "$in mixed types",
            json!({"age": {"$in": [18, 100.0, "30"]}}),
            ids("d04 d07 d09"),
        ),
        j(
            "$in with null",
            json!({"age": {"$in": [null, 0]}}),
            ids("d06 d10 d14"),
        ),
        j("$in empty", json!({"age": {"$in": []}}), ids("")),
        j(
            "$in objects",
            json!({"meta": {"$in": [{"a": 1}, {"a": 2}]}}),
            ids("d11"),
        ),
        j(
            "$nin",
            json!({"name": {"$nin": ["bob", "Zed"]}}),
            all_except("d02 d11"),
        ),
        j("$nin empty", json!({"age": {"$nin": []}}), all_except("")),
        j("$ieq", json!({"name": {"$ieq": "alice"}}), ids("d01 d03")),
        j(
            "$ieq folds ASCII only",
            json!({"name": {"$ieq": "ève"}}),
            ids("d07"),
        ),
        j(
            "$ieq strings only",
            json!({"age": {"$ieq": "30"}}),
            ids("d04"),
        ),
        j(
            "$ilike substring",
            json!({"name": {"$ilike": "LIC"}}),
            ids("d01 d03 d13"),
        ),
        j(
            "$ilike percent is literal",
            json!({"name": {"$ilike": "%"}}),
            ids("d04 d08 d12"),
        ),
        j(
            "$ilike underscore is literal",
            json!({"name": {"$ilike": "_"}}),
            ids("d05 d12 d13"),
        ),
        j(
            "$ilike mixed",
            json!({"name": {"$ilike": "0% O"}}),
            ids("d08"),
        ),
        j(
            "$ilike empty matches strings",
            json!({"name": {"$ilike": ""}}),
            all_except("d10 d14"),
        ),
        j(
            "$ilike strings only",
            json!({"age": {"$ilike": "3"}}),
            ids("d04"),
        ),
        j(
            "$regex unanchored",
            json!({"name": {"$regex": "lic"}}),
            ids("d01 d13"),
        ),
        j(
            "$regex anchored",
            json!({"name": {"$regex": "^[ab]"}}),
            ids("d02 d13"),
        ),
        j(
            "$regex case-insensitive",
            json!({"name": {"$regex": "^a.*e$", "$options": "i"}}),
            ids("d01 d03"),
        ),
        j(
            "$regex strings only",
            json!({"age": {"$regex": "3"}}),
            ids("d04"),
        ),
        j(
            "$all",
            json!({"tags": {"$all": ["dev", "ops"]}}),
            ids("d04"),
        ),
        j(
            "$all one",
            json!({"tags": {"$all": ["ops"]}}),
            ids("d01 d04 d13"),
        ),
        j(
            "$all numbers by value",
            json!({"tags": {"$all": [2, 1.0]}}),
            ids("d06"),
        ),
        j("$all empty", json!({"tags": {"$all": []}}), ids("")),
        j(
            "$size",
            json!({"tags": {"$size": 2}}),
            ids("d01 d04 d07 d08 d13"),
        ),
        j("$size 0", json!({"tags": {"$size": 0}}), ids("d03")),
        j("$size arrays only", json!({"name": {"$size": 0}}), ids("")),
        j(
            "$type string",
            json!({"age": {"$type": "string"}}),
            ids("d04"),
        ),
        j(
            "$type number",
            json!({"age": {"$type": "number"}}),
            ids("d01 d02 d03 d05 d07 d08 d09 d10 d11 d12 d13"),
        ),
        j(
            "$type list",
            json!({"address": {"$type": ["null", "string"]}}),
            ids("d05 d15"),
        ),
        j(
            "$type null is present",
            json!({"nickname": {"$type": "null"}}),
            ids("d03"),
        ),
        j(
            "$type code",
            json!({"tags": {"$type": 4}}),
            ids("d01 d02 d03 d04 d06 d07 d08 d09 d10 d12 d13"),
        ),
        j(
            "$type bool",
            json!({"active": {"$type": "bool"}}),
            ids("d01 d02 d03"),
        ),
        j(
            "$elemMatch fields",
            json!({"tags": {"$elemMatch": {"k": "a", "v": {"$gte": 1}}}}),
            ids("d07 d13"),
        ),
        j(
            "$elemMatch one element",
            json!({"tags": {"$elemMatch": {"k": "b", "v": 1}}}),
            ids(""),
        ),
        j(
            "$elemMatch operators",
            json!({"tags": {"$elemMatch": {"$gt": 1, "$lt": 3}}}),
            ids("d06"),
        ),
        j(
            "$elemMatch regex",
            json!({"tags": {"$elemMatch": {"$regex": "^d"}}}),
            ids("d02 d04"),
        ),
        j(
            "$elemMatch element equality is exact",
            json!({"tags": {"$elemMatch": {"$eq": "dev"}}}),
            ids("d02 d04"),
        ),
        j(
            "$elemMatch null element",
            json!({"tags": {"$elemMatch": {"$eq": null}}}),
            ids("d09"),
        ),
        j(
            "$elemMatch or",
            json!({"tags": {"$elemMatch": {"$or": [{"k": "b"}, {"w": 2}]}}}),
            ids("d07 d13"),
        ),
        j(
            "$elemMatch arrays only",
            json!({"address": {"$elemMatch": {"city": "Paris"}}}),
            ids(""),
        ),
        j("index", json!({"tags.0": "dev"}), ids("d02 d04")),
        j("index second", json!({"tags.1": "ops"}), ids("d01 d04")),
        j("index then field", json!({"tags.1.k": "b"}), ids("d07")),
        j("index of items", json!({"items.0.b": 1}), ids("d11")),
        j("field then index", json!({"meta.b.1": 2}), ids("d09 d10")),
        j(
            "index null or missing",
            json!({"tags.0": null}),
            all_except("d01 d02 d04 d06 d07 d08 d10 d12 d13"),
        ),
        j("index range", json!({"tags.2": {"$gte": 3}}), ids("d06")),
        j(
            "index exists",
            json!({"tags.0": {"$exists": true}}),
            ids("d01 d02 d04 d06 d07 d08 d09 d10 d12 d13"),
        ),
        j(
            "index $ne",
            json!({"tags.0": {"$ne": "dev"}}),
            all_except("d02 d04"),
        ),
        j(
            "index contains",
            json!({"tags.0": {"$contains": "dev"}}),
            ids("d12"),
        ),
        j(
            "index object",
            json!({"tags.0": {"k": "a", "v": 1}}),
            ids("d07"),
        ),
        j(
            "index past the end",
            json!({"tags.5": {"$exists": true}}),
            ids(""),
        ),
        j(
            "$nor",
            json!({"$nor": [{"age": {"$gte": 30}}, {"name": {"$exists": false}}]}),
            ids("d02 d04 d06 d07 d08 d11 d15"),
        ),
        j("$gt", json!({"age": {"$gt": 30}}), ids("d05 d09 d13")),
        j(
            "$gte",
            json!({"age": {"$gte": 30}}),
            ids("d01 d03 d05 d09 d12 d13"),
        ),
        j("$lt", json!({"age": {"$lt": 18}}), ids("d08 d10 d11")),
        j("$lte", json!({"age": {"$lte": 18}}), ids("d07 d08 d10 d11")),
        j(
            "range between",
            json!({"age": {"$gt": 17.999, "$lte": 41.5}}),
            ids("d01 d02 d03 d05 d07 d12"),
        ),
        j(
            "range float bounds",
            json!({"age": {"$gte": 30.0, "$lt": 30.5}}),
            ids("d01 d03 d12"),
        ),
        j(
            "range ISO dates",
            json!({"created_at": {"$gte": "2024-01-15", "$lt": "2024-03-01"}}),
            ids("d01 d05 d07"),
        ),
        j(
            "range strings bytewise",
            json!({"name": {"$gte": "a"}}),
            ids("d02 d05 d06 d07 d09 d12 d13"),
        ),
        j(
            "range string bound skips numbers",
            json!({"age": {"$gte": "30"}}),
            ids("d04"),
        ),
        j(
            "range number bound skips arrays",
            json!({"tags": {"$gt": 0}}),
            ids(""),
        ),
        ast(
            "range mixed bound types",
            Filter::Range {
                path: path("age"),
                gt: Some(json!(0)),
                gte: None,
                lt: Some(json!("z")),
                lte: None,
            },
            ids(""),
        ),
        ast(
            "range bool bound",
            Filter::Range {
                path: path("active"),
                gt: None,
                gte: Some(json!(false)),
                lt: None,
                lte: None,
            },
            ids(""),
        ),
        ast(
            "range without bounds",
            Filter::Range {
                path: path("age"),
                gt: None,
                gte: None,
                lt: None,
                lte: None,
            },
            all_except(""),
        ),
        j(
            "$contains string",
            json!({"tags": {"$contains": "dev"}}),
            ids("d02 d04"),
        ),
        j(
            "$contains number",
            json!({"tags": {"$contains": 2}}),
            ids("d06"),
        ),
        j(
            "$contains null",
            json!({"tags": {"$contains": null}}),
            ids("d09"),
        ),
        j(
            "$contains object is exact",
            json!({"tags": {"$contains": {"k": "a", "v": 1}}}),
            ids("d07"),
        ),
        j(
            "$contains partial object",
            json!({"tags": {"$contains": {"k": "a"}}}),
            ids(""),
        ),
        j(
            "$contains small object",
            json!({"tags": {"$contains": {"k": "b"}}}),
            ids("d07"),
        ),
        j(
            "$contains array",
            json!({"tags": {"$contains": ["dev"]}}),
            ids("d12"),
        ),
        j(
            "$contains nested path",
            json!({"meta.b": {"$contains": 1}}),
            ids("d09 d10"),
        ),
        j(
            "$contains bool",
            json!({"flags": {"$contains": false}}),
            ids("d12"),
        ),
        j(
            "$exists true counts null",
            json!({"address": {"$exists": true}}),
            ids("d01 d02 d03 d05 d06 d08 d15"),
        ),
        j(
            "$exists false",
            json!({"address": {"$exists": false}}),
            ids("d04 d07 d09 d10 d11 d12 d13 d14"),
        ),
        j(
            "$exists nested",
            json!({"address.city": {"$exists": true}}),
            ids("d01 d02 d03 d06 d08"),
        ),
        j(
            "$exists explicit null",
            json!({"nickname": {"$exists": true}}),
            ids("d03"),
        ),
        j(
            "$exists through array",
            json!({"items.b": {"$exists": true}}),
            ids(""),
        ),
        j(
            "$and",
            json!({"$and": [{"age": {"$gte": 18}}, {"tags": {"$contains": "ops"}}]}),
            ids("d01 d13"),
        ),
        j(
            "$or",
            json!({"$or": [{"name": "bob"}, {"age": {"$lt": 0}}]}),
            ids("d02 d11"),
        ),
        j(
            "$not",
            json!({"$not": {"address.city": "Paris"}}),
            all_except("d01 d06 d08"),
        ),
        j(
            "implicit and",
            json!({"address.city": "Paris", "age": {"$gte": 18}}),
            ids("d01"),
        ),
        j(
            "several operators",
            json!({"age": {"$gte": 18, "$ne": 30, "$lt": 100}}),
            ids("d02 d05 d07"),
        ),
        j(
            "field $not",
            json!({"age": {"$not": {"$gt": 20}}}),
            ids("d04 d06 d07 d08 d10 d11 d14 d15"),
        ),
        j(
            "nested logic",
            json!({"$and": [
                {"$or": [{"active": true}, {"active": "true"}]},
                {"$not": {"name": {"$ilike": "alice"}}}
            ]}),
            ids("d06"),
        ),
        // Mongo's equality ("the value, or an array holding it"), as the document service
        // compiles it: Postgres adds a jsonpath condition for its index (which reads through
        // arrays at every level, and compares objects and numbers to "unknown"), so the
        // results must still be exactly these.
        ast(
            "value or member, string",
            member("tags", json!("dev")),
            ids("d02 d04 d05"),
        ),
        ast(
            "value or member, number",
            member("age", json!(30)),
            ids("d01 d03 d12 d15"),
        ),
        ast(
            "value or member, boolean",
            member("flags", json!(true)),
            ids("d12"),
        ),
        ast(
            "value or member, non-ASCII",
            member("name", json!("Ève")),
            ids("d06"),
        ),
        ast(
            "value or member, nested path",
            member("address.city", json!("Paris")),
            ids("d01 d06 d08"),
        ),
        ast(
            "value or member, not through arrays",
            member("items.b", json!(1)),
            ids(""),
        ),
        ast(
            "not value or member",
            Filter::Not(Box::new(member("tags", json!("dev")))),
            all_except("d02 d04 d05"),
        ),
        ast(
            "in, quoted and non-ASCII strings",
            Filter::In(
                path("name"),
                vec![json!("Ève"), json!("x\"y\\"), json!("x")],
            ),
            ids("d06 d09"),
        ),
        ast("empty or", Filter::Or(vec![]), ids("")),
        ast("empty and", Filter::And(vec![]), all_except("")),
    ]
}

/// Sorting (mixed types, ties, direction), limit and offset.
pub fn query_cases() -> Vec<QueryCase> {
    let q = |name, filter: Value, sort: &[&str], limit, offset, expected| QueryCase {
        name,
        query: Query {
            filter: Filter::from_json(&filter).expect("fixture filter"),
            sort: sort
                .iter()
                .map(|s| Sort::parse(s).expect("fixture sort"))
                .collect(),
            limit,
            offset,
            after: None,
            count: false,
            within: None,
        },
        expected,
    };
    vec![
        q("unsorted is by id", json!({}), &[], 100, 0, all_except("")),
        q(
            "age ascending, mixed types",
            json!({}),
            &["age"],
            100,
            0,
            ids("d11 d10 d08 d07 d02 d01 d03 d12 d05 d09 d13 d04 d15 d06 d14"),
        ),
        q(
            "age descending, nulls still last",
            json!({}),
            &["-age"],
            100,
            0,
            ids("d15 d04 d13 d09 d05 d01 d03 d12 d02 d07 d08 d10 d11 d06 d14"),
        ),
        q(
            "name ascending bytewise",
            json!({}),
            &["name"],
            100,
            0,
            ids("d15 d08 d03 d01 d04 d11 d13 d02 d05 d12 d09 d06 d07 d10 d14"),
        ),
        q(
            "two keys with a page",
            json!({"age": {"$exists": true}}),
            &["-created_at", "name"],
            4,
            2,
            ids("d05 d01 d07 d03"),
        ),
        q(
            "booleans after strings",
            json!({}),
            &["active"],
            5,
            0,
            ids("d06 d02 d01 d03 d04"),
        ),
        q(
            "booleans descending",
            json!({}),
            &["-active"],
            3,
            0,
            ids("d01 d03 d02"),
        ),
        q(
            "numbers then booleans",
            json!({}),
            &["score"],
            100,
            0,
            ids("d05 d02 d03 d01 d11 d13 d04 d06 d07 d08 d09 d10 d12 d14 d15"),
        ),
        q(
            "arrays and objects tie",
            json!({}),
            &["tags"],
            100,
            0,
            ids("d05 d01 d02 d03 d04 d06 d07 d08 d09 d10 d12 d13 d11 d14 d15"),
        ),
        q(
            "numeric tie then second key",
            json!({"age": 30}),
            &["age", "-name"],
            100,
            0,
            ids("d12 d01 d03"),
        ),
        q("limit zero", json!({}), &["age"], 0, 0, ids("")),
        q("offset past the end", json!({}), &["age"], 10, 15, ids("")),
        q(
            "last partial page",
            json!({}),
            &["-age"],
            10,
            12,
            ids("d11 d06 d14"),
        ),
    ]
}

/// Keyset pagination over mixed types, missing values, ties, descending and
/// several keys; page sizes split groups of equal sort values.
pub fn keyset_cases() -> Vec<KeysetCase> {
    let k = |name, filter: Value, sort: &[&str], page, expected| KeysetCase {
        name,
        filter: Filter::from_json(&filter).expect("fixture filter"),
        sort: sort
            .iter()
            .map(|s| Sort::parse(s).expect("fixture sort"))
            .collect(),
        page,
        expected,
    };
    vec![
        k("by id", json!({}), &[], 4, all_except("")),
        k("by id, one per page", json!({}), &[], 1, all_except("")),
        k(
            "age ascending, mixed types",
            json!({}),
            &["age"],
            4,
            ids("d11 d10 d08 d07 d02 d01 d03 d12 d05 d09 d13 d04 d15 d06 d14"),
        ),
        k(
            "age descending, a tie split across pages",
            json!({}),
            &["-age"],
            3,
            ids("d15 d04 d13 d09 d05 d01 d03 d12 d02 d07 d08 d10 d11 d06 d14"),
        ),
        k(
            "name ascending, missing last",
            json!({}),
            &["name"],
            2,
            ids("d15 d08 d03 d01 d04 d11 d13 d02 d05 d12 d09 d06 d07 d10 d14"),
        ),
        k(
            "numbers then booleans",
            json!({}),
            &["score"],
            2,
            ids("d05 d02 d03 d01 d11 d13 d04 d06 d07 d08 d09 d10 d12 d14 d15"),
        ),
        k(
            "booleans and strings descending",
            json!({}),
            &["-active"],
            2,
            ids("d01 d03 d02 d06 d04 d05 d07 d08 d09 d10 d11 d12 d13 d14 d15"),
        ),
        k(
            "arrays and objects tie",
            json!({}),
            &["tags"],
            3,
            ids("d05 d01 d02 d03 d04 d06 d07 d08 d09 d10 d12 d13 d11 d14 d15"),
        ),
        k(
            "compounds first descending",
            json!({}),
            &["-tags"],
            4,
            ids("d01 d02 d03 d04 d06 d07 d08 d09 d10 d12 d13 d05 d11 d14 d15"),
        ),
        k(
            "nested, missing and null",
            json!({}),
            &["-address.city"],
            5,
            ids("d03 d01 d06 d08 d02 d04 d05 d07 d09 d10 d11 d12 d13 d14 d15"),
        ),
        k(
            "two keys, filtered",
            json!({"age": {"$exists": true}}),
            &["-created_at", "name"],
            3,
            ids("d04 d02 d05 d01 d07 d03 d15 d08 d11 d13 d12 d09 d06 d10"),
        ),
        k(
            "two keys, ties on the first",
            json!({}),
            &["age", "-name"],
            2,
            ids("d11 d10 d08 d07 d02 d12 d01 d03 d05 d09 d13 d04 d15 d06 d14"),
        ),
        k(
            "three keys",
            json!({}),
            &["-active", "tags", "-score"],
            4,
            ids("d01 d03 d02 d06 d05 d13 d04 d07 d08 d09 d10 d12 d11 d14 d15"),
        ),
    ]
}
