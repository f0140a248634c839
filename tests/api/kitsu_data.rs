//! Zou's generic data API (`/data/<model>`) over HTTP, on both backends.
use annals::http::kitsu::errors::NOT_FOUND_MESSAGE;
use annals::services::identity::admin::{Account, ensure_user};
use futures::future::join_all;
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::clients;
use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app, unique_email};
use crate::surfaces::answer;

pub(crate) const FORBIDDEN: &str = "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.";

/// Logs `email` in through Kitsu; the access token.
pub(crate) async fn access_token(app: &TestApp, email: &str) -> String {
    let (status, body) = answer(
        app.kitsu(None)
            .post(
                "/auth/login",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// A studio manager (`admin`), signed in.
pub(crate) async fn admin(app: &TestApp) -> String {
    let email = admin_account(app).await;
    access_token(app, &email).await
}

/// A studio manager's account; its email.
pub(crate) async fn admin_account(app: &TestApp) -> String {
    let email = unique_email();
    let account = Account {
        email: email.clone(),
        password: PASSWORD.into(),
        role: "admin".into(),
        first_name: "Studio".into(),
        last_name: "Manager".into(),
    };
    ensure_user(&app.state.identity, account).await.unwrap();
    email
}

/// An artist (`user`), signed in.
pub(crate) async fn artist(app: &TestApp) -> String {
    let email = unique_email();
    assert_eq!(app.register(&email).await.status(), StatusCode::CREATED);
    access_token(app, &email).await
}

pub(crate) async fn get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    answer(app.kitsu(Some(token)).get(path).await).await
}

pub(crate) async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    answer(app.kitsu(Some(token)).post(path, &body).await).await
}

pub(crate) async fn put(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    answer(app.kitsu(Some(token)).put(path, &body).await).await
}

/// A created record (asserting the 201).
pub(crate) async fn created(app: &TestApp, token: &str, model: &str, body: Value) -> Value {
    let (status, record) = post(app, token, &format!("/data/{model}"), body).await;
    assert_eq!(status, StatusCode::CREATED, "{record}");
    record
}

pub(crate) fn names(list: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort();
    names
}

#[apply(backends)]
async fn reference_records_are_created_read_updated_and_deleted(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;

    let open = created(
        &app,
        &token,
        "project-status",
        json!({"name": "Open", "color": "#000000", "id": "chosen-by-client"}),
    )
    .await;
    let id = open["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::try_parse(&id).is_ok(), "{open}");
    assert_eq!(open["type"], "ProjectStatus");
    assert_eq!(open["name"], "Open");
    assert_eq!(open["created_at"].as_str().unwrap().len(), 19, "{open}");
    assert_eq!(open["created_at"], open["updated_at"]);

    // Plain array, with and without the trailing slash; one record by id, at the root too.
    let (status, list) = get(&app, &token, "/data/project-status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([open]));
    assert_eq!(get(&app, &token, "/data/project-status/").await.1, list);
    assert_eq!(
        get(&app, &token, &format!("/data/project-status/{id}"))
            .await
            .1,
        open
    );
    let root = app
        .client
        .get(app.url(&format!("/data/project-status/{id}/")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer(root).await, (StatusCode::OK, open.clone()));

    let (status, changed) = put(
        &app,
        &token,
        &format!("/data/project-status/{id}"),
        json!({"name": "Opened", "not_a_field": 1, "created_at": "2000-01-01T00:00:00"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Opened");
    assert_eq!(changed["created_at"], open["created_at"]);
    assert_eq!(
        get(&app, &token, &format!("/data/project-status/{id}"))
            .await
            .1["name"],
        "Opened"
    );

    let deleted = app
        .kitsu(Some(&token))
        .delete(&format!("/data/project-status/{id}/"), &json!({}))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get(&app, &token, &format!("/data/project-status/{id}")).await,
        (
            StatusCode::NOT_FOUND,
            json!({"error": true, "message": NOT_FOUND_MESSAGE})
        )
    );
    assert_eq!(get(&app, &token, "/data/project-status").await.1, json!([]));
    // The name is free again once its record is gone.
    created(
        &app,
        &token,
        "project-status",
        json!({"name": "Opened", "color": "#111111"}),
    )
    .await;
}

#[apply(backends)]
async fn lists_filter_and_paginate_as_zou_does(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    for (name, short, done) in [
        ("Todo", "todo", false),
        ("WIP", "wip", false),
        ("Done", "done", true),
    ] {
        created(
            &app,
            &token,
            "task-status",
            json!({"name": name, "short_name": short, "color": "#ffffff", "is_done": done}),
        )
        .await;
    }

    let (_, by_name) = get(&app, &token, "/data/task-status?name=done").await;
    assert_eq!(names(&by_name), ["Done"]);
    let (_, not_done) = get(&app, &token, "/data/task-status?is_done=False&force=true").await;
    assert_eq!(names(&not_done), ["Todo", "WIP"]);
    let (_, listed) = get(
        &app,
        &token,
        "/data/task-status?short_name=[\"wip\",\"todo\"]",
    )
    .await;
    assert_eq!(names(&listed), ["Todo", "WIP"]);
    let (_, narrow) = get(&app, &token, "/data/task-status?name=WIP&fields=color").await;
    let keys: Vec<&String> = narrow[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{narrow}");

    let (status, page) = get(&app, &token, "/data/task-status?page=1&limit=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        (
            &page["total"],
            &page["nb_pages"],
            &page["limit"],
            &page["offset"],
            &page["page"]
        ),
        (&json!(3), &json!(2), &json!(2), &json!(0), &json!(1))
    );
    let (_, second) = get(&app, &token, "/data/task-status?page=2&limit=2").await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    let (_, beyond) = get(&app, &token, "/data/task-status?page=0").await;
    assert_eq!((&beyond["data"], &beyond["total"]), (&json!([]), &json!(3)));

    for (query, message) in [
        ("page=x", "page must be an integer."),
        ("id=nope", "Invalid UUID value: nope"),
        ("is_done=maybe", "Invalid boolean value: maybe"),
        ("priority=[1", "Malformed list filter for field priority."),
    ] {
        let (status, body) = get(&app, &token, &format!("/data/task-status?{query}")).await;
        assert_eq!(
            (status, &body["message"]),
            (StatusCode::BAD_REQUEST, &json!(message)),
            "{query}: {body}"
        );
    }
}

#[apply(backends)]
async fn bad_input_gets_zou_messages_and_never_a_500(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    created(&app, &token, "task-types", json!({"name": "Modeling"})).await;

    for (model, body, message, field) in [
        (
            "project-status",
            json!({"name": "Open", "color": "#000000", "foo": 1}),
            "'foo' is an invalid keyword argument for ProjectStatus",
            "foo",
        ),
        (
            "project-status",
            json!({"name": "Open"}),
            "A required field is missing.",
            "color",
        ),
        (
            "task-types",
            json!({"name": "Rigging", "priority": "high"}),
            "One of the provided values has an invalid format.",
            "priority",
        ),
        (
            "task-types",
            json!({"name": "modeling"}),
            "A task type with similar name already exists",
            "name",
        ),
    ] {
        let (status, answer) = post(&app, &token, &format!("/data/{model}"), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["message"], message);
        assert_eq!(answer["data"]["errors"][0]["field"], field);
    }

    let empty = app
        .client
        .post(app.url("/api/data/studios"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let (status, body) = post(&app, &token, "/data/studios", json!([1])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Data are empty.")
    );

    let (status, body) = get(&app, &token, "/data/studios/not-a-uuid").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": true, "message": "Malformed ID.", "data": null})
        )
    );
    let unknown = uuid::Uuid::new_v4();
    let (status, _) = put(
        &app,
        &token,
        &format!("/data/studios/{unknown}"),
        json!({"name": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get(&app, &token, "/data/no-such-model").await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::NOT_FOUND, &json!(NOT_FOUND_MESSAGE))
    );

    let studio = created(
        &app,
        &token,
        "studios",
        json!({"name": "North", "color": "#123456"}),
    )
    .await;
    let (status, body) = put(
        &app,
        &token,
        &format!("/data/studios/{}", studio["id"].as_str().unwrap()),
        json!({"archived": "sometimes"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["data"]["errors"][0]["field"], "archived");
}

#[apply(backends)]
async fn a_non_admin_reads_reference_data_but_cannot_change_it(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let manager = admin(&app).await;
    let artist = artist(&app).await;
    let dept = created(
        &app,
        &manager,
        "departments",
        json!({"name": "Animation", "color": "#00ff00"}),
    )
    .await;
    let path = format!("/data/departments/{}", dept["id"].as_str().unwrap());

    let refused = json!({"error": true, "message": FORBIDDEN});
    assert_eq!(
        post(
            &app,
            &artist,
            "/data/departments",
            json!({"name": "FX", "color": "#0000ff"})
        )
        .await,
        (StatusCode::FORBIDDEN, refused.clone())
    );
    assert_eq!(
        put(&app, &artist, &path, json!({"name": "Renamed"})).await,
        (StatusCode::FORBIDDEN, refused.clone())
    );
    let delete = app.kitsu(Some(&artist)).delete(&path, &json!({})).await;
    assert_eq!(answer(delete).await, (StatusCode::FORBIDDEN, refused));

    assert_eq!(
        get(&app, &artist, "/data/departments").await,
        (StatusCode::OK, json!([dept]))
    );
    assert_eq!(get(&app, &artist, &path).await, (StatusCode::OK, dept));
    let (status, _) = answer(app.kitsu(None).get("/data/departments").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// 100 concurrent `POST path` with `body(i)`: how many were created, and how many were refused
/// as duplicates of a unique value.
pub(crate) async fn hundred_creates(
    app: &TestApp,
    token: &str,
    path: &str,
    body: impl Fn(usize) -> Value,
) -> (usize, usize) {
    let answers = join_all((0..100).map(|i| post(app, token, path, body(i)))).await;
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let duplicates = answers
        .iter()
        .filter(|(s, b)| {
            *s == StatusCode::BAD_REQUEST
                && b["message"] == "A record with the same unique values already exists."
        })
        .count();
    assert_eq!(created + duplicates, 100, "{answers:?}");
    (created, duplicates)
}

#[apply(backends)]
async fn a_hundred_concurrent_creates_of_one_name_make_one_record(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let (created, duplicates) = hundred_creates(
        &app,
        &token,
        "/data/project-status",
        |i| json!({"name": "Open", "color": format!("#{i:06}")}),
    )
    .await;
    assert_eq!((created, duplicates), (1, 99));
    let (_, list) = get(&app, &token, "/data/project-status?name=open").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[apply(backends)]
async fn a_rename_moves_the_unique_name(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let a = created(
        &app,
        &token,
        "file-status",
        json!({"name": "A", "color": "#000000"}),
    )
    .await;
    let b = created(
        &app,
        &token,
        "file-status",
        json!({"name": "B", "color": "#000000"}),
    )
    .await;
    let path_b = format!("/data/file-status/{}", b["id"].as_str().unwrap());
    let (status, body) = put(&app, &token, &path_b, json!({"name": "A"})).await;
    assert_eq!(
        (status, &body["message"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("A record with the same unique values already exists.")
        )
    );
    let path_a = format!("/data/file-status/{}", a["id"].as_str().unwrap());
    assert_eq!(
        put(&app, &token, &path_a, json!({"name": "C"})).await.0,
        StatusCode::OK
    );
    assert_eq!(
        put(&app, &token, &path_b, json!({"name": "A"})).await.0,
        StatusCode::OK
    );
    created(
        &app,
        &token,
        "file-status",
        json!({"name": "B", "color": "#000000"}),
    )
    .await;
    let (_, list) = get(&app, &token, "/data/file-status").await;
    assert_eq!(names(&list), ["A", "B", "C"]);
}

const GAZU_REFERENCE_DATA: &str = r##"
import json, sys
import gazu
from gazu.exception import ParameterException

host, email, password = sys.argv[1:4]
gazu.set_host(host)
gazu.log_in(email, password)
out = {}
wip = gazu.task.new_task_status("Work in progress", "wip", "#00FF00")
gazu.task.new_task_status("Done", "done", "#0000FF")
out["wip"] = wip
out["statuses"] = [s["name"] for s in gazu.task.all_task_statuses()]
out["by_name"] = gazu.task.get_task_status_by_name("work in progress")["id"]
try:
    gazu.task.new_task_status("Again", "wip", "#00FF00")
    out["duplicate"] = "accepted"
except ParameterException as e:
    out["duplicate"] = str(e)
modeling = gazu.task.new_task_type("Modeling")
out["same_type"] = gazu.task.new_task_type("Modeling")["id"] == modeling["id"]
out["types"] = [t["name"] for t in gazu.task.all_task_types()]
out["page"] = gazu.client.fetch_all("task-status", {"page": 1, "limit": 1})
print(json.dumps(out))
"##;

#[apply(backends)]
async fn gazu_creates_and_reads_task_statuses_and_types(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = clients::python(GAZU_REFERENCE_DATA, &[&host, &email, PASSWORD])
        .await
        .json;
    assert_eq!(out["wip"]["type"], "TaskStatus", "{out}");
    assert_eq!(out["wip"]["is_artist_allowed"], true, "{out}");
    assert_eq!(
        out["statuses"],
        json!(["Done", "Work in progress"]),
        "{out}"
    );
    assert_eq!(out["by_name"], out["wip"]["id"], "{out}");
    assert!(
        out["duplicate"]
            .as_str()
            .unwrap()
            .contains("A record with the same unique values already exists."),
        "{out}"
    );
    assert_eq!(out["same_type"], true, "{out}");
    assert_eq!(out["types"], json!(["Modeling"]), "{out}");
    assert_eq!(out["page"]["total"], 2, "{out}");
    assert_eq!(out["page"]["data"].as_array().unwrap().len(), 1, "{out}");
}

#[apply(backends)]
async fn a_records_history_lists_each_change_newest_first(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let artist = artist(&app).await;
    let status = created(
        &app,
        &token,
        "project-status",
        json!({"name": "Open", "color": "#000000"}),
    )
    .await;
    let id = status["id"].as_str().unwrap();
    let path = format!("/data/project-status/{id}");
    for color in ["#111111", "#222222", "#333333"] {
        let (code, body) = put(&app, &token, &path, json!({"color": color})).await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }

    let (code, history) = get(&app, &token, &format!("{path}/history")).await;
    assert_eq!(code, StatusCode::OK, "{history}");
    let entries = history.as_array().unwrap();
    assert_eq!(entries.len(), 4, "{history}");
    let events: Vec<&str> = entries
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "RecordUpdated",
            "RecordUpdated",
            "RecordUpdated",
            "RecordCreated"
        ]
    );
    let changes: Vec<&Value> = entries.iter().map(|e| &e["changes"]).collect();
    assert_eq!(
        changes[..3],
        [
            &json!([{"field": "color", "old": "#222222", "new": "#333333"}]),
            &json!([{"field": "color", "old": "#111111", "new": "#222222"}]),
            &json!([{"field": "color", "old": "#000000", "new": "#111111"}]),
        ]
    );
    let mut created_fields: Vec<(&str, &Value, &Value)> = changes[3]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["field"].as_str().unwrap(), &c["old"], &c["new"]))
        .collect();
    created_fields.sort_by_key(|c| c.0);
    assert_eq!(
        created_fields,
        [
            ("color", &Value::Null, &json!("#000000")),
            ("name", &Value::Null, &json!("Open")),
        ]
    );
    let (_, me) = get(&app, &token, "/auth/authenticated").await;
    for entry in entries {
        assert_eq!(entry["author_id"], me["user"]["id"], "{entry}");
        assert_eq!(entry["record_id"], id);
        assert_eq!(entry["created_at"].as_str().unwrap().len(), 19, "{entry}");
    }
    let sequences: Vec<i64> = entries
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, [4, 3, 2, 1]);
    // Reference data: anyone who reads the record reads its history (trailing slash too).
    let (code, seen) = get(&app, &artist, &format!("{path}/history/")).await;
    assert_eq!((code, &seen), (StatusCode::OK, &history));

    let deleted = app.kitsu(Some(&token)).delete(&path, &json!({})).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (code, after) = get(&app, &token, &format!("{path}/history")).await;
    assert_eq!(code, StatusCode::OK, "{after}");
    assert_eq!(after.as_array().unwrap().len(), 5);
    assert_eq!(after[0]["event"], "RecordDeleted");
    assert!(
        after[0]["changes"]
            .as_array()
            .unwrap()
            .contains(&json!({"field": "color", "old": "#333333", "new": null})),
        "{after}"
    );
    assert_eq!(
        after.as_array().unwrap()[1..],
        history.as_array().unwrap()[..]
    );
    // Gone for everyone else.
    let (code, body) = get(&app, &artist, &format!("{path}/history")).await;
    assert_eq!(
        (code, body),
        (
            StatusCode::NOT_FOUND,
            json!({"error": true, "message": NOT_FOUND_MESSAGE})
        )
    );
    // Another model's id, an unknown id, a malformed one.
    let (code, _) = get(&app, &token, &format!("/data/studios/{id}/history")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let unknown = uuid::Uuid::new_v4();
    let (code, _) = get(&app, &token, &format!("/data/studios/{unknown}/history")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = get(&app, &token, "/data/studios/nope/history").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
}

/// A person is read by id by any signed-in role: studio managers read the login's own user
/// object, without secrets; others Zou's minimal person. Unknown and malformed ids answer as
/// Zou.
#[apply(backends)]
async fn a_person_is_read_by_id(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let artist = artist(&app).await;
    let (_, me) = get(&app, &token, "/auth/authenticated").await;
    let id = me["user"]["id"].as_str().unwrap().to_string();

    let (code, person) = get(&app, &token, &format!("/data/persons/{id}")).await;
    assert_eq!(code, StatusCode::OK, "{person}");
    // The caller's own user object adds its second-factor devices; a person read does not.
    let mut own = me["user"].clone();
    own.as_object_mut().unwrap().remove("fido_devices");
    assert_eq!(person, own);
    assert!(person.get("password").is_none() && person.get("totp_secret").is_none());
    let (code, seen) = get(&app, &artist, &format!("/data/persons/{id}")).await;
    assert_eq!(code, StatusCode::OK, "{seen}");
    assert_eq!(seen["full_name"], person["full_name"]);
    assert!(seen.get("email").is_none(), "{seen}");
    let (code, again) = get(&app, &token, &format!("/data/persons/{id}/")).await;
    assert_eq!((code, &again), (StatusCode::OK, &person));

    let unknown = "3f0f3bb3-8d1c-4a4e-9a57-2f6a4b0c9d11";
    let (code, body) = get(&app, &token, &format!("/data/persons/{unknown}")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
    let (code, body) = get(&app, &token, "/data/persons/nope").await;
    assert_eq!(
        (code, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": true, "message": "Malformed ID.", "data": null})
        )
    );
    let anonymous = app.kitsu(None).get(&format!("/data/persons/{id}")).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
