//! DataCube `POST /api/import_data`: multipart uploads of JSON arrays and NDJSON, all or
//! nothing, within a size limit; black-box on both backends.
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::datacube::{seed_database, user_with_key};
use crate::helpers::{Backend, Options, assert_error, backends, spawn_app, spawn_app_with};
use crate::surfaces::answer;

fn form(database_id: &str, collection: Option<&str>, file_name: &str, file: Vec<u8>) -> Form {
    let mut form = Form::new().text("database_id", database_id.to_string());
    if let Some(c) = collection {
        form = form.text("collection_name", c.to_string());
    }
    form.part(
        "json_file",
        Part::bytes(file).file_name(file_name.to_string()),
    )
}

fn users(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"email": format!("u{i}@example.com"), "n": i}))
        .collect()
}

#[apply(backends)]
async fn an_array_or_ndjson_is_imported_into_a_collection(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, key) = user_with_key(&app).await;
    let id = seed_database(&app, &access, "crm").await;
    let file = serde_json::to_vec(&users(50)).unwrap();
    let (status, body) = answer(
        app.datacube_key(&key)
            .multipart(
                "/api/import_data",
                form(&id, None, "My Events-2024.json", file),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({"success": true, "collection": "my_events_2024", "inserted_count": 50})
    );
    let ndjson: String = users(3).iter().map(|u| format!("{u}\n")).collect();
    let (status, body) = answer(
        app.datacube(&access)
            .multipart(
                "/api/import_data",
                form(&id, Some("users"), "u.ndjson", ndjson.into_bytes()),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["inserted_count"], json!(3));
    let (_, collections) = answer(
        app.datacube(&access)
            .get(&format!("/api/list_collections?database_id={id}"))
            .await,
    )
    .await;
    let counts: Vec<(Value, Value)> = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].clone(), c["num_documents"].clone()))
        .collect();
    assert_eq!(
        counts,
        vec![
            (json!("users"), json!(3)),
            (json!("my_events_2024"), json!(50))
        ]
    );
}

#[apply(backends)]
async fn a_bad_ten_thousandth_document_keeps_nothing(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _) = user_with_key(&app).await;
    let id = seed_database(&app, &access, "crm").await;
    let mut docs = users(10_000);
    docs[9_999]["email"] = json!(42);
    let response = app
        .datacube(&access)
        .multipart(
            "/api/import_data",
            form(
                &id,
                Some("users"),
                "users.json",
                serde_json::to_vec(&docs).unwrap(),
            ),
        )
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        Some("json_file[9999].email"),
    )
    .await;
    let response = app
        .datacube(&access)
        .multipart(
            "/api/import_data",
            form(
                &id,
                Some("users"),
                "users.json",
                b"[{\"a\": 1}, {\"a\": ]".to_vec(),
            ),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, Some("json_file[1]")).await;
    let (_, collections) = answer(
        app.datacube(&access)
            .get(&format!("/api/list_collections?database_id={id}"))
            .await,
    )
    .await;
    assert_eq!(collections["collections"][0]["num_documents"], json!(0));
}

#[apply(backends)]
async fn a_file_over_the_limit_is_refused_with_413(#[case] backend: Backend) {
    let app = spawn_app_with(Options {
        import_max_bytes: 64 * 1024,
        ..Options::of(backend)
    })
    .await;
    let (access, _) = user_with_key(&app).await;
    let id = seed_database(&app, &access, "crm").await;
    let file = serde_json::to_vec(&users(2_000)).unwrap();
    assert!(file.len() > 64 * 1024);
    let response = app
        .datacube(&access)
        .multipart("/api/import_data", form(&id, None, "big.json", file))
        .await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, Some("json_file")).await;
    let response = app
        .datacube(&access)
        .multipart(
            "/api/import_data",
            Form::new().text("database_id", id.clone()),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, Some("json_file")).await;
}

/// An import is written in chunks inside one transaction: several chunks land together (the
/// new collection with them), and an `_id` the collection already has, found only when
/// written, keeps nothing of the file (nor the collection it would have created).
#[apply(backends)]
async fn a_chunked_import_lands_whole_or_not_at_all(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, key) = user_with_key(&app).await;
    let id = seed_database(&app, &access, "crm").await;
    let mut docs = users(2_500);
    docs[1_234]["_id"] = json!("taken");
    // The file before the other fields: the form's order is the client's.
    let file_first = Form::new()
        .part(
            "json_file",
            Part::bytes(serde_json::to_vec(&docs).unwrap()).file_name("events.json"),
        )
        .text("database_id", id.clone());
    let (status, body) = answer(
        app.datacube_key(&key)
            .multipart("/api/import_data", file_first)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["inserted_count"], json!(2_500));
    let (_, collections) = answer(
        app.datacube(&access)
            .get(&format!("/api/list_collections?database_id={id}"))
            .await,
    )
    .await;
    assert_eq!(
        collections["collections"][1]["num_documents"],
        json!(2_500),
        "{collections}"
    );

    // Again into a new collection holding that id: a conflict, nothing kept.
    let again = |collection: &'static str| {
        form(
            &id,
            Some(collection),
            "x.json",
            serde_json::to_vec(&docs).unwrap(),
        )
    };
    let response = app
        .datacube_key(&key)
        .multipart("/api/import_data", again("events"))
        .await;
    assert_error(response, StatusCode::CONFLICT, Some("json_file[1234]._id")).await;
    let response = app
        .datacube_key(&key)
        .multipart("/api/import_data", again("fresh"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let mut bad = users(1_500);
    bad[1_400]["_id"] = json!("taken");
    let response = app
        .datacube_key(&key)
        .multipart(
            "/api/import_data",
            form(
                &id,
                Some("fresh"),
                "x.json",
                serde_json::to_vec(&bad).unwrap(),
            ),
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, Some("json_file[1400]._id")).await;
    let (_, collections) = answer(
        app.datacube(&access)
            .get(&format!("/api/list_collections?database_id={id}"))
            .await,
    )
    .await;
    let counts: Vec<(Value, Value)> = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].clone(), c["num_documents"].clone()))
        .collect();
    assert_eq!(
        counts,
        [
            (json!("users"), json!(0)),
            (json!("events"), json!(2_500)),
            (json!("fresh"), json!(2_500))
        ]
    );
    // A file refused after its first chunk did not create its collection either.
    let mut late = users(1_600);
    late[1_500] = json!(5);
    let response = app
        .datacube_key(&key)
        .multipart(
            "/api/import_data",
            form(
                &id,
                Some("never"),
                "x.json",
                serde_json::to_vec(&late).unwrap(),
            ),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, Some("json_file[1500]")).await;
    let (_, collections) = answer(
        app.datacube(&access)
            .get(&format!("/api/list_collections?database_id={id}"))
            .await,
    )
    .await;
    assert_eq!(collections["collections"].as_array().unwrap().len(), 3);
}
