//! The routes of gazu's `playlist` and `task` modules a studio script calls beside the CRUD
//! (tests/fixtures/gazu-routes.md): an entity's previews by task type, which
//! `add_entity_to_playlist` reads when given no preview, and assigning tasks to people and
//! clearing the assignations, with the artist's refusal Zou gives as a skip, and a project's
//! tasks (`all_tasks_for_project`), an episode's shots (`all_shots_for_episode`) and an
//! entity's task types (`all_task_types_for_asset|shot`). The script ran
//! unchanged against the real Zou 1.0.97 (tests/fixtures/zou-1.0.97-gazu-routes.md), whose
//! answers the assertions hold annals to.
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, backends, spawn_app};
use crate::kitsu_data::admin_account;

/// The script: `host email password tag`.
const SCRIPT: &str = r##"import json, sys, uuid
import gazu, requests

host, email, password, tag = sys.argv[1:5]
gazu.set_host(host)
gazu.log_in(email, password)
token = gazu.client.default_client.tokens["access_token"]
out = {}
n = lambda name: name + tag

def call(method, path, body=None):
    r = requests.request(method, host.rstrip("/") + "/" + path,
                         headers={"Authorization": "Bearer " + token}, json=body)
    try:
        return [r.status_code, r.json()]
    except ValueError:
        return [r.status_code, r.text]

project = gazu.project.new_project(n("Review"))
prop = gazu.asset.new_asset_type(n("Prop"))
chair = gazu.asset.new_asset(project, prop, "Chair")
table = gazu.asset.new_asset(project, prop, "Table")
modeling = gazu.task.new_task_type(n("Modeling"), for_entity="Asset")
layout = gazu.task.new_task_type(n("Layout"), for_entity="Asset")
gazu.client.update("task-types", layout["id"], {"priority": 3})
todo = gazu.task.new_task_status(n("Todo"), n("todo"), "#cccccc")
model_task = gazu.task.new_task(chair, modeling, task_status=todo)
layout_task = gazu.task.new_task(chair, layout, task_status=todo)
table_task = gazu.task.new_task(table, modeling, task_status=todo)

# Preview files: records only (no media), two revisions of the modeling task (the second
# twice: a movie and its extra frame), one of the layout task.
def preview(task, name, revision, position=1, **extra):
    body = {"name": name, "task_id": task["id"], "revision": revision, "position": position,
            "extension": "mp4", "original_name": name, "width": 1920, "height": 1080,
            "duration": 2.5, "status": "ready", "annotations": [],
            "data": {"original_width": 3840}}
    body.update(extra)
    return gazu.client.create("preview-files", body)
p1 = preview(model_task, "m1", 1)
p2 = preview(model_task, "m2", 2)
p2b = preview(model_task, "m2b", 2, position=2, extension="png")
l1 = preview(layout_task, "l1", 1)

out["ids"] = {"chair": chair["id"], "table": table["id"], "modeling": modeling["id"],
              "layout": layout["id"], "model_task": model_task["id"],
              "layout_task": layout_task["id"], "table_task": table_task["id"],
              "p1": p1["id"], "p2": p2["id"], "p2b": p2b["id"], "l1": l1["id"]}
out["previews"] = gazu.playlist.get_entity_preview_files(chair)
out["no_previews"] = gazu.playlist.get_entity_preview_files(table)
out["unknown_entity"] = call("GET", "data/playlists/entities/%s/preview-files" % uuid.uuid4())
out["malformed_entity"] = call("GET", "data/playlists/entities/nope/preview-files")
playlist = gazu.playlist.new_playlist(project, n("Daily"), for_entity="asset")
out["added"] = gazu.playlist.add_entity_to_playlist(playlist, chair)["shots"]

# Assignations.
artist = gazu.person.new_person("Ada", n("Lovelace"), n("ada") + "@example.com")
other = gazu.person.new_person("Bob", n("Builder"), n("bob") + "@example.com")
out["team_before"] = gazu.project.get_project(project["id"])["team"]
out["assigned"] = gazu.task.assign_task(model_task, artist)
out["assigned_many"] = gazu.task.assign_tasks_to_person([model_task, layout_task, table_task], other)
out["team_after"] = sorted(gazu.project.get_project(project["id"])["team"])
out["model_assignees"] = sorted(gazu.task.get_task(model_task["id"])["assignees"])
out["unknown_task"] = call("PUT", "actions/persons/%s/assign" % artist["id"], {"task_ids": [str(uuid.uuid4())]})
out["unknown_person"] = call("PUT", "actions/persons/%s/assign" % uuid.uuid4(), {"task_ids": [model_task["id"]]})
out["assign_empty"] = call("PUT", "actions/persons/%s/assign" % artist["id"], {"task_ids": []})
out["assign_no_body"] = call("PUT", "actions/persons/%s/assign" % artist["id"], {})
out["cleared_one"] = gazu.task.clear_assignations(model_task, artist)
out["after_clear_one"] = sorted(gazu.task.get_task(model_task["id"])["assignees"])
out["cleared_all"] = gazu.task.clear_assignations([model_task, layout_task])
out["after_clear_all"] = [gazu.task.get_task(t["id"])["assignees"] for t in (model_task, layout_task, table_task)]
out["clear_unknown"] = call("PUT", "actions/tasks/clear-assignation", {"task_ids": [str(uuid.uuid4())]})
out["clear_empty"] = call("PUT", "actions/tasks/clear-assignation", {"task_ids": []})
out["clear_no_body"] = call("PUT", "actions/tasks/clear-assignation", {})
# An artist may not assign: the task is skipped and stays as it was.
worker = gazu.person.new_person("Cy", n("Worker"), n("cy") + "@example.com", role="user",
                                password="a-strong-and-secure-password-2")
gazu.project.add_person_to_team(project, worker)
as_worker = gazu.client.create_client(gazu.client.get_host())
gazu.log_in(n("cy") + "@example.com", "a-strong-and-secure-password-2", client=as_worker)
out["worker_assigns"] = gazu.task.assign_tasks_to_person([table_task], worker, client=as_worker)
out["worker_clears"] = gazu.task.clear_assignations([table_task], client=as_worker)
out["table_assignees"] = gazu.task.get_task(table_task["id"])["assignees"]
# A project's tasks, all or of a task type or an episode, and paged.
episode = gazu.shot.new_episode(project, "E01")
sequence = gazu.shot.new_sequence(project, "S01", episode=episode)
shot = gazu.shot.new_shot(project, sequence, "P01")
anim = gazu.task.new_task_type(n("Anim"), for_entity="Shot")
shot_task = gazu.task.new_task(shot, anim, task_status=todo, assignees=[artist])
out["ids"]["shot_task"] = shot_task["id"]
out["project_tasks"] = gazu.task.all_tasks_for_project(project)
out["modeling_tasks"] = [t["id"] for t in gazu.task.all_tasks_for_project(project, task_type=modeling)]
out["episode_tasks"] = [t["id"] for t in gazu.task.all_tasks_for_project(project, episode=episode)]
paged = call("GET", "data/projects/%s/tasks?page=1&limit=2" % project["id"])
out["project_tasks_paged"] = [paged[0], {k: v for k, v in paged[1].items() if k != "data"}, len(paged[1]["data"])]
out["project_tasks_unknown"] = call("GET", "data/projects/%s/tasks" % uuid.uuid4())
out["project_tasks_bad_type"] = call("GET", "data/projects/%s/tasks?task_type_id=nope" % project["id"])
# An episode's shots: those of its sequences, not another episode's.
second = gazu.shot.new_sequence(project, "S02", episode=episode)
gazu.shot.new_shot(project, second, "P02")
elsewhere = gazu.shot.new_sequence(project, "S03", episode=gazu.shot.new_episode(project, "E02"))
gazu.shot.new_shot(project, elsewhere, "P03")
out["episode_shots"] = gazu.shot.all_shots_for_episode(episode)
out["ids"]["shot"] = shot["id"]
out["ids"]["sequence"] = sequence["id"]
out["ids"]["anim"] = anim["id"]
# An entity's task types: those of its tasks.
out["asset_task_types"] = gazu.task.all_task_types_for_asset(chair)
out["shot_task_types"] = [t["id"] for t in gazu.task.all_task_types_for_shot(shot)]
out["bare_shot_task_types"] = gazu.task.all_task_types_for_shot(gazu.shot.get_shot_by_name(second, "P02"))
out["people"] = {"artist": artist["id"], "other": other["id"], "worker": worker["id"]}
print(json.dumps(out))
"##;

/// The 404 Zou gives an unknown or malformed id under its prefixes.
const NOT_FOUND: &str = "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

fn ids(list: &Value) -> Vec<Value> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect()
}

fn sorted(list: Vec<Value>) -> Vec<Value> {
    let mut list = list;
    list.sort_by_key(|v| v.to_string());
    list
}

#[apply(backends)]
async fn gazu_reads_an_entitys_previews_and_assigns_tasks(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(SCRIPT, &[&host, &email, PASSWORD, ""])
        .await
        .json;
    let id = |key: &str| out["ids"][key].clone();
    let person = |key: &str| out["people"][key].clone();

    // The previews of the chair, by task type: the newest revision first, the second
    // preview of revision 2 mixed into the first (with its position and task type).
    let previews = out["previews"].as_object().unwrap();
    assert_eq!(previews.len(), 2, "{out}");
    let modeling = previews[id("modeling").as_str().unwrap()]
        .as_array()
        .unwrap();
    assert_eq!(modeling.len(), 2, "{out}");
    let newest = &modeling[0];
    assert_eq!(newest["id"], id("p2"));
    assert_eq!(newest["revision"], 2);
    assert_eq!(newest["task_id"], id("model_task"));
    assert_eq!(newest["original_name"], "m2");
    assert_eq!(newest["extension"], "mp4");
    assert_eq!(newest["width"], 1920);
    assert_eq!(newest["height"], 1080);
    assert_eq!(newest["duration"], 2.5);
    assert_eq!(newest["status"], "ready");
    assert_eq!(newest["annotations"], json!([]));
    assert_eq!(newest["original_width"], 3840);
    assert_eq!(newest["original_height"], Value::Null);
    assert!(newest.get("position").is_none(), "{newest}");
    assert!(newest.get("task_type_id").is_none(), "{newest}");
    let mixed = newest["previews"].as_array().unwrap();
    assert_eq!(mixed.len(), 1);
    assert_eq!(mixed[0]["id"], id("p2b"));
    assert_eq!(mixed[0]["position"], 2);
    assert_eq!(mixed[0]["extension"], "png");
    assert_eq!(mixed[0]["task_type_id"], id("modeling"));
    assert!(mixed[0].get("previews").is_none());
    assert_eq!(modeling[1]["id"], id("p1"));
    assert_eq!(modeling[1]["previews"], json!([]));
    let layout = previews[id("layout").as_str().unwrap()].as_array().unwrap();
    assert_eq!(ids(&json!(layout)), vec![id("l1")]);
    assert_eq!(out["no_previews"], json!({}));
    for key in ["unknown_entity", "malformed_entity"] {
        assert_eq!(
            out[key],
            json!([404, {"error": true, "message": NOT_FOUND}]),
            "{key}"
        );
    }
    // gazu picks the first preview of one of the task types for the playlist.
    let added = out["added"].as_array().unwrap();
    assert_eq!(added.len(), 1, "{out}");
    assert_eq!(added[0]["entity_id"], id("chair"));
    assert!(
        [id("p2"), id("l1")].contains(&added[0]["preview_file_id"]),
        "{out}"
    );

    // Assignations: the tasks answered with their assignees, the assigner the caller, the
    // people in the project's team.
    let assigned = out["assigned"].as_array().unwrap();
    assert_eq!(ids(&out["assigned"]), vec![id("model_task")]);
    assert_eq!(assigned[0]["assignees"], json!([person("artist")]));
    assert_eq!(assigned[0]["type"], "Task");
    assert!(assigned[0]["assigner_id"].is_string(), "{out}");
    assert_eq!(
        ids(&out["assigned_many"]),
        vec![id("model_task"), id("layout_task"), id("table_task")]
    );
    assert_eq!(
        sorted(
            out["assigned_many"][0]["assignees"]
                .as_array()
                .unwrap()
                .clone()
        ),
        sorted(vec![person("artist"), person("other")])
    );
    assert_eq!(out["team_before"], json!([]));
    assert_eq!(
        out["team_after"],
        json!(sorted(vec![person("artist"), person("other")]))
    );
    assert_eq!(out["unknown_task"], json!([200, []]));
    assert_eq!(
        out["unknown_person"],
        json!([400, {"error": "Assignee doesn't exist in database."}])
    );
    let invalid = |problem: &str| {
        json!([400, {"error": true, "message": "Validation error.",
            "data": {"errors": [{"field": "task_ids", "message": problem}]}}])
    };
    let empty = invalid("List should have at least 1 item after validation, not 0");
    assert_eq!(out["assign_empty"], empty);
    assert_eq!(out["clear_empty"], empty);
    assert_eq!(out["assign_no_body"], invalid("Field required"));
    assert_eq!(out["clear_no_body"], invalid("Field required"));

    // Clearing: one person off one task, then everyone off two tasks.
    assert_eq!(out["cleared_one"], json!([id("model_task")]));
    assert_eq!(out["after_clear_one"], json!([person("other")]));
    assert_eq!(
        out["cleared_all"],
        json!([id("model_task"), id("layout_task")])
    );
    assert_eq!(out["after_clear_all"], json!([[], [], [person("other")]]));
    assert_eq!(out["clear_unknown"], json!([200, []]));

    // An artist's assignation and clearing are skipped, and the task is as it was.
    assert_eq!(out["worker_assigns"], json!([]));
    assert_eq!(out["worker_clears"], json!([]));
    assert_eq!(out["table_assignees"], json!([person("other")]));

    // A project's tasks, with their assignees, the newest change first (to the second the
    // read model keeps).
    let tasks = out["project_tasks"].as_array().unwrap();
    let shot_task = tasks.iter().find(|t| t["id"] == id("shot_task")).unwrap();
    assert_eq!(shot_task["assignees"], json!([person("artist")]));
    assert_eq!(shot_task["type"], "Task");
    assert_eq!(
        sorted(ids(&out["project_tasks"])),
        sorted(vec![
            id("shot_task"),
            id("layout_task"),
            id("model_task"),
            id("table_task")
        ])
    );
    let dates: Vec<&str> = tasks
        .iter()
        .map(|t| t["updated_at"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    let table = tasks.iter().find(|t| t["id"] == id("table_task")).unwrap();
    assert_eq!(table["assignees"], json!([person("other")]));
    assert_eq!(
        sorted(out["modeling_tasks"].as_array().unwrap().clone()),
        sorted(vec![id("model_task"), id("table_task")])
    );
    assert_eq!(out["episode_tasks"], json!([id("shot_task")]));
    // Paged by Zou's page size, whatever `limit` asks.
    assert_eq!(
        out["project_tasks_paged"],
        json!([200, {"limit": 100, "nb_pages": 1, "offset": 0, "page": 1, "total": 4}, 4])
    );
    // Zou answers 500 here; annals refuses the filter as its lists do.
    assert_eq!(out["project_tasks_bad_type"][0], 400, "{out}");
    assert_eq!(
        out["project_tasks_bad_type"][1]["message"],
        "Invalid UUID value: nope"
    );
    assert_eq!(
        out["project_tasks_unknown"],
        json!([404, {"error": true, "message": NOT_FOUND}])
    );

    // An episode's shots: those of its sequences, without relations, not another episode's.
    let shots = out["episode_shots"].as_array().unwrap();
    let mut names: Vec<&str> = shots.iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["P01", "P02"], "{out}");
    let first = shots.iter().find(|s| s["id"] == id("shot")).unwrap();
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, KEYS, "{first}");
    assert_eq!(first["type"], "Shot");
    assert_eq!(first["parent_id"], id("sequence"));

    // An entity's task types: those of its tasks, each once.
    let types = out["asset_task_types"].as_array().unwrap();
    assert_eq!(
        sorted(ids(&out["asset_task_types"])),
        sorted(vec![id("modeling"), id("layout")]),
        "{out}"
    );
    let mut keys: Vec<&str> = types[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, TASK_TYPE_KEYS, "{out}");
    assert_eq!(out["shot_task_types"], json!([id("anim")]));
    assert_eq!(out["bare_shot_task_types"], json!([]));
}

/// The keys of a task type in Zou 1.0.97's list of an entity's task types.
const TASK_TYPE_KEYS: [&str; 14] = [
    "allow_timelog",
    "archived",
    "color",
    "created_at",
    "department_id",
    "description",
    "for_entity",
    "id",
    "name",
    "priority",
    "short_name",
    "shotgun_id",
    "type",
    "updated_at",
];

/// The keys of a shot in Zou 1.0.97's list of an episode's shots.
const KEYS: [&str; 22] = [
    "canceled",
    "code",
    "created_at",
    "created_by",
    "data",
    "description",
    "entity_type_id",
    "id",
    "is_casting_standby",
    "is_shared",
    "name",
    "nb_entities_out",
    "nb_frames",
    "parent_id",
    "preview_file_id",
    "project_id",
    "ready_for",
    "shotgun_id",
    "source_id",
    "status",
    "type",
    "updated_at",
];
