//! Zou's persons over HTTP on both backends: the list (filters, paging, what each role sees),
//! creates, updates and deletes of accounts. The answers asserted are the real Zou 1.0.97's
//! (tests/fixtures/zou-1.0.97-persons.md) where annals does not differ on purpose.
use std::sync::Arc;

use futures::future::join_all;
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::erasure::rows_containing;
use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app};
use crate::kitsu_data::{FORBIDDEN, admin, created, get, post, put};
use crate::kitsu_projects::person;
use crate::surfaces::answer;

const LINKED: &str = "Some data are still linked to given person.";

/// The keys of Zou's minimal person.
const MINIMAL: [&str; 12] = [
    "active",
    "departments",
    "desktop_login",
    "first_name",
    "full_name",
    "has_avatar",
    "id",
    "is_bot",
    "last_name",
    "role",
    "studio_id",
    "type",
];

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_string()
}

fn keys(doc: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    keys
}

async fn delete(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    answer(app.kitsu(Some(token)).delete(path, &json!({})).await).await
}

/// Logs in through Kitsu; the status and the body.
async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    answer(
        app.kitsu(None)
            .post(
                "/auth/login",
                &json!({"email": email, "password": password}),
            )
            .await,
    )
    .await
}

/// What gazu's `new_person` sends.
fn new_person(first: &str, email: &str) -> Value {
    json!({"first_name": first, "last_name": "Doe", "email": email, "phone": "",
           "role": "user", "desktop_login": "", "departments": [], "password": null,
           "active": true, "contract_type": "open-ended"})
}

#[apply(backends)]
async fn a_manager_makes_a_person_as_gazu_asks_and_zou_refusals_hold(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let dept = created(
        &app,
        &token,
        "departments",
        json!({"name": "Animation", "color": "#00ff00"}),
    )
    .await;

    let mut body = new_person("Ada", "ada@example.com");
    body["phone"] = json!("555");
    body["desktop_login"] = json!("ada");
    body["contract_type"] = json!("freelance");
    body["password"] = json!(PASSWORD);
    body["departments"] = json!([id(&dept), uuid::Uuid::new_v4()]);
    let ada = created(&app, &token, "persons", body).await;
    assert_eq!(ada["type"], "Person");
    assert_eq!(ada["full_name"], "Ada Doe");
    assert_eq!(ada["phone"], "555");
    assert_eq!(ada["desktop_login"], "ada");
    assert_eq!(ada["contract_type"], "freelance");
    assert_eq!(ada["is_bot"], false);
    // Unknown departments are dropped, as Zou drops them.
    assert_eq!(ada["departments"], json!([id(&dept)]));
    for secret in ["password", "totp_secret", "jti", "argon2"] {
        assert!(!ada.to_string().contains(secret), "{secret} in {ada}");
    }
    // The answer is the person as it is read.
    let (_, read) = get(&app, &token, &format!("/data/persons/{}", id(&ada))).await;
    assert_eq!(read, ada);
    // With a password, the person logs in.
    let (status, logged) = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{logged}");
    assert_eq!(logged["user"]["desktop_login"], "ada");

    // Zou's refusals.
    let refusals = [
        (
            new_person("Ada", "ADA@example.com"),
            "Email already in use.",
        ),
        (
            json!({"first_name": "X", "last_name": "Y", "email": "x@example.com", "role": "emperor"}),
            "Invalid role",
        ),
        (
            json!({"first_name": "X", "email": "x@example.com", "contract_type": "forever"}),
            "Invalid contract_type",
        ),
        (
            json!({"first_name": "X", "email": "x@example.com", "foo": 1}),
            "'foo' is an invalid keyword argument for Person",
        ),
        (
            json!({"last_name": "Y", "email": "x@example.com"}),
            "A required field is missing.",
        ),
        (
            json!({"first_name": "X", "email": "x@example.com", "daily_salary": "lots"}),
            "One of the provided values has an invalid format.",
        ),
    ];
    for (body, message) in refusals {
        let (status, answer) = post(&app, &token, "/data/persons", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["message"], message, "{body}: {answer}");
    }
    let (status, answer) = post(
        &app,
        &token,
        "/data/persons",
        json!({"first_name": "X", "email": "nope"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["data"]["errors"][0]["field"], "email", "{answer}");

    // Only studio managers make persons; the refusal changes nothing.
    let (artist, _) = person(&app, "user").await;
    let (status, answer) = post(
        &app,
        &artist,
        "/data/persons",
        new_person("Eve", "eve@example.com"),
    )
    .await;
    assert_eq!(
        (status, answer),
        (
            StatusCode::FORBIDDEN,
            json!({"error": true, "message": FORBIDDEN})
        )
    );

    // A person made without a password cannot log in; one made inactive neither.
    created(
        &app,
        &token,
        "persons",
        new_person("Bob", "bob@example.com"),
    )
    .await;
    assert_eq!(
        login(&app, "bob@example.com", "any-password-at-all")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let mut inactive = new_person("Ina", "ina@example.com");
    inactive["active"] = json!(false);
    inactive["password"] = json!(PASSWORD);
    let ina = created(&app, &token, "persons", inactive).await;
    assert_eq!(ina["active"], false);
    assert_ne!(
        login(&app, "ina@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
}

#[apply(backends)]
async fn concurrent_creates_of_one_address_make_one_person(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let answers = join_all((0..50).map(|i| {
        post(
            &app,
            &token,
            "/data/persons",
            new_person(&format!("Twin{i}"), "twin@example.com"),
        )
    }))
    .await;
    let made = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::BAD_REQUEST && b["message"] == "Email already in use.")
        .count();
    assert_eq!((made, refused), (1, 49), "{answers:?}");
    let (_, found) = get(&app, &token, "/data/persons?email=twin@example.com").await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
}

#[apply(backends)]
async fn persons_are_listed_filtered_and_paged_as_each_role_may(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let dept = created(
        &app,
        &token,
        "departments",
        json!({"name": "Animation", "color": "#00ff00"}),
    )
    .await;
    let mut body = new_person("Ada", "ada@example.com");
    body["desktop_login"] = json!("ada");
    body["phone"] = json!("555");
    body["departments"] = json!([id(&dept)]);
    let ada = created(&app, &token, "persons", body).await;
    let grace = created(
        &app,
        &token,
        "persons",
        json!({"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
               "role": "supervisor"}),
    )
    .await;
    let (artist, artist_id) = person(&app, "user").await;

    // Plain array of full persons for studio managers, at the root, under /api, with a slash.
    let (status, all) = get(&app, &token, "/data/persons").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all.as_array().unwrap().len(), 4, "{all}");
    let listed_ada = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == ada["id"])
        .unwrap();
    assert_eq!(listed_ada["phone"], "555");
    assert!(listed_ada.get("departments").is_none(), "{listed_ada}");
    assert_eq!(get(&app, &token, "/data/persons/").await.1, all);
    let root = app
        .client
        .get(app.url(&format!("/data/persons?relations=true&id={}", id(&ada))))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (_, with_relations) = answer(root).await;
    // A listed person is the person as it is read, relations and all.
    assert_eq!(with_relations, json!([ada]));

    // gazu's lookups.
    for (query, expected) in [
        ("email=ada@example.com&is_bot=False", vec![id(&ada)]),
        ("email=ADA@Example.com", vec![id(&ada)]),
        ("desktop_login=ada&is_bot=False", vec![id(&ada)]),
        ("full_name=Grace%20Hopper&is_bot=False", vec![id(&grace)]),
        (
            "first_name=Grace&last_name=Hopper&is_bot=False",
            vec![id(&grace)],
        ),
        ("role=supervisor", vec![id(&grace)]),
        (&format!("departments={}", id(&dept)), vec![id(&ada)]),
        ("active=True&full_name=nobody", vec![]),
        ("force=true&email=grace@example.com", vec![id(&grace)]),
    ] {
        let (status, found) = get(&app, &artist, &format!("/data/persons?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {found}");
        let ids: Vec<String> = found.as_array().unwrap().iter().map(id).collect();
        assert_eq!(ids, expected, "{query}");
    }

    // Others read the minimal person and filter on its columns only.
    let (_, minimal) = get(&app, &artist, "/data/persons").await;
    for listed in minimal.as_array().unwrap() {
        assert_eq!(keys(listed), MINIMAL, "{listed}");
        assert_eq!(listed["departments"], json!([]));
    }
    let (_, related) = get(
        &app,
        &artist,
        &format!("/data/persons?relations=true&id={}", id(&ada)),
    )
    .await;
    assert_eq!(related[0]["departments"], json!([id(&dept)]));
    for (caller, query, key) in [
        (&artist, "phone=555", "phone"),
        (&artist, "contract_type=freelance", "contract_type"),
        (&token, "password=x", "password"),
        (&token, "totp_secret=x", "totp_secret"),
    ] {
        let (status, body) = get(&app, caller, &format!("/data/persons?{query}")).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": true, "message": format!("Filtering on {key} is not allowed."), "data": null})
            ),
            "{query}"
        );
    }
    let (_, by_phone) = get(&app, &token, "/data/persons?phone=555").await;
    assert_eq!(by_phone.as_array().unwrap().len(), 1);
    for (query, message) in [
        ("active=maybe", "Invalid boolean value: maybe"),
        ("id=nope", "Invalid UUID value: nope"),
        ("page=x", "page must be an integer."),
    ] {
        let (status, body) = get(&app, &token, &format!("/data/persons?{query}")).await;
        assert_eq!(
            (status, &body["message"]),
            (StatusCode::BAD_REQUEST, &json!(message))
        );
    }

    // Pages; `fields` keeps what is asked (and `id`, `type`).
    let (_, page) = get(&app, &artist, "/data/persons?page=1&limit=3").await;
    assert_eq!(
        (
            &page["total"],
            &page["nb_pages"],
            &page["limit"],
            &page["page"]
        ),
        (&json!(4), &json!(2), &json!(3), &json!(1))
    );
    assert_eq!(keys(&page["data"][0]), MINIMAL);
    let (_, second) = get(&app, &artist, "/data/persons?page=2&limit=3").await;
    let mut paged: Vec<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["data"].as_array().unwrap())
        .map(id)
        .collect();
    paged.sort();
    paged.dedup();
    assert_eq!(paged.len(), 4, "{page} {second}");
    assert!(paged.contains(&artist_id));
    let (_, picked) = get(&app, &artist, "/data/persons?fields=first_name,email").await;
    assert_eq!(keys(&picked[0]), ["first_name", "id", "type"]);
    let (_, picked) = get(&app, &token, "/data/persons?fields=first_name,email").await;
    assert_eq!(keys(&picked[0]), ["email", "first_name", "id", "type"]);

    // Single reads: the minimal person for artists, the whole one for production managers.
    let path = format!("/data/persons/{}", id(&ada));
    let (_, seen) = get(&app, &artist, &path).await;
    assert_eq!(keys(&seen), MINIMAL);
    assert_eq!(seen["departments"], json!([id(&dept)]));
    let (manager, _) = person(&app, "manager").await;
    assert_eq!(get(&app, &manager, &path).await.1, ada);
    let (_, bare) = get(&app, &manager, &format!("{path}?relations=false")).await;
    assert!(bare.get("departments").is_none(), "{bare}");
}

#[apply(backends)]
async fn a_client_meets_only_the_people_of_their_teams(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let (client, client_id) = person(&app, "client").await;
    let (_, teammate) = person(&app, "user").await;
    let (_, stranger) = person(&app, "user").await;
    created(
        &app,
        &token,
        "projects",
        json!({"name": "Spring", "team": [client_id, teammate]}),
    )
    .await;
    let (status, seen) = get(&app, &client, "/data/persons").await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    let mut ids: Vec<String> = seen.as_array().unwrap().iter().map(id).collect();
    ids.sort();
    let mut team = vec![client_id, teammate.clone()];
    team.sort();
    assert_eq!(ids, team);
    assert_eq!(
        keys(&seen[0]),
        [
            "active",
            "first_name",
            "full_name",
            "has_avatar",
            "id",
            "is_bot",
            "last_name",
            "role",
            "type"
        ]
    );
    assert_eq!(
        get(&app, &client, &format!("/data/persons/{teammate}"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        get(&app, &client, &format!("/data/persons/{stranger}"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

#[apply(backends)]
async fn a_person_changes_their_record_and_managers_change_anyones(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let (artist, artist_id) = person(&app, "user").await;
    let (_, other) = person(&app, "user").await;
    let own = format!("/data/persons/{artist_id}");

    // gazu's `update_person` sends the whole person back; what is no column is ignored, and
    // an artist's role, activity and archive flag stay as managers set them.
    let (_, mut me) = get(&app, &token, &own).await;
    me["phone"] = json!("777");
    me["timezone"] = json!("America/New_York");
    me["role"] = json!("admin");
    me["active"] = json!(false);
    me["archived"] = json!(true);
    me["first_name"] = json!("Arty");
    me["password"] = json!("a-new-password-nobody-knows");
    me["foo"] = json!(1);
    let (status, changed) = put(&app, &artist, &own, me).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (
            &changed["phone"],
            &changed["timezone"],
            &changed["first_name"],
            &changed["full_name"]
        ),
        (
            &json!("777"),
            &json!("America/New_York"),
            &json!("Arty"),
            &json!("Arty user")
        )
    );
    assert_eq!(
        (&changed["role"], &changed["active"], &changed["archived"]),
        (&json!("user"), &json!(true), &json!(false))
    );
    assert_eq!(changed["departments"], json!([]), "{changed}");
    assert!(changed.get("foo").is_none());
    // The password is not changed through a person.
    let (_, mine) = get(&app, &artist, "/auth/authenticated").await;
    let email = mine["user"]["email"].as_str().unwrap().to_string();
    assert_eq!(login(&app, &email, PASSWORD).await.0, StatusCode::OK);

    // Someone else's record is the managers'.
    let (status, body) = put(
        &app,
        &artist,
        &format!("/data/persons/{other}"),
        json!({"phone": "1"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": true, "message": FORBIDDEN})
        )
    );
    let (status, changed) = put(
        &app,
        &token,
        &own,
        json!({"role": "supervisor", "contract_type": "fixed-term", "country": "fr"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (
            &changed["role"],
            &changed["contract_type"],
            &changed["country"]
        ),
        (&json!("supervisor"), &json!("fixed-term"), &json!("FR"))
    );
    for (body, message) in [
        (json!({"role": "emperor"}), "Invalid role"),
        (json!({"contract_type": "forever"}), "Invalid contract_type"),
        (
            json!({"email": "someone-else@example.com"}),
            "Changing a person's email is not supported.",
        ),
        (
            json!({"locale": "klingon"}),
            "Invalid locale, expected a name available in Python Babel (e.g. en_US, fr_FR).",
        ),
    ] {
        let (status, answer) = put(&app, &token, &own, body.clone()).await;
        assert_eq!(
            (status, &answer["message"]),
            (StatusCode::BAD_REQUEST, &json!(message)),
            "{body}"
        );
    }
    let unknown = format!("/data/persons/{}", uuid::Uuid::new_v4());
    assert_eq!(
        put(&app, &token, &unknown, json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    let empty = app
        .client
        .put(app.url(&own))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .unwrap();
    let (status, body) = answer(empty).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "Data are empty. Please verify that you sent JSON data and that you set the right headers."
    );

    // The change is the person's events: the list shows it, and so does a rebuild.
    let (_, listed) = get(&app, &token, &format!("/data/persons?id={artist_id}")).await;
    assert_eq!(listed[0]["timezone"], "America/New_York");
    assert_eq!(listed[0]["role"], "supervisor");
    let events = app.visible_events().await;
    let details = events
        .iter()
        .filter(|e| e.event_type == "PersonDetailsChanged")
        .count();
    assert_eq!(details, 2);
    app.assert_rebuild_equals_live(Arc::new(annals_projections::kitsu::KitsuPersons))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_details_survive_a_restart() {
    let app = spawn_app(Backend::Embedded).await;
    let token = admin(&app).await;
    let mut body = new_person("Ada", "ada@example.com");
    body["desktop_login"] = json!("ada");
    let ada = created(&app, &token, "persons", body).await;
    let path = format!("/data/persons/{}", id(&ada));
    put(&app, &token, &path, json!({"seniority": "senior"})).await;
    let (_, before) = get(&app, &token, &path).await;
    let email = {
        let (_, me) = get(&app, &token, "/auth/authenticated").await;
        me["user"]["email"].as_str().unwrap().to_string()
    };
    let app = app.restart().await;
    let token = crate::kitsu_data::access_token(&app, &email).await;
    let (_, after) = get(&app, &token, &path).await;
    assert_eq!(after, before);
    assert_eq!(
        (&after["seniority"], &after["desktop_login"]),
        (&json!("senior"), &json!("ada"))
    );
    let (_, listed) = get(&app, &token, &format!("/data/persons?id={}", id(&ada))).await;
    assert_eq!(listed[0]["seniority"], "senior");
}

#[apply(backends)]
async fn deleting_a_person_erases_the_account_unless_records_refer_to_it(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let (_, me) = get(&app, &token, "/auth/authenticated").await;
    let admin_id = id(&me["user"]);
    let (artist, _) = person(&app, "user").await;
    let mut body = new_person("Tem", "temp@example.com");
    body["password"] = json!(PASSWORD);
    let temp = created(&app, &token, "persons", body).await;
    let mut body = new_person("Mem", "member@example.com");
    body["phone"] = json!("+33 5550123");
    let member = created(&app, &token, "persons", body).await;
    // A person's details are personal data: sealed in the log, read back in the clear.
    assert_eq!(rows_containing(&app, "5550123").await, 0);
    let details_of_member = |events: &[annals_contracts::StoredEvent]| {
        events
            .iter()
            .find(|e| e.event_type == "PersonDetailsChanged" && e.aggregate_id == id(&member))
            .map(|e| e.payload.clone())
            .unwrap()
    };
    let details = details_of_member(&app.visible_events().await);
    assert_eq!(
        details["PersonDetailsChanged"]["changes"][0]["new"], "+33 5550123",
        "{details}"
    );
    let project = created(
        &app,
        &token,
        "projects",
        json!({"name": "Spring", "team": [id(&member)]}),
    )
    .await;

    // Not oneself, and only studio managers.
    let forbidden = (
        StatusCode::FORBIDDEN,
        json!({"error": true, "message": FORBIDDEN}),
    );
    assert_eq!(
        delete(&app, &token, &format!("/data/persons/{admin_id}")).await,
        forbidden
    );
    let temp_path = format!("/data/persons/{}", id(&temp));
    assert_eq!(delete(&app, &artist, &temp_path).await, forbidden);
    assert_eq!(
        delete(&app, &token, "/data/persons/nope").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        delete(
            &app,
            &token,
            &format!("/data/persons/{}", uuid::Uuid::new_v4())
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    // A person nothing refers to is gone: no read, no login, the address free again.
    assert_eq!(
        delete(&app, &token, &temp_path).await,
        (StatusCode::NO_CONTENT, Value::String(String::new()))
    );
    assert_eq!(get(&app, &token, &temp_path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        login(&app, "temp@example.com", PASSWORD).await.0,
        StatusCode::BAD_REQUEST
    );
    let (_, listed) = get(&app, &token, "/data/persons?email=temp@example.com").await;
    assert_eq!(listed, json!([]));
    created(
        &app,
        &token,
        "persons",
        new_person("Tem", "temp@example.com"),
    )
    .await;

    // A team member is refused unless forced; forced, they leave the team.
    let member_path = format!("/data/persons/{}", id(&member));
    assert_eq!(
        delete(&app, &token, &member_path).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error": true, "message": LINKED})
        )
    );
    assert_eq!(
        delete(&app, &token, &format!("{member_path}?force=true"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, project) = get(&app, &token, &format!("/data/projects/{}", id(&project))).await;
    assert_eq!(project["team"], json!([]));
    // The erasure is in the history: the person's details read as erased.
    let events = app.visible_events().await;
    assert!(events.iter().any(|e| e.event_type == "UserErased"));
    let details = details_of_member(&events);
    assert_eq!(
        details["PersonDetailsChanged"]["changes"][0]["new"], "erased",
        "{details}"
    );
    app.assert_rebuild_equals_live(Arc::new(annals_projections::kitsu::KitsuPersons))
        .await;
}

const GAZU_BOT: &str = r##"
import json, sys
import gazu

host, email, password = sys.argv[1:4]
gazu.set_host(host)
gazu.log_in(email, password)
out = {}
bot = gazu.person.new_bot("Render farm", "farm@example.com", role="manager")
out["bot"] = {k: bot[k] for k in ("is_bot", "full_name", "role", "email")}
gazu.set_token(bot["access_token"])
out["as_bot"] = gazu.client.get_current_user()["id"] == bot["id"]
out["projects"] = gazu.project.all_projects()
print(json.dumps(out))
"##;

/// A bot is an account without a password whose access token is an API key: gazu works with
/// it as with Zou's bot tokens.
#[apply(backends)]
async fn a_bot_made_through_gazu_works_with_its_token(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = crate::kitsu_data::admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(GAZU_BOT, &[&host, &email, PASSWORD])
        .await
        .json;
    assert_eq!(
        out["bot"],
        json!({"is_bot": true, "full_name": "Render farm", "role": "manager",
               "email": "farm@example.com"}),
        "{out}"
    );
    assert_eq!(out["as_bot"], true, "{out}");
    assert_eq!(out["projects"], json!([]), "{out}");
}

/// Reading a person, or the list, again while nothing changed reuses the kept answer; a change
/// of the person shows in the next read of both.
#[apply(backends)]
async fn a_repeated_person_read_follows_every_change(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let made = created(
        &app,
        &token,
        "persons",
        new_person("Ada", "ada@example.com"),
    )
    .await;
    let one = format!("/data/persons/{}", id(&made));
    let listed = "/data/persons?email=ada@example.com";
    for _ in 0..3 {
        assert_eq!(get(&app, &token, &one).await.1["phone"], made["phone"]);
        assert_eq!(get(&app, &token, listed).await.1[0]["phone"], made["phone"]);
    }
    let (status, body) = put(&app, &token, &one, json!({"phone": "+33 1 23 45 67 89"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        get(&app, &token, &one).await.1["phone"],
        "+33 1 23 45 67 89"
    );
    assert_eq!(
        get(&app, &token, listed).await.1[0]["phone"],
        "+33 1 23 45 67 89"
    );
}

/// `GET /data/persons/<id>/history`: a person's changes as every record's history gives
/// them (newest first, author, time, event, fields before and after), from their account's
/// stream. Secrets are named as changed, never with a value, and only to those who read the
/// whole person; others see the fields of the person they read. An erased person's history
/// stays for studio managers.
#[apply(backends)]
async fn a_persons_history_lists_their_changes_without_secrets(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let (artist, _) = person(&app, "user").await;
    let (manager, _) = person(&app, "manager").await;
    let mut made = new_person("Ada", "ada@example.com");
    made["password"] = json!(PASSWORD);
    let ada = created(&app, &token, "persons", made).await;
    let path = format!("/data/persons/{}", id(&ada));
    for change in [
        json!({"phone": "+33 1 23 45 67 89"}),
        json!({"first_name": "Augusta"}),
        json!({"role": "supervisor"}),
    ] {
        let (status, body) = put(&app, &token, &path, change).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let (status, history) = get(&app, &token, &format!("{path}/history")).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let entries = history.as_array().unwrap();
    let events: Vec<&str> = entries
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events[..3],
        ["RoleChanged", "ProfileUpdated", "PersonDetailsChanged"],
        "{history}"
    );
    assert_eq!(events.last(), Some(&"UserRegistered"), "{history}");
    assert_eq!(
        entries[0]["changes"],
        json!([{"field": "role", "old": "user", "new": "supervisor"}])
    );
    assert_eq!(
        entries[1]["changes"],
        json!([
            {"field": "first_name", "old": "Ada", "new": "Augusta"},
            {"field": "full_name", "old": "Ada Doe", "new": "Augusta Doe"},
        ])
    );
    assert_eq!(
        entries[2]["changes"],
        json!([{"field": "phone", "old": "", "new": "+33 1 23 45 67 89"}])
    );
    let (_, me) = get(&app, &token, "/auth/authenticated").await;
    for entry in entries {
        assert_eq!(entry["type"], "PersonChange", "{entry}");
        assert_eq!(entry["record_id"], ada["id"]);
        assert_eq!(entry["author_id"], me["user"]["id"], "{entry}");
        assert_eq!(entry["created_at"].as_str().unwrap().len(), 19, "{entry}");
    }
    let sequences: Vec<i64> = entries
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] > w[1]), "{sequences:?}");
    // The registration names the password it set, without a value.
    let registered = &entries.last().unwrap()["changes"];
    assert!(
        registered
            .as_array()
            .unwrap()
            .contains(&json!({"field": "password", "secret": true})),
        "{registered}"
    );
    assert!(
        registered
            .as_array()
            .unwrap()
            .contains(&json!({"field": "email", "old": null, "new": "ada@example.com"})),
        "{registered}"
    );

    // A password change is a change of the person: named, never shown.
    let ada_token = crate::kitsu_data::access_token(&app, "ada@example.com").await;
    let new_password = "another-strong-password-42";
    let body =
        json!({"old_password": PASSWORD, "password": new_password, "password_2": new_password});
    let (status, body) = post(&app, &ada_token, "/auth/change-password", body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, history) = get(&app, &token, &format!("{path}/history")).await;
    assert_eq!(history[0]["event"], "PasswordChanged", "{history}");
    assert_eq!(
        history[0]["changes"],
        json!([{"field": "password", "secret": true}])
    );
    assert_eq!(history[0]["author_id"], ada["id"], "{history}");
    let text = history.to_string();
    assert!(!text.contains("argon2") && !text.contains("$"), "{text}");
    // Production managers read the whole person, and so its whole history.
    let (status, managed) = get(&app, &manager, &format!("{path}/history/")).await;
    assert_eq!((status, &managed), (StatusCode::OK, &history));

    // An artist reads the minimal person: the phone and the password are not theirs to see.
    let (status, seen) = get(&app, &artist, &format!("{path}/history")).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    let events: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["RoleChanged", "ProfileUpdated", "UserRegistered"],
        "{seen}"
    );
    for entry in seen.as_array().unwrap() {
        for change in entry["changes"].as_array().unwrap() {
            let field = change["field"].as_str().unwrap();
            assert!(MINIMAL.contains(&field), "{field} in {seen}");
        }
    }

    // Erased, the history stays for studio managers alone.
    let response = app.kitsu(Some(&token)).delete(&path, &json!({})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, after) = get(&app, &token, &format!("{path}/history")).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after[0]["event"], "UserErased", "{after}");
    assert_eq!(
        after.as_array().unwrap().len(),
        history.as_array().unwrap().len() + 1
    );
    for reader in [&artist, &manager] {
        let (status, body) = get(&app, reader, &format!("{path}/history")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let unknown = uuid::Uuid::new_v4();
    let (status, _) = get(&app, &token, &format!("/data/persons/{unknown}/history")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&app, &token, "/data/persons/nope/history").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
