//! Uniqueness under concurrency and read-your-writes.
use std::sync::Arc;

use futures::StreamExt;
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, assert_error, backends, spawn_app, unique_email};

#[apply(backends)]
async fn one_of_100_concurrent_registrations_of_an_email_wins(#[case] backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    let email = unique_email();
    let statuses: Vec<StatusCode> = futures::stream::iter(0..100)
        .map(|i| {
            let app = app.clone();
            // Vary the case: uniqueness is on the normalised address.
            let email = if i % 2 == 0 {
                email.clone()
            } else {
                email.to_uppercase()
            };
            async move { app.register(&email).await.status() }
        })
        .buffer_unordered(100)
        .collect()
        .await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 99), "{statuses:?}");
    // And the winner can log in.
    assert_eq!(app.login(&email, PASSWORD).await.status(), StatusCode::OK);
}

#[apply(backends)]
async fn a_thousand_register_login_read_sequences_never_read_stale(#[case] backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    let stale: Vec<String> = futures::stream::iter(0..1000)
        .map(|_| {
            let app = app.clone();
            async move {
                let email = unique_email();
                let (access, _) = app.signed_up(&email).await;
                let response = app.me(&access).await;
                let status = response.status();
                let flagged = response.headers().contains_key("x-annals-consistency");
                let body: Value = response.json().await.unwrap_or(Value::Null);
                let fresh = status == StatusCode::OK
                    && !flagged
                    && body["email"] == json!(email)
                    && body["loginCount"] == json!(1);
                (!fresh).then(|| format!("{email}: {status} {body}"))
            }
        })
        .buffer_unordered(8)
        .filter_map(|stale| async move { stale })
        .collect()
        .await;
    assert!(
        stale.is_empty(),
        "{} stale reads, e.g. {:?}",
        stale.len(),
        stale.first()
    );
}

#[apply(backends)]
async fn a_write_then_read_sees_the_write_every_time(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _) = app.signed_up(&unique_email()).await;
    for i in 0..50 {
        let name = format!("Name{i}");
        let response = app.update_me(&access, &json!({"firstName": name})).await;
        assert_eq!(response.status(), StatusCode::OK);
        let position = response.headers()["x-annals-position"].clone();
        // Once with the position a client may pass on, once without anything special.
        let with_header = app
            .client
            .get(app.url("/core/me"))
            .bearer_auth(&access)
            .header("x-annals-position", position)
            .send()
            .await
            .unwrap();
        let body: Value = with_header.json().await.unwrap();
        assert_eq!(body["firstName"], json!(name));
        let body: Value = app.me(&access).await.json().await.unwrap();
        assert_eq!(body["firstName"], json!(name));
    }
}

#[apply(backends)]
async fn a_malformed_position_header_is_a_bad_request(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _) = app.signed_up(&unique_email()).await;
    let response = app
        .client
        .get(app.url("/core/me"))
        .bearer_auth(&access)
        .header("x-annals-position", "yesterday")
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, Some("X-Annals-Position")).await;
}
