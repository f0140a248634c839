//! The view stores: collections read by id only stay out of the Postgres document index, and
//! every collection stays searchable; collections named at run time; counts on request;
//! keyset pages; pages in an owner's order; changes inside documents behave alike on both
//! backends.
use annals_contracts::filter::{Cursor, FieldPath, Filter, Query, Sort, Within};
use annals_contracts::{Nested, Position, StoreError, ViewOp};
use annals_domain::identity::user::person::COLLECTION as PERSONS_COLLECTION;
use annals_projections::identity::{API_KEYS, PROFILES};
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, backends, spawn_app, unique_email};

fn query(filter: serde_json::Value) -> Query {
    Query {
        count: true,
        ..Query::new(Filter::from_json(&filter).unwrap(), vec![], 10)
    }
}

#[tokio::test]
async fn profiles_stay_out_of_the_document_index_and_every_collection_is_searchable() {
    let app = spawn_app(Backend::Postgres).await;
    let email = unique_email();
    let (access, _) = app.signed_up(&email).await;
    let created = app.create_api_key(&access, "ci").await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let renamed = app.update_me(&access, &json!({"firstName": "Grace"})).await;
    assert_eq!(renamed.status(), StatusCode::OK);
    app.settle("user_profiles").await;
    app.settle("api_keys").await;
    app.settle("kitsu_persons").await;

    // Upserted and merged profiles are marked unindexed; API keys (searched by owner and
    // name) and the tracker's persons (listed by filters) are indexed.
    let marks: Vec<(String, bool)> =
        sqlx::query_as("SELECT collection, indexed FROM views ORDER BY collection")
            .fetch_all(&app.pg())
            .await
            .unwrap();
    assert_eq!(
        marks,
        vec![
            (API_KEYS.to_string(), true),
            (PERSONS_COLLECTION.to_string(), true),
            (PROFILES.to_string(), false)
        ]
    );

    let views = &app.infra.views;
    let profiles = views
        .find(
            PROFILES,
            &query(json!({"email": email, "firstName": "Grace"})),
        )
        .await
        .unwrap();
    assert_eq!(profiles.total, Some(1), "{profiles:?}");
    let keys = views
        .find(API_KEYS, &query(json!({"name": "ci"})))
        .await
        .unwrap();
    assert_eq!(keys.total, Some(1), "{keys:?}");
    let none = views
        .find(API_KEYS, &query(json!({"name": "other"})))
        .await
        .unwrap();
    assert_eq!(none.total, Some(0));
}

#[apply(backends)]
async fn run_time_collections_page_by_cursor_and_count_on_request(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let views = &app.infra.views;
    // A collection named at run time, as a document database names its users' collections.
    let collection = format!("dc:{}:notes", uuid::Uuid::new_v4().simple());
    let ops: Vec<ViewOp> = (0..23)
        .map(|i| {
            // Mixed types and missing values on the sort key, ties between rows.
            let rank = match i % 4 {
                0 => json!(i / 3),
                1 => json!(format!("r{:02}", i / 2)),
                2 => json!(i % 3 == 0),
                _ => json!(null),
            };
            let doc = if i % 7 == 0 {
                json!({"n": i})
            } else {
                json!({"n": i, "rank": rank})
            };
            ViewOp::upsert(collection.clone(), format!("doc-{i:02}"), doc)
        })
        .chain([ViewOp::increment(collection.clone(), "doc-00", "n", 5)])
        .collect();
    views
        .commit("test_dynamic", Position::ZERO, Position::new(0, 1), &ops)
        .await
        .unwrap();
    assert_eq!(
        views.get(&collection, "doc-00").await.unwrap(),
        Some(json!({"n": 5}))
    );

    let sort = vec![Sort::parse("-rank").unwrap(), Sort::parse("n").unwrap()];
    let everything = Query {
        count: true,
        ..Query::new(Filter::All, sort.clone(), 100)
    };
    let whole = views.find(&collection, &everything).await.unwrap();
    assert_eq!(whole.total, Some(23));
    assert_eq!(whole.next, None, "a short page ends the order");
    let order: Vec<String> = whole.items.iter().map(|(id, _)| id.clone()).collect();

    // Pages of 5 through cursors (as tokens, like a client's) give the same order; only
    // counted queries count.
    let mut query = Query::new(Filter::All, sort.clone(), 5);
    let mut paged = Vec::new();
    loop {
        let page = views.find(&collection, &query).await.unwrap();
        assert_eq!(page.total, None);
        paged.extend(page.items.iter().map(|(id, _)| id.clone()));
        let Some(next) = page.next else { break };
        let token = next.encode();
        query.after = Some(token.parse().unwrap());
        assert!(paged.len() <= 23);
    }
    assert_eq!(paged, order);

    // A filter narrows the pages; the cursor still belongs to the sort.
    let filtered = Query {
        count: true,
        after: Some(Cursor::of_row(&sort, "doc-03", &json!({"n": 3}))),
        ..Query::new(
            Filter::from_json(&json!({"n": {"$lt": 10}})).unwrap(),
            sort.clone(),
            4,
        )
    };
    let page = views.find(&collection, &filtered).await.unwrap();
    assert_eq!(page.total, Some(10), "the total ignores the cursor");
    let after_doc_03: Vec<&String> = order
        .iter()
        .skip_while(|id| *id != "doc-03")
        .skip(1)
        .filter(|id| id[4..].parse::<u32>().unwrap() < 10)
        .take(4)
        .collect();
    let got: Vec<&String> = page.items.iter().map(|(id, _)| id).collect();
    assert_eq!(got, after_doc_03);

    // A cursor of another sort, or a tampered token, is a bad query, not a failure.
    let mut wrong = Query::new(Filter::All, vec![Sort::parse("n").unwrap()], 5);
    wrong.after = Some(Cursor::of_row(&sort, "doc-01", &json!({})));
    assert!(matches!(
        views.find(&collection, &wrong).await,
        Err(StoreError::InvalidQuery(_))
    ));
    assert!(matches!(
        "eyJzIjpbXSwiayI6W10sImkiOjF9".parse::<Cursor>(),
        Err(StoreError::InvalidQuery(_))
    ));

    // Reset takes run-time names too.
    views.reset("test_dynamic", &[&collection]).await.unwrap();
    assert_eq!(views.dump(&collection).await.unwrap(), vec![]);
}

/// `ViewOp::Nested` in each store gives what `Nested::apply` gives in memory: keys set,
/// merged and removed along object paths; paths through anything else, missing documents and
/// empty paths change nothing.
#[apply(backends)]
async fn nested_changes_match_the_in_memory_semantics(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let views = &app.infra.views;
    const C: &str = "nested_test";
    let start = json!({
        "name": "b",
        "members": {"u.1": {"role": "user", "options": {"a": 1}}},
        "invitations": {"x@y.z": {"at": 1}},
        "list": [{"k": 1}],
        "text": "s",
    });
    let nested = |id: &str, path: &[&str], change: Nested| ViewOp::Nested {
        collection: C.into(),
        id: id.into(),
        path: path.iter().map(|k| k.to_string()).collect(),
        change,
    };
    let ops = vec![
        ViewOp::Upsert {
            collection: C.into(),
            id: "d".into(),
            doc: start.clone(),
            owner: None,
            ord: None,
        },
        nested(
            "d",
            &["members", "u'2"],
            Nested::Set(json!({"role": "admin"})),
        ),
        nested(
            "d",
            &["members", "u.1"],
            Nested::Merge(json!({"role": "owner", "n": null})),
        ),
        nested(
            "d",
            &["members", "absent"],
            Nested::Merge(json!({"role": "x"})),
        ),
        nested("d", &["members", "u.1"], Nested::Merge(json!([1]))),
        nested("d", &["invitations", "x@y.z"], Nested::Remove),
        nested("d", &["invitations", "never"], Nested::Remove),
        nested("d", &["list", "0"], Nested::Set(json!(1))),
        nested("d", &["list", "0", "k"], Nested::Remove),
        nested("d", &["text", "k"], Nested::Set(json!(1))),
        nested("d", &["missing", "k"], Nested::Set(json!(1))),
        nested("d", &[], Nested::Set(json!(1))),
        nested("d", &[], Nested::Merge(json!({"top": 1}))),
        nested(
            "d",
            &["members", "u.1", "options", "b"],
            Nested::Set(json!({"deep": true})),
        ),
        nested("ghost", &["members", "u"], Nested::Set(json!(1))),
    ];
    let mut expected = start;
    for op in &ops[1..] {
        if let ViewOp::Nested {
            id, path, change, ..
        } = op
            && id == "d"
        {
            change.apply(&mut expected, path);
        }
    }
    assert_eq!(
        expected["members"]["u.1"],
        json!({"role": "owner", "n": null, "options": {"a": 1, "b": {"deep": true}}})
    );
    // One op per commit (the stores group single ops of a batch differently), then all at once.
    let mut at = Position::ZERO;
    for (i, op) in ops.iter().enumerate() {
        let next = Position::new(0, i as i64 + 1);
        views
            .commit("nested_test", at, next, std::slice::from_ref(op))
            .await
            .unwrap();
        at = next;
    }
    let stored: Value = views.get(C, "d").await.unwrap().unwrap();
    assert_eq!(stored, expected);
    assert_eq!(views.get(C, "ghost").await.unwrap(), None);
    views.reset("nested_test", &[C]).await.unwrap();
    views
        .commit("nested_test", Position::ZERO, Position::new(0, 1), &ops)
        .await
        .unwrap();
    assert_eq!(views.get(C, "d").await.unwrap().unwrap(), expected);
}

/// A delete by filter removes exactly the matching documents of its collection, sees the ops
/// before it in the batch and not those after it, alike on both backends.
#[apply(backends)]
async fn deletes_by_filter_apply_in_batch_order(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let views = &app.infra.views;
    let collection = format!("dc:{}:drop", uuid::Uuid::new_v4().simple());
    let other = format!("{collection}:other");
    let doc = |group: &str, i: i64| json!({"_dc": {"c": group}, "i": i});
    let ops = vec![
        ViewOp::upsert(collection.clone(), "a1", doc("a", 1)),
        ViewOp::upsert(collection.clone(), "b1", doc("b", 1)),
        ViewOp::upsert(other.clone(), "a1", doc("a", 1)),
        // Turns b1 into a group `a` document before the delete: it goes too.
        ViewOp::merge(collection.clone(), "b1", json!({"_dc": {"c": "a"}})),
        ViewOp::upsert(collection.clone(), "c1", doc("c", 1)),
        ViewOp::delete_matching(
            collection.clone(),
            Filter::from_json(&json!({"_dc.c": {"$in": ["a", "c"]}})).unwrap(),
        ),
        // After the delete: comes back, and is kept.
        ViewOp::upsert(collection.clone(), "a2", doc("a", 2)),
        ViewOp::merge(collection.clone(), "c1", json!({"back": true})),
    ];
    views
        .commit(
            "test_delete_matching",
            Position::ZERO,
            Position::new(0, 1),
            &ops,
        )
        .await
        .unwrap();
    let ids = |rows: Vec<(String, Value)>| rows.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    assert_eq!(ids(views.dump(&collection).await.unwrap()), ["a2"]);
    assert_eq!(
        ids(views.dump(&other).await.unwrap()),
        ["a1"],
        "other collections stay"
    );
}

/// A query within one owner, in the owner's order, answers what the same query over that
/// owner's documents answers in memory, whether the store walks its order index (a common
/// filter), gives up on the walk (a rare one) or sorts (another order); a merge keeps the
/// document's place.
#[apply(backends)]
async fn an_owners_order_pages_like_the_documents_sorted(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let views = &app.infra.views;
    let collection = format!("owned_{}", uuid::Uuid::new_v4().simple());
    let doc = |i: i64| json!({"n": 3000 - i, "k": i % 7, "rare": i == 5});
    // Ids run against the order, so an id order would give other pages.
    let ops: Vec<ViewOp> = (0..3000)
        .map(|i| ViewOp::Upsert {
            collection: collection.clone().into(),
            id: format!("a-{i:04}"),
            doc: doc(i),
            owner: Some("a".into()),
            ord: Some(3000 - i),
        })
        .chain((0..50).map(|i| ViewOp::Upsert {
            collection: collection.clone().into(),
            id: format!("b-{i:04}"),
            doc: json!({"n": i, "k": 3, "rare": true}),
            owner: Some("b".into()),
            ord: Some(i),
        }))
        .chain([ViewOp::merge(
            collection.clone(),
            "a-0007",
            json!({"k": 3, "merged": true}),
        )])
        .collect();
    views
        .commit("test_owned", Position::ZERO, Position::new(0, 1), &ops)
        .await
        .unwrap();
    let mut mine: Vec<(String, Value)> = (0..3000).map(|i| (format!("a-{i:04}"), doc(i))).collect();
    mine[7].1 = json!({"n": 2993, "k": 3, "rare": false, "merged": true});

    let within = Within {
        owner: "a".into(),
        ord: FieldPath::parse("n").unwrap(),
    };
    for (filter, sort, offset, limit) in [
        (json!({"k": 3}), "n", 0, 20),
        (json!({"k": 3}), "n", 40, 20),
        (json!({"k": 3}), "n", 420, 20),
        (json!({"rare": true}), "n", 0, 20),
        (json!({}), "n", 2990, 20),
        (json!({"k": {"$in": [1, 2]}}), "-n", 20, 30),
    ] {
        for count in [true, false] {
            let query = Query {
                offset,
                count,
                within: Some(within.clone()),
                ..Query::new(
                    Filter::from_json(&filter).unwrap(),
                    vec![Sort::parse(sort).unwrap()],
                    limit,
                )
            };
            let found = views.find(&collection, &query).await.unwrap();
            let expected = query
                .evaluate(mine.iter().map(|(id, d)| (id.as_str(), d)))
                .unwrap();
            let got: Vec<&str> = found.items.iter().map(|(id, _)| id.as_str()).collect();
            assert_eq!(got, expected, "{filter} by {sort} from {offset}");
            let matching = mine.iter().filter(|(_, d)| query.filter.matches(d)).count() as u64;
            assert_eq!(found.total, count.then_some(matching), "{filter}");
        }
    }
}

/// Bulk writes take the planner's statistics of the views themselves rather than wait for
/// autovacuum's next round, which left a freshly imported collection looking empty to the
/// planner.
#[tokio::test]
async fn bulk_writes_take_the_planners_statistics() {
    let app = spawn_app(Backend::Postgres).await;
    let views = &app.infra.views;
    let pool = app.infra.pg_pool().expect("a Postgres backend").clone();
    let analyzed = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'views'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let before = analyzed().await;
    let ops: Vec<ViewOp> = (0..6000)
        .map(|i| ViewOp::upsert("bulk_statistics", format!("d{i}"), json!({"i": i})))
        .collect();
    views
        .commit("test_bulk", Position::ZERO, Position::new(0, 1), &ops)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while analyzed().await == before {
        assert!(
            std::time::Instant::now() < deadline,
            "no ANALYZE after 6,000 rows"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
