//! Zou's tasks, comments, news feed and entity versions over HTTP and through the real gazu
//! client, on both backends. The answers asserted are the real Zou 1.0.97's, where annals does
//! not differ on purpose (tests/fixtures/zou-1.0.97-tasks.md).
use std::sync::Arc;

use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app};
use crate::kitsu_data::{FORBIDDEN, access_token, admin_account, created, get, post, put};
use crate::kitsu_projects::person;

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_string()
}

/// A project whose team holds `team`, with statuses (Todo the default, WIP), a shot task type
/// and an asset task type, and an episode, sequence and shot.
struct Production {
    project: String,
    todo: String,
    wip: String,
    animation: String,
    modeling: String,
    episode: String,
    shot: String,
}

async fn production(app: &TestApp, token: &str, team: &[&str]) -> Production {
    let project = created(
        app,
        token,
        "projects",
        json!({"name": "Spring", "team": team}),
    )
    .await;
    let todo = created(
        app,
        token,
        "task-status",
        json!({"name": "Todo", "short_name": "todo", "color": "#cccccc", "is_default": true}),
    )
    .await;
    let wip = created(
        app,
        token,
        "task-status",
        json!({"name": "WIP", "short_name": "wip", "color": "#3273dc", "is_wip": true}),
    )
    .await;
    let animation = created(
        app,
        token,
        "task-types",
        json!({"name": "Animation", "for_entity": "Shot"}),
    )
    .await;
    let modeling = created(app, token, "task-types", json!({"name": "Modeling"})).await;
    let pid = id(&project);
    let (_, episode) = post(
        app,
        token,
        &format!("/data/projects/{pid}/episodes"),
        json!({"name": "E01"}),
    )
    .await;
    let (_, sequence) = post(
        app,
        token,
        &format!("/data/projects/{pid}/sequences"),
        json!({"name": "S01", "episode_id": id(&episode)}),
    )
    .await;
    let (status, shot) = post(
        app,
        token,
        &format!("/data/projects/{pid}/shots"),
        json!({"name": "P01", "sequence_id": id(&sequence), "data": {"frame_in": 1}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{shot}");
    Production {
        project: pid,
        todo: id(&todo),
        wip: id(&wip),
        animation: id(&animation),
        modeling: id(&modeling),
        episode: id(&episode),
        shot: id(&shot),
    }
}

/// A task on the production's shot, assigned to `assignees`.
async fn shot_task(app: &TestApp, token: &str, p: &Production, assignees: &[&str]) -> String {
    let task = created(
        app,
        token,
        "tasks",
        json!({"project_id": p.project, "task_type_id": p.animation, "entity_id": p.shot,
               "assignees": assignees}),
    )
    .await;
    id(&task)
}

async fn comment(
    app: &TestApp,
    token: &str,
    task: &str,
    status: &str,
    text: &str,
) -> (StatusCode, Value) {
    post(
        app,
        token,
        &format!("/actions/tasks/{task}/comment"),
        json!({"task_status_id": status, "comment": text, "checklist": [], "links": [],
               "for_client": false}),
    )
    .await
}

const GAZU_TASKS: &str = r##"
import json, sys
import gazu

host, email, password, shot_id, task_type_id, wip_id, artist_id = sys.argv[1:8]
gazu.set_host(host)
gazu.log_in(email, password)
out = {}
shot = gazu.shot.get_shot(shot_id)
task_type = gazu.task.get_task_type(task_type_id)
task = gazu.task.new_task(shot, task_type, assignees=[artist_id])
out["task"] = task
out["same"] = gazu.task.new_task(shot, task_type)["id"] == task["id"]
out["default_status"] = gazu.task.get_default_task_status()["id"]
out["comment"] = gazu.task.add_comment(task, wip_id, "first pass")
out["tasks"] = gazu.task.all_tasks_for_shot(shot)
out["full"] = gazu.task.get_task(task["id"])
gazu.task.add_comment(task, wip_id, "still going")
out["comments"] = gazu.task.all_comments_for_task(task)
out["one"] = gazu.client.fetch_one("comments", out["comment"]["id"])
out["news"] = gazu.client.get("data/projects/%s/news" % shot["project_id"])
print(json.dumps(out))
"##;

#[apply(backends)]
async fn gazu_makes_a_task_comments_on_it_and_reads_the_news(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let token = access_token(&app, &email).await;
    let (_, me) = get(&app, &token, "/auth/authenticated").await;
    let admin_id = me["user"]["id"].as_str().unwrap().to_string();
    let (_, artist_id) = person(&app, "user").await;
    let p = production(&app, &token, &[&artist_id]).await;
    let host = app.url("/api");
    let out = crate::clients::python(
        GAZU_TASKS,
        &[
            &host,
            &email,
            PASSWORD,
            &p.shot,
            &p.animation,
            &p.wip,
            &artist_id,
        ],
    )
    .await
    .json;

    let task = &out["task"];
    assert_eq!(task["type"], "Task", "{out}");
    assert_eq!(task["name"], "main", "{out}");
    assert_eq!(task["difficulty"], 3, "{out}");
    assert_eq!(task["duration"], json!(0.0), "{out}");
    assert_eq!(task["priority"], 0, "{out}");
    assert_eq!(task["assignees"], json!([artist_id]), "{out}");
    assert_eq!(task["task_status_id"], json!(p.todo), "{out}");
    assert_eq!(out["default_status"], json!(p.todo), "{out}");
    assert_eq!(out["same"], true, "{out}");

    let made = &out["comment"];
    assert_eq!(made["type"], "Comment", "{out}");
    assert_eq!(made["object_id"], task["id"], "{out}");
    assert_eq!(made["object_type"], "Task", "{out}");
    assert_eq!(made["text"], "first pass", "{out}");
    assert_eq!(made["task_status"]["id"], json!(p.wip), "{out}");
    assert_eq!(made["person"]["id"], json!(admin_id), "{out}");

    // The comment moved the task to its status.
    let listed = out["tasks"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{out}");
    assert_eq!(listed[0]["task_status_id"], json!(p.wip), "{out}");
    assert_eq!(listed[0]["task_status_name"], "WIP", "{out}");
    assert_eq!(listed[0]["task_type_name"], "Animation", "{out}");
    assert_eq!(listed[0]["entity_name"], "P01", "{out}");
    assert_eq!(listed[0]["project_name"], "Spring", "{out}");
    assert!(listed[0].get("assignees").is_none(), "{out}");

    let full = &out["full"];
    assert_eq!(full["task_status"]["name"], "WIP", "{out}");
    assert_eq!(full["entity"]["id"], json!(p.shot), "{out}");
    assert_eq!(full["entity"]["type"], "Entity", "{out}");
    assert_eq!(full["sequence"]["type"], "Sequence", "{out}");
    assert_eq!(full["entity_type"]["name"], "Shot", "{out}");
    assert!(full["entity_type"].get("task_types").is_none(), "{out}");
    assert_eq!(full["is_subscribed"], false, "{out}");
    assert!(full.get("assigner").is_none(), "{out}");
    assert_eq!(full["sequence"]["name"], "S01", "{out}");
    assert_eq!(full["episode"]["name"], "E01", "{out}");
    assert_eq!(full["project"]["name"], "Spring", "{out}");
    assert_eq!(full["persons"][0]["id"], json!(artist_id), "{out}");
    assert_eq!(full["last_comment_date"], made["created_at"], "{out}");
    assert!(full["real_start_date"].is_string(), "{out}");

    // Newest first, each with its author and status.
    let comments = out["comments"].as_array().unwrap();
    let texts: Vec<&str> = comments
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["still going", "first pass"], "{out}");
    assert_eq!(
        comments[1]["person"]["full_name"], "Studio Manager",
        "{out}"
    );
    assert_eq!(comments[1]["task_status"]["short_name"], "wip", "{out}");
    assert_eq!(out["one"]["id"], made["id"], "{out}");
    assert_eq!(out["one"]["person"]["full_name"], "Studio Manager", "{out}");

    let news = &out["news"];
    assert_eq!(news["total"], 2, "{out}");
    let entries = news["data"].as_array().unwrap();
    let changes: Vec<&Value> = entries.iter().map(|n| &n["change"]).collect();
    assert_eq!(changes, [&json!(false), &json!(true)], "{out}");
    let first = &entries[1];
    assert_eq!(first["type"], "News", "{out}");
    assert_eq!(first["comment_id"], made["id"], "{out}");
    assert_eq!(first["task_id"], task["id"], "{out}");
    assert_eq!(first["task_status_id"], json!(p.wip), "{out}");
    assert_eq!(first["task_type_id"], json!(p.animation), "{out}");
    assert_eq!(first["project_name"], "Spring", "{out}");
    assert_eq!(first["full_entity_name"], "E01 / S01 / P01", "{out}");
    assert_eq!(first["person"]["full_name"], "Studio Manager", "{out}");
    assert_eq!(first["person"]["has_avatar"], false, "{out}");
    assert_eq!(news["stats"], json!({ p.wip.clone(): 1 }), "{out}");
}

#[apply(backends)]
async fn the_news_feed_pages_filters_and_rebuilds_to_the_same_entries(#[case] backend: Backend) {
    use annals_projections::kitsu::{KitsuNews, KitsuRecords, NEWS, RECORDS};

    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let token = access_token(&app, &email).await;
    let (artist, artist_id) = person(&app, "user").await;
    let p = production(&app, &token, &[&artist_id]).await;
    let task = shot_task(&app, &token, &p, &[&artist_id]).await;
    for n in 0..80 {
        // The status alternates (every comment a change); every fourth is the artist's.
        let status = if n % 2 == 0 { &p.wip } else { &p.todo };
        let who = if n % 4 == 3 { &artist } else { &token };
        let (code, body) = comment(&app, who, &task, status, &format!("note {n}")).await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }
    let feed = format!("/data/projects/{}/news", p.project);
    let (status, page1) = get(&app, &token, &feed).await;
    assert_eq!(status, StatusCode::OK, "{page1}");
    assert_eq!(page1["data"].as_array().unwrap().len(), 50);
    assert_eq!(page1["total"], 80);
    assert_eq!(page1["nb_pages"], 2);
    assert_eq!(page1["limit"], 50);
    assert_eq!(page1["page"], 1);
    let (_, page2) = get(&app, &token, &format!("{feed}?page=2")).await;
    assert_eq!(page2["data"].as_array().unwrap().len(), 30);
    assert_eq!(page2["offset"], 50);
    let mut seen: Vec<Value> = page1["data"].as_array().unwrap().to_vec();
    seen.extend(page2["data"].as_array().unwrap().iter().cloned());
    let mut ids: Vec<&str> = seen.iter().map(|n| n["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 80, "pages overlap");
    let dates: Vec<&str> = seen
        .iter()
        .map(|n| n["created_at"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Filters: the artist's 20 comments; the changes to WIP among everything.
    let (_, by_artist) = get(&app, &token, &format!("{feed}?person_id={artist_id}")).await;
    assert_eq!(by_artist["total"], 20);
    assert!(
        by_artist["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["author_id"] == json!(artist_id))
    );
    let (_, to_todo) = get(&app, &token, &format!("{feed}?task_status_id={}", p.todo)).await;
    assert_eq!(to_todo["total"], 40);
    let changed = |feed: &Value| {
        feed["stats"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!(changed(&page1), 80);
    assert_eq!(page1["stats"][&p.todo], 40);
    let (_, all_after) = get(&app, &token, &format!("{feed}?after=2000-01-01")).await;
    assert_eq!(all_after["total"], 80);
    let (_, none_before) = get(&app, &token, &format!("{feed}?before=2000-01-01T00:00:00")).await;
    assert_eq!(none_before["total"], 0);
    let (_, in_episode) = get(&app, &token, &format!("{feed}?episode_id={}", p.episode)).await;
    assert_eq!(in_episode["total"], 80);
    let (_, elsewhere) = get(
        &app,
        &token,
        &format!("{feed}?episode_id={}", uuid::Uuid::new_v4()),
    )
    .await;
    assert_eq!(elsewhere["total"], 0);
    let (_, limited) = get(&app, &token, &format!("{feed}?limit=10&page=3")).await;
    assert_eq!(limited["data"].as_array().unwrap().len(), 10);
    assert_eq!(limited["nb_pages"], 8);
    let (status, bad) = get(&app, &token, &format!("{feed}?page=two")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");

    // One entry, and the feed of every open project.
    let first = &page1["data"][0];
    let (status, one) = get(&app, &token, &format!("{feed}/{}", id(first))).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(&one, first);
    let (status, _) = get(&app, &token, &format!("{feed}/{}", uuid::Uuid::new_v4())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, everywhere) = get(&app, &artist, "/data/projects/news").await;
    assert_eq!(everywhere["total"], 80, "{everywhere}");

    app.settle(NEWS).await;
    app.settle(RECORDS).await;
    let live = app.assert_rebuild_equals_live(Arc::new(KitsuNews)).await;
    assert_eq!(live[0].len(), 80);
    app.assert_rebuild_equals_live(Arc::new(KitsuRecords)).await;
}

#[apply(backends)]
async fn only_who_works_on_a_task_may_comment_and_a_refusal_changes_nothing(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let token = access_token(&app, &email).await;
    let (member, member_id) = person(&app, "user").await;
    let (outsider, _) = person(&app, "user").await;
    let (assignee, assignee_id) = person(&app, "user").await;
    let p = production(&app, &token, &[&member_id, &assignee_id]).await;
    let task = shot_task(&app, &token, &p, &[&assignee_id]).await;
    let feed = format!("/data/projects/{}/news", p.project);

    for who in [&outsider, &member] {
        let (status, body) = comment(&app, who, &task, &p.wip, "mine now").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["message"], FORBIDDEN);
    }
    let (_, after) = get(&app, &token, &format!("/data/tasks/{task}")).await;
    assert_eq!(after["task_status_id"], json!(p.todo), "{after}");
    let (_, comments) = get(&app, &token, &format!("/data/tasks/{task}/comments")).await;
    assert_eq!(comments, json!([]));
    let (_, news) = get(&app, &token, &feed).await;
    assert_eq!(news["total"], 0);
    // Not in the team: nothing of the project is theirs to read.
    let (status, _) = get(&app, &outsider, &feed).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get(&app, &outsider, &format!("/data/tasks/{task}/full")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nor may an artist make tasks.
    let (status, _) = post(
        &app,
        &member,
        "/data/tasks",
        json!({"project_id": p.project, "task_type_id": p.animation, "entity_id": p.shot,
               "name": "extra"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The assignee may, as themself whatever `person_id` says.
    let (status, made) = post(
        &app,
        &assignee,
        &format!("/actions/tasks/{task}/comment"),
        json!({"task_status_id": p.wip, "comment": "on it", "person_id": member_id}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["person_id"], json!(assignee_id));
    let (_, after) = get(&app, &member, &format!("/data/tasks/{task}")).await;
    assert_eq!(after["task_status_id"], json!(p.wip));

    // Bad input names the field; unknown things are not found.
    let (status, body) = post(
        &app,
        &token,
        &format!("/actions/tasks/{task}/comment"),
        json!({"comment": "no status"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["data"]["errors"][0]["field"], "task_status_id");
    let nowhere = uuid::Uuid::new_v4();
    let (status, _) = comment(&app, &token, &nowhere.to_string(), &p.wip, "x").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = comment(&app, &token, &task, &nowhere.to_string(), "x").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[apply(backends)]
async fn tasks_follow_zous_rules(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let token = access_token(&app, &email).await;
    let p = production(&app, &token, &[]).await;
    let task = shot_task(&app, &token, &p, &[]).await;

    // The same task twice, a task type for another kind of entity, an unknown entity.
    let body = json!({"project_id": p.project, "task_type_id": p.animation, "entity_id": p.shot});
    let (status, twice) = post(&app, &token, "/data/tasks", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{twice}");
    assert_eq!(twice["message"], "Task already exists.");
    let (status, mismatch) = post(
        &app,
        &token,
        "/data/tasks",
        json!({"project_id": p.project, "task_type_id": p.modeling, "entity_id": p.shot}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{mismatch}");
    assert_eq!(
        mismatch["message"],
        "Task type of the task does not match entity type."
    );
    let (status, _) = post(
        &app,
        &token,
        "/data/tasks",
        json!({"project_id": p.project, "task_type_id": p.animation,
               "entity_id": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Filters gazu uses to find a task; the shot's list; an asset has none.
    let (_, found) = get(
        &app,
        &token,
        &format!(
            "/data/tasks?name=MAIN&task_type_id={}&entity_id={}",
            p.animation, p.shot
        ),
    )
    .await;
    assert_eq!(found[0]["id"], json!(task), "{found}");
    let (_, with_relations) = get(
        &app,
        &token,
        &format!("/data/shots/{}/tasks?relations=true", p.shot),
    )
    .await;
    assert_eq!(with_relations[0]["assignees"], json!([]));
    let (status, _) = get(&app, &token, &format!("/data/assets/{}/tasks", p.shot)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, none) = get(&app, &token, &format!("/data/episodes/{}/tasks", p.episode)).await;
    assert_eq!((status, none), (StatusCode::OK, json!([])));
    let (status, _) = get(&app, &token, &format!("/data/sequences/{}/tasks", p.shot)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Assignees are set by an update (unknown persons dropped), as gazu's update_task does.
    let (_, artist_id) = person(&app, "user").await;
    let (status, updated) = put(
        &app,
        &token,
        &format!("/data/tasks/{task}"),
        json!({"assignees": [artist_id, uuid::Uuid::new_v4()], "type": "Task", "id": task}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let (_, read) = get(&app, &token, &format!("/data/tasks/{task}")).await;
    assert_eq!(read["assignees"], json!([artist_id]), "{read}");

    // A task with comments is removed with them when forced.
    let (status, _) = comment(&app, &token, &task, &p.wip, "going").await;
    assert_eq!(status, StatusCode::CREATED);
    let response = app
        .kitsu(Some(&token))
        .delete(&format!("/data/tasks/{task}?force=true"), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, _) = get(&app, &token, &format!("/data/tasks/{task}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, news) = get(&app, &token, &format!("/data/projects/{}/news", p.project)).await;
    assert_eq!(news["total"], 0, "{news}");
}

#[apply(backends)]
async fn versions_are_the_changes_of_the_entitys_stream(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let token = access_token(&app, &email).await;
    let (_, me) = get(&app, &token, "/auth/authenticated").await;
    let p = production(&app, &token, &[]).await;
    let versions = format!("/data/shots/{}/versions", p.shot);
    let (status, none) = get(&app, &token, &versions).await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert_eq!(none, json!([]));

    let entity = format!("/data/entities/{}", p.shot);
    for (n, body) in [
        json!({"data": {"frame_in": 10}}),
        json!({"name": "P02"}),
        json!({"data": {"frame_out": 50}}),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, body) = put(&app, &token, &entity, body).await;
        assert_eq!(status, StatusCode::OK, "{n}: {body}");
    }
    let (_, listed) = get(&app, &token, &versions).await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    // Newest first; each holds the name before its change and the data after it.
    let names: Vec<&Value> = listed.iter().map(|v| &v["name"]).collect();
    assert_eq!(names, [&json!("P02"), &json!("P01"), &json!("P01")]);
    assert_eq!(listed[0]["data"], json!({"frame_in": 10, "frame_out": 50}));
    assert_eq!(listed[2]["data"], json!({"frame_in": 10}));
    for version in listed {
        assert_eq!(version["type"], "ShotVersion");
        assert_eq!(version["entity_id"], json!(p.shot));
        assert_eq!(version["person_id"], me["user"]["id"]);
    }
    let (_, again) = get(&app, &token, &versions).await;
    assert_eq!(&again.as_array().unwrap()[..], listed, "ids are stable");

    // An edit's versions; a shot is not an edit.
    let (_, edit) = post(
        &app,
        &token,
        &format!("/data/projects/{}/edits", p.project),
        json!({"name": "Trailer"}),
    )
    .await;
    let (status, none) = get(&app, &token, &format!("/data/edits/{}/versions", id(&edit))).await;
    assert_eq!((status, none), (StatusCode::OK, json!([])));
    let (status, _) = get(&app, &token, &format!("/data/edits/{}/versions", p.shot)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Outside the team, not theirs.
    let (artist, _) = person(&app, "user").await;
    let (status, _) = get(&app, &artist, &versions).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn delete(app: &TestApp, token: &str, path: &str) -> StatusCode {
    app.kitsu(Some(token))
        .delete(path, &json!({}))
        .await
        .status()
}

#[apply(backends)]
async fn a_forced_delete_takes_the_tasks_and_their_comments_along(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let token = access_token(&app, &email).await;
    let p = production(&app, &token, &[]).await;
    let task = shot_task(&app, &token, &p, &[]).await;
    let (_, made) = comment(&app, &token, &task, &p.wip, "going").await;
    let comment_path = format!("/data/comments/{}", id(&made));

    // A shot with tasks stays unless forced; forced, its tasks and their comments go too.
    let shot = format!("/data/shots/{}", p.shot);
    assert_eq!(delete(&app, &token, &shot).await, StatusCode::BAD_REQUEST);
    assert_eq!(get(&app, &token, &comment_path).await.0, StatusCode::OK);
    assert_eq!(
        delete(&app, &token, &format!("{shot}?force=true")).await,
        StatusCode::NO_CONTENT
    );
    for gone in [&format!("/data/tasks/{task}"), &comment_path] {
        assert_eq!(
            get(&app, &token, gone).await.0,
            StatusCode::NOT_FOUND,
            "{gone}"
        );
    }

    // A closed project is removed with everything in it.
    let (_, other) = post(
        &app,
        &token,
        &format!("/data/projects/{}/shots", p.project),
        json!({"name": "P02"}),
    )
    .await;
    let q = Production {
        shot: id(&other),
        ..p
    };
    let task = shot_task(&app, &token, &q, &[]).await;
    let (_, made) = comment(&app, &token, &task, &q.wip, "going").await;
    let closed = created(
        &app,
        &token,
        "project-status",
        json!({"name": "Closed", "color": "#000000"}),
    )
    .await;
    let project = format!("/data/projects/{}", q.project);
    let (status, _) = put(
        &app,
        &token,
        &project,
        json!({"project_status_id": id(&closed)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        delete(&app, &token, &format!("{project}?force=true")).await,
        StatusCode::NO_CONTENT
    );
    for gone in [
        format!("/data/tasks/{task}"),
        format!("/data/comments/{}", id(&made)),
        format!("/data/entities/{}", q.shot),
        format!("{project}/news"),
    ] {
        assert_eq!(
            get(&app, &token, &gone).await.0,
            StatusCode::NOT_FOUND,
            "{gone}"
        );
    }
}

#[apply(backends)]
async fn concurrent_comments_on_one_task_all_land_and_the_newest_sets_its_status(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let token = access_token(&app, &email).await;
    let p = production(&app, &token, &[]).await;
    let task = shot_task(&app, &token, &p, &[]).await;
    let statuses = [&p.wip, &p.todo];
    let answers = futures::future::join_all((0..20).map(|n| {
        let (app, token, task) = (&app, &token, &task);
        let status = statuses[n % 2];
        async move { comment(app, token, task, status, &format!("note {n}")).await }
    }))
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
    }
    let (_, comments) = get(&app, &token, &format!("/data/tasks/{task}/comments")).await;
    let comments = comments.as_array().unwrap();
    assert_eq!(comments.len(), 20);
    let (_, news) = get(&app, &token, &format!("/data/projects/{}/news", p.project)).await;
    assert_eq!(news["total"], 20);
    // Each comment was decided on the task as the one before it left it: the newest one's
    // status is the task's.
    let (_, now) = get(&app, &token, &format!("/data/tasks/{task}")).await;
    assert_eq!(
        now["task_status_id"], comments[0]["task_status_id"],
        "{now}"
    );
    assert_eq!(now["last_comment_date"], comments[0]["created_at"], "{now}");
    let changes = news["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["change"] == true)
        .count() as i64;
    let stats: i64 = news["stats"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(changes, stats);
}
