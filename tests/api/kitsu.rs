//! The Kitsu (Zou) auth surface over HTTP, and with the real gazu client.
use annals::es::commands::Metadata;
use annals::services::identity::otp::totp_now;
use annals_domain::identity::UserCommand;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Response, StatusCode};
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::clients;
use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app, unique_email};
use crate::surfaces::{GAZU, answer};

const SECRET: &[u8] = b"test-secret-test-secret-test-secret-0123";
const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const NEW_PASSWORD: &str = "another-quite-long-passphrase";

async fn login(app: &TestApp, body: &Value) -> Response {
    app.kitsu(None).post("/auth/login", body).await
}

async fn login_with(app: &TestApp, email: &str, password: &str) -> Response {
    login(app, &json!({"email": email, "password": password})).await
}

/// Asserts status and exact body.
async fn assert_answer(response: Response, status: StatusCode, body: Value) {
    let (got_status, got_body) = answer(response).await;
    assert_eq!((got_status, &got_body), (status, &body), "{got_body}");
}

struct Session {
    email: String,
    user_id: String,
    access: String,
    refresh: String,
}

/// Registers a person and logs them in through Kitsu.
async fn signed_in(app: &TestApp) -> Session {
    let email = unique_email();
    assert_eq!(app.register(&email).await.status(), StatusCode::CREATED);
    let (status, body) = answer(login_with(app, &email, PASSWORD).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Session {
        email,
        user_id: body["user"]["id"].as_str().unwrap().to_string(),
        access: body["access_token"].as_str().unwrap().to_string(),
        refresh: body["refresh_token"].as_str().unwrap().to_string(),
    }
}

fn cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn cookie_value(set_cookie: &str) -> &str {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
}

/// The newest mail to `to` whose body has `marker`, and the word after the marker.
fn mailed_code(app: &TestApp, to: &str, marker: &str) -> String {
    app.mails()
        .iter()
        .rev()
        .filter(|m| m["to"] == to)
        .find_map(|m| {
            let body = m["body"].as_str()?;
            let rest = &body[body.find(marker)? + marker.len()..];
            rest.split_whitespace().next().map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no mail with {marker:?} to {to}"))
}

fn otp_request(email: &str) -> String {
    let email: String = url::form_urlencoded::byte_serialize(email.as_bytes()).collect();
    format!("/auth/email-otp?email={email}")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The claims of one of our tokens (verified with the test secret).
fn claims(token: &str) -> Value {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(SECRET), &validation)
        .unwrap()
        .claims
}

/// An access token of `session` that expired a minute ago, signed like a real one.
fn expired_access(session: &Session) -> String {
    let refresh = claims(&session.refresh);
    let at = now() as i64;
    let claims = json!({
        "sub": session.user_id,
        "iat": at - 3600,
        "exp": at - 60,
        "jti": uuid::Uuid::new_v4().to_string(),
        "typ": "access",
        "sid": refresh["jti"],
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "SAMEORIGIN"),
    ("content-security-policy", "frame-ancestors 'self'"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
];

#[apply(backends)]
async fn the_index_answers_at_the_root_and_under_api(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/", "/api", "/api/"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(response.headers()[name], value, "{path} {name}");
        }
        let (status, body) = answer(response).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body["api"], "Zou");
        assert!(
            body["version"].as_str().unwrap().ends_with("-annals"),
            "{body}"
        );
    }
    let head = app.client.head(app.url("/api")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
}

#[apply(backends)]
async fn login_answers_the_person_the_organisation_and_tokens(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    for prefix in ["", "/api"] {
        let response = app
            .client
            .post(app.url(&format!("{prefix}/auth/login")))
            .header("user-agent", GAZU)
            .json(
                &json!({"email": email, "password": PASSWORD, "totp": null, "email_otp": null,
                "fido_authentication_response": null, "recovery_code": null, "extra": 1}),
            )
            .send()
            .await
            .unwrap();
        assert!(
            cookies(response.headers()).is_empty(),
            "scripts get no cookies"
        );
        assert!(response.headers().contains_key("x-annals-position"));
        let (status, body) = answer(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["login"], true);
        let user = &body["user"];
        assert_eq!(user["type"], "Person");
        assert_eq!(user["email"], email.as_str());
        assert_eq!(
            (&user["first_name"], &user["last_name"], &user["full_name"]),
            (&json!("Ada"), &json!("Lovelace"), &json!("Ada Lovelace"))
        );
        assert_eq!(user["role"], "user");
        assert_eq!(user["active"], true);
        assert_eq!(user["timezone"], "Europe/Paris");
        assert_eq!(user["locale"], "en_US");
        assert_eq!(user["desktop_login"], "");
        assert_eq!(user["phone"], "");
        assert_eq!(user["departments"], json!([]));
        assert_eq!(user["is_bot"], false);
        assert_eq!(user["fido_enabled"], false);
        assert_eq!(user["totp_enabled"], false);
        assert_eq!(user["email_otp_enabled"], false);
        assert_eq!(user["preferred_two_factor_authentication"], Value::Null);
        for key in ["created_at", "updated_at"] {
            let at = user[key].as_str().unwrap();
            assert!(
                chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S").is_ok(),
                "{key}: {at}"
            );
        }
        let text = user.to_string();
        for secret in ["password", "secret", "argon2", "recovery", "jti"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(body["organisation"]["type"], "Organisation");
        assert_eq!(body["organisation"]["name"], "Kitsu");
        assert!(body["organisation"]["id"].as_str().unwrap().len() == 36);

        let access = body["access_token"].as_str().unwrap();
        let response = app
            .client
            .get(app.url(&format!("{prefix}/auth/authenticated")))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        let (status, me) = answer(response).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["authenticated"], true);
        assert_eq!(me["user"]["id"], body["user"]["id"]);
        assert_eq!(me["user"]["fido_devices"], json!([]));
        assert_eq!(me["organisation"], body["organisation"]);
    }
}

#[apply(backends)]
async fn unknown_email_and_wrong_password_answer_the_same(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    assert_answer(
        login_with(&app, &email, "not-the-password").await,
        StatusCode::BAD_REQUEST,
        json!({"login": false}),
    )
    .await;
    assert_answer(
        login_with(&app, &unique_email(), PASSWORD).await,
        StatusCode::BAD_REQUEST,
        json!({"login": false}),
    )
    .await;
    assert_answer(
        login(&app, &json!({"email": email})).await,
        StatusCode::BAD_REQUEST,
        json!({"login": false}),
    )
    .await;
}

#[apply(backends)]
async fn a_missing_email_is_a_validation_error(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    for body in [
        json!({}),
        json!({"email": ""}),
        json!({"email": null, "password": "x"}),
    ] {
        let (status, error) = answer(login(&app, &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error["error"], true, "{error}");
        assert!(error["message"].is_string(), "{error}");
        assert_eq!(error["data"]["errors"][0]["field"], "email", "{error}");
    }
    let (status, _) = answer(
        app.client
            .post(app.url("/api/auth/login"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[apply(backends)]
async fn login_reads_form_fields_and_query_arguments(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    let form = format!(
        "email={}&password={}",
        url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>(),
        PASSWORD
    );
    let response = app
        .client
        .post(app.url("/auth/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .client
        .post(app.url(&format!("/auth/login?{form}")))
        .send()
        .await
        .unwrap();
    let (status, body) = answer(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["login"], true);
}

#[apply(backends)]
async fn an_inactive_person_cannot_log_in_nor_use_a_token(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let session = signed_in(&app).await;
    let deactivate = UserCommand::SetActive {
        active: false,
        at: chrono::Utc::now(),
    };
    app.state
        .identity
        .users
        .execute(&session.user_id, deactivate, &Metadata::default())
        .await
        .unwrap();
    assert_answer(
        login_with(&app, &session.email, PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        json!({"error": true, "login": false, "unactive": true,
            "message": "User is unactive, he cannot log in."}),
    )
    .await;
    // A wrong password still says only that.
    assert_answer(
        login_with(&app, &session.email, "not-the-password").await,
        StatusCode::BAD_REQUEST,
        json!({"login": false}),
    )
    .await;
    let (status, body) = answer(
        app.kitsu(Some(&session.access))
            .get("/auth/authenticated")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], true);
    let (status, _) = answer(
        app.kitsu(Some(&session.refresh))
            .get("/auth/refresh-token")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[apply(backends)]
async fn five_failures_lock_the_account(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    for _ in 0..5 {
        assert_answer(
            login_with(&app, &email, "not-the-password").await,
            StatusCode::BAD_REQUEST,
            json!({"login": false}),
        )
        .await;
    }
    let locked = json!({"error": true, "login": false, "too_many_failed_login_attemps": true});
    assert_answer(
        login_with(&app, &email, PASSWORD).await,
        StatusCode::BAD_REQUEST,
        locked.clone(),
    )
    .await;
    assert_answer(
        login_with(&app, &email, "not-the-password").await,
        StatusCode::BAD_REQUEST,
        locked,
    )
    .await;
}

#[apply(backends)]
async fn browsers_get_cookies_and_cookies_authenticate(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .header("user-agent", CHROME)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set = cookies(response.headers());
    let access_cookie = set
        .iter()
        .find(|c| c.starts_with("access_token_cookie="))
        .expect("access cookie");
    let refresh_cookie = set
        .iter()
        .find(|c| c.starts_with("refresh_token_cookie="))
        .expect("refresh cookie");
    for attribute in ["Path=/;", "HttpOnly", "SameSite=Lax"] {
        assert!(access_cookie.contains(attribute), "{access_cookie}");
    }
    assert!(
        refresh_cookie.contains("Path=/api/auth/refresh-token;"),
        "{refresh_cookie}"
    );
    assert!(refresh_cookie.contains("HttpOnly"), "{refresh_cookie}");
    let body: Value = response.json().await.unwrap();
    let access = cookie_value(access_cookie).to_string();
    let refresh = cookie_value(refresh_cookie).to_string();
    assert_eq!(access, body["access_token"].as_str().unwrap());

    let with_cookie = |path: &str, cookie: String| {
        app.client
            .get(app.url(path))
            .header("user-agent", CHROME)
            .header("cookie", cookie)
    };
    let (status, me) = answer(
        with_cookie(
            "/api/auth/authenticated",
            format!("theme=dark; access_token_cookie={access}"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["email"], email.as_str());

    let response = with_cookie(
        "/api/auth/refresh-token",
        format!("refresh_token_cookie={refresh}"),
    )
    .send()
    .await
    .unwrap();
    let renewed = cookies(response.headers());
    let (status, body) = answer(response).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"refresh": true})));
    let new_access = renewed
        .iter()
        .find(|c| c.starts_with("access_token_cookie="))
        .map(|c| cookie_value(c).to_string())
        .expect("a new access cookie");
    assert_eq!(
        app.kitsu(Some(&new_access))
            .get("/auth/authenticated")
            .await
            .status(),
        StatusCode::OK
    );

    let response = with_cookie("/api/auth/logout", format!("access_token_cookie={access}"))
        .send()
        .await
        .unwrap();
    let cleared = cookies(response.headers());
    assert_answer(response, StatusCode::OK, json!({"logout": true})).await;
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("access_token_cookie=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    let response = with_cookie(
        "/api/auth/authenticated",
        format!("access_token_cookie={access}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // At the root, the refresh cookie is scoped to the root refresh route.
    let response = app
        .client
        .post(app.url("/auth/login"))
        .header("user-agent", CHROME)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(
        cookies(response.headers())
            .iter()
            .any(|c| c.starts_with("refresh_token_cookie=")
                && c.contains("Path=/auth/refresh-token;")),
    );
}

#[apply(backends)]
async fn the_refresh_token_renews_the_access_token(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let session = signed_in(&app).await;
    let (status, body) = answer(
        app.kitsu(Some(&session.refresh))
            .get("/auth/refresh-token")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let access = body["access_token"].as_str().unwrap();
    let (status, me) = answer(app.kitsu(Some(access)).get("/auth/authenticated").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["email"], session.email.as_str());
    // Each token on its own route only.
    assert_answer(
        app.kitsu(Some(&session.access))
            .get("/auth/refresh-token")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"msg": "Only refresh tokens are allowed"}),
    )
    .await;
    assert_answer(
        app.kitsu(Some(&session.refresh))
            .get("/auth/authenticated")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"msg": "Only non-refresh tokens are allowed"}),
    )
    .await;
    assert_answer(
        app.kitsu(None).get("/auth/refresh-token").await,
        StatusCode::UNAUTHORIZED,
        json!({"msg": "Missing JWT in cookies or headers (Missing cookie \"refresh_token_cookie\"; Missing Authorization Header)"}),
    )
    .await;
}

#[apply(backends)]
async fn logout_refuses_the_access_and_refresh_tokens_at_once(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let session = signed_in(&app).await;
    let response = app.kitsu(Some(&session.access)).get("/auth/logout").await;
    assert!(cookies(response.headers()).is_empty());
    assert_answer(response, StatusCode::OK, json!({"logout": true})).await;
    let revoked = json!({"msg": "Token has been revoked"});
    assert_answer(
        app.kitsu(Some(&session.access))
            .get("/auth/authenticated")
            .await,
        StatusCode::UNAUTHORIZED,
        revoked.clone(),
    )
    .await;
    assert_answer(
        app.kitsu(Some(&session.refresh))
            .get("/auth/refresh-token")
            .await,
        StatusCode::UNAUTHORIZED,
        revoked.clone(),
    )
    .await;
    assert_answer(
        app.kitsu(Some(&session.access)).get("/auth/logout").await,
        StatusCode::UNAUTHORIZED,
        revoked,
    )
    .await;
}

#[apply(backends)]
async fn bad_tokens_get_flask_jwt_extended_answers(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let session = signed_in(&app).await;
    assert_answer(
        app.kitsu(None).get("/auth/authenticated").await,
        StatusCode::UNAUTHORIZED,
        json!({"msg": "Missing JWT in cookies or headers (Missing cookie \"access_token_cookie\"; Missing Authorization Header)"}),
    )
    .await;
    assert_answer(
        app.kitsu(Some("None")).get("/auth/authenticated").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"msg": "Not enough segments"}),
    )
    .await;
    // Signed with another secret.
    let mut forged = claims(&session.access);
    forged["sub"] = json!(uuid::Uuid::now_v7().to_string());
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &forged,
        &EncodingKey::from_secret(b"not-the-secret-not-the-secret-not-the-se"),
    )
    .unwrap();
    assert_answer(
        app.kitsu(Some(&forged)).get("/auth/authenticated").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"msg": "Signature verification failed"}),
    )
    .await;
    // Our own claims, unsigned.
    let segments: Vec<&str> = session.access.split('.').collect();
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", segments[1]);
    assert_answer(
        app.kitsu(Some(&unsigned)).get("/auth/authenticated").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"msg": "The specified alg value is not allowed"}),
    )
    .await;
    // Expired, otherwise valid: the message gazu refreshes on.
    assert_answer(
        app.kitsu(Some(&expired_access(&session)))
            .get("/auth/authenticated")
            .await,
        StatusCode::UNAUTHORIZED,
        json!({"error": true, "message": "Signature has expired"}),
    )
    .await;
    // The session's real tokens still work.
    assert_eq!(
        app.kitsu(Some(&session.access))
            .get("/auth/authenticated")
            .await
            .status(),
        StatusCode::OK
    );
}

#[apply(backends)]
async fn changing_the_password(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let session = signed_in(&app).await;
    let token = Some(session.access.as_str());
    let change = |old: &str, new: &str, confirm: &str| json!({"old_password": old, "password": new, "password_2": confirm});
    let cases = [
        (
            change(PASSWORD, NEW_PASSWORD, "something-else-entirely"),
            "Confirmation password doesn't match.",
        ),
        (change(PASSWORD, "short", "short"), "Password is too short."),
        (
            change("not-the-password", NEW_PASSWORD, NEW_PASSWORD),
            "Old password is wrong.",
        ),
    ];
    for (body, message) in cases {
        assert_answer(
            app.kitsu(token).post("/auth/change-password", &body).await,
            StatusCode::BAD_REQUEST,
            json!({"error": true, "message": message}),
        )
        .await;
    }
    let (status, weak) = answer(
        app.kitsu(token)
            .post(
                "/auth/change-password",
                &change(PASSWORD, "password123", "password123"),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(weak["error"], true);
    assert!(
        weak["message"].as_str().unwrap().starts_with("Password "),
        "{weak}"
    );
    assert_eq!(
        app.kitsu(None)
            .post(
                "/auth/change-password",
                &change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
            )
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_answer(
        app.kitsu(token)
            .post(
                "/auth/change-password",
                &change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
            )
            .await,
        StatusCode::OK,
        json!({"success": true}),
    )
    .await;
    assert_eq!(
        login_with(&app, &session.email, PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        login_with(&app, &session.email, NEW_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

#[apply(backends)]
async fn resetting_the_password_with_a_mailed_token(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    let sent = json!({"success": "Reset token sent"});
    assert_answer(
        app.kitsu(None)
            .post("/auth/reset-password", &json!({"email": unique_email()}))
            .await,
        StatusCode::OK,
        sent.clone(),
    )
    .await;
    assert_answer(
        app.kitsu(None)
            .post("/auth/reset-password", &json!({"email": email}))
            .await,
        StatusCode::OK,
        sent,
    )
    .await;
    let token = mailed_code(&app, &email, "Reset token:");
    assert_eq!(token.len(), 64);
    let reset = |token: &str, password: &str, confirm: &str| json!({"email": email, "token": token, "password": password, "password2": confirm});
    let wrong = json!({"error": true, "message": "Wrong or expired token."});
    let wrong_token = "A".repeat(64);
    assert_answer(
        app.kitsu(None)
            .put(
                "/auth/reset-password",
                &reset(&wrong_token, NEW_PASSWORD, NEW_PASSWORD),
            )
            .await,
        StatusCode::BAD_REQUEST,
        wrong.clone(),
    )
    .await;
    assert_answer(
        app.kitsu(None)
            .put(
                "/auth/reset-password",
                &reset(&token, NEW_PASSWORD, "different-passphrase"),
            )
            .await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "Confirmation password doesn't match."}),
    )
    .await;
    assert_answer(
        app.kitsu(None)
            .put("/auth/reset-password", &reset(&token, "short", "short"))
            .await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "Password is too short."}),
    )
    .await;
    assert_answer(
        app.kitsu(None)
            .put(
                "/auth/reset-password",
                &reset(&token, NEW_PASSWORD, NEW_PASSWORD),
            )
            .await,
        StatusCode::OK,
        json!({"success": true}),
    )
    .await;
    assert_eq!(
        login_with(&app, &email, NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    // Single use.
    assert_answer(
        app.kitsu(None)
            .put(
                "/auth/reset-password",
                &reset(
                    &token,
                    "yet-another-long-passphrase",
                    "yet-another-long-passphrase",
                ),
            )
            .await,
        StatusCode::BAD_REQUEST,
        wrong,
    )
    .await;
    let (status, body) = answer(
        app.kitsu(None)
            .put("/auth/reset-password", &json!({"email": email}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], true);
}

#[apply(backends)]
async fn totp_setup_login_and_recovery_codes(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let session = signed_in(&app).await;
    let token = Some(session.access.as_str());
    let wrong_otp = json!({"error": true, "login": false, "wrong_OTP": true});

    assert_answer(
        app.kitsu(token)
            .put("/auth/recovery-codes", &json!({"totp": "123456"}))
            .await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "No two factor authentication enabled."}),
    )
    .await;
    assert_answer(
        app.kitsu(token)
            .post("/auth/totp", &json!({"totp": "123456"}))
            .await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "TOTP setup was not started."}),
    )
    .await;
    let (status, setup) = answer(app.kitsu(token).put("/auth/totp", &json!({})).await).await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let secret = setup["otp_secret"].as_str().unwrap().to_string();
    assert!(
        setup["totp_provisionning_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let code = totp_now(&secret, now()).unwrap();
    let other = format!(
        "{:06}",
        (code.parse::<u32>().unwrap() + 500_000) % 1_000_000
    );
    assert_answer(
        app.kitsu(token)
            .post("/auth/totp", &json!({"totp": other}))
            .await,
        StatusCode::BAD_REQUEST,
        wrong_otp.clone(),
    )
    .await;
    let (status, enabled) = answer(
        app.kitsu(token)
            .post("/auth/totp", &json!({"totp": code}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    let codes: Vec<String> = serde_json::from_value(enabled["otp_recovery_codes"].clone()).unwrap();
    assert_eq!(codes.len(), 16);
    let fresh = enabled["access_token"].as_str().unwrap();
    assert!(enabled["refresh_token"].is_string());
    let (status, me) = answer(app.kitsu(Some(fresh)).get("/auth/authenticated").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["totp_enabled"], true);
    assert_eq!(me["user"]["preferred_two_factor_authentication"], "totp");
    assert!(!me["user"].to_string().contains(&secret));
    assert_answer(
        app.kitsu(token).put("/auth/totp", &json!({})).await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "TOTP already enabled."}),
    )
    .await;

    // Login now needs a second factor.
    assert_answer(
        login_with(&app, &session.email, PASSWORD).await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "login": false, "missing_OTP": true,
            "preferred_two_factor_authentication": "totp",
            "two_factor_authentication_enabled": ["recovery_code", "totp"]}),
    )
    .await;
    assert_answer(
        login(
            &app,
            &json!({"email": session.email, "password": PASSWORD, "totp": other}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        wrong_otp.clone(),
    )
    .await;
    let code = totp_now(&secret, now()).unwrap();
    let (status, body) = answer(
        login(
            &app,
            &json!({"email": session.email, "password": PASSWORD, "totp": code}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A second factor does not make up for a wrong password.
    assert_answer(
        login(
            &app,
            &json!({"email": session.email, "password": "not-the-password", "totp": code}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        json!({"login": false}),
    )
    .await;
    // Recovery codes work once.
    let recovery = json!({"email": session.email, "password": PASSWORD, "recovery_code": codes[0]});
    assert_eq!(login(&app, &recovery).await.status(), StatusCode::OK);
    assert_answer(
        login(&app, &recovery).await,
        StatusCode::BAD_REQUEST,
        wrong_otp.clone(),
    )
    .await;

    // New recovery codes replace the old ones.
    let (status, missing) = answer(
        app.kitsu(token)
            .put("/auth/recovery-codes", &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(missing["missing_OTP"], true);
    assert_answer(
        app.kitsu(token)
            .put("/auth/recovery-codes", &json!({"totp": other}))
            .await,
        StatusCode::BAD_REQUEST,
        wrong_otp.clone(),
    )
    .await;
    let (status, renewed) = answer(
        app.kitsu(token)
            .put(
                "/auth/recovery-codes",
                &json!({"totp": totp_now(&secret, now()).unwrap()}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    let new_codes: Vec<String> =
        serde_json::from_value(renewed["otp_recovery_codes"].clone()).unwrap();
    assert_eq!(new_codes.len(), 16);
    let old = json!({"email": session.email, "password": PASSWORD, "recovery_code": codes[1]});
    assert_answer(
        login(&app, &old).await,
        StatusCode::BAD_REQUEST,
        wrong_otp.clone(),
    )
    .await;

    // Disabling needs a proof; a recovery code is one (in the query here).
    assert_answer(
        app.kitsu(token)
            .delete("/auth/totp", &json!({"totp": other}))
            .await,
        StatusCode::BAD_REQUEST,
        wrong_otp,
    )
    .await;
    let response = app
        .kitsu(Some(&session.access))
        .bodiless(
            reqwest::Method::DELETE,
            &format!("/auth/totp?recovery_code={}", new_codes[0]),
        )
        .await;
    assert_answer(response, StatusCode::OK, json!({"success": true})).await;
    assert_eq!(
        login_with(&app, &session.email, PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_answer(
        app.kitsu(token)
            .delete("/auth/totp", &json!({"totp": "123456"}))
            .await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "TOTP not enabled."}),
    )
    .await;
}

#[apply(backends)]
async fn email_otp_setup_and_login_with_a_mailed_code(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let session = signed_in(&app).await;
    let token = Some(session.access.as_str());
    let marker = "Your one-time code:";

    assert_answer(
        app.kitsu(token).put("/auth/email-otp", &json!({})).await,
        StatusCode::OK,
        json!({"success": true}),
    )
    .await;
    let code = mailed_code(&app, &session.email, marker);
    assert_eq!(code.len(), 6);
    let (status, enabled) = answer(
        app.kitsu(token)
            .post("/auth/email-otp", &json!({"email_otp": code}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(enabled["otp_recovery_codes"].as_array().unwrap().len(), 16);
    assert!(enabled["access_token"].is_string() && enabled["refresh_token"].is_string());
    assert_answer(
        app.kitsu(token).put("/auth/email-otp", &json!({})).await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "OTP by email already enabled."}),
    )
    .await;

    assert_answer(
        login_with(&app, &session.email, PASSWORD).await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "login": false, "missing_OTP": true,
            "preferred_two_factor_authentication": "email_otp",
            "two_factor_authentication_enabled": ["recovery_code", "email_otp"]}),
    )
    .await;
    // Asking for a code answers the same for anyone.
    for email in [session.email.clone(), unique_email()] {
        let response = app.kitsu(None).get(&otp_request(&email)).await;
        assert_answer(response, StatusCode::OK, json!({"success": true})).await;
    }
    let code = mailed_code(&app, &session.email, marker);
    let with_code = json!({"email": session.email, "password": PASSWORD, "email_otp": code});
    let (status, body) = answer(login(&app, &with_code).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email_otp_enabled"], true);
    // A mailed code works once.
    assert_answer(
        login(&app, &with_code).await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "login": false, "wrong_OTP": true}),
    )
    .await;

    app.kitsu(None).get(&otp_request(&session.email)).await;
    let code = mailed_code(&app, &session.email, marker);
    assert_answer(
        app.kitsu(token)
            .delete("/auth/email-otp", &json!({"email_otp": code}))
            .await,
        StatusCode::OK,
        json!({"success": true}),
    )
    .await;
    assert_eq!(
        login_with(&app, &session.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[apply(backends)]
async fn fido_and_saml_are_not_enabled(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    assert_answer(
        app.kitsu(None).get("/auth/fido").await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "FIDO not enabled."}),
    )
    .await;
    assert_answer(
        app.kitsu(None).get("/auth/saml/login").await,
        StatusCode::BAD_REQUEST,
        json!({"error": "SAML is not enabled."}),
    )
    .await;
    assert_answer(
        app.kitsu(None).put("/auth/fido", &json!({})).await,
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "FIDO not enabled."}),
    )
    .await;
    assert_answer(
        app.kitsu(None).get("/auth/oidc/login").await,
        StatusCode::BAD_REQUEST,
        json!({"error": "OIDC is not enabled."}),
    )
    .await;
    let response = app.client.get(app.url("/auth/fido")).send().await.unwrap();
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(response.headers()[name], value, "{name}");
    }
}

const GAZU_SESSION: &str = r#"
import json, sys
import gazu
from gazu.exception import AuthFailedException, NotAuthenticatedException

host, email, password = sys.argv[1:4]
gazu.set_host(host)
out = {"up": gazu.client.host_is_up(), "valid": gazu.client.host_is_valid()}
out["version"] = gazu.client.get_api_version()
try:
    gazu.log_in(email, "not-the-password")
    out["wrong_password"] = "accepted"
except AuthFailedException:
    out["wrong_password"] = "refused"
tokens = gazu.log_in(email, password)
out["login"] = tokens["login"]
out["user"] = gazu.client.get_current_user()
out["organisation"] = gazu.person.get_organisation()["name"]
first_access = gazu.client.default_client.access_token
refreshed = gazu.refresh_access_token()
out["refreshed"] = refreshed["access_token"] != first_access
out["after_refresh"] = gazu.client.get_current_user()["email"]
access = gazu.client.default_client.access_token
gazu.log_out()
stale = gazu.client.create_client(host, access_token=access)
try:
    gazu.client.get_current_user(client=stale)
    out["after_logout"] = "accepted"
except NotAuthenticatedException:
    out["after_logout"] = "refused"
print(json.dumps(out))
"#;

#[apply(backends)]
async fn gazu_logs_in_refreshes_and_logs_out(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    let host = app.url("/api");
    let out = clients::python(GAZU_SESSION, &[&host, &email, PASSWORD])
        .await
        .json;
    assert_eq!(out["up"], true, "{out}");
    assert_eq!(out["valid"], true, "{out}");
    assert!(
        out["version"].as_str().unwrap().ends_with("-annals"),
        "{out}"
    );
    assert_eq!(out["wrong_password"], "refused", "{out}");
    assert_eq!(out["login"], true, "{out}");
    assert_eq!(out["user"]["email"], email.as_str(), "{out}");
    assert_eq!(out["user"]["type"], "Person", "{out}");
    assert_eq!(out["organisation"], "Kitsu", "{out}");
    assert_eq!(out["refreshed"], true, "{out}");
    assert_eq!(out["after_refresh"], email.as_str(), "{out}");
    assert_eq!(out["after_logout"], "refused", "{out}");
}

const GAZU_AUTO_REFRESH: &str = r#"
import json, sys
import gazu
from gazu.exception import NotAuthenticatedException

host, expired, refresh = sys.argv[1:4]
out = {}
manual = gazu.client.create_client(host, access_token=expired, refresh_token=refresh)
try:
    gazu.client.get_current_user(client=manual)
    out["without_auto_refresh"] = "accepted"
except NotAuthenticatedException:
    out["without_auto_refresh"] = "refused"
auto = gazu.client.create_client(
    host, use_refresh_token=True, access_token=expired, refresh_token=refresh
)
out["email"] = gazu.client.get_current_user(client=auto)["email"]
out["renewed"] = auto.access_token != expired
print(json.dumps(out))
"#;

#[apply(backends)]
async fn gazu_refreshes_an_expired_access_token_by_itself(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let session = signed_in(&app).await;
    let expired = expired_access(&session);
    let host = app.url("/api");
    let out = clients::python(GAZU_AUTO_REFRESH, &[&host, &expired, &session.refresh])
        .await
        .json;
    assert_eq!(out["without_auto_refresh"], "refused", "{out}");
    assert_eq!(out["email"], session.email.as_str(), "{out}");
    assert_eq!(out["renewed"], true, "{out}");
}
