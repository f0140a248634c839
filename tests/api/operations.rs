//! Health, readiness, metrics and the OpenAPI document.
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use annals::services::workspaces::invitations::REACTOR;

use crate::helpers::{Backend, backends, spawn_app, unique_email};

#[apply(backends)]
async fn healthz_and_readyz_report_the_dependencies_and_lag(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    app.signed_up(&unique_email()).await;
    app.settle("user_profiles").await;
    app.settle(REACTOR).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
    match backend {
        Backend::Postgres => {
            assert_eq!(
                (&body["storage"], &body["nats"]),
                (&json!("postgres"), &json!("ok"))
            );
            assert!(body["relay"]["cursor"].is_string());
        }
        Backend::Embedded => {
            assert_eq!(
                (&body["storage"], &body["bus"]),
                (&json!("sqlite"), &json!("in-process"))
            );
            assert_eq!(body["nats"], "disabled");
        }
    }
    let projections = body["projections"].as_array().unwrap();
    assert!(
        projections
            .iter()
            .any(|p| p["name"] == "user_profiles" && p["pending_events"] == 0)
    );
    let reactors = body["reactors"].as_array().unwrap();
    assert_eq!(reactors.len(), 1, "{body}");
    assert_eq!(
        (&reactors[0]["name"], &reactors[0]["pending_events"]),
        (&json!(REACTOR), &json!(0))
    );
    assert!(reactors[0]["checkpoint"].is_string(), "{body}");
}

#[apply(backends)]
async fn metrics_are_exposed_for_prometheus(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    app.signed_up(&unique_email()).await;
    app.settle("user_profiles").await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for name in [
        "annals_http_requests_total",
        "annals_http_request_duration_seconds",
        "annals_events_appended_total",
        "annals_projection_lag_events",
        "annals_projection_lag_seconds",
        "annals_reactor_lag_events",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics");
    }
    if backend == Backend::Postgres {
        assert!(text.contains("annals_relay_lag_events"));
    }
}

#[apply(backends)]
async fn the_openapi_document_describes_the_api(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/core/register",
        "/core/login",
        "/core/token/refresh",
        "/core/me",
        "/readyz",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}

#[apply(backends)]
async fn every_response_carries_a_request_id(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let missing = app
        .client
        .get(app.url("/no/such/thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
