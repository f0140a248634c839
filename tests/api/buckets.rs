//! The bucket API over raw HTTP: shapes, validation, limits, billing (including the two routes
//! the shipped client lacks), servers, invitations of unknown addresses, and 404 for
//! non-members on every route.
use reqwest::{Method, Response, StatusCode};
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, backends, spawn_app, unique_email};

/// A registered, logged-in account.
pub struct Account {
    pub email: String,
    pub access: String,
    pub refresh: String,
    pub user_id: String,
}

pub async fn account(app: &TestApp) -> Account {
    let email = unique_email();
    let (access, refresh) = app.signed_up(&email).await;
    let me: Value = app.me(&access).await.json().await.unwrap();
    Account {
        user_id: me["id"].as_str().expect("user id").to_string(),
        email,
        access,
        refresh,
    }
}

/// Asserts the status and returns the JSON body.
pub async fn expect(response: Response, status: StatusCode) -> Value {
    let (got, body) = crate::surfaces::answer(response).await;
    assert_eq!(got, status, "{body}");
    body
}

/// Asserts a `{msg, fields?}` error with this status; returns the body.
pub async fn expect_msg(response: Response, status: StatusCode) -> Value {
    let body = expect(response, status).await;
    assert!(body["msg"].is_string(), "{body}");
    body
}

pub async fn create_bucket(app: &TestApp, owner: &Account, name: &str) -> Value {
    let response = app
        .workspaces(Some(&owner.access))
        .post(
            "/api/bucket/create_classic",
            json!({"name": name, "comment": "EU cluster", "app_url": "https://example.com"}),
        )
        .await;
    assert!(response.headers().contains_key("x-annals-position"));
    expect(response, StatusCode::OK).await["bucket"].clone()
}

pub fn id_of(bucket: &Value) -> String {
    bucket["_id"].as_str().expect("bucket id").to_string()
}

fn is_key(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == 15
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    })
}

fn emails(members: &Value) -> Vec<String> {
    let mut all: Vec<String> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap().to_string())
        .collect();
    all.sort();
    all
}

#[apply(backends)]
async fn a_created_bucket_has_the_shape_the_client_needs(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let bucket = create_bucket(&app, &alice, "prod").await;
    let id = id_of(&bucket);
    assert!(
        id.len() == 24
            && id
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
        "{bucket}"
    );
    assert!(
        is_key(&bucket["public_id"]) && is_key(&bucket["secret_id"]),
        "{bucket}"
    );
    assert_ne!(bucket["public_id"], bucket["secret_id"]);
    assert_eq!(bucket["name"], "prod");
    assert_eq!(bucket["comment"], "EU cluster");
    assert_eq!(bucket["app_url"], "https://example.com");
    assert_eq!(bucket["configuration"], json!({}));
    assert_eq!(bucket["owner"], json!(alice.user_id));
    assert_eq!(bucket["credits"]["offer_type"], "free");
    assert_eq!(bucket["credits"]["payer"]["email"], json!(alice.email));
    assert_eq!(bucket["payment"]["offer_type"], "free");
    assert_eq!(bucket["node"]["endpoints"]["web"], json!(app.address));
    assert_eq!(bucket["members"][0]["role"], "owner");
    assert_eq!(bucket["invitations"], json!([]));
    assert!(bucket["created_at"].is_string() && bucket["updated_at"].is_string());

    // The same bucket, read back at once (read-your-writes without any header).
    let read = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read, bucket);
    for path in ["/api/bucket", "/api/bucket/"] {
        let list = expect(
            app.workspaces(Some(&alice.access)).get(path).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list, json!([bucket]), "{path}");
    }
    let role = app
        .workspaces(Some(&alice.access))
        .get(&format!("/api/bucket/{id}/current_role"))
        .await;
    assert_eq!(role.status(), StatusCode::OK);
    assert!(
        role.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(role.text().await.unwrap(), "owner");
    let me = expect(
        app.workspaces(Some(&alice.access))
            .get("/api/users/isLogged")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["authorized_bucket"], json!([id]));

    // Update: the named fields only.
    let updated = expect(
        app.workspaces(Some(&alice.access))
            .put(
                &format!("/api/bucket/{id}"),
                json!({"name": "prod-eu", "configuration": {"theme": "dark"}}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["name"], "prod-eu");
    assert_eq!(updated["comment"], "EU cluster");
    assert_eq!(updated["configuration"], json!({"theme": "dark"}));
    let options = expect(
        app.workspaces(Some(&alice.access))
            .put(
                &format!("/api/bucket/{id}/user_options"),
                json!({"options": {"sort": "name"}}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(options["bucket"]["user_options"], json!({"sort": "name"}));
    let feedback = expect(
        app.workspaces(Some(&alice.access))
            .put(
                &format!("/api/bucket/{id}/feedback"),
                json!({"feedback": "nice"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(feedback, json!({"feedback": "nice"}));

    // Delete: the bucket is gone for everyone.
    let deleted = expect(
        app.workspaces(Some(&alice.access))
            .delete(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deleted["_id"], json!(id));
    expect_msg(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        expect(
            app.workspaces(Some(&alice.access)).get("/api/bucket").await,
            StatusCode::OK
        )
        .await,
        json!([])
    );
}

#[apply(backends)]
async fn missing_and_mistyped_fields_are_400s_naming_them(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let created = app
        .workspaces(Some(&alice.access))
        .post("/api/bucket/create_classic", json!({}))
        .await;
    let body = expect_msg(created, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["fields"], json!(["name"]), "{body}");
    let typed = app
        .workspaces(Some(&alice.access))
        .post("/api/bucket/create_classic", json!({"name": 42}))
        .await;
    assert_eq!(
        expect_msg(typed, StatusCode::BAD_REQUEST).await["fields"],
        json!(["name"])
    );
    let bare = app
        .client
        .post(app.url("/api/bucket/create_classic"))
        .bearer_auth(&alice.access)
        .send()
        .await
        .unwrap();
    expect_msg(bare, StatusCode::BAD_REQUEST).await;
    let id = id_of(&create_bucket(&app, &alice, "prod").await);
    let cases = [
        (Method::POST, "add_user", json!({}), "email"),
        (
            Method::POST,
            "add_user",
            json!({"email": "not-an-email"}),
            "email",
        ),
        (Method::POST, "remove_user", json!({}), "email"),
        (
            Method::POST,
            "promote_user",
            json!({"email": alice.email}),
            "role",
        ),
        (
            Method::POST,
            "promote_user",
            json!({"email": alice.email, "role": "king"}),
            "role",
        ),
        (
            Method::POST,
            "manage_notif",
            json!({"email": alice.email, "state": "sms"}),
            "state",
        ),
        (
            Method::POST,
            "manage_notif",
            json!({"state": "none"}),
            "email",
        ),
        (Method::POST, "transfer_ownership", json!({}), "new_owner"),
        (Method::PUT, "user_options", json!({}), "options"),
        (
            Method::PUT,
            "user_options",
            json!({"options": "dark"}),
            "options",
        ),
        (Method::PUT, "feedback", json!({}), "feedback"),
        (Method::POST, "upgrade", json!({}), "plan"),
        (Method::POST, "upgrade", json!({"plan": "gold"}), "plan"),
        (Method::POST, "data/deleteServer", json!({}), "server_name"),
        (Method::POST, "payment/cards", json!({}), "token"),
        (
            Method::POST,
            "payment/cards",
            json!({"token": "4242"}),
            "token",
        ),
    ];
    for (method, route, body, field) in cases {
        let response = app
            .workspaces(Some(&alice.access))
            .call(
                method,
                &format!("/api/bucket/{id}/{route}"),
                Some(body.clone()),
            )
            .await;
        let error = expect_msg(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(error["fields"], json!([field]), "{route} {body}: {error}");
    }
    let response = app
        .workspaces(Some(&alice.access))
        .put(&format!("/api/bucket/{id}"), json!({}))
        .await;
    expect_msg(response, StatusCode::BAD_REQUEST).await;
    let response = app
        .workspaces(Some(&alice.access))
        .delete(&format!("/api/bucket/{id}/invitation"))
        .await;
    assert_eq!(
        expect_msg(response, StatusCode::BAD_REQUEST).await["fields"],
        json!(["email"])
    );
    let not_json = app
        .client
        .post(app.url(&format!("/api/bucket/{id}/add_user")))
        .bearer_auth(&alice.access)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    expect_msg(not_json, StatusCode::BAD_REQUEST).await;
    // The legacy field name of transfer_ownership is accepted (and, here, names a stranger).
    let response = app
        .workspaces(Some(&alice.access))
        .post(
            &format!("/api/bucket/{id}/transfer_ownership"),
            json!({"newowner": "nobody@example.com"}),
        )
        .await;
    assert_eq!(
        expect_msg(response, StatusCode::NOT_FOUND).await["msg"],
        "user not found"
    );
}

#[apply(backends)]
async fn non_members_get_404_on_every_route(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let mallory = account(&app).await;
    let bucket = create_bucket(&app, &alice, "prod").await;
    let id = id_of(&bucket);
    let routes = |id: &str| {
        vec![
            (Method::GET, format!("/api/bucket/{id}"), None),
            (
                Method::PUT,
                format!("/api/bucket/{id}"),
                Some(json!({"name": "mine"})),
            ),
            (Method::DELETE, format!("/api/bucket/{id}"), None),
            (Method::GET, format!("/api/bucket/{id}/current_role"), None),
            (
                Method::GET,
                format!("/api/bucket/{id}/users_authorized"),
                None,
            ),
            (Method::GET, format!("/api/bucket/{id}/meta_servers"), None),
            (
                Method::POST,
                format!("/api/bucket/{id}/add_user"),
                Some(json!({"email": "x@example.com"})),
            ),
            (
                Method::DELETE,
                format!("/api/bucket/{id}/invitation?email=x%40example.com"),
                None,
            ),
            (
                Method::DELETE,
                format!("/api/bucket/{id}/invitation/x@example.com"),
                None,
            ),
            (
                Method::POST,
                format!("/api/bucket/{id}/remove_user"),
                Some(json!({"email": alice.email})),
            ),
            (
                Method::POST,
                format!("/api/bucket/{id}/promote_user"),
                Some(json!({"email": alice.email, "role": "admin"})),
            ),
            (
                Method::POST,
                format!("/api/bucket/{id}/manage_notif"),
                Some(json!({"email": alice.email, "state": "none"})),
            ),
            (
                Method::POST,
                format!("/api/bucket/{id}/transfer_ownership"),
                Some(json!({"new_owner": mallory.email})),
            ),
            (
                Method::PUT,
                format!("/api/bucket/{id}/user_options"),
                Some(json!({"options": {}})),
            ),
            (
                Method::PUT,
                format!("/api/bucket/{id}/feedback"),
                Some(json!({"feedback": "hi"})),
            ),
            (Method::GET, format!("/api/bucket/{id}/subscription"), None),
            (
                Method::POST,
                format!("/api/bucket/{id}/upgrade"),
                Some(json!({"plan": "pro_8", "stripe_token": "tok_visa"})),
            ),
            (Method::PUT, format!("/api/bucket/{id}/start_trial"), None),
            (
                Method::GET,
                format!("/api/bucket/{id}/payment/charges"),
                None,
            ),
            (Method::GET, format!("/api/bucket/{id}/payment/cards"), None),
            (
                Method::POST,
                format!("/api/bucket/{id}/payment/cards"),
                Some(json!({"token": "tok_visa"})),
            ),
            (
                Method::DELETE,
                format!("/api/bucket/{id}/payment/card/pm_x"),
                None,
            ),
            (
                Method::POST,
                format!("/api/bucket/{id}/data/deleteServer"),
                Some(json!({"server_name": "web-1"})),
            ),
        ]
    };
    // A stranger cannot tell a bucket that exists from one that does not.
    for target in [id.as_str(), "000000000000000000000000", "not-a-bucket-id"] {
        for (method, path, body) in routes(target) {
            let response = app
                .workspaces(Some(&mallory.access))
                .call(method.clone(), &path, body)
                .await;
            let error = expect_msg(response, StatusCode::NOT_FOUND).await;
            assert_eq!(error["msg"], "bucket not found", "{method} {path}");
        }
    }
    // Nothing changed.
    let after = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after, bucket);
    assert_eq!(
        expect(
            app.workspaces(Some(&mallory.access))
                .get("/api/bucket")
                .await,
            StatusCode::OK
        )
        .await,
        json!([])
    );
}

#[apply(backends)]
async fn roles_guard_the_owner_and_who_may_do_what(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let bob = account(&app).await;
    let dave = account(&app).await;
    let id = id_of(&create_bucket(&app, &alice, "prod").await);
    let path = |route: &str| format!("/api/bucket/{id}/{route}");
    for who in [&bob, &dave] {
        let invited = expect(
            app.workspaces(Some(&alice.access))
                .post(&path("add_user"), json!({"email": who.email}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            invited,
            json!({"invitations": []}),
            "an account is added directly"
        );
    }
    let members = expect(
        app.workspaces(Some(&bob.access))
            .get(&path("users_authorized"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&members).len(), 3);
    let bob_entry = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == json!(bob.email))
        .unwrap();
    assert_eq!(bob_entry["role"], "user");
    assert_eq!(bob_entry["_id"], json!(bob.user_id));
    assert_eq!(
        bob_entry["username"],
        json!(bob.email.split('@').next().unwrap())
    );
    assert_eq!(
        app.workspaces(Some(&bob.access))
            .get(&path("current_role"))
            .await
            .text()
            .await
            .unwrap(),
        "user"
    );

    // Users cannot update, invite, delete or change roles.
    expect_msg(
        app.workspaces(Some(&bob.access))
            .put(&format!("/api/bucket/{id}"), json!({"name": "x"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_msg(
        app.workspaces(Some(&bob.access))
            .post(&path("add_user"), json!({"email": "z@example.com"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_msg(
        app.workspaces(Some(&bob.access))
            .delete(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_msg(
        app.workspaces(Some(&bob.access))
            .post(
                &path("promote_user"),
                json!({"email": dave.email, "role": "admin"}),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // The owner promotes; the owner itself is untouchable.
    let promoted = expect(
        app.workspaces(Some(&alice.access))
            .post(
                &path("promote_user"),
                json!({"email": bob.email, "role": "admin"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        promoted
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["email"] == json!(bob.email) && m["role"] == "admin")
    );
    let error = expect_msg(
        app.workspaces(Some(&alice.access))
            .post(
                &path("promote_user"),
                json!({"email": alice.email, "role": "user"}),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(error["msg"], "impossible to set the role of the owner");
    let error = expect_msg(
        app.workspaces(Some(&bob.access))
            .post(&path("remove_user"), json!({"email": alice.email}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        error["msg"],
        "impossible to remove the owner from the bucket"
    );
    let error = expect_msg(
        app.workspaces(Some(&alice.access))
            .post(&path("remove_user"), json!({"email": "nobody@example.com"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(error["msg"], "user not found");

    // An admin updates and manages others' notifications; a user only their own.
    expect(
        app.workspaces(Some(&bob.access))
            .put(&format!("/api/bucket/{id}"), json!({"comment": "by bob"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let states = expect(
        app.workspaces(Some(&bob.access))
            .post(
                &path("manage_notif"),
                json!({"email": dave.email, "state": "none"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        states
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["email"] == json!(dave.email) && s["state"] == "none"),
        "{states}"
    );
    expect_msg(
        app.workspaces(Some(&dave.access))
            .post(
                &path("manage_notif"),
                json!({"email": bob.email, "state": "none"}),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect(
        app.workspaces(Some(&dave.access))
            .post(
                &path("manage_notif"),
                json!({"email": dave.email, "state": "email"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;

    // An admin removes a user; anyone may leave.
    let left = expect(
        app.workspaces(Some(&bob.access))
            .post(&path("remove_user"), json!({"email": dave.email}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&left).len(), 2);
    expect_msg(
        app.workspaces(Some(&dave.access))
            .get(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect(
        app.workspaces(Some(&bob.access))
            .post(&path("remove_user"), json!({"email": bob.email}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect_msg(
        app.workspaces(Some(&bob.access))
            .get(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[apply(backends)]
async fn the_owned_bucket_cap_answers_403(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let first = id_of(&create_bucket(&app, &alice, "one").await);
    create_bucket(&app, &alice, "two").await;
    let third = app
        .workspaces(Some(&alice.access))
        .post("/api/bucket/create_classic", json!({"name": "three"}))
        .await;
    let error = expect_msg(third, StatusCode::FORBIDDEN).await;
    assert_eq!(error["msg"], "you cant create any more bucket");
    // Membership elsewhere does not count; deleting frees a slot.
    let bob = account(&app).await;
    let bobs = id_of(&create_bucket(&app, &bob, "bob's").await);
    expect(
        app.workspaces(Some(&bob.access))
            .post(
                &format!("/api/bucket/{bobs}/add_user"),
                json!({"email": alice.email}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .delete(&format!("/api/bucket/{first}"))
            .await,
        StatusCode::OK,
    )
    .await;
    create_bucket(&app, &alice, "three").await;
    assert_eq!(
        expect(
            app.workspaces(Some(&alice.access)).get("/api/bucket").await,
            StatusCode::OK
        )
        .await
        .as_array()
        .unwrap()
        .len(),
        3
    );
}

fn deprecated(response: &Response) {
    assert_eq!(
        response
            .headers()
            .get("deprecation")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    assert!(response.headers().contains_key("link"));
}

#[apply(backends)]
async fn subscription_upgrade_trial_and_charges(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    // The catalogue is public.
    let plans: Value = app
        .client
        .get(app.url("/api/misc/plans"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plans["free"]["price"], 0);
    assert!(plans["pro_8"]["price"].as_u64().unwrap() > 0);
    assert!(
        plans["pro_16"]["max_members"].as_u64().unwrap()
            > plans["pro_8"]["max_members"].as_u64().unwrap()
    );

    let alice = account(&app).await;
    let bob = account(&app).await;
    let id = id_of(&create_bucket(&app, &alice, "prod").await);
    let path = |route: &str| format!("/api/bucket/{id}/{route}");
    expect(
        app.workspaces(Some(&alice.access))
            .post(&path("add_user"), json!({"email": bob.email}))
            .await,
        StatusCode::OK,
    )
    .await;

    // A free bucket has no subscription and no charges.
    let response = app
        .workspaces(Some(&alice.access))
        .get(&path("subscription"))
        .await;
    deprecated(&response);
    let error = expect_msg(response, StatusCode::NOT_FOUND).await;
    assert_eq!(error["msg"], "the bucket doesnt have any subscription");
    let response = app
        .workspaces(Some(&alice.access))
        .get(&path("payment/charges"))
        .await;
    deprecated(&response);
    assert_eq!(expect(response, StatusCode::OK).await, json!([]));

    // Upgrading needs a card that pays, and the owner.
    let response = app
        .workspaces(Some(&alice.access))
        .post(&path("upgrade"), json!({"plan": "pro_8"}))
        .await;
    deprecated(&response);
    expect_msg(response, StatusCode::FORBIDDEN).await;
    let declined = app
        .workspaces(Some(&alice.access))
        .post(
            &path("upgrade"),
            json!({"plan": "pro_8", "stripe_token": "tok_chargeDeclined"}),
        )
        .await;
    assert_eq!(
        expect_msg(declined, StatusCode::FORBIDDEN).await["msg"],
        "your card was declined"
    );
    expect_msg(
        app.workspaces(Some(&bob.access))
            .post(
                &path("upgrade"),
                json!({"plan": "pro_8", "stripe_token": "tok_visa"}),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let response = app
        .workspaces(Some(&alice.access))
        .post(
            &path("upgrade"),
            json!({"plan": "pro_8", "stripe_token": "tok_visa", "coupon_id": "WELCOME"}),
        )
        .await;
    deprecated(&response);
    assert!(response.headers().contains_key("x-annals-position"));
    let upgraded = expect(response, StatusCode::OK).await;
    assert_eq!(upgraded["bucket"]["credits"]["offer_type"], "pro_8");
    assert_eq!(upgraded["bucket"]["payment"]["offer_type"], "pro_8");
    assert_eq!(upgraded["subscription"]["status"], "active");
    assert_eq!(upgraded["subscription"]["plan"], "pro_8");
    let again = app
        .workspaces(Some(&alice.access))
        .post(&path("upgrade"), json!({"plan": "pro_8"}))
        .await;
    expect_msg(again, StatusCode::BAD_REQUEST).await;

    // The history is real: one charge, with the card on file paying the next upgrade.
    let charges = expect(
        app.workspaces(Some(&alice.access))
            .get(&path("payment/charges"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(charges.as_array().unwrap().len(), 1, "{charges}");
    assert_eq!(charges[0]["amount"], plans["pro_8"]["price"]);
    assert_eq!(charges[0]["plan"], "pro_8");
    assert_eq!(charges[0]["status"], "succeeded");
    expect(
        app.workspaces(Some(&alice.access))
            .post(&path("upgrade"), json!({"plan": "pro_16"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let charges = expect(
        app.workspaces(Some(&alice.access))
            .get(&path("payment/charges"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(charges.as_array().unwrap().len(), 2, "{charges}");
    assert_eq!(charges[0]["plan"], "pro_16", "newest first");
    let subscription = expect(
        app.workspaces(Some(&alice.access))
            .get(&path("subscription"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(subscription["plan"], "pro_16");
    assert_eq!(subscription["status"], "active");
    // Billing is the owner's.
    expect_msg(
        app.workspaces(Some(&bob.access))
            .get(&path("payment/charges"))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_msg(
        app.workspaces(Some(&bob.access))
            .get(&path("subscription"))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // No trial on a paid bucket; one trial per account.
    let response = app
        .workspaces(Some(&alice.access))
        .call(Method::PUT, &path("start_trial"), None)
        .await;
    deprecated(&response);
    assert_eq!(
        expect_msg(response, StatusCode::BAD_REQUEST).await["fields"],
        json!(["trial"])
    );
    let second = id_of(&create_bucket(&app, &alice, "staging").await);
    let trial = expect(
        app.workspaces(Some(&alice.access))
            .call(
                Method::PUT,
                &format!("/api/bucket/{second}/start_trial"),
                None,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trial["plan"], "pro_8");
    assert_eq!(trial["duration"], "14 days");
    let bucket = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{second}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bucket["payment"]["offer_type"], "pro_8");
    assert_eq!(bucket["payment"]["status"], "trialing");
    let subscription = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{second}/subscription"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(subscription["status"], "trialing");
    expect(
        app.workspaces(Some(&alice.access))
            .delete(&format!("/api/bucket/{second}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let third = id_of(&create_bucket(&app, &alice, "again").await);
    let refused = app
        .workspaces(Some(&alice.access))
        .call(
            Method::PUT,
            &format!("/api/bucket/{third}/start_trial"),
            None,
        )
        .await;
    expect_msg(refused, StatusCode::BAD_REQUEST).await;

    // The OpenAPI document marks the four as deprecated.
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["paths"]["/api/bucket/{id}/subscription"]["get"]["deprecated"],
        true
    );
    assert_eq!(
        doc["paths"]["/api/bucket/{id}/upgrade"]["post"]["deprecated"],
        true
    );
    assert_eq!(
        doc["paths"]["/api/bucket/{id}/start_trial"]["put"]["deprecated"],
        true
    );
    assert_eq!(
        doc["paths"]["/api/bucket/{id}/payment/charges"]["get"]["deprecated"],
        true
    );
}

#[apply(backends)]
async fn a_paid_bucket_transfers_only_to_a_member_with_a_card(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let bob = account(&app).await;
    let id = id_of(&create_bucket(&app, &alice, "prod").await);
    let path = |route: &str| format!("/api/bucket/{id}/{route}");
    expect(
        app.workspaces(Some(&alice.access))
            .post(&path("add_user"), json!({"email": bob.email}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .post(
                &path("upgrade"),
                json!({"plan": "pro_8", "stripe_token": "tok_visa"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;

    let error = expect_msg(
        app.workspaces(Some(&alice.access))
            .post(&path("transfer_ownership"), json!({"new_owner": bob.email}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        error["msg"],
        "the new owner need to have a active credit card"
    );

    // Bob records a card of his own; he sees only his.
    let card = expect(
        app.workspaces(Some(&bob.access))
            .post(&path("payment/cards"), json!({"token": "tok_mastercard"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(card["brand"], "mastercard");
    let cards = expect(
        app.workspaces(Some(&bob.access))
            .get(&path("payment/cards"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cards.as_array().unwrap().len(), 1);
    assert_eq!(cards[0]["_id"], card["_id"]);
    assert_eq!(
        expect(
            app.workspaces(Some(&alice.access))
                .get(&path("payment/cards"))
                .await,
            StatusCode::OK
        )
        .await
        .as_array()
        .unwrap()
        .len(),
        1
    );

    let transferred = expect(
        app.workspaces(Some(&alice.access))
            .post(&path("transfer_ownership"), json!({"new_owner": bob.email}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(transferred["owner"], json!(bob.user_id));
    assert_eq!(transferred["credits"]["payer"]["email"], json!(bob.email));
    let members = expect(
        app.workspaces(Some(&bob.access))
            .get(&path("users_authorized"))
            .await,
        StatusCode::OK,
    )
    .await;
    let role = |email: &str| {
        members
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == json!(email))
            .unwrap()["role"]
            .clone()
    };
    assert_eq!(role(&bob.email), "owner");
    assert_eq!(role(&alice.email), "admin");
    assert_eq!(
        app.workspaces(Some(&alice.access))
            .get(&path("current_role"))
            .await
            .text()
            .await
            .unwrap(),
        "admin"
    );
    // The new owner must keep a card while the bucket is paid.
    let card_id = card["_id"].as_str().unwrap();
    expect_msg(
        app.workspaces(Some(&bob.access))
            .delete(&path(&format!("payment/card/{card_id}")))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // The old owner's slot moved: Alice can create two buckets again.
    create_bucket(&app, &alice, "a").await;
    create_bucket(&app, &alice, "b").await;
}

#[apply(backends)]
async fn an_invited_address_joins_when_it_registers(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let id = id_of(&create_bucket(&app, &alice, "prod").await);
    let path = |route: &str| format!("/api/bucket/{id}/{route}");
    let carol = unique_email();
    let dave = unique_email();
    let invited = expect(
        app.workspaces(Some(&alice.access))
            .post(&path("add_user"), json!({"email": carol.to_uppercase()}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(invited["invitations"][0]["email"], json!(carol));
    expect(
        app.workspaces(Some(&alice.access))
            .post(&path("add_user"), json!({"email": dave}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        app.mails()
            .iter()
            .any(|m| m["to"] == json!(carol) && m["body"].as_str().unwrap().contains(&app.address))
    );
    // Dave's invitation is cancelled (the query form): he will not join.
    let left = expect(
        app.workspaces(Some(&alice.access))
            .delete(&format!(
                "{}?email={}",
                path("invitation"),
                dave.replace('@', "%40")
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(left["invitations"].as_array().unwrap().len(), 1);

    // Carol registers on the DataCube surface; her first read already sees the bucket.
    let (carol_access, _) = app.signed_up(&carol).await;
    let list = expect(
        app.workspaces(Some(&carol_access)).get("/api/bucket").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["_id"], json!(id));
    assert_eq!(list[0]["invitations"], json!([]));
    assert_eq!(
        app.workspaces(Some(&carol_access))
            .get(&path("current_role"))
            .await
            .text()
            .await
            .unwrap(),
        "user"
    );
    let members = expect(
        app.workspaces(Some(&alice.access))
            .get(&path("users_authorized"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(emails(&members).contains(&carol));
    let (dave_access, _) = app.signed_up(&dave).await;
    assert_eq!(
        expect(
            app.workspaces(Some(&dave_access)).get("/api/bucket").await,
            StatusCode::OK
        )
        .await,
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_pending_across_a_restart_is_accepted() {
    let app = spawn_app(Backend::Embedded).await;
    let alice = account(&app).await;
    let id = id_of(&create_bucket(&app, &alice, "prod").await);
    let carol = unique_email();
    expect(
        app.workspaces(Some(&alice.access))
            .post(
                &format!("/api/bucket/{id}/add_user"),
                json!({"email": carol}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let app = app.restart().await;
    let (carol_access, _) = app.signed_up(&carol).await;
    let list = expect(
        app.workspaces(Some(&carol_access)).get("/api/bucket").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list[0]["_id"], json!(id), "{list}");
    // And once more after another restart: the reactor resumes from its checkpoint.
    let app = app.restart().await;
    let list = expect(
        app.workspaces(Some(&carol_access)).get("/api/bucket").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}

async fn verify(app: &TestApp, body: Value) -> Response {
    app.client
        .post(app.url("/api/node/verifyPM2"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[apply(backends)]
async fn agents_link_servers_and_admins_remove_them(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let bob = account(&app).await;
    let bucket = create_bucket(&app, &alice, "prod").await;
    let id = id_of(&bucket);
    let path = |route: &str| format!("/api/bucket/{id}/{route}");
    expect(
        app.workspaces(Some(&alice.access))
            .post(&path("add_user"), json!({"email": bob.email}))
            .await,
        StatusCode::OK,
    )
    .await;
    let handshake = |name: &str, secret: &Value| {
        json!({
            "public_id": bucket["public_id"],
            "private_id": secret,
            "data": {"MACHINE_NAME": name, "HOSTNAME": "host-1", "PM2_VERSION": "5.4.2"},
        })
    };
    let wrong = verify(&app, handshake("web-1", &json!("wrongwrongwrong"))).await;
    expect_msg(wrong, StatusCode::FORBIDDEN).await;
    let unknown = verify(&app, json!({"public_id": "nonexistent0000", "private_id": bucket["secret_id"], "data": {"MACHINE_NAME": "x"}})).await;
    expect_msg(unknown, StatusCode::FORBIDDEN).await;
    let missing = verify(
        &app,
        json!({"public_id": bucket["public_id"], "private_id": bucket["secret_id"]}),
    )
    .await;
    assert_eq!(
        expect_msg(missing, StatusCode::BAD_REQUEST).await["fields"],
        json!(["data.MACHINE_NAME"])
    );

    let linked = expect(
        verify(&app, handshake("web-1", &bucket["secret_id"])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(linked["active"], true);
    assert_eq!(linked["new"], true);
    assert_eq!(linked["endpoints"]["web"], json!(app.address));
    let again = expect(
        verify(&app, handshake("web-1", &bucket["secret_id"])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["new"], false);
    expect(
        verify(&app, handshake("web-2", &bucket["secret_id"])).await,
        StatusCode::OK,
    )
    .await;
    // The free plan links two servers; the third waits.
    let third = expect(
        verify(&app, handshake("web-3", &bucket["secret_id"])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (third["active"].clone(), third["pending"].clone()),
        (json!(false), json!(true))
    );

    let servers = expect(
        app.workspaces(Some(&bob.access))
            .get(&path("meta_servers"))
            .await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&Value> = servers
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["name"])
        .collect();
    assert_eq!(names, [&json!("web-1"), &json!("web-2")]);
    assert_eq!(servers[0]["pm2_version"], "5.4.2");

    expect_msg(
        app.workspaces(Some(&bob.access))
            .post(&path("data/deleteServer"), json!({"server_name": "web-1"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_msg(
        app.workspaces(Some(&alice.access))
            .post(&path("data/deleteServer"), json!({"server_name": "web-9"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let deleted = expect(
        app.workspaces(Some(&alice.access))
            .post(&path("data/deleteServer"), json!({"server_name": "web-1"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deleted["success"], true);
    let servers = expect(
        app.workspaces(Some(&alice.access))
            .get(&path("meta_servers"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(servers.as_array().unwrap().len(), 1);
    expect(
        verify(&app, handshake("web-3", &bucket["secret_id"])).await,
        StatusCode::OK,
    )
    .await;
}

/// The bucket read model is a function of the log: a rebuild gives the same documents, and a
/// read answers what the last write answered.
#[apply(backends)]
async fn the_bucket_views_rebuild_to_the_same_documents(#[case] backend: Backend) {
    use annals_projections::Projection;
    use annals_projections::workspaces::{BUCKETS, BucketViews};

    let app = spawn_app(backend).await;
    let (alice, bob) = (account(&app).await, account(&app).await);
    let id = id_of(&create_bucket(&app, &alice, "prod").await);
    let gone = id_of(&create_bucket(&app, &alice, "old").await);
    let path = |route: &str| format!("/api/bucket/{id}/{route}");
    for email in [bob.email.clone(), unique_email(), unique_email()] {
        let invite = json!({ "email": email });
        expect(
            app.workspaces(Some(&alice.access))
                .post(&path("add_user"), invite)
                .await,
            StatusCode::OK,
        )
        .await;
    }
    let role = json!({"email": bob.email, "role": "admin"});
    expect(
        app.workspaces(Some(&alice.access))
            .post(&path("promote_user"), role)
            .await,
        StatusCode::OK,
    )
    .await;
    let options = json!({"options": {"theme": "dark"}});
    expect(
        app.workspaces(Some(&bob.access))
            .put(&path("user_options"), options)
            .await,
        StatusCode::OK,
    )
    .await;
    let renamed = json!({"name": "prod-eu"});
    let written = expect(
        app.workspaces(Some(&bob.access))
            .put(&format!("/api/bucket/{id}"), renamed)
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .delete(&format!("/api/bucket/{gone}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let read = expect(
        app.workspaces(Some(&bob.access))
            .get(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read, written, "a read shows what the write answered");
    assert_eq!(read["members"].as_array().unwrap().len(), 2);
    assert_eq!(read["invitations"].as_array().unwrap().len(), 2);

    app.settle(BucketViews.name()).await;
    let buckets = app.infra.views.dump(BUCKETS).await.unwrap();
    assert_eq!(buckets.len(), 1, "the deleted bucket is gone");
    app.assert_rebuild_equals_live(std::sync::Arc::new(BucketViews))
        .await;
}
