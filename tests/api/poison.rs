//! Input that one backend cannot store (the NUL character: Postgres refuses it in text and
//! jsonb, SQLite keeps it) is refused at the edge with a 400 naming the field, identically on
//! both backends, and never fails another client's request.
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::buckets::{account, create_bucket, id_of};
use crate::helpers::{Backend, backends, spawn_app};
use rstest_reuse::apply;

const NUL: &str = "a\u{0}b";

#[apply(backends)]
async fn nul_characters_are_400s_naming_the_field_in_each_surface(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let bucket = id_of(&create_bucket(&app, &alice, "poison").await);

    // Workspaces: `{msg, fields}`.
    for (method, path, body, field) in [
        (
            Method::PUT,
            format!("/api/bucket/{bucket}"),
            json!({"comment": NUL}),
            "comment",
        ),
        (
            Method::PUT,
            format!("/api/bucket/{bucket}/user_options"),
            json!({"options": {"theme": NUL}}),
            "options.theme",
        ),
        (
            Method::PUT,
            format!("/api/bucket/{bucket}/feedback"),
            json!({"feedback": NUL}),
            "feedback",
        ),
    ] {
        let response = app
            .workspaces(Some(&alice.access))
            .call(method, &path, Some(body))
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["fields"], json!([field]), "{path}: {body}");
    }
    let response = app
        .client
        .post(app.url("/api/node/verifyPM2"))
        .json(&json!({"public_id": "x", "secret_id": "y", "server_name": "s", "PM2_VERSION": NUL}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let path_id = app
        .workspaces(Some(&alice.access))
        .call(Method::GET, "/api/bucket/abc%00def", None)
        .await;
    assert_eq!(path_id.status(), StatusCode::BAD_REQUEST);
    assert!(path_id.json::<Value>().await.unwrap()["msg"].is_string());

    // Document service: `{success: false, error: {field}}`.
    let key = app.create_api_key(&alice.access, NUL).await;
    assert_eq!(key.status(), StatusCode::BAD_REQUEST);
    let body: Value = key.json().await.unwrap();
    assert_eq!(body["error"]["field"], "name", "{body}");
    let me = app
        .update_me(&alice.access, &json!({"firstName": NUL}))
        .await;
    assert_eq!(me.status(), StatusCode::BAD_REQUEST);
    let revoke = app
        .datacube(&alice.access)
        .delete("/api/api_keys/x%00y")
        .await;
    assert_eq!(revoke.status(), StatusCode::BAD_REQUEST);

    // Kitsu: `{error: true, message}`.
    let login = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": alice.email, "password": NUL}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::BAD_REQUEST);
    assert_eq!(login.json::<Value>().await.unwrap()["error"], true);
}

#[apply(backends)]
async fn poisoned_requests_never_fail_honest_ones(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let mut honest = Vec::new();
    for _ in 0..8 {
        honest.push(account(&app).await);
    }
    let poisoner = account(&app).await;
    let bucket = id_of(&create_bucket(&app, &poisoner, "poisoner").await);

    let mut tasks = Vec::new();
    for (i, user) in honest.iter().enumerate() {
        let (app_client, url, access) =
            (app.client.clone(), app.url("/core/me"), user.access.clone());
        tasks.push(tokio::spawn(async move {
            let mut failures = 0;
            for round in 0..25 {
                let response = app_client
                    .patch(&url)
                    .bearer_auth(&access)
                    .json(&json!({"firstName": format!("Honest{i}x{round}")}))
                    .send()
                    .await
                    .unwrap();
                if response.status() != StatusCode::OK {
                    failures += 1;
                }
            }
            (true, failures)
        }));
    }
    for _ in 0..2 {
        let (client, access) = (app.client.clone(), poisoner.access.clone());
        let (me, options) = (
            app.url("/core/me"),
            app.url(&format!("/api/bucket/{bucket}/user_options")),
        );
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0;
            for round in 0..25 {
                let response = if round % 2 == 0 {
                    client.patch(&me).json(&json!({"firstName": NUL}))
                } else {
                    client.put(&options).json(&json!({"options": {"k": NUL}}))
                }
                .bearer_auth(&access)
                .send()
                .await
                .unwrap();
                if response.status() != StatusCode::BAD_REQUEST {
                    accepted += 1;
                }
            }
            (false, accepted)
        }));
    }
    for task in tasks {
        let (honest, count) = task.await.unwrap();
        if honest {
            assert_eq!(count, 0, "honest requests failed");
        } else {
            assert_eq!(count, 0, "poisoned requests were not refused with 400");
        }
    }
}
