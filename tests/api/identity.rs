//! One person, three front doors: tokens from any surface work on every surface, and a logout
//! anywhere ends that session everywhere.
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app, unique_email};

/// Access and refresh tokens from each surface's login.
async fn logins(app: &TestApp, email: &str) -> Vec<(&'static str, String, String)> {
    let datacube: Value = app.login(email, PASSWORD).await.json().await.unwrap();
    let kitsu: Value = app
        .post(
            "/api/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    let workspaces: Value = app
        .post(
            "/api/oauth/token",
            &json!({"grant_type": "password", "username": email, "password": PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    let field = |v: &Value, k: &str| {
        v[k].as_str()
            .unwrap_or_else(|| panic!("{k} in {v}"))
            .to_string()
    };
    vec![
        (
            "datacube",
            field(&datacube, "access"),
            field(&datacube, "refresh"),
        ),
        (
            "kitsu",
            field(&kitsu, "access_token"),
            field(&kitsu, "refresh_token"),
        ),
        (
            "workspaces",
            field(&workspaces, "access_token"),
            field(&workspaces, "refresh_token"),
        ),
    ]
}

/// The caller's email as each surface reports it, or the status it answered.
async fn whoami(app: &TestApp, access: &str) -> [Result<String, StatusCode>; 3] {
    let get = |path: &'static str| {
        let request = app.client.get(app.url(path)).bearer_auth(access);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            if status != StatusCode::OK {
                return Err(status);
            }
            Ok(response.json::<Value>().await.unwrap())
        }
    };
    let email = |v: Value, pointer: &str| {
        v.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    [
        get("/core/me").await.map(|v| email(v, "/email")),
        get("/api/auth/authenticated")
            .await
            .map(|v| email(v, "/user/email")),
        get("/api/users/isLogged").await.map(|v| email(v, "/email")),
    ]
}

#[apply(backends)]
async fn every_surfaces_token_works_on_every_surface(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    for (surface, access, _) in logins(&app, &email).await {
        let answers = whoami(&app, &access).await;
        for answer in answers {
            assert_eq!(answer, Ok(email.clone()), "token from {surface}");
        }
    }
}

#[apply(backends)]
async fn a_logout_on_one_surface_ends_that_session_everywhere(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    let sessions = logins(&app, &email).await;
    let (_, kitsu_access, kitsu_refresh) = &sessions[1];
    let logout = app
        .client
        .get(app.url("/api/auth/logout"))
        .bearer_auth(kitsu_access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    for answer in whoami(&app, kitsu_access).await {
        assert_eq!(answer, Err(StatusCode::UNAUTHORIZED));
    }
    let refresh = app
        .post("/core/token/refresh", &json!({"refresh": kitsu_refresh}))
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    // The other sessions of the same person are untouched.
    for (surface, access, _) in [&sessions[0], &sessions[2]] {
        for answer in whoami(&app, access).await {
            assert_eq!(answer, Ok(email.clone()), "session from {surface}");
        }
    }
    // Revoking through the OAuth endpoint ends the workspaces session everywhere too.
    let (_, ws_access, ws_refresh) = &sessions[2];
    let revoked = app
        .post("/api/oauth/revoke", &json!({"token": ws_refresh}))
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    for answer in whoami(&app, ws_access).await {
        assert_eq!(answer, Err(StatusCode::UNAUTHORIZED));
    }
}

#[apply(backends)]
async fn every_identity_change_is_an_event_on_the_log(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    let (access, _) = app.signed_up(&email).await;
    app.login(&email, "not-the-password-at-all").await;
    app.create_api_key(&access, "k").await;
    let events = app.visible_events().await;
    let names: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    for expected in [
        "EmailClaimed",
        "UserRegistered",
        "UserLoggedIn",
        "SessionStarted",
        "LoginFailed",
        "ApiKeyCreated",
    ] {
        assert!(names.contains(&expected), "{expected} not in {names:?}");
    }
}
