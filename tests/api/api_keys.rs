//! Document-service API keys: shown once, stored hashed, listed, revoked at once.
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, assert_error, backends, spawn_app, unique_email};

#[apply(backends)]
async fn a_key_is_shown_once_listed_without_secret_and_authenticates(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    let (access, _) = app.signed_up(&email).await;
    let response = app.create_api_key(&access, "ci").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let key = body["api_key"]["key"].as_str().unwrap().to_string();
    let prefix = body["api_key"]["prefix"].as_str().unwrap();
    assert!(key.starts_with(&format!("{prefix}_")), "{body}");

    // The key works on the management API, and lists the keys without their secret.
    let me = app.datacube_key(&key).get("/core/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], json!(email));
    let listed: Value = app
        .datacube_key(&key)
        .get("/api/api_keys")
        .await
        .json()
        .await
        .unwrap();
    let keys = listed["data"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["name"], json!("ci"));
    assert_eq!(keys[0]["prefix"], json!(prefix));
    assert!(!listed.to_string().contains(&key));

    // Only its hash was stored: the secret is nowhere in the event log.
    let secret = key.rsplit('_').next().unwrap();
    let events = app.visible_events().await;
    assert!(
        events
            .iter()
            .all(|e| !e.payload.to_string().contains(secret))
    );

    // A key cannot mint keys.
    let minted = app
        .client
        .post(app.url("/api/api_keys"))
        .header("Authorization", format!("Api-Key {key}"))
        .json(&json!({"name": "sneaky"}))
        .send()
        .await
        .unwrap();
    assert_error(minted, StatusCode::FORBIDDEN, None).await;
}

#[apply(backends)]
async fn a_revoked_key_is_refused_at_once(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _) = app.signed_up(&unique_email()).await;
    let body: Value = app
        .create_api_key(&access, "deploy")
        .await
        .json()
        .await
        .unwrap();
    let key = body["api_key"]["key"].as_str().unwrap().to_string();
    let id = body["api_key"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.datacube_key(&key).get("/core/me").await.status(),
        StatusCode::OK
    );

    let revoked = app
        .datacube(&access)
        .delete(&format!("/api/api_keys/{id}"))
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let refused = app.datacube_key(&key).get("/core/me").await;
    assert_error(refused, StatusCode::UNAUTHORIZED, None).await;
    let listed: Value = app
        .client
        .get(app.url("/api/api_keys"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"], json!([]));
}

#[apply(backends)]
async fn keys_are_private_to_their_owner(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, _) = app.signed_up(&unique_email()).await;
    let (bob, _) = app.signed_up(&unique_email()).await;
    let body: Value = app
        .create_api_key(&alice, "mine")
        .await
        .json()
        .await
        .unwrap();
    let id = body["api_key"]["id"].as_str().unwrap();
    let stolen = app
        .datacube(&bob)
        .delete(&format!("/api/api_keys/{id}"))
        .await;
    assert_error(stolen, StatusCode::NOT_FOUND, None).await;
    let listed: Value = app
        .client
        .get(app.url("/api/api_keys"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"], json!([]));
}

#[apply(backends)]
async fn bad_keys_and_bad_input_are_refused(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _) = app.signed_up(&unique_email()).await;
    assert_error(
        app.create_api_key(&access, "  ").await,
        StatusCode::BAD_REQUEST,
        Some("name"),
    )
    .await;
    let missing = app
        .client
        .post(app.url("/api/api_keys"))
        .bearer_auth(&access)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(missing, StatusCode::BAD_REQUEST, Some("name")).await;
    for key in ["nonsense", "dc_nope_nope", "dc__x"] {
        let refused = app.datacube_key(key).get("/core/me").await;
        assert_error(refused, StatusCode::UNAUTHORIZED, None).await;
    }
    let body: Value = app
        .create_api_key(&access, "real")
        .await
        .json()
        .await
        .unwrap();
    let key = body["api_key"]["key"].as_str().unwrap();
    // Another last character (one that differs from the key's own).
    let other = if key.ends_with('x') { 'y' } else { 'x' };
    let tampered = format!("{}{other}", &key[..key.len() - 1]);
    let refused = app.datacube_key(&tampered).get("/core/me").await;
    assert_error(refused, StatusCode::UNAUTHORIZED, None).await;
}
