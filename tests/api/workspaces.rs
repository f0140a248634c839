//! The workspaces surface's identity part: OAuth token and revocation endpoints, the logged-in
//! user, and the bucket list, over raw HTTP and with the real `@pm2/js-api` client.
use std::time::Duration;

use reqwest::{Response, StatusCode};
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::clients;
use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app, unique_email};

/// How long a client script may run before its watchdog fails it.
const PM2_LIMIT: Duration = Duration::from_secs(45);

/// What `@pm2/js-api` sends to the token endpoint before it has a token.
const BEARER_NULL: &str = "Bearer null";

/// `POST /api/oauth/token` with a JSON body and the client's bogus `Authorization` header.
async fn token(app: &TestApp, body: Value) -> Response {
    app.client
        .post(app.url("/api/oauth/token"))
        .header("Authorization", BEARER_NULL)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `POST /api/oauth/token` form-encoded.
async fn token_form(app: &TestApp, pairs: &[(&str, &str)]) -> Response {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    app.client
        .post(app.url("/api/oauth/token"))
        .header("Authorization", BEARER_NULL)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn revoke(app: &TestApp, bearer: Option<&str>, body: Value) -> Response {
    let mut request = app.client.post(app.url("/api/oauth/revoke")).json(&body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// Registers an account and logs it in with the password grant; returns the token response.
async fn password_login(app: &TestApp, email: &str) -> Value {
    assert_eq!(app.register(email).await.status(), StatusCode::CREATED);
    let response = token(
        app,
        json!({"grant_type": "password", "username": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn str_of<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing: {body}"))
}

/// Asserts an OAuth error: 400 (never 401), the given `error`, and a description.
async fn assert_oauth_error(response: Response, error: &str) -> Value {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("OAuth error body is JSON");
    assert_eq!(body["error"], json!(error), "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    body
}

/// Asserts a workspaces error: the status and a `{msg}` body.
async fn assert_msg(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("error body is JSON");
    assert!(body["msg"].is_string(), "{body}");
    body
}

/// Checks the token response shape and returns it.
fn assert_token_shape(body: &Value) {
    assert!(!str_of(body, "access_token").is_empty(), "{body}");
    assert!(!str_of(body, "refresh_token").is_empty(), "{body}");
    assert_eq!(body["token_type"], json!("Bearer"), "{body}");
    let expire_at = chrono::DateTime::parse_from_rfc3339(str_of(body, "expire_at"))
        .expect("expire_at is an ISO-8601 date");
    assert!(str_of(body, "expire_at").ends_with('Z'), "{body}");
    let left = (expire_at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    assert!((800..=900).contains(&left), "{body}");
    let expires_in = body["expires_in"].as_i64().expect("expires_in is a number");
    assert!((800..=900).contains(&expires_in), "{body}");
}

#[apply(backends)]
async fn the_password_grant_starts_a_session(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    assert_eq!(app.register(&email).await.status(), StatusCode::CREATED);

    let response = token(
        &app,
        json!({"grant_type": "password", "username": email, "password": PASSWORD, "client_id": "795984050"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.headers().contains_key("x-annals-position"));
    let body: Value = response.json().await.unwrap();
    assert_token_shape(&body);
    let me = app
        .workspaces(Some(str_of(&body, "access_token")))
        .get("/api/users/isLogged")
        .await;
    assert_eq!(me.status(), StatusCode::OK);

    // Form-encoded, with `email` instead of `username`.
    let response = token_form(
        &app,
        &[
            ("grant_type", "password"),
            ("email", &email),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Value = response.json().await.unwrap();
    assert_token_shape(&second);
    assert_ne!(
        second["refresh_token"], body["refresh_token"],
        "a new session"
    );
}

#[apply(backends)]
async fn the_refresh_grant_issues_a_new_access_token(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let login = password_login(&app, &unique_email()).await;
    let refresh = str_of(&login, "refresh_token");

    // Exactly what the client sends.
    let response = token(
        &app,
        json!({"client_id": "795984050", "refresh_token": refresh, "grant_type": "refresh_token"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_token_shape(&body);
    assert_eq!(
        body["refresh_token"],
        json!(refresh),
        "the same refresh token"
    );
    let me = app
        .workspaces(Some(str_of(&body, "access_token")))
        .get("/api/users/isLogged")
        .await;
    assert_eq!(me.status(), StatusCode::OK);

    // Form-encoded, without client_id.
    let response = token_form(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_token_shape(&response.json().await.unwrap());
}

#[apply(backends)]
async fn the_token_endpoint_answers_400_never_401(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    let login = password_login(&app, &email).await;
    let access = str_of(&login, "access_token");

    let forged = {
        // A well-formed token signed with another secret.
        let other = annals::services::identity::Tokens::new(b"another-secret-another-secret-xx");
        other.issue(
            annals::services::identity::TokenKind::Refresh,
            "u1",
            Some("s1"),
            None,
        )
    };
    let bad_grants = [
        json!({"grant_type": "refresh_token", "refresh_token": "not-a-token", "client_id": "795984050"}),
        json!({"grant_type": "refresh_token", "refresh_token": forged}),
        // An access token is not a refresh token.
        json!({"grant_type": "refresh_token", "refresh_token": access}),
        json!({"grant_type": "password", "username": email, "password": "wrong-password"}),
        json!({"grant_type": "password", "username": unique_email(), "password": PASSWORD}),
    ];
    for body in bad_grants {
        assert_oauth_error(token(&app, body).await, "invalid_grant").await;
    }
    let bad_requests = [
        json!({}),
        json!({"refresh_token": str_of(&login, "refresh_token")}),
        json!({"grant_type": "refresh_token"}),
        json!({"grant_type": "refresh_token", "refresh_token": 42}),
        json!({"grant_type": "refresh_token", "refresh_token": "", "client_id": "795984050"}),
        json!({"grant_type": "password", "password": PASSWORD}),
        json!({"grant_type": "password", "username": email}),
    ];
    for body in bad_requests {
        assert_oauth_error(token(&app, body).await, "invalid_request").await;
    }
    assert_oauth_error(
        token(&app, json!({"grant_type": "client_credentials"})).await,
        "unsupported_grant_type",
    )
    .await;
    let not_json = app
        .client
        .post(app.url("/api/oauth/token"))
        .header("Authorization", BEARER_NULL)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_oauth_error(not_json, "invalid_request").await;
    // The client re-runs the exchange with its old access token as bearer: still not a 401.
    let response = app
        .client
        .post(app.url("/api/oauth/token"))
        .bearer_auth(access)
        .json(&json!({"grant_type": "refresh_token", "refresh_token": "expired"}))
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, "invalid_grant").await;

    // Failures lock the account; a locked account is refused with 400 too, and says when.
    let mut locked = false;
    for _ in 0..10 {
        let wrong = token(
            &app,
            json!({"grant_type": "password", "username": email, "password": "wrong-password"}),
        )
        .await;
        locked = wrong.headers().contains_key("retry-after");
        assert_oauth_error(wrong, "invalid_grant").await;
        if locked {
            break;
        }
    }
    assert!(locked, "the account locks after repeated failures");
    let response = token(
        &app,
        json!({"grant_type": "password", "username": email, "password": PASSWORD}),
    )
    .await;
    assert!(response.headers().contains_key("retry-after"));
    let body = assert_oauth_error(response, "invalid_grant").await;
    assert!(
        str_of(&body, "error_description").contains("locked"),
        "{body}"
    );
}

#[apply(backends)]
async fn revocation_takes_effect_at_once(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    let login = password_login(&app, &email).await;
    let (access, refresh) = (
        str_of(&login, "access_token"),
        str_of(&login, "refresh_token"),
    );
    assert_eq!(
        app.workspaces(Some(access))
            .get("/api/users/isLogged")
            .await
            .status(),
        StatusCode::OK
    );

    let response = revoke(
        &app,
        None,
        json!({"token": refresh, "token_type_hint": "refresh_token"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    // The session's refresh token is refused (400), and so is its access token (401).
    let refreshed = token(
        &app,
        json!({"grant_type": "refresh_token", "refresh_token": refresh}),
    )
    .await;
    assert_oauth_error(refreshed, "invalid_grant").await;
    let me = app
        .workspaces(Some(access))
        .get("/api/users/isLogged")
        .await;
    assert_eq!(
        me.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert_msg(me, StatusCode::UNAUTHORIZED).await;
    assert_msg(
        app.workspaces(Some(access)).get("/api/bucket").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Revoking by the bearer access token, with a `{}` body (what `client.auth.revoke()` sends).
    let second = token(
        &app,
        json!({"grant_type": "password", "username": email, "password": PASSWORD}),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    let access = str_of(&second, "access_token");
    let response = revoke(&app, Some(access), json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_msg(
        app.workspaces(Some(access))
            .get("/api/users/isLogged")
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let refreshed = token(
        &app,
        json!({"grant_type": "refresh_token", "refresh_token": str_of(&second, "refresh_token")}),
    )
    .await;
    assert_oauth_error(refreshed, "invalid_grant").await;

    // Unknown and already revoked tokens: 200 (RFC 7009). No token at all: 400.
    for body in [json!({"token": "unknown"}), json!({"token": refresh})] {
        assert_eq!(revoke(&app, None, body).await.status(), StatusCode::OK);
    }
    let form = app
        .client
        .post(app.url("/api/oauth/revoke"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("token=unknown&token_type_hint=access_token")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let response = revoke(&app, None, json!({})).await;
    assert_oauth_error(response, "invalid_request").await;
    let response = app
        .client
        .post(app.url("/api/oauth/revoke"))
        .header("Authorization", BEARER_NULL)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, "invalid_request").await;
}

#[apply(backends)]
async fn is_logged_returns_the_callers_user(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    let login = password_login(&app, &email).await;
    let access = str_of(&login, "access_token");
    let profile: Value = app.me(access).await.json().await.unwrap();

    let response = app
        .workspaces(Some(access))
        .get("/api/users/isLogged")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["_id"], profile["id"], "{user}");
    assert_eq!(user["email"], json!(email));
    assert_eq!(user["username"], json!(email.split('@').next().unwrap()));
    assert_eq!(user["first_name"], json!("Ada"));
    assert_eq!(user["last_name"], json!("Lovelace"));
    assert_eq!(user["role"], json!("user"));
    assert_eq!(user["active"], json!(true));
    assert_eq!(user["authorized_bucket"], json!([]));
    assert_eq!(user["created_at"], profile["createdAt"], "{user}");
    assert!(user["created_at"].is_string(), "{user}");
    assert!(user.get("password_hash").is_none() && !user.to_string().contains("argon2"));

    // Not logged in: 401 with `{msg}`, so the client refreshes and retries.
    let missing = app.workspaces(None).get("/api/users/isLogged").await;
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    let body = assert_msg(missing, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body, json!({"msg": "Missing Authorization Header"}));
    for bogus in ["null", "not-a-token", str_of(&login, "refresh_token")] {
        assert_msg(
            app.workspaces(Some(bogus)).get("/api/users/isLogged").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
}

#[apply(backends)]
async fn the_bucket_list_is_an_array(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let login = password_login(&app, &unique_email()).await;
    let access = str_of(&login, "access_token");
    for path in ["/api/bucket", "/api/bucket/"] {
        let response = app.workspaces(Some(access)).get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.json::<Value>().await.unwrap(), json!([]), "{path}");
        // The post-login check sends no body at all.
        let bare = app
            .client
            .get(app.url(path))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(bare.status(), StatusCode::OK, "{path}");
        assert_msg(
            app.workspaces(None).get(path).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
}

#[apply(backends)]
async fn tokens_work_across_surfaces(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    // A DataCube login's refresh token is accepted by the workspaces token endpoint...
    let (_, datacube_refresh) = app.signed_up(&email).await;
    let response = token(
        &app,
        json!({"grant_type": "refresh_token", "refresh_token": datacube_refresh}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    // ...and the workspaces access token works on the DataCube surface.
    let me = app.me(str_of(&body, "access_token")).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json::<Value>().await.unwrap()["email"], json!(email));
}

#[apply(backends)]
async fn the_pm2_client_logs_in_with_refresh_tokens_from_any_surface(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    let (_, datacube_refresh) = app.signed_up(&email).await;
    let oauth_refresh = token(
        &app,
        json!({"grant_type": "password", "username": email, "password": PASSWORD}),
    )
    .await
    .json::<Value>()
    .await
    .unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    let script = r#"
async function signIn(base, refresh_token) {
  const client = login(base, refresh_token);
  const user = await client.user.retrieve();
  const buckets = await client.bucket.retrieveAll();
  return { status: user.status, user: user.data, buckets: buckets.data };
}
async function main() {
  const [base, fromDatacube, fromOauth] = process.argv.slice(-3);
  return { datacube: await signIn(base, fromDatacube), oauth: await signIn(base, fromOauth) };
}"#;
    let out = clients::pm2(
        script,
        &[&app.address, &datacube_refresh, &oauth_refresh],
        PM2_LIMIT,
    )
    .await;
    for surface in ["datacube", "oauth"] {
        let seen = &out[surface];
        assert_eq!(seen["status"], json!(200), "{out}");
        assert_eq!(seen["user"]["email"], json!(email), "{out}");
        assert!(seen["user"]["_id"].is_string(), "{out}");
        assert!(seen["user"]["username"].is_string(), "{out}");
        assert_eq!(seen["user"]["authorized_bucket"], json!([]), "{out}");
        assert_eq!(seen["buckets"], json!([]), "{out}");
    }
}

#[apply(backends)]
async fn the_pm2_client_revokes_its_session(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    let login = password_login(&app, &email).await;
    let refresh = str_of(&login, "refresh_token");

    let script = r#"
async function main() {
  const [base, refresh_token] = process.argv.slice(-2);
  const client = login(base, refresh_token);
  const before = await client.user.retrieve();
  const revoked = await client.auth.revoke();
  // The access token is refused (401); the client tries its refresh token, which is refused
  // too (400), so the call fails with the 401.
  const after = await client.user.retrieve().then((r) => ({ status: r.status }), failure);
  // The token endpoint's answer, seen through the client without any login.
  const fresh = new PM2IO({ services: { API: base, OAUTH: base } });
  const exchange = await fresh.auth
    .retrieveToken({ client_id: '795984050', refresh_token })
    .then((r) => ({ status: r.status }), failure);
  return { before: before.data.email, revoked: revoked.status, after, exchange };
}"#;
    let out = clients::pm2(script, &[&app.address, refresh], PM2_LIMIT).await;
    assert_eq!(out["before"], json!(email), "{out}");
    assert_eq!(out["revoked"], json!(200), "{out}");
    assert_eq!(out["after"]["status"], json!(401), "{out}");
    assert!(out["after"]["data"]["msg"].is_string(), "{out}");
    assert_eq!(out["exchange"]["status"], json!(400), "{out}");
    assert_eq!(
        out["exchange"]["data"]["error"],
        json!("invalid_grant"),
        "{out}"
    );

    // The same refresh token, raw: 400, not 401 (a 401 would make the client retry forever).
    let response = token(
        &app,
        json!({"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "795984050"}),
    )
    .await;
    assert_oauth_error(response, "invalid_grant").await;
}

#[apply(backends)]
async fn the_pm2_client_sees_a_bad_refresh_token_as_a_400(#[case] backend: Backend) {
    // With `.use('standalone', {refresh_token: <bad>})` the client would log the failure and
    // leave every later call pending forever (its own behaviour); what the server controls is
    // that the exchange is a 400, never a 401 (which the client would retry every 500 ms).
    let app = spawn_app(backend).await;
    let script = r#"
async function main() {
  const [base] = process.argv.slice(-1);
  const client = new PM2IO({ services: { API: base, OAUTH: base } });
  return await client.auth
    .retrieveToken({ client_id: '795984050', refresh_token: 'not-a-refresh-token' })
    .then((r) => ({ status: r.status }), failure);
}"#;
    let out = clients::pm2(script, &[&app.address], PM2_LIMIT).await;
    assert_eq!(out["status"], json!(400), "{out}");
    assert_eq!(out["data"]["error"], json!("invalid_grant"), "{out}");
    assert!(out["data"]["error_description"].is_string(), "{out}");
}
