//! DataCube Management API: databases and collections, black-box on both backends.
use reqwest::{Method, StatusCode};
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_error, backends, spawn_app, unique_email};
use crate::surfaces::answer;

/// A signed-up user's access token and a fresh API key of theirs.
pub async fn user_with_key(app: &TestApp) -> (String, String) {
    let (access, _) = app.signed_up(&unique_email()).await;
    let (status, body) = answer(app.create_api_key(&access, "ci").await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (access, body["api_key"]["key"].as_str().unwrap().to_string())
}

/// The seed's create_database example; answers the database id.
pub async fn seed_database(app: &TestApp, access: &str, name: &str) -> String {
    let (status, body) = answer(
        app.datacube(access)
            .post(
                "/api/create_database",
                &json!({
                    "db_name": name,
                    "collections": [{
                        "name": "users",
                        "fields": [
                            {"name": "email", "type": "string"},
                            {"name": "signup_date", "type": "date"}
                        ]
                    }]
                }),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["database"]["id"].as_str().unwrap().to_string()
}

#[apply(backends)]
async fn a_database_is_created_listed_and_described_as_the_seed_shows(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, key) = user_with_key(&app).await;
    let (status, body) = answer(
        app.datacube(&access)
            .post(
                "/api/create_database",
                &json!({"db_name": "My_Customer_Project", "collections": [
                    {"name": "users", "fields": [{"name": "email", "type": "string"}, {"name": "signup_date", "type": "date"}]},
                    {"name": "products"}
                ]}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["success"], json!(true));
    assert_eq!(body["database"]["name"], json!("my_customer_project"));
    let id = body["database"]["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 24);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        body["collections"][0],
        json!({"name": "users", "created": true, "exists": false, "error": null})
    );

    // The API key works on the management API too.
    let (status, listed) = answer(
        app.datacube_key(&key)
            .get("/api/list_databases?page=1&page_size=10&search=CUSTOMER")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(
        listed["data"],
        json!([{"id": id, "name": "my_customer_project", "num_collections": 2}])
    );
    assert_eq!(
        listed["pagination"],
        json!({"page": 1, "page_size": 10, "total": 1, "total_items": 1, "total_pages": 1})
    );

    let (status, meta) = answer(
        app.datacube(&access)
            .get(&format!("/api/get_metadata?database_id={id}"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{meta}");
    let data = &meta["data"];
    assert_eq!(data["_id"], json!(id));
    assert_eq!(data["displayName"], json!("my_customer_project"));
    assert!(data["dbName"].as_str().unwrap().ends_with("_V2"), "{data}");
    assert!(data["user_id"].is_string() && data["created_at"].is_string());
    assert_eq!(data["collections"][0]["name"], json!("users"));
    assert_eq!(
        data["collections"][0]["fields"],
        json!([{"name": "email", "type": "string"}, {"name": "signup_date", "type": "date"}])
    );
    assert_eq!(data["collections"][1]["name"], json!("products"));

    let (status, collections) = answer(
        app.datacube(&access)
            .get(&format!("/api/list_collections?database_id={id}"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(collections["collections"][0]["name"], json!("users"));
    assert_eq!(collections["collections"][0]["num_documents"], json!(0));
}

#[apply(backends)]
async fn names_are_validated_and_unique_per_owner(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, _) = user_with_key(&app).await;
    let (bob, _) = user_with_key(&app).await;
    seed_database(&app, &alice, "shop").await;
    let create =
        |name: &str, collections: Value| json!({"db_name": name, "collections": collections});
    let response = app
        .datacube(&alice)
        .post("/api/create_database", &create("SHOP", json!([])))
        .await;
    assert_error(response, StatusCode::CONFLICT, Some("db_name")).await;
    // Another owner may use the name.
    seed_database(&app, &bob, "shop").await;
    for (body, field) in [
        (create("my shop", json!([])), "db_name"),
        (create("admin", json!([])), "db_name"),
        (
            create("ok", json!([{"name": "a b"}])),
            "collections[0].name",
        ),
        (
            create(
                "ok",
                json!([{"name": "a", "fields": [{"name": "x", "type": "uuid"}]}]),
            ),
            "collections[0].fields[0].type",
        ),
        (
            create("ok", json!([{"name": "a"}, {"name": "a"}])),
            "collections",
        ),
        (create("ok", json!("users")), "collections"),
        (json!({"collections": []}), "db_name"),
    ] {
        let response = app
            .datacube(&alice)
            .post("/api/create_database", &body)
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, Some(field)).await;
    }
}

#[apply(backends)]
async fn collections_are_added_and_dropped_only_by_name(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _) = user_with_key(&app).await;
    let id = seed_database(&app, &access, "shop").await;
    let (status, body) = answer(
        app.datacube(&access)
            .post(
                "/api/create_collection",
                &json!({"database_id": id, "name": "logs", "fields": [{"name": "level", "type": "integer"}]}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["collections"][0]["created"], json!(true));
    let (_, again) = answer(
        app.datacube(&access)
            .post(
                "/api/create_collection",
                &json!({"database_id": id, "name": "logs"}),
            )
            .await,
    )
    .await;
    assert_eq!(again["collections"][0]["exists"], json!(true), "{again}");

    // An unknown name drops nothing and is named.
    let response = app
        .datacube(&access)
        .send(
            Method::DELETE,
            "/api/drop_collections",
            &json!({"database_id": id, "collection_names": ["logs", "old_logs"]}),
        )
        .await;
    let body = assert_error(response, StatusCode::BAD_REQUEST, Some("collection_names")).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("old_logs")
    );
    let (status, body) = answer(
        app.datacube(&access)
            .send(
                Method::DELETE,
                "/api/drop_collections",
                &json!({"database_id": id, "collection_names": ["logs"]}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["dropped_collections"], json!(["logs"]));
    let (_, collections) = answer(
        app.datacube(&access)
            .get(&format!("/api/list_collections?database_id={id}"))
            .await,
    )
    .await;
    let names: Vec<&Value> = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["name"])
        .collect();
    assert_eq!(names, [&json!("users")]);
}

#[apply(backends)]
async fn a_database_drops_only_with_its_name_as_confirmation(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, key) = user_with_key(&app).await;
    let id = seed_database(&app, &access, "shop").await;
    let drop = |confirmation: &str| json!({"database_id": id, "confirmation": confirmation});
    let response = app
        .datacube(&access)
        .send(Method::DELETE, "/api/drop_database", &drop("shops"))
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, Some("confirmation")).await;
    let (status, body) = answer(
        app.datacube_key(&key)
            .post("/api/drop_database", &drop(" SHOP "))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["message"],
        json!("Database 'shop' was successfully dropped.")
    );
    let response = app
        .datacube(&access)
        .get(&format!("/api/get_metadata?database_id={id}"))
        .await;
    assert_error(response, StatusCode::NOT_FOUND, None).await;
    // The name is free again.
    seed_database(&app, &access, "shop").await;
}

#[apply(backends)]
async fn another_users_database_is_not_found_on_every_route(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, _) = user_with_key(&app).await;
    let (bob, bob_key) = user_with_key(&app).await;
    let id = seed_database(&app, &alice, "shop").await;
    for client in [app.datacube(&bob), app.datacube_key(&bob_key)] {
        let response = client
            .get(&format!("/api/get_metadata?database_id={id}"))
            .await;
        assert_error(response, StatusCode::NOT_FOUND, None).await;
    }
    let bob_client = || app.datacube(&bob);
    for response in [
        bob_client()
            .get(&format!("/api/list_collections?database_id={id}"))
            .await,
        bob_client()
            .post("/api/create_collection", &json!({"database_id": id, "name": "x"}))
            .await,
        bob_client()
            .send(
                Method::DELETE,
                "/api/drop_database",
                &json!({"database_id": id, "confirmation": "shop"}),
            )
            .await,
        bob_client()
            .send(
                Method::DELETE,
                "/api/drop_collections",
                &json!({"database_id": id, "collection_names": ["users"]}),
            )
            .await,
        bob_client()
            .get(&format!("/api/crud?database_id={id}&collection_name=users"))
            .await,
        bob_client()
            .post(
                "/api/crud",
                &json!({"database_id": id, "collection_name": "users", "data": {"a": 1}}),
            )
            .await,
        bob_client()
            .put(
                "/api/crud",
                &json!({"database_id": id, "collection_name": "users", "filters": {"a": 1}, "update_data": {"a": 2}}),
            )
            .await,
        bob_client()
            .get("/api/get_metadata?database_id=not-an-id")
            .await,
    ] {
        assert_error(response, StatusCode::NOT_FOUND, None).await;
    }
    let (_, listed) = answer(bob_client().get("/api/list_databases").await).await;
    assert_eq!(listed["data"], json!([]), "{listed}");
}

/// The original's clients use the `/api/v2` base and trailing slashes (and send an insert's
/// documents as both `data` and `documents`): every form answers as the documented path does.
#[apply(backends)]
async fn the_v2_and_trailing_slash_forms_answer_like_the_documented_paths(
    #[case] backend: Backend,
) {
    use reqwest::multipart::{Form, Part};

    let app = spawn_app(backend).await;
    let (access, key) = user_with_key(&app).await;
    for (i, base) in ["/api/v2/", "/api/"].into_iter().enumerate() {
        for slash in ["", "/"] {
            let route = |name: &str| format!("{base}{name}{slash}");
            let name = format!("shop_{i}{}", slash.len());
            let (status, created) = answer(
                app.datacube_key(&key)
                    .post(
                        &route("create_database"),
                        &json!({"db_name": name, "collections": [{"name": "items", "fields": []}]}),
                    )
                    .await,
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{created}");
            let id = created["database"]["id"].as_str().unwrap().to_string();

            let items = json!([{"sku": "a", "n": 1}, {"sku": "b", "n": 2}]);
            let (status, inserted) = answer(
                app.datacube_key(&key)
                    .post(
                        &route("crud"),
                        &json!({"database_id": id, "collection_name": "items",
                                "data": items, "documents": items}),
                    )
                    .await,
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{inserted}");
            assert_eq!(inserted["inserted_ids"].as_array().unwrap().len(), 2);

            let update = json!({"database_id": id, "collection_name": "items",
                                "filters": {"sku": "a"}, "update_data": {"n": 10}});
            let (status, updated) =
                answer(app.datacube_key(&key).put(&route("crud"), &update).await).await;
            assert_eq!(status, StatusCode::OK, "{updated}");
            assert_eq!(updated["modified_count"], json!(1));

            let form = Form::new()
                .text("database_id", id.clone())
                .text("collection_name", "items")
                .part(
                    "json_file",
                    Part::bytes(br#"[{"sku": "c", "n": 3}]"#.to_vec()).file_name("items.json"),
                );
            let (status, imported) = answer(
                app.datacube_key(&key)
                    .multipart(&route("import_data"), form)
                    .await,
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{imported}");

            let filters = "%7B%22n%22%3A%7B%22%24gte%22%3A3%7D%7D";
            let (status, found) = answer(
                app.datacube_key(&key)
                    .get(&format!(
                        "{}?database_id={id}&collection_name=items&filters={filters}",
                        route("crud")
                    ))
                    .await,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{found}");
            assert_eq!(found["pagination"]["total"], json!(2), "{found}");

            let (status, listed) = answer(
                app.datacube_key(&key)
                    .get(&format!("{}?database_id={id}", route("list_collections")))
                    .await,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{listed}");
            assert_eq!(listed["collections"][0]["num_documents"], json!(3));

            let delete = json!({"database_id": id, "collection_name": "items",
                                "filters": {"sku": "c"}});
            let (status, deleted) = answer(
                app.datacube_key(&key)
                    .send(Method::DELETE, &route("crud"), &delete)
                    .await,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{deleted}");
            assert_eq!(deleted["deleted_count"], json!(1));

            let drop = json!({"database_id": id, "confirmation": name});
            let (status, dropped) = answer(
                app.datacube_key(&key)
                    .send(Method::DELETE, &route("drop_database"), &drop)
                    .await,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{dropped}");
        }
    }
    // Different lists under `data` and `documents` are refused, naming the field.
    let id = seed_database(&app, &access, "twice").await;
    let response = app
        .datacube_key(&key)
        .post(
            "/api/v2/crud/",
            &json!({"database_id": id, "collection_name": "users",
                    "data": [{"a": 1}], "documents": [{"a": 2}]}),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, Some("documents")).await;
    // A wrong method on an alias is the surface's 405, an unknown v2 path its 404.
    let response = app
        .datacube_key(&key)
        .delete("/api/v2/list_databases/")
        .await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let response = app.datacube_key(&key).get("/api/v2/nothing").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// A key limited to one database (read-write or read-only) is refused (403) on the owner's
/// other databases, on creating databases, and, read-only, on every write; it lists only its
/// database. The limit is given at the key's creation.
#[apply(backends)]
async fn a_key_limited_to_one_database_is_refused_elsewhere(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, unlimited) = user_with_key(&app).await;
    let mine = seed_database(&app, &access, "mine").await;
    let other = seed_database(&app, &access, "other").await;
    let key = |body: Value| {
        let client = app.datacube(&access);
        async move {
            let (status, body) = answer(client.post("/api/api_keys", &body).await).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["api_key"].clone()
        }
    };
    let writer = key(json!({"name": "w", "database_id": mine})).await;
    assert_eq!(
        (&writer["database_id"], &writer["access"]),
        (&json!(mine), &json!("read_write"))
    );
    let reader = key(json!({"name": "r", "database_id": mine, "access": "read"})).await;
    let (writer, reader) = (
        writer["key"].as_str().unwrap().to_string(),
        reader["key"].as_str().unwrap().to_string(),
    );
    let insert = |database: &str| json!({"database_id": database, "collection_name": "users", "data": {"email": "a@x.io"}});
    let find = |database: &str| format!("/api/crud?database_id={database}&collection_name=users");

    // Read-write there, nothing elsewhere.
    let response = app
        .datacube_key(&writer)
        .post("/api/crud", &insert(&mine))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    for response in [
        app.datacube_key(&writer)
            .post("/api/crud", &insert(&other))
            .await,
        app.datacube_key(&writer).get(&find(&other)).await,
        app.datacube_key(&writer)
            .get(&format!("/api/get_metadata?database_id={other}"))
            .await,
        app.datacube_key(&writer)
            .post(
                "/api/create_database",
                &json!({"db_name": "more", "collections": []}),
            )
            .await,
    ] {
        assert_error(response, StatusCode::FORBIDDEN, None).await;
    }
    let (status, listed) = answer(app.datacube_key(&writer).get("/api/list_databases").await).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&Value> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["name"])
        .collect();
    assert_eq!(names, [&json!("mine")]);

    // Read-only: reads there, no writes.
    let (status, found) = answer(app.datacube_key(&reader).get(&find(&mine)).await).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["pagination"]["total"], json!(1));
    for response in [
        app.datacube_key(&reader).post("/api/crud", &insert(&mine)).await,
        app.datacube_key(&reader)
            .send(
                Method::DELETE,
                "/api/crud",
                &json!({"database_id": mine, "collection_name": "users", "filters": {"email": "a@x.io"}}),
            )
            .await,
        app.datacube_key(&reader)
            .send(
                Method::DELETE,
                "/api/drop_database",
                &json!({"database_id": mine, "confirmation": "mine"}),
            )
            .await,
    ] {
        assert_error(response, StatusCode::FORBIDDEN, None).await;
    }
    // An unlimited key of the same owner still reaches both.
    let response = app.datacube_key(&unlimited).get(&find(&other)).await;
    assert_eq!(response.status(), StatusCode::OK);

    // The limit names one of the caller's databases and a known access.
    let (stranger, _) = user_with_key(&app).await;
    let response = app
        .datacube(&stranger)
        .post("/api/api_keys", &json!({"name": "x", "database_id": mine}))
        .await;
    assert_error(response, StatusCode::NOT_FOUND, None).await;
    let response = app
        .datacube(&access)
        .post(
            "/api/api_keys",
            &json!({"name": "x", "database_id": mine, "access": "admin"}),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, Some("access")).await;
    // The list shows which keys are limited.
    let (_, keys) = answer(app.datacube(&access).get("/api/api_keys").await).await;
    let limited: Vec<(&Value, &Value)> = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (&k["name"], &k["access"]))
        .collect();
    assert_eq!(
        limited,
        [
            (&json!("r"), &json!("read")),
            (&json!("w"), &json!("read_write")),
            (&json!("ci"), &Value::Null)
        ]
    );
}
