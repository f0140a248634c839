//! DataCube Data API (`/api/crud`), black-box on both backends: the seed's examples, every
//! filter operator, pages, sort and projection, updates, deletes, concurrency and bad input.
use reqwest::{Method, StatusCode};
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::datacube::{seed_database, user_with_key};
use crate::helpers::{Backend, TestApp, assert_error, backends, spawn_app};
use crate::surfaces::{Datacube, answer};

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `GET /api/crud` with these extra query parameters; the answer's body.
async fn query(client: Datacube<'_>, id: &str, collection: &str, params: &[(&str, &str)]) -> Value {
    let mut path = format!("/api/crud?database_id={id}&collection_name={collection}");
    for (k, v) in params {
        path.push_str(&format!("&{k}={}", encode(v)));
    }
    let (status, body) = answer(client.get(&path).await).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn insert(client: Datacube<'_>, id: &str, collection: &str, data: Value) -> Vec<String> {
    let (status, body) = answer(
        client
            .post(
                "/api/crud",
                &json!({"database_id": id, "collection_name": collection, "data": data}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["inserted_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The values of `field` in the answer's documents, in order.
fn values(body: &Value, field: &str) -> Vec<Value> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[field].clone())
        .collect()
}

async fn setup(app: &TestApp) -> (String, String, String) {
    let (access, key) = user_with_key(app).await;
    let id = seed_database(app, &access, "crm").await;
    (access, key, id)
}

#[apply(backends)]
async fn the_seed_examples_insert_query_update_and_delete(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, key, id) = setup(&app).await;
    let ids = insert(
        app.datacube_key(&key),
        &id,
        "users",
        json!([
            {"email": "alice@example.com", "signup_date": "2023-10-27T10:00:00Z"},
            {"email": "bob@example.com", "signup_date": "2023-10-27T11:00:00Z"}
        ]),
    )
    .await;
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|i| i.len() == 24));

    let found = query(
        app.datacube_key(&key),
        &id,
        "users",
        &[("filters", r#"{"email": "alice@example.com"}"#)],
    )
    .await;
    assert_eq!(found["data"].as_array().unwrap().len(), 1, "{found}");
    let alice = &found["data"][0];
    assert_eq!(alice["_id"], json!(ids[0]));
    assert_eq!(alice["_version"], json!(1));
    assert!(alice["_created_at"].is_string() && alice["_updated_at"].is_string());
    assert!(alice.get("_dc").is_none(), "{alice}");
    assert_eq!(found["pagination"]["total"], json!(1));

    let (status, updated) = answer(
        app.datacube_key(&key)
            .put(
                "/api/crud",
                &json!({
                    "database_id": id, "collection_name": "users",
                    "filters": {"email": "alice@example.com"},
                    "update_data": {"newsletter_subscribed": true}
                }),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        updated,
        json!({"success": true, "matched_count": 1, "modified_count": 1})
    );
    let found = query(
        app.datacube_key(&key),
        &id,
        "users",
        &[("filters", r#"{"newsletter_subscribed": true}"#)],
    )
    .await;
    assert_eq!(values(&found, "email"), [json!("alice@example.com")]);
    assert_eq!(found["data"][0]["_version"], json!(2));

    let (status, deleted) = answer(
        app.datacube_key(&key)
            .send(
                Method::DELETE,
                "/api/crud",
                &json!({"database_id": id, "collection_name": "users", "filters": {"_id": ids[1]}}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["deleted_count"], json!(1));
    let all = query(app.datacube_key(&key), &id, "users", &[]).await;
    assert_eq!(values(&all, "_id"), [json!(ids[0])]);
}

#[apply(backends)]
async fn every_filter_operator_selects_as_mongo_does(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _, id) = setup(&app).await;
    insert(
        app.datacube(&access),
        &id,
        "people",
        json!([
            {"_id": "a", "name": "Ann", "age": 31, "tags": ["x", "y"], "address": {"city": "Oslo"}},
            {"_id": "b", "name": "Bob", "age": 25, "tags": ["y"], "address": {"city": "Rome"},
             "orders": [{"sku": "k2", "qty": 5}, {"sku": "k1", "qty": 2}]},
            {"_id": "c", "name": "Cid", "age": 40, "nick": null},
            {"_id": "d", "name": "Dee", "age": "n/a"}
        ]),
    )
    .await;
    for (filter, expected) in [
        (json!({"name": "Bob"}), vec!["b"]),
        (json!({"age": {"$eq": 31}}), vec!["a"]),
        (json!({"age": {"$ne": 31}}), vec!["b", "c", "d"]),
        (json!({"age": {"$gt": 30}}), vec!["a", "c"]),
        (json!({"age": {"$gte": 31, "$lt": 40}}), vec!["a"]),
        (json!({"age": {"$lte": 25}}), vec!["b"]),
        (json!({"age": {"$in": [25, 40]}}), vec!["b", "c"]),
        (json!({"age": {"$nin": [25, 40]}}), vec!["a", "d"]),
        (json!({"nick": {"$exists": true}}), vec!["c"]),
        (json!({"tags": {"$exists": false}}), vec!["c", "d"]),
        (json!({"age": {"$not": {"$gt": 30}}}), vec!["b", "d"]),
        (
            json!({"$or": [{"name": "Ann"}, {"age": 25}]}),
            vec!["a", "b"],
        ),
        (
            json!({"$and": [{"tags": "y"}, {"age": {"$lt": 30}}]}),
            vec!["b"],
        ),
        (json!({"address.city": "Oslo"}), vec!["a"]),
        (json!({"tags": "x"}), vec!["a"]),
        (json!({"tags": {"$in": ["x", "q"]}}), vec!["a"]),
        (json!({"tags": ["y"]}), vec!["b"]),
        (json!({"nick": null}), vec!["a", "b", "c", "d"]),
        (json!({"id": "c"}), vec!["c"]),
        (json!({"age": {"$gt": "5"}}), vec!["d"]),
        (
            json!({"name": {"$regex": "^[ab]", "$options": "i"}}),
            vec!["a", "b"],
        ),
        (json!({"name": {"$regex": "e"}}), vec!["d"]),
        (
            json!({"$nor": [{"age": {"$gt": 30}}, {"name": "Bob"}]}),
            vec!["d"],
        ),
        (json!({"tags": {"$all": ["y", "x"]}}), vec!["a"]),
        (json!({"tags": {"$all": ["y"]}}), vec!["a", "b"]),
        (json!({"tags": {"$size": 1}}), vec!["b"]),
        (json!({"age": {"$type": "string"}}), vec!["d"]),
        (json!({"nick": {"$type": ["null", "bool"]}}), vec!["c"]),
        (json!({"tags": {"$elemMatch": {"$regex": "^x"}}}), vec!["a"]),
        (
            json!({"orders": {"$elemMatch": {"sku": "k1", "qty": {"$gte": 2}}}}),
            vec!["b"],
        ),
        // One element must meet every condition.
        (
            json!({"orders": {"$elemMatch": {"sku": "k1", "qty": {"$gte": 3}}}}),
            vec![],
        ),
        (json!({"tags.0": "y"}), vec!["b"]),
        (json!({"tags.1": {"$exists": true}}), vec!["a"]),
        (json!({"orders.1.sku": "k1"}), vec!["b"]),
    ] {
        let found = query(
            app.datacube(&access),
            &id,
            "people",
            &[("filters", &filter.to_string())],
        )
        .await;
        assert_eq!(
            values(&found, "_id"),
            expected.iter().map(|e| json!(e)).collect::<Vec<_>>(),
            "{filter}"
        );
    }
}

#[apply(backends)]
async fn pages_sort_and_projection(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _, id) = setup(&app).await;
    let docs: Vec<Value> = (0..25)
        .map(|i| json!({"n": i, "even": i % 2 == 0, "secret": "s"}))
        .collect();
    insert(app.datacube(&access), &id, "items", Value::Array(docs)).await;
    let first = query(app.datacube(&access), &id, "items", &[]).await;
    assert_eq!(
        values(&first, "n"),
        (0..20).map(|i| json!(i)).collect::<Vec<_>>()
    );
    assert_eq!(
        first["pagination"],
        json!({"page": 1, "page_size": 20, "total": 25, "total_items": 25, "total_pages": 2})
    );
    let last = query(app.datacube(&access), &id, "items", &[("page", "2")]).await;
    assert_eq!(values(&last, "n").len(), 5);
    let past = query(app.datacube(&access), &id, "items", &[("page", "9")]).await;
    assert_eq!(past["data"], json!([]));
    let sorted = query(
        app.datacube(&access),
        &id,
        "items",
        &[
            ("sort", r#"{"even": -1, "n": -1}"#),
            ("page_size", "3"),
            ("fields", r#"{"n": 1, "_id": 0}"#),
        ],
    )
    .await;
    assert_eq!(sorted["data"], json!([{"n": 24}, {"n": 22}, {"n": 20}]));
    let hidden = query(
        app.datacube(&access),
        &id,
        "items",
        &[("fields", r#"{"secret": 0}"#), ("page_size", "1")],
    )
    .await;
    assert!(hidden["data"][0].get("secret").is_none());
    assert!(hidden["data"][0].get("n").is_some());
}

#[apply(backends)]
async fn updates_change_the_first_match_or_every_one_with_operators(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _, id) = setup(&app).await;
    insert(
        app.datacube(&access),
        &id,
        "c",
        json!([{"_id": "1", "k": 1, "tags": []}, {"_id": "2", "k": 1, "tags": []}]),
    )
    .await;
    let put = |body: Value| {
        let mut body = body;
        body["database_id"] = json!(id);
        body["collection_name"] = json!("c");
        let client = app.datacube(&access);
        async move { client.put("/api/crud", &body).await }
    };
    let (_, one) =
        answer(put(json!({"filters": {"k": 1}, "update_data": {"$inc": {"k": 2}}})).await).await;
    assert_eq!(one["modified_count"], json!(1), "{one}");
    let (_, many) = answer(
        put(json!({"filters": {"k": {"$gte": 1}}, "update_many": true,
            "update_data": {"$push": {"tags": "t"}, "$set": {"seen": true}, "$unset": {"k": ""}}}))
        .await,
    )
    .await;
    assert_eq!(many["matched_count"], json!(2));
    assert_eq!(many["modified_count"], json!(2));
    let (_, same) = answer(
        put(json!({"filters": {"seen": true}, "update_many": true, "update_data": {"seen": true}}))
            .await,
    )
    .await;
    assert_eq!(
        same,
        json!({"success": true, "matched_count": 2, "modified_count": 0})
    );
    let all = query(app.datacube(&access), &id, "c", &[]).await;
    assert_eq!(
        all["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["tags"].clone(), d.get("k").cloned()))
            .collect::<Vec<_>>(),
        vec![(json!(["t"]), None), (json!(["t"]), None)]
    );
}

#[apply(backends)]
async fn declared_fields_are_typed_and_bad_input_names_the_field(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _, id) = setup(&app).await;
    let post = |data: Value| {
        let body = json!({"database_id": id, "collection_name": "users", "data": data});
        let client = app.datacube(&access);
        async move { client.post("/api/crud", &body).await }
    };
    let bad = [
        (json!([{"email": "a@x"}, {"email": 7}]), "data[1].email"),
        (json!([{"signup_date": "yesterday"}]), "data[0].signup_date"),
        (json!([{"_id": 5}]), "data[0]._id"),
        (json!([{"a": {"$gt": 1}}]), "data[0].a.$gt"),
        (json!([{"_version": 2}]), "data[0]._version"),
        (json!(["text"]), "data[0]"),
    ];
    for (data, field) in bad {
        assert_error(post(data).await, StatusCode::BAD_REQUEST, Some(field)).await;
    }
    // Nothing of a refused batch was kept.
    let all = query(app.datacube(&access), &id, "users", &[]).await;
    assert_eq!(all["data"], json!([]));
    insert(app.datacube(&access), &id, "users", json!({"_id": "u1"})).await;
    assert_error(
        post(json!([{"_id": "u2"}, {"_id": "u1"}])).await,
        StatusCode::CONFLICT,
        Some("data[1]._id"),
    )
    .await;
    assert_eq!(
        query(app.datacube(&access), &id, "users", &[]).await["pagination"]["total"],
        json!(1)
    );

    let get = |params: &str| {
        let path = format!("/api/crud?database_id={id}&collection_name=users&{params}");
        let client = app.datacube(&access);
        async move { client.get(&path).await }
    };
    for (params, field) in [
        ("filters=%7Bnot-json", "filters"),
        ("filters=%5B1%5D", "filters"),
        (
            "filters=%7B%22a%22%3A%7B%22%24where%22%3A1%7D%7D",
            "filters.a",
        ),
        ("filters=%7B%22%24where%22%3A%221%22%7D", "filters"),
        (
            "filters=%7B%22a%22%3A%7B%22%24elemMatch%22%3A%7B%22%24expr%22%3A1%7D%7D%7D",
            "filters.a.$elemMatch",
        ),
        (
            "filters=%7B%22a%22%3A%7B%22%24type%22%3A%22int%22%7D%7D",
            "filters.a",
        ),
        ("filters=%7B%22a.01%22%3A1%7D", "filters.a.01"),
        (
            "filters=%7B%22a%22%3A%7B%22%24regex%22%3A%22(%22%7D%7D",
            "filters.a",
        ),
        (
            "filters=%7B%22a%22%3A%7B%22%24options%22%3A%22i%22%7D%7D",
            "filters.a",
        ),
        ("page=0", "page"),
        ("page_size=1001", "page_size"),
        ("sort=%7B%22a%22%3A2%7D", "sort.a"),
        ("fields=%7B%22a%22%3A1%2C%22b%22%3A0%7D", "fields"),
    ] {
        assert_error(get(params).await, StatusCode::BAD_REQUEST, Some(field)).await;
    }
    let put = |body: Value| {
        let mut body = body;
        body["database_id"] = json!(id);
        body["collection_name"] = json!("users");
        let client = app.datacube(&access);
        async move { client.put("/api/crud", &body).await }
    };
    for (body, field) in [
        (json!({"filters": {}, "update_data": {"a": 1}}), "filters"),
        (
            json!({"filters": {"_id": "u1"}, "update_data": {"$rename": {"a": "b"}}}),
            "update_data",
        ),
        (
            json!({"filters": {"_id": "u1"}, "update_data": {"email": 3}}),
            "email",
        ),
        (
            json!({"filters": {"_id": "u1"}, "update_data": {"_id": "u9"}}),
            "_id",
        ),
        (json!({"filters": {"_id": "u1"}}), "update_data"),
    ] {
        assert_error(put(body).await, StatusCode::BAD_REQUEST, Some(field)).await;
    }
    let delete = app
        .datacube(&access)
        .send(
            Method::DELETE,
            "/api/crud",
            &json!({"database_id": id, "collection_name": "users", "filters": {}}),
        )
        .await;
    assert_error(delete, StatusCode::BAD_REQUEST, Some("filters")).await;
    let (_, all) = answer(
        app.datacube(&access)
            .send(
                Method::DELETE,
                "/api/crud",
                &json!({"database_id": id, "collection_name": "users", "filters": {}, "all": true}),
            )
            .await,
    )
    .await;
    assert_eq!(all["deleted_count"], json!(1));

    // Malformed JSON bodies, deep nesting and huge documents.
    let raw = app
        .client
        .post(app.url("/api/crud"))
        .bearer_auth(&access)
        .header("content-type", "application/json")
        .body("{\"database_id\": ")
        .send()
        .await
        .unwrap();
    assert_error(raw, StatusCode::BAD_REQUEST, Some("body")).await;
    let mut deep = json!(1);
    for _ in 0..120 {
        deep = json!({ "d": deep });
    }
    let response = post(json!({ "deep": deep })).await;
    assert!(response.status().is_client_error(), "{}", response.status());
    let huge = "x".repeat(1_100_000);
    let response = post(json!({ "blob": huge })).await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, Some("data[0]")).await;
    let response = post(json!({ "blob": "x".repeat(3_000_000) })).await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, Some("body")).await;
}

#[apply(backends)]
async fn concurrent_updates_by_filter_lose_nothing(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _, id) = setup(&app).await;
    insert(
        app.datacube(&access),
        &id,
        "counters",
        json!({"_id": "c", "group": "g", "n": 0}),
    )
    .await;
    let bump = || {
        let body = json!({"database_id": id, "collection_name": "counters", "filters": {"group": "g"},
                          "update_many": true, "update_data": {"$inc": {"n": 1}}});
        let client = app.datacube(&access);
        async move { client.put("/api/crud", &body).await }
    };
    let add = |i: usize| {
        let body = json!({"database_id": id, "collection_name": "counters", "data": {"group": "other", "i": i}});
        let client = app.datacube(&access);
        async move { client.post("/api/crud", &body).await }
    };
    let bumps = futures::future::join_all((0..16).map(|_| bump()));
    let adds = futures::future::join_all((0..16).map(add));
    let (bumps, adds) = tokio::join!(bumps, adds);
    assert!(bumps.iter().all(|r| r.status() == StatusCode::OK));
    assert!(adds.iter().all(|r| r.status() == StatusCode::CREATED));
    let found = query(
        app.datacube(&access),
        &id,
        "counters",
        &[("filters", r#"{"_id": "c"}"#)],
    )
    .await;
    assert_eq!(found["data"][0]["n"], json!(16), "{found}");
    assert_eq!(found["data"][0]["_version"], json!(17));
}

#[apply(backends)]
async fn dropped_collections_and_databases_leave_the_read_models(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _, id) = setup(&app).await;
    insert(
        app.datacube(&access),
        &id,
        "logs",
        json!([{"a": 1}, {"a": 2}]),
    )
    .await;
    insert(
        app.datacube(&access),
        &id,
        "users",
        json!([{"email": "a@x.io"}, {"email": "b@x.io"}]),
    )
    .await;
    let logs = {
        use annals_projections::Projection;
        use annals_projections::datacube::{DATABASES, DatabaseViews};
        app.settle(DatabaseViews.name()).await;
        let database = app.infra.views.get(DATABASES, &id).await.unwrap().unwrap();
        database["collections"]["logs"]["collection_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id for logs: {database}"))
            .to_string()
    };
    assert_eq!(stored_documents(&app, "c", &logs).await, 2);
    let (_, collections) = answer(
        app.datacube(&access)
            .get(&format!("/api/list_collections?database_id={id}"))
            .await,
    )
    .await;
    assert_eq!(
        collections["collections"][1],
        json!({"name": "logs", "num_documents": 2, "fields": []})
    );
    let (status, _) = answer(
        app.datacube(&access)
            .send(
                Method::DELETE,
                "/api/drop_collections",
                &json!({"database_id": id, "collection_names": ["logs"]}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let response = app
        .datacube(&access)
        .get(&format!("/api/crud?database_id={id}&collection_name=logs"))
        .await;
    assert_error(response, StatusCode::NOT_FOUND, None).await;
    // The documents' rows are gone from the read model, not only out of sight.
    assert_eq!(stored_documents(&app, "c", &logs).await, 0);
    assert_eq!(stored_documents(&app, "d", &id).await, 2, "users stay");
    // Created again (by an insert), it starts empty.
    insert(app.datacube(&access), &id, "logs", json!({"a": 3})).await;
    let all = query(app.datacube(&access), &id, "logs", &[]).await;
    assert_eq!(values(&all, "a"), [json!(3)]);

    let (status, _) = answer(
        app.datacube(&access)
            .send(
                Method::DELETE,
                "/api/drop_database",
                &json!({"database_id": id, "confirmation": "crm"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored_documents(&app, "d", &id).await, 0);
}

/// How many rows of the document read model have `_dc.<key>` equal to `value` (`c`: a
/// collection id, `d`: a database id), once the projection has caught up.
async fn stored_documents(app: &TestApp, key: &str, value: &str) -> usize {
    use annals_projections::Projection;
    use annals_projections::datacube::{DOCUMENTS, DocumentViews, META};
    app.settle(DocumentViews.name()).await;
    let rows = app.infra.views.dump(DOCUMENTS).await.unwrap();
    rows.iter()
        .filter(|(_, doc)| doc[META][key].as_str() == Some(value))
        .count()
}

/// `upsert: true` inserts the filter's equalities changed by `update_data` when nothing
/// matches (answering `upserted_id`) and updates as usual otherwise.
#[apply(backends)]
async fn an_upsert_inserts_when_nothing_matches(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, key, id) = setup(&app).await;
    let put = |body: Value| {
        let mut body = body;
        body["database_id"] = json!(id);
        body["collection_name"] = json!("users");
        let client = app.datacube_key(&key);
        async move { answer(client.put("/api/crud", &body).await).await }
    };
    let (status, body) = put(json!({"filters": {"email": "new@x.io", "age": {"$gt": 3}},
                                    "update_data": {"$set": {"plan": "pro"}, "$inc": {"logins": 1}},
                                    "upsert": true}))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["matched_count"], json!(0));
    assert_eq!(body["modified_count"], json!(0));
    let upserted = body["upserted_id"].as_str().unwrap().to_string();
    assert_eq!(upserted.len(), 24);
    let found = query(app.datacube_key(&key), &id, "users", &[]).await;
    assert_eq!(found["data"].as_array().unwrap().len(), 1, "{found}");
    let doc = &found["data"][0];
    assert_eq!(doc["_id"], json!(upserted));
    assert_eq!(
        (&doc["email"], &doc["plan"], &doc["logins"]),
        (&json!("new@x.io"), &json!("pro"), &json!(1))
    );
    assert!(
        doc.get("age").is_none(),
        "only equalities are inserted: {doc}"
    );

    // It matches now: an update, no insert.
    let (status, body) = put(json!({"filters": {"email": "new@x.io"},
                                    "update_data": {"$inc": {"logins": 1}}, "upsert": true}))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["matched_count"], json!(1));
    assert!(body.get("upserted_id").is_none(), "{body}");

    // The filter's `_id` (or `id`) becomes the document's; a declared field keeps its type.
    let (status, body) = put(
        json!({"filters": {"id": "u-7"}, "update_data": {"email": "s@x.io"},
                                    "upsert": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["upserted_id"], json!("u-7"));
    let (status, body) = put(
        json!({"filters": {"_id": "u-8"}, "update_data": {"email": 5},
                                    "upsert": true}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], json!("update_data.email"), "{body}");
    let (status, body) =
        put(json!({"filters": {"a": 1}, "update_data": {"b": 1}, "upsert": "yes"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], json!("upsert"));
    let total =
        query(app.datacube_key(&key), &id, "users", &[]).await["pagination"]["total"].clone();
    assert_eq!(total, json!(2));
}

/// `soft_delete` (the original's flag, true or false) deletes as every delete does: the
/// document leaves the reads and counts, its `_id` stays taken, its history stays.
#[apply(backends)]
async fn a_soft_delete_hides_the_document_and_keeps_its_history(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, key, id) = setup(&app).await;
    insert(
        app.datacube_key(&key),
        &id,
        "users",
        json!([{"_id": "s1", "email": "a@x.io"}, {"_id": "s2", "email": "b@x.io"}]),
    )
    .await;
    for (doc, soft) in [("s1", json!(true)), ("s2", json!(false))] {
        let (status, body) = answer(
            app.datacube_key(&key)
                .send(
                    Method::DELETE,
                    "/api/crud",
                    &json!({"database_id": id, "collection_name": "users",
                            "filters": {"_id": doc}, "soft_delete": soft}),
                )
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["deleted_count"], json!(1));
    }
    let found = query(app.datacube_key(&key), &id, "users", &[]).await;
    assert_eq!(found["pagination"]["total"], json!(0), "{found}");
    let (_, history) = answer(
        app.datacube(&access)
            .get(&format!(
                "/api/crud/history?database_id={id}&collection_name=users&document_id=s1"
            ))
            .await,
    )
    .await;
    let events: Vec<&Value> = history["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{history}"))
        .iter()
        .map(|v| &v["event"])
        .collect();
    assert_eq!(events, [&json!("inserted"), &json!("deleted")], "{history}");
    let response = app
        .datacube_key(&key)
        .post(
            "/api/crud",
            &json!({"database_id": id, "collection_name": "users", "data": {"_id": "s1"}}),
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, Some("data[0]._id")).await;
    let response = app
        .datacube_key(&key)
        .send(
            Method::DELETE,
            "/api/crud",
            &json!({"database_id": id, "collection_name": "users",
                    "filters": {"_id": "s1"}, "soft_delete": "yes"}),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, Some("soft_delete")).await;
}

/// A query asked again while nothing changed is answered from the answer kept for its owner
/// (until a projection moves): every insert, update and delete still shows in the next answer.
#[apply(backends)]
async fn a_repeated_query_follows_every_change(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, key, id) = setup(&app).await;
    let client = || app.datacube_key(&key);
    let filter = [("filters", r#"{"plan": "pro"}"#)];
    let ids = insert(
        client(),
        &id,
        "users",
        json!([{"email": "a@example.com", "plan": "pro"}, {"email": "b@example.com", "plan": "free"}]),
    )
    .await;
    for _ in 0..3 {
        let found = query(client(), &id, "users", &filter).await;
        assert_eq!(values(&found, "email"), [json!("a@example.com")]);
    }

    insert(
        client(),
        &id,
        "users",
        json!({"email": "c@example.com", "plan": "pro"}),
    )
    .await;
    let found = query(client(), &id, "users", &filter).await;
    assert_eq!(
        values(&found, "email"),
        [json!("a@example.com"), json!("c@example.com")]
    );

    let change = json!({"database_id": id, "collection_name": "users",
        "filters": {"_id": ids[1]}, "update_data": {"plan": "pro"}});
    let (status, body) = answer(client().put("/api/crud", &change).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = query(client(), &id, "users", &filter).await;
    assert_eq!(found["pagination"]["total"], json!(3), "{found}");

    let gone = json!({"database_id": id, "collection_name": "users", "filters": {"_id": ids[0]}});
    let (status, body) = answer(client().send(Method::DELETE, "/api/crud", &gone).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = query(client(), &id, "users", &filter).await;
    assert_eq!(
        values(&found, "email"),
        [json!("b@example.com"), json!("c@example.com")]
    );
}
