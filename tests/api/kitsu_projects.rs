//! Zou's projects over HTTP on both backends: defaults, teams, who sees what, references.
//! The answers asserted here are the real Zou 1.0.97's (tests/fixtures/zou-1.0.97-projects.md).
use annals::services::identity::admin::{Account, ensure_user};
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app, unique_email};
use crate::kitsu_data::{
    FORBIDDEN, access_token, admin, created, get, hundred_creates, names, post, put,
};

const REFERENCED: &str = "The change conflicts with records referencing this one.";

/// A signed-in person of `role`: their token and id.
pub(crate) async fn person(app: &TestApp, role: &str) -> (String, String) {
    let email = unique_email();
    let account = Account {
        email: email.clone(),
        password: PASSWORD.into(),
        role: role.into(),
        first_name: "Team".into(),
        last_name: role.into(),
    };
    ensure_user(&app.state.identity, account).await.unwrap();
    let token = access_token(app, &email).await;
    let (_, me) = get(app, &token, "/auth/authenticated").await;
    (token, me["user"]["id"].as_str().unwrap().to_string())
}

async fn delete(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let response = app.kitsu(Some(token)).delete(path, &json!({})).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn id(record: &Value) -> &str {
    record["id"].as_str().unwrap()
}

#[apply(backends)]
async fn a_project_gets_zou_defaults_the_open_status_and_relations_on_request(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let (_, artist_id) = person(&app, "user").await;

    let project = created(
        &app,
        &token,
        "projects",
        json!({"name": "Agent 327", "team": [artist_id, uuid::Uuid::new_v4().to_string()]}),
    )
    .await;
    assert_eq!(project["type"], "Project");
    for (key, value) in [
        ("fps", json!("25")),
        ("ratio", json!("16:9")),
        ("resolution", json!("1920x1080")),
        ("production_type", json!("short")),
        ("production_style", json!("2d3d")),
        ("homepage", json!("assets")),
        ("nb_episodes", json!(0)),
        ("is_client_stats_visible", json!(true)),
        ("is_clients_isolated", json!(false)),
        ("hd_bitrate_compression", Value::Null),
        // Unknown persons are dropped, as Zou drops them.
        ("team", json!([artist_id])),
        ("task_types", json!([])),
    ] {
        assert_eq!(project[key], value, "{key}: {project}");
    }
    // The "Open" status is made on first need.
    let (_, statuses) = get(&app, &token, "/data/project-status").await;
    assert_eq!(names(&statuses), ["Open"]);
    assert_eq!(project["project_status_id"], statuses[0]["id"]);

    let path = format!("/data/projects/{}", id(&project));
    let (status, one) = get(&app, &token, &path).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["project_status_name"], "Open");
    assert_eq!(one["team"], json!([artist_id]));
    let (_, bare) = get(&app, &token, &format!("{path}?relations=false")).await;
    assert!(bare.get("team").is_none(), "{bare}");
    assert_eq!(bare["project_status_name"], "Open");
    let (_, listed) = get(&app, &token, "/data/projects").await;
    assert!(listed[0].get("team").is_none(), "{listed}");
    let (_, with) = get(&app, &token, "/data/projects?relations=true").await;
    assert_eq!(with[0]["team"], json!([artist_id]));
    let (_, by_member) = get(&app, &token, &format!("/data/projects?team={artist_id}")).await;
    assert_eq!(names(&by_member), ["Agent 327"]);

    // A PUT does not write the team; its answer has no relations.
    let (status, changed) = put(&app, &token, &path, json!({"team": [], "fps": "24"})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert!(changed.get("team").is_none(), "{changed}");
    assert_eq!(get(&app, &token, &path).await.1["team"], json!([artist_id]));

    // Names are unique as written (another case is another name); statuses must exist.
    let (status, body) = post(&app, &token, "/data/projects", json!({"name": "Agent 327"})).await;
    assert_eq!(
        (status, &body["message"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("A record with the same unique values already exists.")
        )
    );
    created(&app, &token, "projects", json!({"name": "agent 327"})).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, body) = post(
        &app,
        &token,
        "/data/projects",
        json!({"name": "Spring", "project_status_id": unknown}),
    )
    .await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::BAD_REQUEST, &json!(REFERENCED))
    );
    assert_eq!(body["data"]["errors"][0]["field"], "project_status_id");
    let (status, body) = put(&app, &token, &path, json!({"project_status_id": unknown})).await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::BAD_REQUEST, &json!(REFERENCED))
    );
    let (status, body) = post(
        &app,
        &token,
        "/data/projects",
        json!({"name": "Spring", "project_status_id": "nope"}),
    )
    .await;
    assert_eq!(
        (status, &body["message"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("One of the provided values has an invalid format.")
        )
    );
}

#[apply(backends)]
async fn teams_decide_who_sees_and_manages_a_project(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let (artist, artist_id) = person(&app, "user").await;
    let (manager, manager_id) = person(&app, "manager").await;
    let (client, _) = person(&app, "client").await;
    let closed = created(
        &app,
        &token,
        "project-status",
        json!({"name": "Closed", "color": "#000000"}),
    )
    .await;
    let mine = created(&app, &token, "projects", json!({"name": "Mine"})).await;
    let old = created(
        &app,
        &token,
        "projects",
        json!({"name": "Old", "team": [artist_id], "project_status_id": id(&closed)}),
    )
    .await;
    let other = created(&app, &token, "projects", json!({"name": "Other"})).await;
    let team = format!("/data/projects/{}/team", id(&mine));
    for member in [&artist_id, &manager_id, &artist_id] {
        let (status, body) = post(&app, &token, &team, json!({"person_id": member})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(body.get("team").is_none(), "{body}");
    }
    let (_, seen) = get(&app, &token, &format!("/data/projects/{}", id(&mine))).await;
    assert_eq!(seen["team"], json!([artist_id, manager_id]));

    // Artists list the open projects of their teams, read their teams' projects.
    assert_eq!(
        names(&get(&app, &artist, "/data/projects").await.1),
        ["Mine"]
    );
    let (_, open) = get(&app, &artist, "/data/projects/open").await;
    assert_eq!(names(&open), ["Mine"]);
    assert_eq!(open[0]["team"], json!([artist_id, manager_id]));
    let (_, all_open) = get(&app, &token, "/data/projects/open").await;
    assert_eq!(names(&all_open), ["Mine", "Other"]);
    let old_path = format!("/data/projects/{}", id(&old));
    assert_eq!(get(&app, &artist, &old_path).await.0, StatusCode::OK);
    let other_path = format!("/data/projects/{}", id(&other));
    let refused = (
        StatusCode::FORBIDDEN,
        json!({"error": true, "message": FORBIDDEN}),
    );
    assert_eq!(get(&app, &artist, &other_path).await, refused);
    assert_eq!(get(&app, &client, "/data/projects").await.1, json!([]));

    // Only studio managers create; production managers change their teams' projects.
    let mine_path = format!("/data/projects/{}", id(&mine));
    assert_eq!(
        post(&app, &artist, "/data/projects", json!({"name": "Mine 2"})).await,
        refused
    );
    assert_eq!(
        post(&app, &manager, "/data/projects", json!({"name": "Mine 2"})).await,
        refused
    );
    assert_eq!(
        put(&app, &artist, &mine_path, json!({"fps": "30"})).await,
        refused
    );
    assert_eq!(
        put(&app, &manager, &mine_path, json!({"fps": "30"}))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        put(&app, &manager, &other_path, json!({"fps": "30"})).await,
        refused
    );
    assert_eq!(
        post(&app, &artist, &team, json!({"person_id": artist_id})).await,
        refused
    );

    // Team answers as Zou's.
    let stranger = uuid::Uuid::new_v4();
    let (status, body) = post(&app, &token, &team, json!({"person_id": stranger})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": true, "message": format!("Person with id {stranger} not found"), "data": null})
        )
    );
    let (status, body) = post(&app, &token, &team, json!({})).await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::BAD_REQUEST, &json!("Validation error."))
    );
    assert_eq!(body["data"]["errors"][0]["field"], "person_id");
    let nowhere = format!("/data/projects/{}/team", uuid::Uuid::new_v4());
    assert_eq!(
        post(&app, &token, &nowhere, json!({"person_id": artist_id}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let leave = format!("{team}/{artist_id}");
    assert_eq!(delete(&app, &token, &leave).await.0, StatusCode::NO_CONTENT);
    assert_eq!(delete(&app, &token, &leave).await.0, StatusCode::NO_CONTENT);
    assert_eq!(get(&app, &artist, "/data/projects").await.1, json!([]));
    assert_eq!(get(&app, &artist, &mine_path).await, refused);

    // The history shows the team's changes.
    let (_, history) = get(&app, &token, &format!("{mine_path}/history")).await;
    assert_eq!(history[0]["changes"][0]["field"], "team");
    assert_eq!(history[0]["changes"][0]["new"], json!([manager_id]));
}

#[apply(backends)]
async fn a_hundred_concurrent_creates_of_one_project_name_make_one_project(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    // The "Open" status exists first, so the race is on the name alone.
    created(&app, &token, "projects", json!({"name": "Warm-up"})).await;
    let (created, duplicates) = hundred_creates(
        &app,
        &token,
        "/data/projects",
        |i| json!({"name": "Sprite Fright", "code": format!("SF{i}")}),
    )
    .await;
    assert_eq!((created, duplicates), (1, 99));
    let (_, list) = get(&app, &token, "/data/projects?name=sprite fright").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[apply(backends)]
async fn a_referenced_record_cannot_be_deleted_and_open_projects_stay(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let project = created(&app, &token, "projects", json!({"name": "Charge"})).await;
    let open_path = format!(
        "/data/project-status/{}",
        project["project_status_id"].as_str().unwrap()
    );
    let refused = (StatusCode::BAD_REQUEST, json!({"message": REFERENCED}));
    assert_eq!(delete(&app, &token, &open_path).await, refused);
    assert_eq!(
        delete(&app, &token, &format!("{open_path}?force=true")).await,
        refused
    );

    let path = format!("/data/projects/{}", id(&project));
    let open_refused = (
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "Only closed projects can be deleted"}),
    );
    assert_eq!(delete(&app, &token, &path).await, open_refused);
    let closed = created(
        &app,
        &token,
        "project-status",
        json!({"name": "Closed", "color": "#000000"}),
    )
    .await;
    let (status, _) = put(
        &app,
        &token,
        &path,
        json!({"project_status_id": id(&closed)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Nothing refers to "Open" any more; "Closed" is in use.
    assert_eq!(
        delete(&app, &token, &open_path).await.0,
        StatusCode::NO_CONTENT
    );
    let closed_path = format!("/data/project-status/{}", id(&closed));
    assert_eq!(delete(&app, &token, &closed_path).await, refused);
    assert_eq!(delete(&app, &token, &path).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        delete(&app, &token, &closed_path).await.0,
        StatusCode::NO_CONTENT
    );
    // The project's history stays for studio managers.
    let (status, history) = get(&app, &token, &format!("{path}/history")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history[0]["event"], "RecordDeleted");
}

#[apply(backends)]
async fn a_task_type_in_a_project_is_detached_only_by_force(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let modeling = created(&app, &token, "task-types", json!({"name": "Modeling"})).await;
    let project = created(
        &app,
        &token,
        "projects",
        json!({"name": "Cosmos", "task_types": [{"id": id(&modeling)}]}),
    )
    .await;
    assert_eq!(project["task_types"], json!([id(&modeling)]));
    let path = format!("/data/task-types/{}", id(&modeling));
    assert_eq!(
        delete(&app, &token, &path).await,
        (
            StatusCode::BAD_REQUEST,
            json!({
                "error": true,
                "message": "Task type is attached to projects. Re-issue the request with force=true to detach.",
                "data": null,
            })
        )
    );
    assert_eq!(
        delete(&app, &token, &format!("{path}?force=true")).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, seen) = get(&app, &token, &format!("/data/projects/{}", id(&project))).await;
    assert_eq!(seen["task_types"], json!([]));

    // A department a task type points at stays; a task type cannot point at no department.
    let dept = created(
        &app,
        &token,
        "departments",
        json!({"name": "Modeling", "color": "#000000"}),
    )
    .await;
    created(
        &app,
        &token,
        "task-types",
        json!({"name": "Sculpt", "department_id": id(&dept)}),
    )
    .await;
    let refused = (StatusCode::BAD_REQUEST, json!({"message": REFERENCED}));
    let dept_path = format!("/data/departments/{}", id(&dept));
    assert_eq!(delete(&app, &token, &dept_path).await, refused);
    assert_eq!(
        delete(&app, &token, &format!("{dept_path}?force=true")).await,
        refused
    );
    let (status, body) = post(
        &app,
        &token,
        "/data/task-types",
        json!({"name": "Paint", "department_id": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::BAD_REQUEST, &json!(REFERENCED))
    );
}

/// The tracker's read models are a function of the log: a rebuild gives the same rows.
#[apply(backends)]
async fn the_tracker_views_rebuild_to_the_same_rows(#[case] backend: Backend) {
    use annals_projections::kitsu::KitsuRecords;

    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let (_, artist_id) = person(&app, "user").await;
    let kept = created(&app, &token, "projects", json!({"name": "Kept"})).await;
    let team = format!("/data/projects/{}/team", id(&kept));
    assert_eq!(
        post(&app, &token, &team, json!({"person_id": artist_id}))
            .await
            .0,
        StatusCode::CREATED
    );
    let path = format!("/data/projects/{}", id(&kept));
    assert_eq!(
        put(&app, &token, &path, json!({"fps": "24"})).await.0,
        StatusCode::OK
    );
    let gone = created(&app, &token, "task-types", json!({"name": "Gone"})).await;
    assert_eq!(
        delete(&app, &token, &format!("/data/task-types/{}", id(&gone)))
            .await
            .0,
        StatusCode::NO_CONTENT
    );

    let live = app
        .assert_rebuild_equals_live(std::sync::Arc::new(KitsuRecords))
        .await;
    assert!(live.iter().any(|rows| !rows.is_empty()));
}

const GAZU_PROJECTS: &str = r##"
import json, sys
import gazu
from gazu.exception import ParameterException

host, email, password, artist_id = sys.argv[1:5]
gazu.set_host(host)
gazu.log_in(email, password)
out = {}
project = gazu.project.new_project("Big Buck", team=[artist_id])
out["project"] = project
out["same"] = gazu.project.new_project("Big Buck")["id"] == project["id"]
out["by_name"] = gazu.project.get_project_by_name("big buck")["id"] == project["id"]
gazu.project.new_project("Elephants Dream")
out["all"] = [p["name"] for p in gazu.project.all_projects()]
out["status_name"] = gazu.project.get_project(project["id"])["project_status_name"]
gazu.project.remove_person_from_team(project, artist_id)
out["team_removed"] = gazu.project.get_project(project["id"])["team"]
gazu.project.add_person_to_team(project, artist_id)
out["team_added"] = gazu.project.get_project(project["id"])["team"]
try:
    gazu.project.remove_project(project, force=True)
    out["remove_open"] = "accepted"
except ParameterException as e:
    out["remove_open"] = str(e)
gazu.client.create("project-status", {"name": "Closed", "color": "#000000"})
gazu.project.close_project(project)
out["open"] = [p["name"] for p in gazu.project.all_open_projects()]
gazu.project.remove_project(project, force=True)
out["left"] = [p["name"] for p in gazu.project.all_projects()]
print(json.dumps(out))
"##;

#[apply(backends)]
async fn gazu_creates_teams_closes_and_removes_projects(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = crate::kitsu_data::admin_account(&app).await;
    let (_, artist_id) = person(&app, "user").await;
    let host = app.url("/api");
    let out = crate::clients::python(GAZU_PROJECTS, &[&host, &email, PASSWORD, &artist_id])
        .await
        .json;
    assert_eq!(out["project"]["type"], "Project", "{out}");
    assert_eq!(out["project"]["team"], json!([artist_id]), "{out}");
    assert_eq!(out["same"], true, "{out}");
    assert_eq!(out["by_name"], true, "{out}");
    assert_eq!(out["all"], json!(["Big Buck", "Elephants Dream"]), "{out}");
    assert_eq!(out["status_name"], "Open", "{out}");
    assert_eq!(out["team_removed"], json!([]), "{out}");
    assert_eq!(out["team_added"], json!([artist_id]), "{out}");
    assert!(
        out["remove_open"]
            .as_str()
            .unwrap()
            .contains("Only closed projects can be deleted"),
        "{out}"
    );
    assert_eq!(out["open"], json!(["Elephants Dream"]), "{out}");
    assert_eq!(out["left"], json!(["Elephants Dream"]), "{out}");
}

/// A list asked again while nothing changed is answered from the answer kept for its caller
/// (annals keeps rendered answers until a projection moves): every change still shows at once,
/// and each caller gets their own.
#[apply(backends)]
async fn a_repeated_list_follows_every_change_and_each_caller_sees_their_own(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let (artist, artist_id) = person(&app, "user").await;
    let ours = created(
        &app,
        &token,
        "projects",
        json!({"name": "Ours", "team": [artist_id]}),
    )
    .await;
    created(&app, &token, "projects", json!({"name": "Theirs"})).await;
    for _ in 0..3 {
        let (_, all) = get(&app, &token, "/data/projects").await;
        assert_eq!(names(&all), ["Ours", "Theirs"]);
        let (_, mine) = get(&app, &artist, "/data/projects").await;
        assert_eq!(names(&mine), ["Ours"]);
    }

    created(
        &app,
        &token,
        "projects",
        json!({"name": "Shared", "team": [artist_id]}),
    )
    .await;
    let (_, mine) = get(&app, &artist, "/data/projects").await;
    assert_eq!(names(&mine), ["Ours", "Shared"]);

    let path = format!("/data/projects/{}", ours["id"].as_str().unwrap());
    let (status, body) = put(&app, &token, &path, json!({"name": "Renamed"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, all) = get(&app, &token, "/data/projects").await;
    assert_eq!(names(&all), ["Renamed", "Shared", "Theirs"]);
    let (_, mine) = get(&app, &artist, "/data/projects").await;
    assert_eq!(names(&mine), ["Renamed", "Shared"]);

    // Other queries of the same list are answers of their own.
    let (_, page) = get(&app, &token, "/data/projects?page=1&limit=2").await;
    assert_eq!(page["total"], 3, "{page}");
    assert_eq!(page["data"].as_array().unwrap().len(), 2, "{page}");
    let (_, one) = get(&app, &token, "/data/projects?name=shared").await;
    assert_eq!(names(&one), ["Shared"]);
}
