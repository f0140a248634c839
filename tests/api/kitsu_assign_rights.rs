//! Who may assign and unassign whom on which task, as the real Zou 1.0.97 decides it
//! (tests/fixtures/zou-1.0.97-assign-rights.md, recorded by tests/fixtures/zou-assign-rights.py):
//! studio managers and the team's production managers anyone anywhere; a supervisor of the team
//! anyone if they have no department, else a person sharing one of their departments on a task
//! of one of them; an artist themselves on a task of their department. Unassigning: a
//! supervisor on tasks of their departments (any if none), anyone themselves from a task they
//! are on. What is not theirs is skipped, not refused.
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, backends, spawn_app};
use crate::kitsu_data::{admin, created, get, put};
use crate::kitsu_projects::person;

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_string()
}

struct Member {
    token: String,
    id: String,
}

/// A person of `role` in `departments`, in the project's team if `team`.
async fn member(
    app: &TestApp,
    admin: &str,
    project: &str,
    role: &str,
    departments: &[&String],
    team: bool,
) -> Member {
    let (token, id) = person(app, role).await;
    let (status, body) = put(
        app,
        admin,
        &format!("/data/persons/{id}"),
        json!({"departments": departments}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    if team {
        let path = format!("/data/projects/{project}/team");
        let (status, body) =
            crate::kitsu_data::post(app, admin, &path, json!({"person_id": id})).await;
        assert!(status.is_success(), "{body}");
    }
    Member { token, id }
}

#[apply(backends)]
async fn assignations_follow_zous_department_rules(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let project = id(&created(&app, &admin, "projects", json!({"name": "Assign"})).await);
    let d1 = id(&created(
        &app,
        &admin,
        "departments",
        json!({"name": "Modeling", "color": "#111111"}),
    )
    .await);
    let d2 = id(&created(
        &app,
        &admin,
        "departments",
        json!({"name": "Anim", "color": "#222222"}),
    )
    .await);
    let tt1 = id(&created(
        &app,
        &admin,
        "task-types",
        json!({"name": "Model", "for_entity": "Asset", "department_id": d1}),
    )
    .await);
    let tt2 = id(&created(
        &app,
        &admin,
        "task-types",
        json!({"name": "Animate", "for_entity": "Asset", "department_id": d2}),
    )
    .await);
    let types = get(&app, &admin, "/data/entity-types").await.1;
    let character = created(&app, &admin, "entity-types", json!({"name": "Character"})).await;
    let _ = types;
    let asset = {
        let path = format!(
            "/data/projects/{project}/asset-types/{}/assets/new",
            id(&character)
        );
        let (status, body) =
            crate::kitsu_data::post(&app, &admin, &path, json!({"name": "hero"})).await;
        assert!(status.is_success(), "{body}");
        id(&body)
    };
    let task = |tt: &String, name: &str| {
        let body =
            json!({"name": name, "project_id": project, "task_type_id": tt, "entity_id": asset});
        let (app, admin) = (&app, &admin);
        async move { id(&created(app, admin, "tasks", body).await) }
    };
    let (m1, a1) = (task(&tt1, "model-1").await, task(&tt2, "anim-1").await);
    let sup1 = member(&app, &admin, &project, "supervisor", &[&d1], true).await;
    let sup0 = member(&app, &admin, &project, "supervisor", &[], true).await;
    let art1 = member(&app, &admin, &project, "user", &[&d1], true).await;
    let art2 = member(&app, &admin, &project, "user", &[&d2], true).await;
    let outside = member(&app, &admin, &project, "supervisor", &[&d1], false).await;
    let manager = member(&app, &admin, &project, "manager", &[], true).await;
    let name = |task: &str| {
        if task == m1 {
            "model-1"
        } else if task == a1 {
            "anim-1"
        } else {
            "?"
        }
    };
    let both = json!({"task_ids": [m1, a1]});

    let assign = |by: &Member, to: &Member| {
        let (app, body) = (&app, both.clone());
        let (token, path) = (
            by.token.clone(),
            format!("/actions/persons/{}/assign", to.id),
        );
        async move {
            let (status, answer) = put(app, &token, &path, body).await;
            assert_eq!(status, 200, "{answer}");
            answer
                .as_array()
                .unwrap()
                .iter()
                .map(|t| name(t["id"].as_str().unwrap()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(assign(&sup1, &art1).await, ["model-1"]);
    assert_eq!(assign(&sup1, &art2).await, Vec::<&str>::new());
    assert_eq!(assign(&sup1, &sup1).await, ["model-1"]);
    assert_eq!(assign(&sup0, &art2).await, ["model-1", "anim-1"]);
    assert_eq!(assign(&art1, &art1).await, ["model-1"]);
    assert_eq!(assign(&art1, &art2).await, Vec::<&str>::new());
    assert_eq!(assign(&art2, &art2).await, ["anim-1"]);
    assert_eq!(assign(&outside, &art1).await, Vec::<&str>::new());
    assert_eq!(assign(&manager, &art2).await, ["model-1", "anim-1"]);
    let assignees = |task: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let mut ids: Vec<String> =
                get(app, admin, &format!("/data/tasks/{task}?relations=true"))
                    .await
                    .1["assignees"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect();
            ids.sort();
            ids
        }
    };
    let mut expected = vec![art1.id.clone(), art2.id.clone(), sup1.id.clone()];
    expected.sort();
    assert_eq!(assignees(m1.clone()).await, expected);
    assert_eq!(assignees(a1.clone()).await, vec![art2.id.clone()]);

    let clear = |by: &Member, whom: Option<&Member>| {
        let mut body = both.clone();
        if let Some(whom) = whom {
            body["person_id"] = json!(whom.id);
        }
        let (app, token) = (&app, by.token.clone());
        async move {
            let (status, answer) = put(app, &token, "/actions/tasks/clear-assignation", body).await;
            assert_eq!(status, 200, "{answer}");
            answer
                .as_array()
                .unwrap()
                .iter()
                .map(|t| name(t.as_str().unwrap()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(clear(&art2, Some(&art1)).await, Vec::<&str>::new());
    assert_eq!(clear(&art2, Some(&art2)).await, ["model-1", "anim-1"]);
    assert_eq!(clear(&art1, Some(&art1)).await, ["model-1"]);
    assert_eq!(clear(&sup1, Some(&art2)).await, ["model-1"]);
    assert_eq!(clear(&outside, Some(&sup1)).await, Vec::<&str>::new());
    assert_eq!(clear(&sup0, None).await, ["model-1", "anim-1"]);
    assert_eq!(assignees(m1.clone()).await, Vec::<String>::new());
    assert_eq!(assignees(a1.clone()).await, Vec::<String>::new());
}
