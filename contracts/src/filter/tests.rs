use serde_json::{Value, json};

use super::cursor::MAX_CURSOR_LEN;
use super::postgres::{SqlParam, compile, compile_filter};
use super::*;
use crate::StoreError;

fn p(s: &str) -> FieldPath {
    FieldPath::parse(s).unwrap()
}

fn parse(v: Value) -> Filter {
    Filter::from_json(&v).unwrap()
}

fn err(v: Value) -> String {
    Filter::from_json(&v).unwrap_err().to_string()
}

fn range(path: &str, bounds: [Option<Value>; 4]) -> Filter {
    let [gt, gte, lt, lte] = bounds;
    Filter::Range {
        path: p(path),
        gt,
        gte,
        lt,
        lte,
    }
}

#[test]
fn field_paths() {
    assert_eq!(p("a.b.c").segments(), ["a", "b", "c"]);
    assert_eq!(p("address.city").to_string(), "address.city");
    assert_eq!(p("2fa").segments(), ["2fa"]);
    assert_eq!(p("items.10.name").segments(), ["items", "10", "name"]);
    assert!(p("items.0").has_index() && !p("items.x").has_index());
    // An index segment steps into an array, and names a member of an object.
    let doc = json!({"items": [{"name": "a"}, {"name": "b"}], "map": {"0": "zero"}});
    assert_eq!(p("items.1.name").lookup(&doc), Some(&json!("b")));
    assert_eq!(p("map.0").lookup(&doc), Some(&json!("zero")));
    assert_eq!(p("items.2.name").lookup(&doc), None);
    assert_eq!(p("items.name").lookup(&doc), None);
    for (bad, e) in [
        ("", PathError::Empty),
        ("a..b", PathError::EmptySegment),
        ("a.", PathError::EmptySegment),
        ("$a", PathError::DollarSegment("$a".into())),
        ("a.$b", PathError::DollarSegment("$b".into())),
        ("tags.01", PathError::IndexSegment("01".into())),
        (
            "tags.1234567890",
            PathError::IndexSegment("1234567890".into()),
        ),
        ("a.0.1.2.3.4", PathError::TooManyIndexes { max: 4 }),
        ("a.-1", PathError::IndexSegment("-1".into())),
        ("a.+1", PathError::IndexSegment("+1".into())),
        ("a. 1", PathError::IndexSegment(" 1".into())),
        ("a\"b", PathError::ForbiddenCharacter("a\"b".into())),
        ("a\\b", PathError::ForbiddenCharacter("a\\b".into())),
        ("a\nb", PathError::ForbiddenCharacter("a\nb".into())),
        (
            "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a",
            PathError::TooManySegments { max: 16 },
        ),
    ] {
        assert_eq!(FieldPath::parse(bad), Err(e), "{bad:?}");
    }
}

#[test]
fn sort_specs() {
    let s = Sort::parse("-created_at").unwrap();
    assert_eq!(
        (s.path, s.direction),
        (p("created_at"), SortDirection::Desc)
    );
    let s = Sort::parse("a.b").unwrap();
    assert_eq!((s.path, s.direction), (p("a.b"), SortDirection::Asc));
    assert_eq!(Sort::parse("-"), Err(PathError::Empty));
    // Only one '-' is the direction; "-a" is a legal member name.
    assert_eq!(Sort::parse("--a").unwrap().path, p("-a"));
}

#[test]
fn parses_literals_and_operators() {
    assert_eq!(parse(json!({})), Filter::All);
    assert_eq!(
        parse(json!({"email": "a@b.c"})),
        Filter::Eq(p("email"), json!("a@b.c"))
    );
    assert_eq!(
        parse(json!({"address.city": "Paris"})),
        Filter::Eq(p("address.city"), json!("Paris"))
    );
    assert_eq!(
        parse(json!({"meta": {"a": 1}})),
        Filter::Eq(p("meta"), json!({"a": 1}))
    );
    assert_eq!(parse(json!({"meta": {}})), Filter::Eq(p("meta"), json!({})));
    assert_eq!(
        parse(json!({"b": 1, "a": null})),
        Filter::And(vec![
            Filter::Eq(p("a"), Value::Null),
            Filter::Eq(p("b"), json!(1))
        ])
    );
    let f = |op: &str, arg: Value| parse(json!({ "f": { op: arg } }));
    assert_eq!(f("$eq", json!([1])), Filter::Eq(p("f"), json!([1])));
    assert_eq!(f("$ne", json!(2)), Filter::Ne(p("f"), json!(2)));
    assert_eq!(
        f("$gt", json!(1)),
        range("f", [Some(json!(1)), None, None, None])
    );
    assert_eq!(
        f("$gte", json!("a")),
        range("f", [None, Some(json!("a")), None, None])
    );
    assert_eq!(
        f("$lt", json!(1.5)),
        range("f", [None, None, Some(json!(1.5)), None])
    );
    assert_eq!(
        f("$lte", json!(0)),
        range("f", [None, None, None, Some(json!(0))])
    );
    assert_eq!(
        f("$in", json!([1, "a"])),
        Filter::In(p("f"), vec![json!(1), json!("a")])
    );
    assert_eq!(
        f("$nin", json!([])),
        Filter::Not(Box::new(Filter::In(p("f"), vec![])))
    );
    assert_eq!(f("$ieq", json!("X")), Filter::IEq(p("f"), "X".into()));
    assert_eq!(f("$ilike", json!("%")), Filter::ILike(p("f"), "%".into()));
    assert_eq!(
        f("$contains", json!({"k": 1})),
        Filter::Contains(p("f"), json!({"k": 1}))
    );
    assert_eq!(f("$exists", json!(false)), Filter::Exists(p("f"), false));
    assert_eq!(
        f("$not", json!({"$gt": 1})),
        Filter::Not(Box::new(range("f", [Some(json!(1)), None, None, None])))
    );
}

#[test]
fn several_operators_on_one_field() {
    assert_eq!(
        parse(json!({"age": {"$lt": 65, "$gte": 18, "$ne": 30}})),
        Filter::And(vec![
            Filter::Ne(p("age"), json!(30)),
            range("age", [None, Some(json!(18)), Some(json!(65)), None]),
        ])
    );
}

#[test]
fn parses_logic() {
    let a = Filter::Eq(p("a"), json!(1));
    let b = Filter::Eq(p("b"), json!(2));
    assert_eq!(
        parse(json!({"$and": [{"a": 1}, {"b": 2}]})),
        Filter::And(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        parse(json!({"$or": [{"a": 1}, {"b": 2}]})),
        Filter::Or(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        parse(json!({"$not": {"a": 1}})),
        Filter::Not(Box::new(a.clone()))
    );
    assert_eq!(
        parse(json!({"$or": [{"a": 1}], "b": 2})),
        Filter::And(vec![Filter::Or(vec![a]), b])
    );
}

#[test]
fn errors_name_the_field_and_operator() {
    for (filter, message) in [
        (json!([1]), "filters: expected a JSON object"),
        (
            json!({"age": {"$foo": 1}}),
            "filters.age: unknown operator \"$foo\"",
        ),
        (json!({"$foo": 1}), "filters: unknown operator \"$foo\""),
        (
            json!({"tags": {"$in": 1}}),
            "filters.tags: \"$in\" expects an array",
        ),
        (
            json!({"tags": {"$nin": "a"}}),
            "filters.tags: \"$nin\" expects an array",
        ),
        (
            json!({"age": {"$gt": true}}),
            "filters.age: \"$gt\" expects a number or a string",
        ),
        (
            json!({"age": {"$gte": null}}),
            "filters.age: \"$gte\" expects a number or a string",
        ),
        (
            json!({"age": {"$lt": [1]}}),
            "filters.age: \"$lt\" expects a number or a string",
        ),
        (
            json!({"age": {"$lte": {}}}),
            "filters.age: \"$lte\" expects a number or a string",
        ),
        (
            json!({"name": {"$ieq": 1}}),
            "filters.name: \"$ieq\" expects a string",
        ),
        (
            json!({"name": {"$ilike": null}}),
            "filters.name: \"$ilike\" expects a string",
        ),
        (
            json!({"x": {"$exists": 1}}),
            "filters.x: \"$exists\" expects a boolean",
        ),
        (
            json!({"x": {"$not": 1}}),
            "filters.x: \"$not\" expects an operator object",
        ),
        (
            json!({"x": {"$not": {"a": 1}}}),
            "filters.x: \"$not\" expects an operator object",
        ),
        (
            json!({"$and": []}),
            "filters: \"$and\" expects a non-empty array of filter objects",
        ),
        (
            json!({"$or": {}}),
            "filters: \"$or\" expects a non-empty array of filter objects",
        ),
        (
            json!({"$not": [1]}),
            "filters: \"$not\" expects a filter object",
        ),
        (
            json!({"$or": [{"a": 1}, 2]}),
            "filters.$or[1]: expected a JSON object",
        ),
        (
            json!({"$and": [{"$not": {"age": {"$bad": 1}}}]}),
            "filters.$and[0].$not.age: unknown operator \"$bad\"",
        ),
        (
            json!({"a..b": 1}),
            "filters.a..b: invalid field path: empty segment",
        ),
        (
            json!({"tags.01": 1}),
            "filters.tags.01: invalid field path: segment \"01\" looks like an array index",
        ),
        (
            json!({"tags": {"$all": "a"}}),
            "filters.tags: \"$all\" expects an array",
        ),
        (
            json!({"tags": {"$size": -1}}),
            "filters.tags: \"$size\" expects a non-negative integer",
        ),
        (
            json!({"tags": {"$size": 1.5}}),
            "filters.tags: \"$size\" expects a non-negative integer",
        ),
        (
            json!({"tags": {"$elemMatch": [1]}}),
            "filters.tags: \"$elemMatch\" expects an object",
        ),
        (
            json!({"tags": {"$elemMatch": {"k": {"$bad": 1}}}}),
            "filters.tags.$elemMatch.k: unknown operator \"$bad\"",
        ),
        (
            json!({"tags": {"$elemMatch": {"$gt": 1, "k": 2}}}),
            "filters.tags.$elemMatch: cannot mix operators and field names in one object",
        ),
        (
            json!({"age": {"$gt": 1, "max": 2}}),
            "filters.age: cannot mix operators and field names in one object",
        ),
        (
            json!({"a": {"b": {"$gt": 1}}}),
            "filters.a: literal values cannot contain keys starting with '$' (use a dotted path)",
        ),
        (
            json!({"a": {"$in": [{"$x": 1}]}}),
            "filters.a: literal values cannot contain keys starting with '$' (use a dotted path)",
        ),
        (
            json!({"a": {"$eq": {"$x": 1}}}),
            "filters.a: literal values cannot contain keys starting with '$' (use a dotted path)",
        ),
        (
            json!({"a": {"$ilike": "x\0"}}),
            "filters.a: strings cannot contain the NUL character",
        ),
        (
            json!({"a": [{"k\0": 1}]}),
            "filters.a: strings cannot contain the NUL character",
        ),
    ] {
        assert_eq!(err(filter.clone()), message, "{filter}");
    }
    for bad in [
        json!("int"),
        json!(1),
        json!([]),
        json!(["string", "decimal"]),
    ] {
        let e = err(json!({"age": {"$type": bad}}));
        assert!(
            e.starts_with("filters.age: \"$type\" expects a type"),
            "{e}"
        );
    }
}

#[test]
fn custom_root() {
    let e = Filter::from_json_at(&json!({"a": {"$x": 1}}), "q").unwrap_err();
    assert_eq!(e.to_string(), "q.a: unknown operator \"$x\"");
}

#[test]
fn refuses_deep_nesting() {
    let mut f = json!({"a": 1});
    for _ in 0..MAX_DEPTH - 1 {
        f = json!({ "$not": f });
    }
    assert!(Filter::from_json(&f).is_ok());
    let e = err(json!({ "$not": f }));
    assert!(e.ends_with(": nested deeper than 16 levels"), "{e}");

    let mut ops = json!({"$gt": 1});
    for _ in 0..MAX_DEPTH {
        ops = json!({ "$not": ops });
    }
    assert_eq!(
        err(json!({ "a": ops })),
        "filters.a: nested deeper than 16 levels"
    );
}

#[test]
fn refuses_too_many_clauses() {
    let many: Vec<Value> = (0..MAX_CLAUSES).map(|i| json!(i)).collect();
    assert!(Filter::from_json(&json!({"a": {"$in": many}})).is_ok());
    let too_many: Vec<Value> = (0..=MAX_CLAUSES).map(|i| json!(i)).collect();
    assert_eq!(
        err(json!({"a": {"$in": too_many}})),
        "filters.a: more than 200 conditions"
    );
    let ors: Vec<Value> = (0..=MAX_CLAUSES).map(|i| json!({"a": i})).collect();
    let e = err(json!({ "$or": ors }));
    assert_eq!(e, "filters.$or[200].a: more than 200 conditions");
}

fn sql(f: &Filter) -> (String, Vec<SqlParam>) {
    let c = compile_filter(f, 1);
    (c.sql, c.params)
}

fn json_param(v: Value) -> SqlParam {
    SqlParam::Json(v)
}

fn path_param(s: &[&str]) -> SqlParam {
    SqlParam::TextArray(s.iter().map(|s| s.to_string()).collect())
}

#[test]
fn compiles_scalar_eq_to_containment() {
    let (s, params) = sql(&parse(json!({"address.city": "Paris"})));
    assert_eq!(s, "doc @> $1::jsonb");
    assert_eq!(params, [json_param(json!({"address": {"city": "Paris"}}))]);
}

#[test]
fn compiles_null_and_compound_eq() {
    let (s, params) = sql(&parse(json!({"a": null})));
    assert_eq!(s, "(doc @> $1::jsonb OR doc #> $2::text[] IS NULL)");
    assert_eq!(params, [json_param(json!({"a": null})), path_param(&["a"])]);

    let (s, params) = sql(&parse(json!({"a.b": [1]})));
    assert_eq!(
        s,
        "(doc @> $1::jsonb AND COALESCE(doc #> $2::text[] = $3::jsonb, FALSE))"
    );
    assert_eq!(
        params,
        [
            json_param(json!({"a": {"b": [1]}})),
            path_param(&["a", "b"]),
            json_param(json!([1]))
        ]
    );
}

#[test]
fn compiles_logic_and_reuses_paths() {
    let f = parse(json!({"$or": [{"a": {"$exists": true}}, {"$not": {"a": {"$ieq": "x"}}}]}));
    let (s, params) = sql(&f);
    assert_eq!(
        s,
        "((doc #> $1::text[] IS NOT NULL) OR (NOT COALESCE(jsonb_typeof(doc #> $1::text[]) = 'string' \
         AND lower((doc #>> $1::text[]) COLLATE \"C\") = lower($2::text COLLATE \"C\"), FALSE)))"
    );
    assert_eq!(params, [path_param(&["a"]), SqlParam::Text("x".into())]);
    assert_eq!(sql(&Filter::All).0, "TRUE");
    assert_eq!(sql(&Filter::And(vec![])).0, "TRUE");
    assert_eq!(sql(&Filter::Or(vec![])).0, "FALSE");
    assert_eq!(sql(&Filter::In(p("a"), vec![])).0, "FALSE");
    // The index cannot serve an OR of probes; the implied jsonpath beside it can.
    let (s, params) = sql(&parse(json!({"a.b": {"$in": [1, "x\"y"]}})));
    assert_eq!(
        s,
        "(doc @@ $3::jsonpath AND (doc @> $1::jsonb OR doc @> $2::jsonb))"
    );
    assert_eq!(
        params[2],
        SqlParam::Text(r#"$."a"."b" == 1 || $."a"."b" == "x\"y""#.into())
    );
    assert_eq!(
        sql(&parse(json!({"a": {"$ne": 1}}))).0,
        "(NOT doc @> $1::jsonb)"
    );
}

#[test]
fn compiles_ilike_without_wildcards() {
    let (s, params) = sql(&parse(json!({"name": {"$ilike": "50%_"}})));
    assert_eq!(
        s,
        "COALESCE(jsonb_typeof(doc #> $1::text[]) = 'string' AND strpos(lower((doc #>> $1::text[]) \
         COLLATE \"C\"), lower($2::text COLLATE \"C\")) > 0, FALSE)"
    );
    assert_eq!(params[1], SqlParam::Text("50%_".into()));
}

#[test]
fn compiles_ranges_by_bound_type() {
    let (s, params) = sql(&parse(json!({"age": {"$gte": 18, "$lt": 65.5}})));
    assert_eq!(
        s,
        "COALESCE(jsonb_typeof(doc #> $1::text[]) = 'number' AND doc #> $1::text[] >= $2::jsonb \
         AND doc #> $1::text[] < $3::jsonb, FALSE)"
    );
    assert_eq!(
        params[1..],
        [json_param(json!(18)), json_param(json!(65.5))]
    );

    let (s, params) = sql(&parse(json!({"at": {"$gt": "2024-01-01"}})));
    assert_eq!(
        s,
        "COALESCE(jsonb_typeof(doc #> $1::text[]) = 'string' AND (doc #>> $1::text[]) \
         COLLATE \"C\" > $2::text, FALSE)"
    );
    assert_eq!(params[1], SqlParam::Text("2024-01-01".into()));

    let mixed = range("a", [Some(json!(1)), None, Some(json!("z")), None]);
    assert_eq!(sql(&mixed), ("FALSE".to_owned(), vec![]));
    assert_eq!(sql(&range("a", [None, None, None, None])).0, "TRUE");
}

#[test]
fn compiles_contains() {
    let (s, params) = sql(&parse(json!({"tags": {"$contains": "dev"}})));
    assert_eq!(s, "doc @> $1::jsonb");
    assert_eq!(params, [json_param(json!({"tags": ["dev"]}))]);

    let (s, params) = sql(&parse(json!({"tags": {"$contains": {"k": 1}}})));
    assert_eq!(
        s,
        "(doc @> $1::jsonb AND CASE WHEN jsonb_typeof(doc #> $2::text[]) = 'array' THEN EXISTS \
         (SELECT 1 FROM jsonb_array_elements(doc #> $2::text[]) AS e(v) WHERE e.v = $3::jsonb) \
         ELSE FALSE END)"
    );
    assert_eq!(params[2], json_param(json!({"k": 1})));
}

#[test]
fn compiles_query_with_caller_numbering() {
    let query = Query {
        filter: parse(json!({"a": 1})),
        sort: vec![Sort::parse("-a").unwrap()],
        limit: 20,
        offset: u64::MAX,
        after: None,
        count: false,
        within: None,
    };
    let c = compile(&query, 2).unwrap();
    assert_eq!(c.where_sql, "doc @> $2::jsonb");
    assert!(
        c.order_by_sql.starts_with(
            "CASE jsonb_typeof(doc #> $3::text[]) WHEN 'number' THEN 3 WHEN 'string' THEN 2"
        ),
        "{}",
        c.order_by_sql
    );
    assert!(
        c.order_by_sql
            .contains("THEN (doc #> $3::text[])::numeric END DESC")
    );
    assert!(c.order_by_sql.ends_with(", id COLLATE \"C\" ASC"));
    assert_eq!(c.limit_offset_sql, "LIMIT $4::bigint OFFSET $5::bigint");
    assert_eq!(
        c.params,
        [
            json_param(json!({"a": 1})),
            path_param(&["a"]),
            SqlParam::Int(20),
            SqlParam::Int(i64::MAX)
        ]
    );
    let c = compile(&Query::new(Filter::All, vec![], 1), 1).unwrap();
    assert_eq!(c.order_by_sql, "id COLLATE \"C\" ASC");
}

#[test]
fn sql_text_never_holds_user_data() {
    let evil = "x'); DROP TABLE views; --";
    let f = Filter::And(vec![
        Filter::Eq(FieldPath(vec![evil.into()]), json!(evil)),
        Filter::ILike(FieldPath(vec![evil.into()]), evil.into()),
        Filter::Contains(FieldPath(vec![evil.into()]), json!({ evil: evil })),
        range("a", [Some(json!(evil)), None, None, None]),
    ]);
    let (s, _) = sql(&f);
    assert!(!s.contains("DROP"), "{s}");
}

#[test]
fn reference_evaluator_passes_fixtures() {
    let docs = fixtures::documents();
    let rows = || docs.iter().map(|(id, d)| (*id, d));
    for case in fixtures::filter_cases() {
        let got: Vec<&str> = rows()
            .filter(|(_, d)| case.filter.matches(d))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(got, case.expected, "filter case {:?}", case.name);
    }
    for case in fixtures::query_cases() {
        assert_eq!(
            case.query.evaluate(rows()).unwrap(),
            case.expected,
            "query case {:?}",
            case.name
        );
    }
}

#[test]
fn numbers_compare_exactly() {
    let eq = |a: Value, b: Value| Filter::Eq(p("n"), b).matches(&json!({ "n": a }));
    assert!(eq(json!(1), json!(1.0)));
    assert!(eq(json!(u64::MAX), json!(u64::MAX)));
    assert!(!eq(json!(9007199254740993_i64), json!(9007199254740992.0)));
    assert!(eq(json!(-0.0), json!(0)));
    let gt =
        |a: Value, b: Value| range("n", [Some(b), None, None, None]).matches(&json!({ "n": a }));
    assert!(gt(json!(2), json!(1.5)));
    assert!(gt(json!(-1), json!(-1.5)));
    assert!(!gt(json!(-2), json!(-1.5)));
    assert!(gt(json!(1e300), json!(i64::MAX)));
}

/// Pages through `case` with cursors, `run` giving each page's ids.
fn page_through<'a>(
    case: &fixtures::KeysetCase,
    docs: &'a [(&'static str, Value)],
    mut run: impl FnMut(&Query) -> Vec<&'a str>,
) -> Vec<&'a str> {
    let doc = |id: &str| {
        docs.iter()
            .find(|(i, _)| *i == id)
            .expect("a row")
            .1
            .clone()
    };
    let mut query = case.query();
    let mut all = Vec::new();
    loop {
        let ids = run(&query);
        let items: Vec<(String, Value)> = ids.iter().map(|id| (id.to_string(), doc(id))).collect();
        all.extend(ids);
        match query.next_cursor(&items) {
            Some(next) => query.after = Some(next),
            None => return all,
        }
        assert!(all.len() <= docs.len(), "{}: pages never end", case.name);
    }
}

#[test]
fn reference_evaluator_pages_with_cursors_like_offsets() {
    let docs = fixtures::documents();
    let rows = || docs.iter().map(|(id, d)| (*id, d));
    for case in fixtures::keyset_cases() {
        let mut whole = case.query();
        whole.limit = 100;
        assert_eq!(
            whole.evaluate(rows()).unwrap(),
            case.expected,
            "offset order of {:?}",
            case.name
        );
        let paged = page_through(&case, &docs, |q| q.evaluate(rows()).unwrap());
        assert_eq!(paged, case.expected, "keyset pages of {:?}", case.name);
    }
}

#[test]
fn cursors_are_opaque_tokens_and_refuse_tampering() {
    let sort = vec![Sort::parse("-age").unwrap(), Sort::parse("name").unwrap()];
    let doc = json!({"age": 30, "name": "Al", "x": "'; DROP TABLE views; --"});
    let cursor = Cursor::of_row(&sort, "d'1", &doc);
    let token = cursor.encode();
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{token}"
    );
    assert_eq!(Cursor::decode(&token).unwrap(), cursor);
    assert_eq!(token.parse::<Cursor>().unwrap(), cursor);
    assert_eq!(
        serde_json::to_value(&cursor).unwrap(),
        Value::String(token.clone())
    );
    let (keys, id) = cursor.position(&sort).unwrap();
    assert_eq!((keys, id), (&[json!(30), json!("Al")][..], "d'1"));

    let invalid = |r: Result<Cursor, StoreError>| matches!(r, Err(StoreError::InvalidQuery(_)));
    let b64 = |json: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    };
    for bad in [
        String::new(),
        "not a cursor!".to_owned(),
        format!("{token}="),
        token[..token.len() - 2].to_owned(),
        b64("[]"),
        b64(r#"{"s": ["a"], "k": [], "i": "x"}"#),
        b64(r#"{"s": ["a"], "k": [1], "i": 1}"#),
        b64(r#"{"s": ["a"], "k": [1], "i": "x", "sql": "1=1"}"#),
        b64(r#"{"s": ["a"], "k": ["\u0000"], "i": "x"}"#),
        b64(r#"{"s": ["a"], "k": [1e999], "i": "x"}"#),
        "A".repeat(MAX_CURSOR_LEN + 1),
    ] {
        assert!(invalid(Cursor::decode(&bad)), "{bad:?} decoded");
        assert!(serde_json::from_value::<Cursor>(json!(bad)).is_err());
    }
    // A well-formed cursor of another sort is refused by the query, not misread.
    let other = Cursor::decode(&b64(r#"{"s": ["age"], "k": [1], "i": "x"}"#)).unwrap();
    let mut query = Query::new(Filter::All, sort.clone(), 10);
    query.after = Some(other);
    assert!(matches!(
        query.evaluate(std::iter::empty()),
        Err(StoreError::InvalidQuery(_))
    ));
    assert!(matches!(
        compile(&query, 1),
        Err(StoreError::InvalidQuery(_))
    ));
    assert!(matches!(
        super::sqlite::compile(&query, 1),
        Err(StoreError::InvalidQuery(_))
    ));
    // Values the cursor does not need are not kept: compounds by their rank only.
    let c = Cursor::of_row(
        &[Sort::parse("tags").unwrap()],
        "i",
        &json!({"tags": [1, 2]}),
    );
    assert_eq!(
        c.position(&[Sort::parse("tags").unwrap()]).unwrap().0,
        [json!([])]
    );
}

#[test]
fn cursor_values_only_travel_as_parameters() {
    let sort = vec![Sort::parse("name").unwrap(), Sort::parse("-n").unwrap()];
    let evil = "x'); DROP TABLE views; --";
    let mut query = Query::new(Filter::All, sort.clone(), 5);
    query.after = Some(Cursor::of_row(&sort, evil, &json!({"name": evil, "n": 1})));
    let pg = compile(&query, 2).unwrap();
    assert!(!pg.where_sql.contains("DROP"), "{}", pg.where_sql);
    assert!(pg.params.contains(&SqlParam::Text(evil.into())));
    let lite = super::sqlite::compile(&query, 2).unwrap();
    assert!(!lite.where_sql.contains("DROP"), "{}", lite.where_sql);
}
