//! Registration, login, refresh, verification and profile over HTTP.
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, assert_error, backends, spawn_app, unique_email};

#[apply(backends)]
async fn register_answers_with_the_seed_message_and_a_position(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.register(&unique_email()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let position = response.headers()["x-annals-position"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(position.contains('.'), "{position}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "User registered successfully. Please check your email to verify your account."})
    );
}

#[apply(backends)]
async fn registering_an_email_twice_is_a_conflict_whatever_its_case(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    assert_eq!(app.register(&email).await.status(), StatusCode::CREATED);
    assert_error(
        app.register(&email).await,
        StatusCode::CONFLICT,
        Some("email"),
    )
    .await;
    assert_error(
        app.register(&email.to_uppercase()).await,
        StatusCode::CONFLICT,
        Some("email"),
    )
    .await;
}

#[apply(backends)]
async fn bad_registrations_name_the_field(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let full = json!({"email": unique_email(), "firstName": "Ada", "lastName": "Lovelace", "password": PASSWORD});
    for field in ["email", "password", "firstName", "lastName"] {
        let mut body = full.clone();
        body.as_object_mut().unwrap().remove(field);
        let response = app.post("/core/register", &body).await;
        let error = assert_error(response, StatusCode::BAD_REQUEST, Some(field)).await;
        assert_eq!(
            error["error"]["message"],
            json!(format!("{field}: is required"))
        );
    }
    let cases = [
        (json!({"email": "not-an-email"}), "email"),
        (json!({"email": "a@"}), "email"),
        (json!({"password": "short"}), "password"),
        (json!({"password": "password123"}), "password"),
        (json!({"email": 42}), "email"),
        (json!({"firstName": "x".repeat(101)}), "firstName"),
    ];
    for (patch, field) in cases {
        let mut body = full.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let response = app.post("/core/register", &body).await;
        assert_error(response, StatusCode::BAD_REQUEST, Some(field)).await;
    }
    let response = app
        .client
        .post(app.url("/core/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, Some("body")).await;
    // Nothing of the above was recorded: the address is still free.
    assert_eq!(
        app.register(full["email"].as_str().unwrap()).await.status(),
        StatusCode::CREATED
    );
}

#[apply(backends)]
async fn login_returns_refresh_and_access_tokens(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    let response = app.login(&email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-annals-position"));
    let body: Value = response.json().await.unwrap();
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, vec!["access".to_string(), "refresh".to_string()]);
    assert_eq!(body["access"].as_str().unwrap().split('.').count(), 3);
}

#[apply(backends)]
async fn unknown_email_and_wrong_password_are_indistinguishable(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    let wrong = assert_error(
        app.login(&email, "not-the-password-at-all").await,
        StatusCode::UNAUTHORIZED,
        None,
    )
    .await;
    let unknown = assert_error(
        app.login(&unique_email(), PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        None,
    )
    .await;
    assert_eq!(wrong, unknown);
    let missing = app.post("/core/login", &json!({"email": email})).await;
    assert_error(missing, StatusCode::BAD_REQUEST, Some("password")).await;
}

#[apply(backends)]
async fn five_failures_within_a_minute_lock_the_account(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    for _ in 0..5 {
        let response = app.login(&email, "not-the-password-at-all").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = app.login(&email, PASSWORD).await;
    assert!(locked.headers().contains_key("retry-after"));
    let body = assert_error(locked, StatusCode::TOO_MANY_REQUESTS, None).await;
    assert_eq!(body["error"]["code"], json!("account_locked"));
}

/// Whoever guesses passwords locks out only their own address: the owner, logging in from
/// another address, still gets in (on every surface: the lock lives in the user's stream).
#[apply(backends)]
async fn a_lock_holds_for_the_guessing_address_only(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.register(&email).await;
    let attacker = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let guess = |password: &'static str| {
        attacker
            .post(app.url("/core/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(
            guess("not-the-password-at-all").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused from the guessing address...
    assert_eq!(
        guess(PASSWORD).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let kitsu = attacker
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(kitsu.status(), StatusCode::BAD_REQUEST);
    let body: Value = kitsu.json().await.unwrap();
    assert_eq!(body["too_many_failed_login_attemps"], true, "{body}");
    // ...while the owner, from their own address, logs in.
    let owner = app.login(&email, PASSWORD).await;
    assert_eq!(owner.status(), StatusCode::OK);
}

#[apply(backends)]
async fn refresh_gives_a_new_access_token_for_refresh_tokens_only(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, refresh) = app.signed_up(&unique_email()).await;
    let response = app
        .post("/core/token/refresh", &json!({"refresh": refresh}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let new_access = body["access"].as_str().unwrap();
    assert_eq!(app.me(new_access).await.status(), StatusCode::OK);

    let with_access = app
        .post("/core/token/refresh", &json!({"refresh": access}))
        .await;
    assert_error(with_access, StatusCode::UNAUTHORIZED, None).await;
    let garbage = app
        .post("/core/token/refresh", &json!({"refresh": "a.b.c"}))
        .await;
    assert_error(garbage, StatusCode::UNAUTHORIZED, None).await;
    let missing = app.post("/core/token/refresh", &json!({})).await;
    assert_error(missing, StatusCode::BAD_REQUEST, Some("refresh")).await;
}

#[apply(backends)]
async fn me_needs_a_valid_access_token(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, refresh) = app.signed_up(&unique_email()).await;
    let none = app.client.get(app.url("/core/me")).send().await.unwrap();
    assert_error(none, StatusCode::UNAUTHORIZED, None).await;
    assert_error(app.me(&refresh).await, StatusCode::UNAUTHORIZED, None).await;
    assert_error(app.me("not-a-token").await, StatusCode::UNAUTHORIZED, None).await;
}

#[apply(backends)]
async fn the_profile_comes_from_the_read_model(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    let (access, _) = app.signed_up(&email).await;
    let profile: Value = app.me(&access).await.json().await.unwrap();
    assert_eq!(profile["email"], json!(email));
    assert_eq!(profile["firstName"], json!("Ada"));
    assert_eq!(profile["verified"], json!(false));
    assert_eq!(profile["loginCount"], json!(1));
    assert!(profile.get("password_hash").is_none());

    let response = app.update_me(&access, &json!({"lastName": "Byron"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let profile: Value = app.me(&access).await.json().await.unwrap();
    assert_eq!(profile["lastName"], json!("Byron"));
    assert_eq!(profile["firstName"], json!("Ada"));

    let bad = app.update_me(&access, &json!({"firstName": 7})).await;
    assert_error(bad, StatusCode::BAD_REQUEST, Some("firstName")).await;
}

#[apply(backends)]
async fn following_the_mailed_link_verifies_the_address(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email();
    let (access, _) = app.signed_up(&email).await;
    let mails = app.mails();
    let mail = mails
        .iter()
        .find(|m| m["to"] == json!(email))
        .expect("verification mail");
    let body = mail["body"].as_str().unwrap();
    let link = body
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .expect("a link in the mail");
    assert!(
        link.starts_with(&format!("{}/core/verify-email?token=", app.address)),
        "{link}"
    );

    let response = app.client.get(link).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let profile: Value = app.me(&access).await.json().await.unwrap();
    assert_eq!(profile["verified"], json!(true));
    // Following it again is harmless.
    assert_eq!(
        app.client.get(link).send().await.unwrap().status(),
        StatusCode::OK
    );

    let forged = app
        .client
        .get(app.url("/core/verify-email?token=abc"))
        .send()
        .await
        .unwrap();
    assert_error(forged, StatusCode::BAD_REQUEST, Some("token")).await;
    let missing = app
        .client
        .get(app.url("/core/verify-email"))
        .send()
        .await
        .unwrap();
    assert_error(missing, StatusCode::BAD_REQUEST, Some("token")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_store_keeps_everything_across_a_restart() {
    let app = spawn_app(Backend::Embedded).await;
    let email = unique_email();
    let (access, refresh) = app.signed_up(&email).await;
    let before: Value = app.me(&access).await.json().await.unwrap();
    let checkpoint = app.infra.views.checkpoint("user_profiles").await.unwrap();

    let app = app.restart().await;
    // Read models and checkpoints survived: the same profile, no replay from the start. (The
    // stored checkpoint may have moved past events that changed nothing, which it stores a
    // little later than it applies them.)
    assert!(checkpoint > annals_contracts::Position::ZERO);
    assert!(app.infra.views.checkpoint("user_profiles").await.unwrap() >= checkpoint);
    let after: Value = app.me(&access).await.json().await.unwrap();
    assert_eq!(after, before);
    // The events survived: the address is still taken, and the password still works.
    assert_error(
        app.register(&email).await,
        StatusCode::CONFLICT,
        Some("email"),
    )
    .await;
    assert_eq!(app.login(&email, PASSWORD).await.status(), StatusCode::OK);
    let refreshed = app
        .post("/core/token/refresh", &json!({"refresh": refresh}))
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let profile: Value = app.me(&access).await.json().await.unwrap();
    assert_eq!(profile["loginCount"], json!(2));
}

#[apply(backends)]
async fn logins_from_one_address_are_rate_limited_and_recover(#[case] backend: Backend) {
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        login_rate_per_minute: 60, // one a second, bursts of 6
        ..crate::helpers::Options::of(backend)
    })
    .await;
    let email = unique_email();
    app.register(&email).await;
    for _ in 0..6 {
        assert_eq!(app.login(&email, PASSWORD).await.status(), StatusCode::OK);
    }
    let limited = app.login(&email, PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    // Other endpoints are not limited.
    assert_eq!(
        app.register(&unique_email()).await.status(),
        StatusCode::CREATED
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.login(&email, PASSWORD).await.status(), StatusCode::OK);
}

/// The lock lasts a minute; then the right password works again (and the count restarts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_account_recovers_after_a_minute() {
    let app = spawn_app(Backend::Postgres).await;
    let email = unique_email();
    app.register(&email).await;
    for _ in 0..5 {
        app.login(&email, "not-the-password-at-all").await;
    }
    assert_eq!(
        app.login(&email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::sleep(std::time::Duration::from_secs(61)).await;
    assert_eq!(app.login(&email, PASSWORD).await.status(), StatusCode::OK);
    let wrong = app.login(&email, "not-the-password-at-all").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}
