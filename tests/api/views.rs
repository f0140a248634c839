//! The view stores: collections read by id only stay out of the Postgres document index, and
//! every collection stays searchable; changes inside documents behave alike on both backends.
use annals_projections::filter::{Filter, Query};
use annals_projections::identity::{API_KEYS, PROFILES};
use annals_projections::{Nested, Position, ViewOp};
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, backends, spawn_app, unique_email};

fn query(filter: serde_json::Value) -> Query {
    Query {
        filter: Filter::from_json(&filter).unwrap(),
        sort: vec![],
        limit: 10,
        offset: 0,
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

    // Upserted and merged profiles are marked unindexed; API keys (searched by owner and
    // name) are indexed.
    let marks: Vec<(String, bool)> =
        sqlx::query_as("SELECT collection, indexed FROM views ORDER BY collection")
            .fetch_all(&app.pg())
            .await
            .unwrap();
    assert_eq!(
        marks,
        vec![(API_KEYS.to_string(), true), (PROFILES.to_string(), false)]
    );

    let views = &app.infra.views;
    let profiles = views
        .find(
            PROFILES,
            &query(json!({"email": email, "firstName": "Grace"})),
        )
        .await
        .unwrap();
    assert_eq!(profiles.total, 1, "{profiles:?}");
    let keys = views
        .find(API_KEYS, &query(json!({"name": "ci"})))
        .await
        .unwrap();
    assert_eq!(keys.total, 1, "{keys:?}");
    let none = views
        .find(API_KEYS, &query(json!({"name": "other"})))
        .await
        .unwrap();
    assert_eq!(none.total, 0);
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
        collection: C,
        id: id.into(),
        path: path.iter().map(|k| k.to_string()).collect(),
        change,
    };
    let ops = vec![
        ViewOp::Upsert {
            collection: C,
            id: "d".into(),
            doc: start.clone(),
            owner: None,
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
