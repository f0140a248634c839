//! The role matrix: every model of the Kitsu registry against every role, for each kind of
//! action, as the real Zou 1.0.97 answers (tests/fixtures/zou-1.0.97-roles.md, where annals
//! differs deliberately is marked), and a refused write leaves everything as it was. One table
//! of expectations, one loop.
use annals_domain::kitsu::MODELS;
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, backends, spawn_app};
use crate::kitsu_data::{FORBIDDEN, admin, created, get, post, put};
use crate::kitsu_projects::person;
use crate::surfaces::answer;

/// The people of the matrix: name, global role, whether the project's team holds them.
/// `assigned` is a vendor with a task of the project's asset (the comment's task).
const PEOPLE: [(&str, &str, bool); 8] = [
    ("admin", "admin", false),
    ("manager", "manager", true),
    ("outsider", "manager", false),
    ("supervisor", "supervisor", true),
    ("artist", "user", true),
    ("client", "client", true),
    ("vendor", "vendor", true),
    ("assigned", "vendor", true),
];

/// What each person (in [`PEOPLE`]'s order) gets, model by model, as "L R C U D": list `S`
/// (200 listing the model's record), `H` (200 without it) or `F` (403); read, create, update
/// and delete `Y` (200, 201, 200, 204) or `N` (403).
///
/// Where annals differs from Zou 1.0.97: anyone signed in creates a task in Zou (`Y` in every
/// column); annals asks what an entity create asks.
const EXPECTED: &[(&str, [&str; 8])] = &[
    ("project-status", REFERENCE),
    ("task-types", REFERENCE),
    ("task-status", REFERENCE),
    ("departments", REFERENCE),
    ("studios", REFERENCE),
    ("file-status", REFERENCE),
    ("entity-types", REFERENCE),
    (
        "entities",
        [
            "S Y Y Y Y",
            "S Y Y Y Y",
            "H N N N N",
            "S Y N N N",
            "S Y N N N",
            "S Y N N N",
            "H N N N N",
            "S Y N N N",
        ],
    ),
    (
        "projects",
        [
            "S Y Y Y Y",
            "S Y N Y N",
            "H N N N N",
            "S Y N N N",
            "S Y N N N",
            "S Y N N N",
            "S Y N N N",
            "S Y N N N",
        ],
    ),
    (
        "tasks",
        [
            "S Y Y Y Y",
            "S Y Y Y Y",
            "H N N N N",
            "S Y N N N",
            "S Y N N N",
            "S Y N N N",
            "H N N N N",
            "H Y N N N",
        ],
    ),
    (
        "comments",
        [
            "S Y Y Y Y",
            "F Y N Y Y",
            "F N N N N",
            "F Y N N N",
            "F Y N N N",
            "F N N N N",
            "F N N N N",
            "F Y N N N",
        ],
    ),
    (
        "playlists",
        [
            "S Y Y Y Y",
            "S Y Y Y Y",
            "H N N N N",
            "S Y Y N N",
            "S Y N N N",
            "H N N N N",
            "F N N N N",
            "F N N N N",
        ],
    ),
    ("output-types", REFERENCE),
    (
        "custom-actions",
        [
            "S Y Y Y Y",
            "S N N N N",
            "S N N N N",
            "S N N N N",
            "S N N N N",
            "S N N N N",
            "F N N N N",
            "F N N N N",
        ],
    ),
    ("search-filter-groups", ADMIN_ONLY),
    ("preview-background-files", REFERENCE),
    ("plugins", ADMIN_ONLY),
    ("subscriptions", ADMIN_ONLY),
    // The studio manager's day offs: their owner alone besides studio managers.
    ("day-offs", ADMIN_ONLY),
    (
        "time-spents",
        [
            "S Y Y Y Y",
            "F N N N Y",
            "F N N N N",
            "F N N N N",
            "F N N N N",
            "F N N N N",
            "F N N N N",
            "F N N N N",
        ],
    ),
    (
        "asset-instances",
        [
            "S Y Y Y Y",
            "F Y N Y N",
            "F N N N N",
            "F Y N Y N",
            "F Y N Y N",
            "F Y N Y N",
            "F N N N N",
            "F Y N Y N",
        ],
    ),
    (
        "working-files",
        [
            "S Y Y Y Y",
            "S Y N Y N",
            "H N N N N",
            "S Y N N N",
            "S Y N N N",
            "S Y N N N",
            "F N N N N",
            "F Y N N N",
        ],
    ),
    ("attachment-files", ADMIN_ONLY),
    (
        "preview-files",
        [
            "S Y Y Y Y",
            "S Y N Y Y",
            "H N N N N",
            "S Y N N N",
            "S Y N N N",
            "S Y N N N",
            "H N N N N",
            "S Y N N N",
        ],
    ),
    ("entity-links", ADMIN_ONLY),
    ("softwares", REFERENCE),
    // Through `/data/budgets` and `/data/budget-entries` Zou keeps its default; the project's
    // budget routes (tests/api/kitsu_budgets.rs) let its production managers in too.
    ("budgets", ADMIN_ONLY),
    ("budget-entries", ADMIN_ONLY),
    // Through `/data/metadata-descriptors`: the teams list them (clients those for clients),
    // studio managers do the rest; the project's routes (tests/api/kitsu_metadata.rs) let its
    // production managers and supervisors write.
    (
        "metadata-descriptors",
        [
            "S Y Y Y Y",
            "S N N N N",
            "H N N N N",
            "S N N N N",
            "S N N N N",
            "H N N N N",
            "S N N N N",
            "S N N N N",
        ],
    ),
];

/// Reference data: everyone reads, studio managers write.
const REFERENCE: [&str; 8] = [
    "S Y Y Y Y",
    "S Y N N N",
    "S Y N N N",
    "S Y N N N",
    "S Y N N N",
    "S Y N N N",
    "S Y N N N",
    "S Y N N N",
];

/// Zou's default for every hook: studio managers only.
const ADMIN_ONLY: [&str; 8] = [
    "S Y Y Y Y",
    "F N N N N",
    "F N N N N",
    "F N N N N",
    "F N N N N",
    "F N N N N",
    "F N N N N",
    "F N N N N",
];

/// What the records of the matrix need: the project whose team holds the people, and the
/// records others point at.
struct Studio {
    admin: String,
    admin_id: String,
    tokens: Vec<String>,
    team: Vec<String>,
    project: Value,
    closed: Value,
    asset_type: Value,
    task_type: Value,
    status: Value,
    asset: Value,
    task: Value,
    /// Shots an entity link of each create casts the asset in (a link is unique per pair).
    shots: Vec<Value>,
    /// The budget budget entries are made in, and their department.
    budget: Value,
    department: Value,
}

fn id(record: &Value) -> &str {
    record["id"].as_str().unwrap()
}

impl Studio {
    async fn new(app: &TestApp) -> Studio {
        let admin = admin(app).await;
        let (_, me) = get(app, &admin, "/auth/authenticated").await;
        let admin_id = me["user"]["id"].as_str().unwrap().to_string();
        let mut tokens = Vec::new();
        let mut team = Vec::new();
        let mut ids = Vec::new();
        for (_, role, in_team) in &PEOPLE[1..] {
            let (token, person_id) = person(app, role).await;
            tokens.push(token);
            if *in_team {
                team.push(person_id.clone());
            }
            ids.push(person_id);
        }
        tokens.insert(0, admin.clone());
        let project = created(
            app,
            &admin,
            "projects",
            json!({"name": "Matrix", "team": team}),
        )
        .await;
        let closed = created(
            app,
            &admin,
            "project-status",
            json!({"name": "Closed", "color": "#000000"}),
        )
        .await;
        let asset_type = created(app, &admin, "entity-types", json!({"name": "Prop"})).await;
        let task_type = created(
            app,
            &admin,
            "task-types",
            json!({"name": "Modeling", "for_entity": "Asset"}),
        )
        .await;
        let status = created(
            app,
            &admin,
            "task-status",
            json!({"name": "Todo", "short_name": "todo", "color": "#000000"}),
        )
        .await;
        let asset = created(
            app,
            &admin,
            "entities",
            json!({"name": "Chair", "project_id": id(&project), "entity_type_id": id(&asset_type)}),
        )
        .await;
        let assigned = ids.last().unwrap().clone();
        let task = created(
            app,
            &admin,
            "tasks",
            json!({
                "project_id": id(&project), "task_type_id": id(&task_type),
                "entity_id": id(&asset), "assignees": [assigned],
            }),
        )
        .await;
        let mut shots = Vec::new();
        for n in 0..=2 * PEOPLE.len() {
            let shot = json!({
                "name": format!("SH{n}"), "project_id": id(&project),
                "entity_type_id": id(&asset_type),
            });
            shots.push(created(app, &admin, "entities", shot).await);
        }
        let budget = created(
            app,
            &admin,
            "budgets",
            json!({"name": "Quote", "project_id": id(&project)}),
        )
        .await;
        let department = created(
            app,
            &admin,
            "departments",
            json!({"name": "Budgeted", "color": "#000000"}),
        )
        .await;
        Studio {
            budget,
            department,
            admin,
            admin_id,
            tokens,
            team,
            project,
            closed,
            asset_type,
            task_type,
            status,
            asset,
            task,
            shots,
        }
    }

    /// A create's body for a new record of `model`; `n` makes unique values unique.
    fn body(&self, model: &str, n: usize) -> Value {
        let name = format!("{model} {n}");
        let project = id(&self.project);
        match model {
            "project-status" => json!({"name": format!("PS {n}"), "color": "#000000"}),
            "task-types" | "entity-types" => json!({"name": name}),
            "task-status" => {
                json!({"name": name, "short_name": format!("s{n}"), "color": "#000000"})
            }
            "departments" | "studios" | "file-status" => {
                json!({"name": name, "color": "#000000"})
            }
            "entities" => json!({
                "name": name, "project_id": project, "entity_type_id": id(&self.asset_type),
            }),
            "projects" => json!({
                "name": name, "team": self.team, "project_status_id": id(&self.closed),
            }),
            "tasks" => json!({
                "name": name, "project_id": project, "task_type_id": id(&self.task_type),
                "entity_id": id(&self.asset),
            }),
            "comments" => json!({
                "object_id": id(&self.task), "object_type": "Task", "task_status_id": id(&self.status),
                "person_id": self.admin_id, "text": name,
            }),
            "playlists" => json!({"name": name, "project_id": project}),
            "output-types" => json!({"name": name, "short_name": format!("o{n}")}),
            "custom-actions" => json!({"name": name}),
            "search-filter-groups" => json!({"list_type": "asset", "name": name}),
            "preview-background-files" => json!({"name": format!("bg {n}")}),
            "plugins" => json!({
                "plugin_id": format!("p{n}"), "name": name, "version": "1.0",
                "maintainer_name": "Maintainer", "license": "MIT",
            }),
            "subscriptions" => json!({"person_id": self.admin_id}),
            "day-offs" => {
                json!({"person_id": self.admin_id, "date": day(n), "end_date": day(n)})
            }
            "time-spents" => json!({
                "person_id": self.admin_id, "task_id": id(&self.task), "date": day(n),
                "duration": 60.0,
            }),
            "asset-instances" => json!({"asset_id": id(&self.asset), "name": name, "number": n}),
            "working-files" | "preview-files" => {
                json!({"name": name, "task_id": id(&self.task), "revision": n})
            }
            "attachment-files" => json!({"name": name}),
            "entity-links" => {
                // Creates are numbered 0, 1..=8 and 101..=108: one shot each.
                let shot = if n > 100 { n - 100 + PEOPLE.len() } else { n };
                json!({"entity_in_id": id(&self.shots[shot]), "entity_out_id": id(&self.asset)})
            }
            "softwares" => json!({
                "name": name, "short_name": format!("sw{n}"), "file_extension": "blend",
            }),
            "budgets" => json!({"name": name, "project_id": project}),
            "budget-entries" => json!({
                "budget_id": id(&self.budget), "department_id": id(&self.department),
                "start_date": day(n), "months_duration": 2, "daily_salary": 100.0,
            }),
            "metadata-descriptors" => json!({
                "name": name, "field_name": format!("field_{n}"), "project_id": project,
                "entity_type": "Asset", "data_type": "string",
            }),
            other => panic!("the role matrix has no body for {other}: add one"),
        }
    }

    /// An update's body for the model's record.
    fn change(model: &str) -> Value {
        match model {
            "entity-types" | "entities" | "projects" | "tasks" => json!({"description": "changed"}),
            "comments" => json!({"text": "changed"}),
            "playlists" => json!({"name": "changed"}),
            "output-types" => json!({"short_name": "changed"}),
            "custom-actions" => json!({"url": "https://example.com/changed"}),
            "preview-background-files" | "attachment-files" => {
                json!({"original_name": "changed", "extension": "png"})
            }
            "plugins" | "day-offs" | "asset-instances" | "working-files" | "preview-files" => {
                json!({"description": "changed"})
            }
            "subscriptions" => json!({"entity_id": null}),
            "time-spents" => json!({"duration": 30.0}),
            "entity-links" => json!({"label": "changed"}),
            "softwares" => json!({"version": "2.0"}),
            "budgets" => json!({"currency": "EUR"}),
            "budget-entries" => json!({"months_duration": 3}),
            "metadata-descriptors" => json!({"choices": ["a"]}),
            _ => json!({"color": "#111111"}),
        }
    }

    /// The record of `model` every person lists, reads and changes.
    async fn subject(&self, app: &TestApp, model: &str) -> Value {
        match model {
            "projects" => self.project.clone(),
            "entities" => self.asset.clone(),
            _ => created(app, &self.admin, model, self.body(model, 0)).await,
        }
    }
}

/// A distinct date for each create's number.
fn day(n: usize) -> String {
    format!("2026-{:02}-{:02}", 1 + n / 28, 1 + n % 28)
}

async fn delete(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    answer(app.kitsu(Some(token)).delete(path, &json!({})).await).await
}

/// `Y` for the success code, `N` for Zou's 403 (its body checked), else the code itself.
fn mark(status: StatusCode, body: &Value, success: StatusCode) -> String {
    if status == success {
        "Y".into()
    } else if status == StatusCode::FORBIDDEN {
        assert_eq!(body, &json!({"error": true, "message": FORBIDDEN}));
        "N".into()
    } else {
        status.as_u16().to_string()
    }
}

/// What a person gets on one model, as "L R C U D", checking that refused writes change
/// nothing.
async fn cell(app: &TestApp, studio: &Studio, model: &str, subject: &Value, who: usize) -> String {
    let token = &studio.tokens[who];
    let n = 1 + who;
    let path = format!("/data/{model}/{}", id(subject));
    let (status, listed) = get(app, token, &format!("/data/{model}")).await;
    let list = match status {
        StatusCode::OK => {
            let rows = listed.as_array().unwrap();
            if rows.iter().any(|r| r["id"] == subject["id"]) {
                "S"
            } else {
                "H"
            }
            .to_string()
        }
        other => mark(other, &listed, StatusCode::OK).replace('N', "F"),
    };
    let (status, body) = get(app, token, &path).await;
    let read = mark(status, &body, StatusCode::OK);

    let (_, before) = get(app, &studio.admin, &format!("/data/{model}")).await;
    let (status, body) = post(app, token, &format!("/data/{model}"), studio.body(model, n)).await;
    let create = mark(status, &body, StatusCode::CREATED);
    if create == "N" {
        let (_, after) = get(app, &studio.admin, &format!("/data/{model}")).await;
        assert_eq!(
            before, after,
            "a refused create of {model} changed the list"
        );
    }

    let (_, before) = get(app, &studio.admin, &path).await;
    let (status, body) = put(app, token, &path, Studio::change(model)).await;
    let update = mark(status, &body, StatusCode::OK);
    if update == "N" {
        let (_, after) = get(app, &studio.admin, &path).await;
        assert_eq!(before, after, "a refused update of {model} changed it");
    }

    let fresh = created(app, &studio.admin, model, studio.body(model, 100 + n)).await;
    let fresh_path = format!("/data/{model}/{}", id(&fresh));
    let (_, before) = get(app, &studio.admin, &fresh_path).await;
    let (status, body) = delete(app, token, &fresh_path).await;
    let delete = mark(status, &body, StatusCode::NO_CONTENT);
    if delete == "N" {
        let (_, after) = get(app, &studio.admin, &fresh_path).await;
        assert_eq!(before, after, "a refused delete of {model} changed it");
    }
    format!("{list} {read} {create} {update} {delete}")
}

#[apply(backends)]
async fn every_role_gets_what_zou_gives_on_every_model(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let studio = Studio::new(&app).await;
    let covered: Vec<&str> = EXPECTED.iter().map(|(model, _)| *model).collect();
    let registry: Vec<&str> = MODELS.iter().map(|m| m.route).collect();
    assert_eq!(
        covered, registry,
        "every registry model has a row, in order"
    );

    let mut got = Vec::new();
    for (model, _) in EXPECTED {
        let subject = studio.subject(&app, model).await;
        let mut row = Vec::new();
        for who in 0..PEOPLE.len() {
            row.push(cell(&app, &studio, model, &subject, who).await);
        }
        got.push((*model, row));
    }
    let wrong: Vec<String> = got
        .iter()
        .zip(EXPECTED)
        .filter(|((_, row), (_, expected))| row != expected)
        .map(|((model, row), (_, expected))| {
            format!("{model}:\n  got      {row:?}\n  expected {expected:?}")
        })
        .collect();
    assert!(wrong.is_empty(), "people: {PEOPLE:?}\n{}", wrong.join("\n"));
}

/// The author rules the matrix does not reach (its records are the studio manager's): a
/// comment's author changes it while in the project's team and deletes it anywhere, an
/// entity's maker likewise, as Zou 1.0.97 answers (tests/fixtures/zou-1.0.97-roles.md).
#[apply(backends)]
async fn authors_change_what_they_made_in_the_team_and_delete_it_anywhere(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let (author, author_id) = person(&app, "user").await;
    let (other, other_id) = person(&app, "user").await;
    let (manager, manager_id) = person(&app, "manager").await;
    let team = json!([author_id, other_id, manager_id]);
    let project = created(
        &app,
        &admin,
        "projects",
        json!({"name": "Authors", "team": team}),
    )
    .await;
    let pid = id(&project);
    let prop = created(&app, &admin, "entity-types", json!({"name": "Prop"})).await;
    let modeling = json!({"name": "Modeling", "for_entity": "Asset"});
    let modeling = created(&app, &admin, "task-types", modeling).await;
    let wip = json!({"name": "WIP", "short_name": "wip", "color": "#000000"});
    let wip = created(&app, &admin, "task-status", wip).await;
    let chair = json!({"name": "Chair", "project_id": pid, "entity_type_id": id(&prop)});
    let chair = created(&app, &admin, "entities", chair).await;
    let task = json!({
        "project_id": pid, "task_type_id": id(&modeling), "entity_id": id(&chair),
        "assignees": [author_id],
    });
    let task = created(&app, &admin, "tasks", task).await;
    let (status, comment) = post(
        &app,
        &author,
        &format!("/actions/tasks/{}/comment", id(&task)),
        json!({"task_status_id": id(&wip), "comment": "mine"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    let comment = format!("/data/comments/{}", id(&comment));
    let lamp = json!({"name": "Lamp", "project_id": pid, "entity_type_id": id(&prop)});
    let (status, lamp) = post(&app, &manager, "/data/entities", lamp).await;
    assert_eq!(status, StatusCode::CREATED, "{lamp}");
    let lamp = format!("/data/entities/{}", id(&lamp));

    let edit = |text: &str| json!({"text": text});
    assert_eq!(
        put(&app, &author, &comment, edit("edited")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        put(&app, &other, &comment, edit("no")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&app, &other, &comment).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put(&app, &manager, &comment, edit("managed")).await.0,
        StatusCode::OK
    );

    for member in [&author_id, &manager_id] {
        let leave = format!("/data/projects/{pid}/team/{member}");
        assert_eq!(delete(&app, &admin, &leave).await.0, StatusCode::NO_CONTENT);
    }
    assert_eq!(
        put(&app, &author, &comment, edit("out")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&app, &author, &comment).await.0,
        StatusCode::NO_CONTENT
    );
    let described = json!({"description": "out"});
    assert_eq!(
        put(&app, &manager, &lamp, described).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&app, &manager, &lamp).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(get(&app, &admin, &lamp).await.0, StatusCode::NOT_FOUND);
}
