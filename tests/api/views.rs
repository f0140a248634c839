//! The Postgres view store: collections read by id only stay out of the document index, and
//! every collection stays searchable.
use annals_contracts::filter::{Filter, Query};
use annals_projections::identity::{API_KEYS, PROFILES};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, spawn_app, unique_email};

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
