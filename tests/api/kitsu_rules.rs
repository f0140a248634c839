//! Zou's finer rules over HTTP on both backends, as the real Zou 1.0.97 answers them
//! (tests/fixtures/zou-1.0.97-rules.md, recorded by tests/fixtures/zou-rules.py): who may
//! comment on a task, which task changes a supervisor may make, and adding an entity to a
//! playlist (`POST /actions/playlists/<id>/add-entity`, gazu's `add_entity_to_playlist`).
use annals::http::kitsu::errors::NOT_FOUND_MESSAGE;
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app};
use crate::kitsu_data::{FORBIDDEN, admin, admin_account, created, get, post, put};
use crate::kitsu_projects::person;
use crate::surfaces::answer;

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_string()
}

/// The studio of the fixture: two departments, people of each role, a project whose team
/// holds all of them but the outside supervisor, a task type of each department, and a task
/// of each on one asset (the modeling one assigned to `assigned` and the vendor).
struct Studio {
    admin: String,
    tokens: Vec<(&'static str, String, String)>,
    project: String,
    todo: String,
    wip: String,
    asset: String,
    other: String,
    modeling: String,
    rigging: String,
}

/// name, role, in the first department, in the team
const PEOPLE: [(&str, &str, bool, bool); 8] = [
    ("artist", "user", true, true),
    ("assigned", "user", true, true),
    ("supervisor", "supervisor", true, true),
    ("free_supervisor", "supervisor", false, true),
    ("outside_supervisor", "supervisor", true, false),
    ("vendor", "vendor", false, true),
    ("manager", "manager", false, true),
    ("client", "client", false, true),
];

impl Studio {
    async fn new(app: &TestApp) -> Studio {
        let admin = admin(app).await;
        let department = |name: &str| json!({"name": name, "color": "#000000"});
        let d1 = id(&created(app, &admin, "departments", department("Modeling")).await);
        let d2 = id(&created(app, &admin, "departments", department("Animation")).await);
        let mut tokens = Vec::new();
        let mut team = Vec::new();
        for (name, role, in_department, in_team) in PEOPLE {
            let (token, person) = person(app, role).await;
            if in_department {
                let path = format!("/data/persons/{person}");
                let (status, body) = put(app, &admin, &path, json!({"departments": [d1]})).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
            if in_team {
                team.push(person.clone());
            }
            tokens.push((name, token, person));
        }
        let project = json!({"name": "Rules", "team": team});
        let project = id(&created(app, &admin, "projects", project).await);
        let prop = id(&created(app, &admin, "entity-types", json!({"name": "Prop"})).await);
        let task_type = |name: &str, department: &str| json!({"name": name, "for_entity": "Asset", "department_id": department});
        let t1 = id(&created(app, &admin, "task-types", task_type("Model", &d1)).await);
        let t2 = id(&created(app, &admin, "task-types", task_type("Rig", &d2)).await);
        let status = |name: &str| {
            json!({"name": name, "short_name": name, "color": "#000000",
                   "is_artist_allowed": true, "is_client_allowed": true})
        };
        let todo = id(&created(app, &admin, "task-status", status("todo")).await);
        let wip = id(&created(app, &admin, "task-status", status("wip")).await);
        let entity =
            |name: &str| json!({"name": name, "project_id": project, "entity_type_id": prop});
        let asset = id(&created(app, &admin, "entities", entity("Chair")).await);
        let other = id(&created(app, &admin, "entities", entity("Table")).await);
        let mut studio = Studio {
            admin,
            tokens,
            project,
            todo,
            wip,
            asset,
            other,
            modeling: String::new(),
            rigging: String::new(),
        };
        let assignees = json!([studio.id_of("assigned"), studio.id_of("vendor")]);
        studio.modeling = studio.task(app, &t1, assignees).await;
        studio.rigging = studio.task(app, &t2, json!([])).await;
        studio
    }

    async fn task(&self, app: &TestApp, task_type: &str, assignees: Value) -> String {
        let task = json!({
            "project_id": self.project, "task_type_id": task_type, "entity_id": self.asset,
            "task_status_id": self.todo, "assignees": assignees,
        });
        id(&created(app, &self.admin, "tasks", task).await)
    }

    fn token(&self, name: &str) -> &str {
        &self.tokens.iter().find(|(n, _, _)| *n == name).unwrap().1
    }

    fn id_of(&self, name: &str) -> &str {
        &self.tokens.iter().find(|(n, _, _)| *n == name).unwrap().2
    }
}

fn forbidden() -> Value {
    json!({"error": true, "message": FORBIDDEN})
}

/// Zou 1.0.97: an artist of the team comments on the tasks assigned to them only; a
/// supervisor on the tasks of their departments (all of them without departments); vendors
/// on theirs; managers and clients of the team on any. Someone mentioned answers in the
/// conversation without moving the status.
#[apply(backends)]
async fn who_may_comment_on_a_task_is_zous_task_action_access(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let studio = Studio::new(&app).await;
    let (modeling, rigging) = (studio.modeling.clone(), studio.rigging.clone());
    let comment = |status: &str| json!({"task_status_id": status, "comment": "a word"});
    for (who, task, expected) in [
        ("artist", &modeling, StatusCode::FORBIDDEN),
        ("assigned", &modeling, StatusCode::CREATED),
        ("supervisor", &modeling, StatusCode::CREATED),
        ("supervisor", &rigging, StatusCode::FORBIDDEN),
        ("free_supervisor", &rigging, StatusCode::CREATED),
        ("outside_supervisor", &modeling, StatusCode::FORBIDDEN),
        ("vendor", &modeling, StatusCode::CREATED),
        ("vendor", &rigging, StatusCode::FORBIDDEN),
        ("manager", &rigging, StatusCode::CREATED),
        ("client", &rigging, StatusCode::CREATED),
    ] {
        let path = format!("/actions/tasks/{task}/comment");
        let (status, body) = post(&app, studio.token(who), &path, comment(&studio.todo)).await;
        assert_eq!(status, expected, "{who} on {task}: {body}");
        if status == StatusCode::CREATED {
            assert_eq!(body["person_id"], studio.id_of(who), "{body}");
        } else {
            assert_eq!(body, forbidden());
        }
    }
    // A refused comment left nothing: the rigging task has the free supervisor's, the
    // manager's and the client's comments only.
    let (_, listed) = get(
        &app,
        &studio.admin,
        &format!("/data/tasks/{rigging}/comments"),
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");

    // Mentioned in the rigging task's conversation (`@` and their full name, as Zou reads
    // it), the artist answers there, keeping the status; moving it is refused.
    let path = format!("/actions/tasks/{rigging}/comment");
    let (_, me) = get(&app, studio.token("artist"), "/auth/authenticated").await;
    let mention = json!({"task_status_id": studio.todo,
                         "comment": format!("@{} have a look", me["user"]["full_name"].as_str().unwrap())});
    let (status, made) = post(&app, studio.token("manager"), &path, mention).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert!(
        made["mentions"]
            .as_array()
            .unwrap()
            .contains(&json!(studio.id_of("artist"))),
        "{made}"
    );
    let (status, body) = post(&app, studio.token("artist"), &path, comment(&studio.todo)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = post(&app, studio.token("artist"), &path, comment(&studio.wip)).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()));
    let (_, task) = get(&app, &studio.admin, &format!("/data/tasks/{rigging}")).await;
    assert_eq!(task["task_status_id"], json!(studio.todo));

    // A mention in a reply counts too: one naming the artist's department on the modeling
    // task's conversation lets them answer there.
    let path = format!("/actions/tasks/{modeling}/comment");
    let (status, _) = post(&app, studio.token("artist"), &path, comment(&studio.todo)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, listed) = get(
        &app,
        &studio.admin,
        &format!("/data/tasks/{modeling}/comments"),
    )
    .await;
    let (_, artist) = get(
        &app,
        &studio.admin,
        &format!("/data/persons/{}", studio.id_of("artist")),
    )
    .await;
    let reply = json!({"replies": [{"id": "r1", "text": "@Modeling", "person_id": studio.id_of("manager"),
                                    "mentions": [], "department_mentions": artist["departments"]}]});
    let first = format!("/data/comments/{}", listed[0]["id"].as_str().unwrap());
    let (status, body) = put(&app, &studio.admin, &first, reply).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post(&app, studio.token("artist"), &path, comment(&studio.todo)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Zou 1.0.97's `check_supervisor_task_access`: a supervisor of the team changes only the
/// planning (`priority`, dates, `estimation`, `difficulty`, `data`) of the tasks of their
/// departments; any other key, another department's task, or being out of the team is a 403.
/// A supervisor without departments plans every task. Deleting stays with managers.
#[apply(backends)]
async fn a_supervisor_plans_only_the_tasks_of_their_departments(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let studio = Studio::new(&app).await;
    let (modeling, rigging) = (studio.modeling.clone(), studio.rigging.clone());
    let planning = json!({
        "due_date": "2026-12-24T00:00:00", "estimation": 3, "difficulty": 4,
        "start_date": "2026-12-01T00:00:00", "data": {"k": "v"},
    });
    for (who, task, change, expected) in [
        (
            "supervisor",
            &modeling,
            json!({"priority": 3}),
            StatusCode::OK,
        ),
        ("supervisor", &modeling, planning.clone(), StatusCode::OK),
        (
            "supervisor",
            &modeling,
            json!({"description": "changed"}),
            StatusCode::FORBIDDEN,
        ),
        (
            "supervisor",
            &modeling,
            json!({"priority": 2, "name": "renamed"}),
            StatusCode::FORBIDDEN,
        ),
        (
            "supervisor",
            &modeling,
            json!({"priority": 2, "unknown": 1}),
            StatusCode::FORBIDDEN,
        ),
        (
            "supervisor",
            &rigging,
            json!({"priority": 3}),
            StatusCode::FORBIDDEN,
        ),
        (
            "free_supervisor",
            &rigging,
            json!({"priority": 3}),
            StatusCode::OK,
        ),
        (
            "free_supervisor",
            &rigging,
            json!({"assignees": []}),
            StatusCode::FORBIDDEN,
        ),
        (
            "outside_supervisor",
            &modeling,
            json!({"priority": 3}),
            StatusCode::FORBIDDEN,
        ),
        (
            "assigned",
            &modeling,
            json!({"priority": 3}),
            StatusCode::FORBIDDEN,
        ),
        (
            "manager",
            &rigging,
            json!({"description": "changed"}),
            StatusCode::OK,
        ),
    ] {
        let path = format!("/data/tasks/{task}");
        let (status, body) = put(&app, studio.token(who), &path, change.clone()).await;
        assert_eq!(status, expected, "{who} {change} on {task}: {body}");
        if status == StatusCode::OK {
            for (key, value) in change.as_object().unwrap() {
                assert_eq!(&body[key], value, "{key}: {body}");
            }
        } else {
            assert_eq!(body, forbidden());
        }
    }
    // A refused change left the task as it was.
    let (_, task) = get(&app, &studio.admin, &format!("/data/tasks/{modeling}")).await;
    assert_eq!(task["priority"], json!(3));
    assert_eq!(task["name"], json!("main"));
    let response = app
        .kitsu(Some(studio.token("supervisor")))
        .delete(&format!("/data/tasks/{modeling}"), &json!({}))
        .await;
    assert_eq!(answer(response).await, (StatusCode::FORBIDDEN, forbidden()));

    // An entity's `data` alone, by a supervisor without departments (Zou asks the metadata
    // descriptors of the others' departments, which annals does not keep).
    let asset = format!("/data/entities/{}", studio.asset);
    for (who, change, expected) in [
        (
            "free_supervisor",
            json!({"data": {"k": "v"}}),
            StatusCode::OK,
        ),
        (
            "free_supervisor",
            json!({"description": "changed"}),
            StatusCode::FORBIDDEN,
        ),
        (
            "free_supervisor",
            json!({"data": {"k": "w"}, "description": "changed"}),
            StatusCode::FORBIDDEN,
        ),
        (
            "supervisor",
            json!({"data": {"k": "v"}}),
            StatusCode::FORBIDDEN,
        ),
        (
            "outside_supervisor",
            json!({"data": {"k": "v"}}),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let (status, body) = put(&app, studio.token(who), &asset, change.clone()).await;
        assert_eq!(status, expected, "{who} {change}: {body}");
    }
    let (_, read) = get(&app, &studio.admin, &asset).await;
    assert_eq!(read["data"], json!({"k": "v"}));
}

fn validation(field: &str, message: &str) -> Value {
    json!({"error": true, "message": "Validation error.",
           "data": {"errors": [{"field": field, "message": message}]}})
}

/// `POST /actions/playlists/<id>/add-entity` answers as Zou 1.0.97: the playlist, its new
/// entry `{entity_id}` (with the entity's own preview when it has one), no couple twice, a
/// foreign preview unset, an unknown entity taken as given; Zou's validation errors, its 404
/// for unknown and malformed playlist ids, and the playlist update rule. Each addition is an
/// update of the playlist's own stream.
#[apply(backends)]
async fn an_entity_is_added_to_a_playlist_as_zou_adds_it(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let studio = Studio::new(&app).await;
    let admin = &studio.admin;
    let review = json!({"name": "Review", "project_id": studio.project});
    let playlist = id(&created(&app, admin, "playlists", review).await);
    let path = format!("/actions/playlists/{playlist}/add-entity");
    let (asset, other) = (studio.asset.clone(), studio.other.clone());

    let (status, body) = post(&app, admin, &path, json!({"entity_id": asset})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "created_by",
            "episode_id",
            "for_client",
            "for_entity",
            "id",
            "is_for_all",
            "name",
            "project_id",
            "shots",
            "task_type_id",
            "type",
            "updated_at"
        ]
    );
    assert_eq!(body["shots"], json!([{"entity_id": asset}]));
    let (_, again) = post(&app, admin, &path, json!({"entity_id": asset})).await;
    assert_eq!(again["shots"], json!([{"entity_id": asset}]));
    let (_, empty) = post(
        &app,
        admin,
        &path,
        json!({"entity_id": other, "preview_file_id": ""}),
    )
    .await;
    assert_eq!(
        empty["shots"],
        json!([{"entity_id": asset}, {"entity_id": other}])
    );
    // Once the entity has a preview, adding it again adds it with that preview.
    let preview =
        json!({"name": "v1", "task_id": studio.modeling, "revision": 1, "extension": "mp4"});
    let preview = id(&created(&app, admin, "preview-files", preview).await);
    let (_, previewed) = post(&app, admin, &path, json!({"entity_id": asset})).await;
    assert_eq!(
        previewed["shots"][2],
        json!({"entity_id": asset, "preview_file_id": preview})
    );
    // Another entity's preview is unset: the couple (other, none) is there already.
    let foreign = json!({"entity_id": other, "preview_file_id": preview});
    let (_, unpinned) = post(&app, admin, &path, foreign).await;
    assert_eq!(unpinned["shots"].as_array().unwrap().len(), 3, "{unpinned}");
    // An entity nobody knows is taken as given.
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, taken) = post(&app, admin, &path, json!({"entity_id": unknown})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(taken["shots"][3], json!({"entity_id": unknown}));

    for (sent, expected) in [
        (json!({}), validation("entity_id", "Field required")),
        (
            json!({"entity_id": "nope"}),
            validation(
                "entity_id",
                "Input should be a valid UUID, invalid character: found `n` at 1",
            ),
        ),
        (
            json!({"entity_id": asset, "preview_file_id": "nope"}),
            validation(
                "preview_file_id",
                "Input should be a valid UUID, invalid character: found `n` at 1",
            ),
        ),
        (
            json!({"entity_id": 3}),
            validation(
                "entity_id",
                "UUID input should be a string, bytes or UUID object",
            ),
        ),
    ] {
        assert_eq!(
            post(&app, admin, &path, sent.clone()).await,
            (StatusCode::BAD_REQUEST, expected),
            "{sent}"
        );
    }
    let malformed = app
        .client
        .post(app.url(&format!("/api{path}")))
        .bearer_auth(admin)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(malformed).await,
        (
            StatusCode::BAD_REQUEST,
            validation("entity_id", "Field required")
        )
    );
    let not_found = json!({"error": true, "message": NOT_FOUND_MESSAGE});
    for playlist in [uuid::Uuid::new_v4().to_string(), "nope".to_string()] {
        let path = format!("/actions/playlists/{playlist}/add-entity");
        assert_eq!(
            post(&app, admin, &path, json!({"entity_id": asset})).await,
            (StatusCode::NOT_FOUND, not_found.clone())
        );
    }

    // Whoever may change the playlist: production managers of the team, and the supervisor
    // who made it.
    for (who, expected) in [
        ("manager", StatusCode::OK),
        ("supervisor", StatusCode::FORBIDDEN),
        ("artist", StatusCode::FORBIDDEN),
        ("client", StatusCode::FORBIDDEN),
        ("vendor", StatusCode::FORBIDDEN),
    ] {
        let (status, body) =
            post(&app, studio.token(who), &path, json!({"entity_id": other})).await;
        assert_eq!(status, expected, "{who}: {body}");
    }
    let mine = json!({"name": "Mine", "project_id": studio.project});
    let (status, mine) = post(&app, studio.token("supervisor"), "/data/playlists", mine).await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let (status, body) = post(
        &app,
        studio.token("supervisor"),
        &format!("/actions/playlists/{}/add-entity", id(&mine)),
        json!({"entity_id": asset}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Read back, and in the playlist's history: one update per addition that added.
    let (_, read) = get(&app, admin, &format!("/data/playlists/{playlist}")).await;
    assert_eq!(read["shots"].as_array().unwrap().len(), 4, "{read}");
    let (_, history) = get(&app, admin, &format!("/data/playlists/{playlist}/history")).await;
    let updates = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "RecordUpdated")
        .count();
    assert_eq!(updates, 4, "{history}");
}

const GAZU_ADD_ENTITY: &str = r##"
import json, sys
import gazu

host, email, password, playlist_id, entity_id, foreign_preview = sys.argv[1:7]
gazu.set_host(host)
gazu.log_in(email, password)
playlist = gazu.playlist.get_playlist(playlist_id)
updated = gazu.playlist.add_entity_to_playlist(playlist, entity_id, preview_file=foreign_preview)
print(json.dumps({"shots": updated["shots"], "read": gazu.playlist.get_playlist(playlist_id)["shots"]}))
"##;

/// gazu's `add_entity_to_playlist` (persisted) goes through the route unmodified.
#[apply(backends)]
async fn gazu_adds_an_entity_to_a_playlist(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let token = crate::kitsu_data::access_token(&app, &email).await;
    let project = id(&created(&app, &token, "projects", json!({"name": "Gazu"})).await);
    let prop = id(&created(&app, &token, "entity-types", json!({"name": "Prop"})).await);
    let chair = json!({"name": "Chair", "project_id": project, "entity_type_id": prop});
    let chair = id(&created(&app, &token, "entities", chair).await);
    let review = json!({"name": "Review", "project_id": project});
    let playlist = id(&created(&app, &token, "playlists", review).await);
    let host = app.url("/api");
    let foreign = uuid::Uuid::new_v4().to_string();
    let out = crate::clients::python(
        GAZU_ADD_ENTITY,
        &[&host, &email, PASSWORD, &playlist, &chair, &foreign],
    )
    .await
    .json;
    assert_eq!(out["shots"], json!([{"entity_id": chair}]), "{out}");
    assert_eq!(out["read"], out["shots"]);
}
