//! DataCube document history and `as_of` queries, from the events; black-box on both backends.
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use reqwest::{Method, StatusCode};
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::datacube::{seed_database, user_with_key};
use crate::helpers::{Backend, assert_error, backends, spawn_app};
use crate::surfaces::answer;

/// Now, after a pause on either side, so events before and after it are told apart.
async fn moment() -> String {
    tokio::time::sleep(Duration::from_millis(30)).await;
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    tokio::time::sleep(Duration::from_millis(30)).await;
    now
}

#[apply(backends)]
async fn a_documents_versions_and_the_collection_as_of_a_time(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, key) = user_with_key(&app).await;
    let id = seed_database(&app, &access, "crm").await;
    let before = moment().await;
    let (status, _) = answer(
        app.datacube_key(&key)
            .post(
                "/api/crud",
                &json!({"database_id": id, "collection_name": "users",
                        "data": [{"_id": "a", "email": "a@x", "n": 1}, {"_id": "b", "email": "b@x"}]}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let inserted = moment().await;
    let (status, _) = answer(
        app.datacube(&access)
            .put(
                "/api/crud",
                &json!({"database_id": id, "collection_name": "users", "filters": {"_id": "a"},
                        "update_data": {"$inc": {"n": 1}, "$unset": {"email": 1}}}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let updated = moment().await;
    let (status, _) = answer(
        app.datacube(&access)
            .send(
                Method::DELETE,
                "/api/crud",
                &json!({"database_id": id, "collection_name": "users", "filters": {"_id": "a"}}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, history) = answer(
        app.datacube_key(&key)
            .get(&format!(
                "/api/crud/history?database_id={id}&collection_name=users&document_id=a"
            ))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let versions = history["data"].as_array().unwrap();
    let kinds: Vec<&Value> = versions.iter().map(|v| &v["event"]).collect();
    assert_eq!(
        kinds,
        [&json!("inserted"), &json!("updated"), &json!("deleted")]
    );
    assert_eq!(
        versions[0]["changes"]["set"],
        json!({"email": "a@x", "n": 1})
    );
    assert_eq!(
        versions[1]["changes"],
        json!({"set": {"n": 2}, "unset": ["email"]})
    );
    assert!(
        versions[0]["via"].as_str().unwrap().starts_with("api_key:"),
        "{history}"
    );
    assert!(
        versions[1]["via"].as_str().unwrap().starts_with("token:"),
        "{history}"
    );
    assert_eq!(versions[0]["actor"], versions[2]["actor"]);
    assert_eq!(versions[2]["version"], json!(3));

    let as_of = |at: &str| {
        let path = format!(
            "/api/crud?database_id={id}&collection_name=users&as_of={}",
            url::form_urlencoded::byte_serialize(at.as_bytes()).collect::<String>()
        );
        let client = app.datacube(&access);
        async move { answer(client.get(&path).await).await }
    };
    let (_, then) = as_of(&before).await;
    assert_eq!(then["data"], json!([]), "{then}");
    let (_, then) = as_of(&inserted).await;
    let docs = then["data"].as_array().unwrap();
    assert_eq!(docs.len(), 2, "{then}");
    assert_eq!(
        (&docs[0]["_id"], &docs[0]["n"], &docs[0]["email"]),
        (&json!("a"), &json!(1), &json!("a@x"))
    );
    let (_, then) = as_of(&updated).await;
    assert_eq!(then["data"][0]["n"], json!(2));
    assert!(then["data"][0].get("email").is_none());
    assert_eq!(then["pagination"]["total"], json!(2));
    let (_, now) = as_of(&Utc::now().to_rfc3339()).await;
    assert_eq!(now["pagination"]["total"], json!(1));

    let response = app
        .datacube(&access)
        .get(&format!(
            "/api/crud?database_id={id}&collection_name=users&as_of=yesterday"
        ))
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, Some("as_of")).await;
    let response = app
        .datacube(&access)
        .get(&format!(
            "/api/crud/history?database_id={id}&collection_name=users&document_id=zz"
        ))
        .await;
    assert_error(response, StatusCode::NOT_FOUND, None).await;
}

/// The DataCube read models are a function of the log: a rebuild gives the same documents.
#[apply(backends)]
async fn the_datacube_views_rebuild_to_the_same_documents(#[case] backend: Backend) {
    use annals_projections::Projection;
    use annals_projections::datacube::{DATABASES, DOCUMENTS, DatabaseViews, DocumentViews};

    let app = spawn_app(backend).await;
    let (access, _) = user_with_key(&app).await;
    let id = seed_database(&app, &access, "crm").await;
    let dropped = seed_database(&app, &access, "old").await;
    let client = || app.datacube(&access);
    let post = json!({"database_id": id, "collection_name": "users",
                      "data": [{"_id": "a", "n": 1, "tags": []}, {"_id": "b", "n": 2}, {"_id": "c"}]});
    assert_eq!(
        client().post("/api/crud", &post).await.status(),
        StatusCode::CREATED
    );
    let update = json!({"database_id": id, "collection_name": "users", "filters": {"n": {"$gte": 1}},
                        "update_many": true, "update_data": {"$inc": {"n": 1}, "$push": {"tags": "t"}}});
    assert_eq!(
        client().put("/api/crud", &update).await.status(),
        StatusCode::OK
    );
    let delete = json!({"database_id": id, "collection_name": "users", "filters": {"_id": "c"}});
    assert_eq!(
        client()
            .send(Method::DELETE, "/api/crud", &delete)
            .await
            .status(),
        StatusCode::OK
    );
    let add = json!({"database_id": id, "name": "logs", "fields": [{"name": "level", "type": "integer"}]});
    assert_eq!(
        client().post("/api/create_collection", &add).await.status(),
        StatusCode::CREATED
    );
    // Documents of a dropped collection and of a dropped database leave the read model, live
    // and rebuilt alike.
    for (database, collection) in [(&id, "logs"), (&dropped, "notes")] {
        let post = json!({"database_id": database, "collection_name": collection,
                          "data": [{"level": 1}, {"level": 2}]});
        assert_eq!(
            client().post("/api/crud", &post).await.status(),
            StatusCode::CREATED
        );
    }
    let drop_logs = json!({"database_id": id, "collection_names": ["logs"]});
    assert_eq!(
        client()
            .send(Method::DELETE, "/api/drop_collections", &drop_logs)
            .await
            .status(),
        StatusCode::OK
    );
    let drop = json!({"database_id": dropped, "confirmation": "old"});
    assert_eq!(
        client()
            .send(Method::DELETE, "/api/drop_database", &drop)
            .await
            .status(),
        StatusCode::OK
    );

    for (projection, collection) in [
        (
            std::sync::Arc::new(DatabaseViews) as std::sync::Arc<dyn Projection>,
            DATABASES,
        ),
        (std::sync::Arc::new(DocumentViews), DOCUMENTS),
    ] {
        app.settle(projection.name()).await;
        let live = app.infra.views.dump(collection).await.unwrap();
        assert!(!live.is_empty());
        if collection == DOCUMENTS {
            // Only the users of crm are left.
            assert_eq!(live.len(), 2, "{live:?}");
            assert!(
                live.iter().all(|(_, d)| d["_dc"]["d"] == json!(id)),
                "{live:?}"
            );
        }
        annals_projections::rebuild(
            projection,
            app.infra.views.clone(),
            app.infra.reader(),
            app.progress(),
        )
        .await
        .unwrap();
        assert_eq!(
            app.infra.views.dump(collection).await.unwrap(),
            live,
            "{collection}"
        );
    }
}
