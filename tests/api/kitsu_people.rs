//! A person's work and calendar as gazu reads them (tests/fixtures/gazu-routes.md): their
//! tasks, done tasks and related tasks, their day offs (all, per year, month and week) and
//! their time spents (of a day, a range, a month, summed per year and week), with Zou's rules
//! on who reads whose. The scenario is the one `tests/fixtures/zou-people.py` played against
//! the real Zou 1.0.97 (tests/fixtures/zou-1.0.97-people.md), whose answers these assertions
//! hold annals to.
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, backends, spawn_app};
use crate::kitsu_data::admin_account;

/// The script: `host email password`.
const SCRIPT: &str = r##"import json, sys, uuid
import gazu, requests

host, email, password = sys.argv[1:4]
gazu.set_host(host)
gazu.log_in(email, password)
out = {}
tokens = {"admin": gazu.client.default_client.tokens["access_token"]}

def call(who, path, params=None):
    r = requests.get(host.rstrip("/") + "/" + path, params=params,
                     headers={"Authorization": "Bearer " + tokens[who]})
    try:
        return [r.status_code, r.json()]
    except ValueError:
        return [r.status_code, r.text]

dept = gazu.person.new_department("Dept", "#000000")
other_dept = gazu.person.new_department("Other", "#000000")
people = {"admin": gazu.client.get("auth/authenticated")["user"]["id"]}
for name, role, depts in [("manager", "manager", []), ("outsider", "manager", []),
                          ("supervisor", "supervisor", [dept]),
                          ("far-supervisor", "supervisor", [other_dept]),
                          ("artist", "user", [dept]), ("artist2", "user", []),
                          ("client", "client", []), ("vendor", "vendor", [])]:
    mail = name + "@example.com"
    person = gazu.person.new_person(name, "P", mail, role=role, departments=depts,
                                    password=password)
    people[name] = person["id"]
    login = requests.post(host.rstrip("/") + "/auth/login", json={"email": mail, "password": password})
    tokens[name] = login.json()["access_token"]
bot = gazu.person.new_bot("bot", "bot@example.com")
project = gazu.project.new_project("People")
for name in people:
    if name not in ("admin", "outsider"):
        gazu.project.add_person_to_team(project, people[name])
closed_status = gazu.project.get_project_status_by_name("Closed") or gazu.client.create(
    "project-status", {"name": "Closed", "color": "#000000"})
closed = gazu.project.new_project("Closed one")
gazu.project.add_person_to_team(closed, people["artist"])
prop = gazu.asset.new_asset_type("Prop")
modeling = gazu.task.new_task_type("Modeling", for_entity="Asset")
gazu.client.update("task-types", modeling["id"], {"department_id": dept["id"]})
shading = gazu.task.new_task_type("Shading", for_entity="Asset")
todo = gazu.task.new_task_status("Todo", "todo", "#000000")
finished = gazu.task.new_task_status("Done", "done", "#00FF00")
gazu.client.update("task-status", finished["id"], {"is_done": True})
chair = gazu.asset.new_asset(project, prop, "Chair")
table = gazu.asset.new_asset(project, prop, "Table")
lamp = gazu.asset.new_asset(closed, prop, "Lamp")
chair_modeling = gazu.task.new_task(chair, modeling, task_status=todo, assignees=[people["artist"]])
chair_shading = gazu.task.new_task(chair, shading, task_status=finished, assignees=[people["artist"]])
table_modeling = gazu.task.new_task(table, modeling, task_status=todo, assignees=[people["artist2"]])
lamp_modeling = gazu.task.new_task(lamp, modeling, task_status=todo, assignees=[people["artist"]])
gazu.client.update("projects", closed["id"], {"project_status_id": closed_status["id"]})
first_look = gazu.task.add_comment(chair_modeling, todo, "first look")
# A client's comment is never a task's last comment.
gazu.task.add_comment(chair_modeling, todo, "client says", person=people["client"])
# A shot in a sequence of an episode, and the chair cast in that episode.
episode = gazu.shot.new_episode(project, "E01")
sequence = gazu.shot.new_sequence(project, "SQ01", episode=episode)
shot = gazu.shot.new_shot(project, sequence, "SH01")
layout = gazu.task.new_task_type("Layout", for_entity="Shot")
shot_layout = gazu.task.new_task(shot, layout, task_status=todo, assignees=[people["artist"]])
gazu.client.create("entity-links", {"entity_in_id": episode["id"], "entity_out_id": chair["id"]})
out["first_look"] = first_look
out["ids"] = {"shot_layout": shot_layout["id"], "episode": episode["id"], "shot": shot["id"],
              "layout": layout["id"],"chair_modeling": chair_modeling["id"], "chair_shading": chair_shading["id"],
              "table_modeling": table_modeling["id"], "lamp_modeling": lamp_modeling["id"],
              "project": project["id"], "chair": chair["id"], "todo": todo["id"],
              "modeling": modeling["id"], "shading": shading["id"]}
out["people"] = people
artist = people["artist"]

# A person's work.
out["tasks"] = gazu.task.all_tasks_for_person(artist)
out["done"] = gazu.task.all_done_tasks_for_person(artist)
out["tasks_as"] = {who: call(who, "data/persons/%s/tasks" % artist) for who in tokens}
out["vendor_own"] = call("vendor", "data/persons/%s/tasks" % people["vendor"])
out["done_as"] = {who: call(who, "data/persons/%s/done-tasks" % artist)
                  for who in ["artist", "outsider", "client", "vendor"]}
out["bot_tasks"] = call("admin", "data/persons/%s/tasks" % bot["id"])
out["unknown_tasks"] = call("admin", "data/persons/%s/tasks" % uuid.uuid4())
out["malformed_tasks"] = call("admin", "data/persons/nope/done-tasks")
out["related_before"] = gazu.task.all_tasks_for_person_and_type(artist, modeling)
second = gazu.task.new_task(chair, modeling, name="second", task_status=todo, assignees=[people["artist2"]])
out["ids"]["second"] = second["id"]
out["related"] = gazu.task.all_tasks_for_person_and_type(artist, modeling)
out["related_as"] = {who: call(who, "data/persons/%s/related-tasks/%s" % (artist, modeling["id"]))
                     for who in ["artist", "outsider", "client", "vendor", "artist2"]}
out["related_unknown_type"] = call("admin", "data/persons/%s/related-tasks/%s" % (artist, uuid.uuid4()))
out["related_malformed_type"] = call("admin", "data/persons/%s/related-tasks/nope" % artist)
out["related_unknown_person"] = call("admin", "data/persons/%s/related-tasks/%s" % (uuid.uuid4(), modeling["id"]))
out["related_bot"] = call("admin", "data/persons/%s/related-tasks/%s" % (bot["id"], modeling["id"]))

# Day offs.
offs = {}
for start, end, text in [("2026-03-02", "2026-03-04", "ski"), ("2026-05-01", "2026-05-01", "may day"),
                         ("2026-12-30", "2027-01-02", "new year")]:
    offs[start] = gazu.person.new_day_off(artist, start, end, text)["id"]
out["offs"] = offs
out["day_offs"] = gazu.person.get_day_offs(artist)
out["day_offs_as"] = {who: call(who, "data/persons/%s/day-offs" % artist) for who in tokens}
out["supervisor_year"] = call("supervisor", "data/persons/%s/day-offs/year/2026" % artist)
out["year_2026"] = gazu.person.get_year_day_offs(artist, 2026)
out["year_2027"] = gazu.person.get_year_day_offs(artist, 2027)
out["month_2026_03"] = gazu.person.get_month_day_offs(artist, 2026, 3)
out["month_2027_01"] = gazu.person.get_month_day_offs(artist, 2027, 1)
out["week_2026_10"] = gazu.person.get_week_day_offs(artist, 2026, 10)
out["week_2026_53"] = gazu.person.get_week_day_offs(artist, 2026, 53)
out["week_2027_1"] = gazu.person.get_week_day_offs(artist, 2027, 1)
base = "data/persons/%s/day-offs" % artist
out["bad_periods"] = [call("artist", base + p) for p in ["/year/abc", "/month/2026/13", "/week/2026/60"]]
out["outsider_year"] = call("outsider", base + "/year/2026")
out["bot_day_offs"] = call("admin", "data/persons/%s/day-offs" % bot["id"])
out["unknown_day_offs"] = call("admin", "data/persons/%s/day-offs" % uuid.uuid4())

# Time spents.
spents = {}
for day, duration, task in [("2026-03-05", 120, chair_modeling), ("2026-03-05", 60, chair_shading),
                            ("2026-03-09", 30, chair_modeling), ("2027-01-04", 45, chair_modeling)]:
    spents["%s-%d" % (day, duration)] = gazu.client.create("time-spents", {
        "person_id": artist, "task_id": task["id"], "date": day, "duration": duration})["id"]
out["spents"] = spents
out["by_date"] = gazu.person.get_time_spents_by_date(artist, "2026-03-05")
base = "data/persons/%s/time-spents" % artist
out["by_date_as"] = {who: call(who, base + "/2026-03-05") for who in tokens}
out["bad_dates"] = [call("artist", base + "/2026-13-05"), call("artist", base + "/nope")]
out["no_range"] = call("artist", base)
out["range"] = gazu.person.get_time_spents_range(artist, "2026-03-01", "2026-03-31")
out["half_range"] = call("artist", base, {"start_date": "2026-03-01"})
out["bad_range"] = call("artist", base, {"start_date": "nope", "end_date": "2026-03-31"})
out["range_as"] = {who: call(who, base, {"start_date": "2026-03-01", "end_date": "2026-03-31"})
                   for who in ["manager", "outsider", "far-supervisor", "supervisor", "artist2"]}
out["year"] = gazu.person.get_year_time_spents(artist, 2026)
out["year_as"] = {who: call(who, base + "/year/2026") for who in ["manager", "outsider", "artist2"]}
out["bad_year"] = call("artist", base + "/year/abc")
out["week"] = gazu.person.get_week_time_spents(artist, 2026, 10)
out["bad_week"] = call("artist", base + "/week/2026/60")
import datetime
out["month_all"] = gazu.person.get_all_month_time_spents(artist, datetime.date(2026, 3, 1))
out["bad_month_all"] = call("artist", base + "/month/all/2026/13")
out["month_all_as"] = {who: call(who, base + "/month/all/2026/03") for who in ["manager", "outsider", "artist2"]}
print(json.dumps(out))
"##;

/// The 404 Zou gives an unknown person under its prefixes.
const NOT_FOUND: &str = "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";
/// werkzeug's 403 text.
const FORBIDDEN: &str = "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.";

/// The keys of a task of Zou's `/data/persons/<id>/tasks` (tests/fixtures/zou-1.0.97-people.md).
const TASK_KEYS: [&str; 53] = [
    "assignees",
    "assigner_id",
    "completion_rate",
    "created_at",
    "data",
    "description",
    "difficulty",
    "done_date",
    "due_date",
    "duration",
    "end_date",
    "entity_canceled",
    "entity_data",
    "entity_description",
    "entity_id",
    "entity_name",
    "entity_preview_file_id",
    "entity_source_id",
    "entity_type_name",
    "episode_id",
    "episode_name",
    "estimation",
    "id",
    "last_comment",
    "last_comment_date",
    "last_preview_file_id",
    "name",
    "nb_assets_ready",
    "nb_drawings",
    "priority",
    "project_has_avatar",
    "project_id",
    "project_name",
    "real_start_date",
    "retake_count",
    "sequence_name",
    "shotgun_id",
    "sort_order",
    "start_date",
    "task_due_date",
    "task_duration",
    "task_estimation",
    "task_start_date",
    "task_status_color",
    "task_status_id",
    "task_status_name",
    "task_status_short_name",
    "task_type_color",
    "task_type_for_entity",
    "task_type_id",
    "task_type_name",
    "type",
    "updated_at",
];

fn ids(list: &Value) -> Vec<Value> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|t| t["id"].clone())
        .collect()
}

fn sorted(list: Vec<Value>) -> Vec<Value> {
    let mut list = list;
    list.sort_by_key(|v| v.to_string());
    list
}

/// `[status, ids of the listed records]`, or the answer when it is no list.
fn listed(answer: &Value) -> Value {
    match &answer[1] {
        Value::Array(_) => json!([answer[0], sorted(ids(&answer[1]))]),
        _ => answer.clone(),
    }
}

fn refused() -> Value {
    json!([403, {"error": true, "message": FORBIDDEN}])
}

fn not_found() -> Value {
    json!([404, {"error": true, "message": NOT_FOUND}])
}

#[apply(backends)]
async fn gazu_reads_a_persons_work_and_calendar(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(SCRIPT, &[&host, &email, PASSWORD])
        .await
        .json;
    let id = |key: &str| out["ids"][key].clone();
    let person = |key: &str| out["people"][key].clone();

    // The artist's open work: not the done task, not the closed project's.
    let tasks = out["tasks"].as_array().unwrap();
    let open = sorted(vec![id("chair_modeling"), id("shot_layout")]);
    assert_eq!(sorted(ids(&out["tasks"])), open, "{out}");
    let listed_task = |key: &str| tasks.iter().find(|t| t["id"] == id(key)).cloned().unwrap();
    let task = &listed_task("chair_modeling");
    for (key, value) in [
        ("assignees", json!([person("artist")])),
        ("entity_id", id("chair")),
        ("entity_name", json!("Chair")),
        ("entity_description", json!("")),
        ("entity_data", json!({})),
        ("entity_preview_file_id", json!("")),
        ("entity_source_id", json!("")),
        ("entity_type_name", json!("Prop")),
        ("entity_canceled", json!(false)),
        ("episode_id", json!("")),
        ("episode_name", Value::Null),
        // Cast in the episode.
        ("episode_ids", json!([id("episode")])),
        ("episode_names", json!(["E01"])),
        ("sequence_name", Value::Null),
        ("project_id", id("project")),
        ("project_name", json!("People")),
        ("project_has_avatar", json!(false)),
        ("task_status_id", id("todo")),
        ("task_status_name", json!("Todo")),
        ("task_status_short_name", json!("todo")),
        ("task_status_color", json!("#000000")),
        ("task_type_id", id("modeling")),
        ("task_type_name", json!("Modeling")),
        ("task_type_color", json!("#000000")),
        ("task_type_for_entity", json!("Asset")),
        ("task_due_date", Value::Null),
        ("task_start_date", Value::Null),
        ("type", json!("Task")),
        ("name", json!("main")),
    ] {
        assert_eq!(task[key], value, "{key}: {task}");
    }
    // Zou's keys, no more, no fewer (an asset cast in episodes has two more).
    let keys_of = |task: &Value| {
        let mut keys: Vec<String> = task.as_object().unwrap().keys().cloned().collect();
        keys.retain(|k| k != "episode_ids" && k != "episode_names");
        keys.sort_unstable();
        keys
    };
    assert_eq!(keys_of(task), TASK_KEYS, "{task}");
    assert_eq!(task["task_estimation"], task["estimation"]);
    assert_eq!(task["task_duration"], task["duration"]);
    // The client's comment is newer: the admin's is the last one.
    let last = &task["last_comment"];
    assert_eq!(last["text"], "first look", "{task}");
    assert_eq!(last["person_id"], person("admin"));
    assert_eq!(last["date"], out["first_look"]["created_at"], "{task}");
    let shot = &listed_task("shot_layout");
    for (key, value) in [
        ("entity_id", id("shot")),
        ("entity_name", json!("SH01")),
        ("entity_type_name", json!("Shot")),
        ("entity_description", Value::Null),
        ("sequence_name", json!("SQ01")),
        ("episode_id", id("episode")),
        ("episode_name", json!("E01")),
        ("task_type_for_entity", json!("Shot")),
        ("last_comment", json!({})),
    ] {
        assert_eq!(shot[key], value, "{key}: {shot}");
    }
    assert!(shot.get("episode_ids").is_none(), "{shot}");
    assert!(shot.get("episode_names").is_none(), "{shot}");
    assert_eq!(keys_of(shot), TASK_KEYS, "{shot}");
    assert_eq!(ids(&out["done"]), vec![id("chair_shading")], "{out}");
    assert_eq!(out["done"][0]["last_comment"], json!({}));
    assert_eq!(out["done"][0]["task_status_name"], "Done");

    // Who reads them: team members and studio managers alike, a manager outside the team
    // nothing, clients nothing, vendors only their own (nothing).
    let theirs = json!([200, open]);
    let asked = &out["tasks_as"];
    for who in ["admin", "artist", "manager", "supervisor", "artist2"] {
        assert_eq!(listed(&asked[who]), theirs, "{who}");
    }
    for who in ["outsider", "client"] {
        assert_eq!(asked[who], json!([200, []]), "{who}");
    }
    assert_eq!(asked["vendor"], refused());
    assert_eq!(out["vendor_own"], json!([200, []]));
    let done = &out["done_as"];
    assert_eq!(listed(&done["artist"]), json!([200, [id("chair_shading")]]));
    assert_eq!(done["outsider"], json!([200, []]));
    assert_eq!(done["client"], json!([200, []]));
    assert_eq!(done["vendor"], refused());
    assert_eq!(out["bot_tasks"], refused());
    assert_eq!(out["unknown_tasks"], not_found());
    assert_eq!(out["malformed_tasks"], not_found());

    // Related tasks: the task type's tasks on the entities the artist works on, plain.
    assert_eq!(ids(&out["related_before"]), vec![id("chair_modeling")]);
    let related = &out["related_before"][0];
    assert!(related.get("assignees").is_none(), "{related}");
    assert!(related.get("project_name").is_none(), "{related}");
    assert_eq!(related["type"], "Task");
    let both = sorted(vec![id("chair_modeling"), id("second")]);
    assert_eq!(sorted(ids(&out["related"])), both);
    for who in ["artist", "outsider", "client", "artist2"] {
        assert_eq!(
            listed(&out["related_as"][who]),
            json!([200, both.clone()]),
            "{who}"
        );
    }
    assert_eq!(out["related_as"]["vendor"], refused());
    assert_eq!(out["related_unknown_type"], json!([200, []]));
    // Zou fails here (500); annals names the value.
    assert_eq!(out["related_malformed_type"][0], 400);
    assert_eq!(out["related_unknown_person"], not_found());
    assert_eq!(out["related_bot"], refused());

    // Day offs: whole for the person, studio and production managers of the team; without
    // the description for a supervisor of the person's department; refused otherwise.
    let off = |day: &str| out["offs"][day].clone();
    // Made in the order of their dates: creation order either way.
    let created = vec![off("2026-03-02"), off("2026-05-01"), off("2026-12-30")];
    assert_eq!(ids(&out["day_offs"]), created);
    let first = &out["day_offs"][0];
    for (key, value) in [
        ("date", json!("2026-03-02")),
        ("end_date", json!("2026-03-04")),
        ("description", json!("ski")),
        ("person_id", person("artist")),
        ("type", json!("DayOff")),
    ] {
        assert_eq!(first[key], value, "{key}: {first}");
    }
    let asked = &out["day_offs_as"];
    for who in ["admin", "manager", "supervisor", "artist"] {
        assert_eq!(asked[who][0], 200, "{who}");
        assert_eq!(ids(&asked[who][1]), created, "{who}");
    }
    assert!(asked["manager"][1][0].get("description").is_some());
    assert!(asked["supervisor"][1][0].get("description").is_none());
    for who in ["outsider", "far-supervisor", "artist2", "client", "vendor"] {
        assert_eq!(asked[who], refused(), "{who}");
    }
    let year = &out["supervisor_year"];
    let by_date = vec![off("2026-03-02"), off("2026-05-01"), off("2026-12-30")];
    assert_eq!(ids(&year[1]), by_date);
    assert!(year[1][0].get("description").is_none(), "{year}");
    assert!(year[1][0].get("date").is_some(), "{year}");
    assert_eq!(ids(&out["year_2026"]), by_date);
    assert_eq!(ids(&out["year_2027"]), vec![off("2026-12-30")]);
    assert_eq!(ids(&out["month_2026_03"]), vec![off("2026-03-02")]);
    assert_eq!(ids(&out["month_2027_01"]), vec![off("2026-12-30")]);
    assert_eq!(ids(&out["week_2026_10"]), vec![off("2026-03-02")]);
    assert_eq!(ids(&out["week_2026_53"]), vec![off("2026-12-30")]);
    assert_eq!(out["week_2027_1"], json!([]));
    // Zou fails on these (500); annals names the field.
    for (answer, field) in out["bad_periods"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["year", "month", "week"])
    {
        assert_eq!(answer[0], 400, "{answer}");
        assert_eq!(answer[1]["data"]["errors"][0]["field"], field, "{answer}");
    }
    assert_eq!(out["outsider_year"], refused());
    assert_eq!(out["bot_day_offs"], refused());
    assert_eq!(out["unknown_day_offs"], not_found());

    // Time spents of a day: all for the person, studio and production managers of the
    // team; a supervisor those of their departments' task types; nothing for a manager
    // outside the team or a supervisor of another department; refused for the others.
    let spent = |key: &str| out["spents"][key].clone();
    let day = sorted(vec![spent("2026-03-05-120"), spent("2026-03-05-60")]);
    assert_eq!(sorted(ids(&out["by_date"])), day);
    let one = out["by_date"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == spent("2026-03-05-120"))
        .unwrap();
    assert_eq!(one["duration"], 120.0);
    assert_eq!(one["date"], "2026-03-05");
    assert_eq!(one["task_id"], id("chair_modeling"));
    assert_eq!(one["person_id"], person("artist"));
    assert_eq!(one["type"], "TimeSpent");
    let asked = &out["by_date_as"];
    for who in ["admin", "manager", "artist"] {
        assert_eq!(listed(&asked[who]), json!([200, day.clone()]), "{who}");
    }
    assert_eq!(
        listed(&asked["supervisor"]),
        json!([200, [spent("2026-03-05-120")]])
    );
    for who in ["outsider", "far-supervisor"] {
        assert_eq!(asked[who], json!([200, []]), "{who}");
    }
    for who in ["artist2", "client", "vendor"] {
        assert_eq!(asked[who], refused(), "{who}");
    }
    for answer in out["bad_dates"].as_array().unwrap() {
        assert_eq!(
            *answer,
            json!([400, {"error": true, "message": "Invalid month or year.", "data": null}])
        );
    }

    // A range: both ends included, with the task's project and task type.
    assert_eq!(out["no_range"], json!([200, []]));
    let march = sorted(vec![
        spent("2026-03-05-120"),
        spent("2026-03-05-60"),
        spent("2026-03-09-30"),
    ]);
    assert_eq!(sorted(ids(&out["range"])), march);
    for entry in out["range"].as_array().unwrap() {
        assert_eq!(entry["project_id"], id("project"));
        let task_type = if entry["id"] == spent("2026-03-05-60") {
            id("shading")
        } else {
            id("modeling")
        };
        assert_eq!(entry["task_type_id"], task_type, "{entry}");
    }
    assert_eq!(
        out["half_range"],
        json!([400, {"error": true, "message": "If querying for a range of dates, both a `start_date` and an `end_date` must be given.", "data": null}])
    );
    assert_eq!(
        out["bad_range"],
        json!([400, {"error": true, "message": "Wrong date format for nope and/or 2026-03-31", "data": null}])
    );
    let asked = &out["range_as"];
    assert_eq!(listed(&asked["manager"]), json!([200, march]));
    assert_eq!(asked["outsider"], json!([200, []]));
    assert_eq!(asked["far-supervisor"], json!([200, []]));
    assert_eq!(asked["artist2"], refused());

    // Summed per task over a year and a week.
    let sums = |answer: &Value| {
        let mut sums: Vec<(String, f64)> = answer
            .as_array()
            .unwrap_or_else(|| panic!("a list: {answer}"))
            .iter()
            .map(|s| {
                (
                    s["task_id"].as_str().unwrap().to_string(),
                    s["duration"].as_f64().unwrap(),
                )
            })
            .collect();
        sums.sort_by(|a, b| a.0.cmp(&b.0));
        sums
    };
    let expected = |modeling: f64| {
        let mut sums = vec![
            (id("chair_modeling").as_str().unwrap().to_string(), modeling),
            (id("chair_shading").as_str().unwrap().to_string(), 60.0),
        ];
        sums.sort_by(|a, b| a.0.cmp(&b.0));
        sums
    };
    assert_eq!(sums(&out["year"]), expected(150.0));
    assert_eq!(sums(&out["week"]), expected(120.0));
    let shading = out["year"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["task_id"] == id("chair_shading"))
        .unwrap();
    assert_eq!(
        *shading,
        json!({
            "task_id": id("chair_shading"),
            "task_type_id": id("shading"),
            "project_id": id("project"),
            "project_name": "People",
            "entity_name": "Chair",
            "entity_type_name": "Prop",
            "sequence_name": null,
            "episode_name": null,
            "duration": 60.0,
        })
    );
    assert_eq!(out["year_as"]["manager"][0], 200);
    assert_eq!(sums(&out["year_as"]["manager"][1]), expected(150.0));
    assert_eq!(out["year_as"]["outsider"], json!([200, []]));
    assert_eq!(out["year_as"]["artist2"], refused());
    assert_eq!(
        out["bad_year"],
        json!([400, {"error": true, "message": "Invalid date format.", "data": null}])
    );
    assert_eq!(
        out["bad_week"],
        json!([400, {"error": true, "message": "Invalid month or year.", "data": null}])
    );

    // The whole month: for the person and studio managers only.
    assert_eq!(sorted(ids(&out["month_all"])), march);
    assert_eq!(
        out["bad_month_all"],
        json!([400, {"error": true, "message": "Invalid month or year.", "data": null}])
    );
    for who in ["manager", "outsider", "artist2"] {
        assert_eq!(out["month_all_as"][who], refused(), "{who}");
    }
}

/// The script of a project's team, settings and lists: `host email password`.
const PROJECT_SCRIPT: &str = r##"import json, sys, uuid
import gazu, requests

host, email, password = sys.argv[1:4]
gazu.set_host(host)
gazu.log_in(email, password)
out = {}
tokens = {"admin": gazu.client.default_client.tokens["access_token"]}

def call(who, method, path, body=None, params=None):
    r = requests.request(method, host.rstrip("/") + "/" + path, params=params, json=body,
                         headers={"Authorization": "Bearer " + tokens[who]})
    try:
        return [r.status_code, r.json()]
    except ValueError:
        return [r.status_code, r.text]

dept = gazu.person.new_department("Dept", "#000000")
people = {"admin": gazu.client.get("auth/authenticated")["user"]["id"]}
for name, role in [("manager", "manager"), ("outsider", "manager"), ("artist", "user"),
                   ("client", "client"), ("vendor", "vendor")]:
    mail = name + "@example.com"
    person = gazu.person.new_person(name, "P", mail, role=role, password=password,
                                    departments=[dept] if name == "artist" else [])
    people[name] = person["id"]
    login = requests.post(host.rstrip("/") + "/auth/login", json={"email": mail, "password": password})
    tokens[name] = login.json()["access_token"]
project = gazu.project.new_project("Settings")
for name in ["manager", "artist", "client", "vendor"]:
    gazu.project.add_person_to_team(project, people[name])
prop = gazu.asset.new_asset_type("Prop")
modeling = gazu.task.new_task_type("Modeling", for_entity="Asset")
shading = gazu.task.new_task_type("Shading", for_entity="Asset")
todo = gazu.task.new_task_status("Todo", "todo", "#000000")
finished = gazu.task.new_task_status("Done", "done", "#00FF00")
out["people"] = people
out["ids"] = {"project": project["id"], "modeling": modeling["id"], "shading": shading["id"],
              "todo": todo["id"], "done": finished["id"], "prop": prop["id"]}
P = "data/projects/%s" % project["id"]

# The team, as each reads it.
out["team"] = gazu.project.get_team(project)
out["team_as"] = {who: call(who, "GET", P + "/team") for who in tokens}
out["unknown_team"] = call("admin", "GET", "data/projects/%s/team" % uuid.uuid4())
out["malformed_team"] = call("manager", "GET", "data/projects/nope/team")

# Task types.
out["no_task_types"] = gazu.task.all_task_types_for_project(project)
out["added_type"] = gazu.project.add_task_type(project, shading, 1)
out["added_by_manager"] = call("manager", "POST", P + "/settings/task-types", {"task_type_id": modeling["id"]})
out["added_again"] = call("manager", "POST", P + "/settings/task-types", {"task_type_id": modeling["id"]})
out["task_types"] = gazu.task.all_task_types_for_project(project)
out["task_types_as"] = {who: call(who, "GET", P + "/task-types") for who in tokens}
out["settings_task_types"] = call("admin", "GET", P + "/settings/task-types")
out["refused_add"] = {who: call(who, "POST", P + "/settings/task-types", {"task_type_id": modeling["id"]})
                      for who in ["outsider", "artist"]}
out["missing_type"] = call("admin", "POST", P + "/settings/task-types", {})
out["malformed_type"] = call("admin", "POST", P + "/settings/task-types", {"task_type_id": "nope"})
out["unknown_type"] = call("admin", "POST", P + "/settings/task-types", {"task_type_id": str(uuid.uuid4())})
out["unknown_project"] = call("admin", "POST", "data/projects/%s/settings/task-types" % uuid.uuid4(), {"task_type_id": modeling["id"]})
gazu.project.remove_task_type(project, shading)
out["removed_again"] = call("manager", "DELETE", P + "/settings/task-types/%s" % shading["id"])
out["removed_unknown"] = call("manager", "DELETE", P + "/settings/task-types/%s" % uuid.uuid4())
out["refused_remove"] = call("artist", "DELETE", P + "/settings/task-types/%s" % modeling["id"])
out["task_types_after"] = gazu.task.all_task_types_for_project(project)

# Task statuses.
out["no_statuses"] = gazu.project.get_project_task_statuses(project)
gazu.project.add_task_status(project, finished)
gazu.project.add_task_status(project, todo)
out["statuses"] = gazu.task.all_task_statuses_for_project(project)
out["statuses_as"] = {who: call(who, "GET", P + "/settings/task-status") for who in ["client", "outsider"]}
out["unknown_status"] = call("admin", "POST", P + "/settings/task-status", {"task_status_id": str(uuid.uuid4())})
out["missing_status"] = call("admin", "POST", P + "/settings/task-status", {})
out["refused_status"] = call("artist", "POST", P + "/settings/task-status", {"task_status_id": todo["id"]})
gazu.project.remove_task_status(project, finished)
out["status_removed_again"] = call("manager", "DELETE", P + "/settings/task-status/%s" % finished["id"])
out["statuses_after"] = gazu.project.get_project_task_statuses(project)

# Asset types.
out["asset_type_added"] = gazu.project.add_asset_type(project, prop)
out["unknown_asset_type"] = call("admin", "POST", P + "/settings/asset-types", {"asset_type_id": str(uuid.uuid4())})
out["missing_asset_type"] = call("admin", "POST", P + "/settings/asset-types", {})
out["refused_asset_type"] = call("artist", "POST", P + "/settings/asset-types", {"asset_type_id": prop["id"]})
out["with_asset_type"] = gazu.project.get_project(project["id"])["asset_types"]
out["asset_type_removed"] = call("manager", "DELETE", P + "/settings/asset-types/%s" % prop["id"])
out["refused_asset_type_removal"] = call("artist", "DELETE", P + "/settings/asset-types/%s" % prop["id"])
final = gazu.project.get_project(project["id"])
out["final"] = {k: final[k] for k in ["asset_types", "task_types", "task_statuses"]}

# Comments, assets of a type, an entity's tasks of a type.
chair = gazu.asset.new_asset(project, prop, "Chair")
table = gazu.asset.new_asset(project, prop, "Table")
main = gazu.task.new_task(chair, modeling, task_status=todo, assignees=[people["artist"]])
second = gazu.task.new_task(chair, modeling, name="second", task_status=todo)
vendor_task = gazu.task.new_task(table, shading, task_status=todo, assignees=[people["vendor"]])
first = gazu.task.add_comment(main, todo, "first look")
gazu.client.put("data/comments/%s" % first["id"], {"text": "first look, edited"})
latest = gazu.task.add_comment(main, todo, "second look")
out["ids"].update({"chair": chair["id"], "table": table["id"], "main": main["id"], "second": second["id"],
                   "vendor_task": vendor_task["id"], "first": first["id"], "latest": latest["id"]})
out["comments"] = gazu.task.all_comments_for_project(project)
out["comments_as"] = {who: call(who, "GET", P + "/comments") for who in tokens}
out["comments_page"] = call("admin", "GET", P + "/comments", params={"page": 1, "limit": 1})
out["unknown_comments"] = call("admin", "GET", "data/projects/%s/comments" % uuid.uuid4())
out["assets"] = gazu.asset.all_assets_for_project_and_type(project, prop)
out["assets_as"] = {who: call(who, "GET", P + "/asset-types/%s/assets" % prop["id"]) for who in tokens}
out["assets_unknown_type"] = call("admin", "GET", P + "/asset-types/%s/assets" % uuid.uuid4())
out["assets_unknown_project"] = call("admin", "GET", "data/projects/%s/asset-types/%s/assets" % (uuid.uuid4(), prop["id"]))
out["assets_named"] = call("admin", "GET", P + "/asset-types/%s/assets" % prop["id"], params={"name": "Chair"})
out["entity_tasks"] = gazu.task.all_tasks_for_entity_and_task_type(chair, modeling)
out["entity_tasks_as"] = {who: call(who, "GET", "data/entities/%s/task-types/%s/tasks" % (chair["id"], modeling["id"])) for who in tokens}
out["entity_tasks_unknown_type"] = call("admin", "GET", "data/entities/%s/task-types/%s/tasks" % (chair["id"], uuid.uuid4()))
out["entity_tasks_unknown"] = call("admin", "GET", "data/entities/%s/task-types/%s/tasks" % (uuid.uuid4(), modeling["id"]))
out["entity_tasks_malformed"] = call("admin", "GET", "data/entities/nope/task-types/%s/tasks" % modeling["id"])
print(json.dumps(out))
"##;

/// Zou's project serialization without relations (the settings routes' answer).
fn no_relations(project: &Value) {
    for key in ["team", "task_types", "task_statuses", "asset_types"] {
        assert!(project.get(key).is_none(), "{key}: {project}");
    }
    assert_eq!(project["type"], "Project", "{project}");
}

#[apply(backends)]
async fn gazu_reads_and_changes_a_projects_team_settings_and_lists(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(PROJECT_SCRIPT, &[&host, &email, PASSWORD])
        .await
        .json;
    let id = |key: &str| out["ids"][key].clone();
    let person = |key: &str| out["people"][key].clone();

    // The team: whole persons for studio and production managers, the client person for
    // clients, the minimal one (no departments) for the others; `project_role` null.
    let members = sorted(vec![
        person("manager"),
        person("artist"),
        person("client"),
        person("vendor"),
    ]);
    assert_eq!(sorted(ids(&out["team"])), members, "{out}");
    let of = |list: &Value, who: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == person(who))
            .cloned()
            .unwrap()
    };
    let artist = of(&out["team"], "artist");
    assert_eq!(artist["project_role"], Value::Null);
    assert_eq!(artist["email"], "artist@example.com");
    assert_eq!(artist["departments"].as_array().unwrap().len(), 1);
    assert!(artist.get("password").is_none());
    let asked = &out["team_as"];
    for who in ["admin", "manager", "artist", "client", "vendor"] {
        assert_eq!(asked[who][0], 200, "{who}");
        assert_eq!(sorted(ids(&asked[who][1])), members, "{who}");
    }
    assert_eq!(of(&asked["manager"][1], "artist"), artist);
    let keys = |p: &Value| {
        let mut keys: Vec<String> = p.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let minimal = of(&asked["artist"][1], "artist");
    assert_eq!(
        keys(&minimal),
        [
            "active",
            "departments",
            "desktop_login",
            "first_name",
            "full_name",
            "has_avatar",
            "id",
            "is_bot",
            "last_name",
            "project_role",
            "role",
            "studio_id",
            "type"
        ]
    );
    assert_eq!(minimal["departments"], json!([]));
    assert_eq!(keys(&of(&asked["vendor"][1], "artist")), keys(&minimal));
    assert_eq!(
        keys(&of(&asked["client"][1], "artist")),
        [
            "active",
            "first_name",
            "full_name",
            "has_avatar",
            "id",
            "is_bot",
            "last_name",
            "project_role",
            "role",
            "type"
        ]
    );
    assert_eq!(asked["outsider"], refused());
    assert_eq!(out["unknown_team"], not_found());
    assert_eq!(out["malformed_team"], not_found());

    // Task types: added once, by studio managers and the team's production managers.
    assert_eq!(out["no_task_types"], json!([]));
    no_relations(&out["added_type"]);
    assert_eq!(out["added_type"]["id"], id("project"));
    for key in ["added_by_manager", "added_again"] {
        assert_eq!(out[key][0], 201, "{key}: {}", out[key]);
        no_relations(&out[key][1]);
    }
    let both = sorted(vec![id("modeling"), id("shading")]);
    assert_eq!(sorted(ids(&out["task_types"])), both);
    assert_eq!(out["task_types"][0]["type"], "TaskType");
    for who in ["admin", "manager", "artist", "client", "vendor"] {
        let answer = &out["task_types_as"][who];
        assert_eq!(answer[0], 200, "{who}");
        assert_eq!(sorted(ids(&answer[1])), both, "{who}");
    }
    assert_eq!(out["task_types_as"]["outsider"], refused());
    assert_eq!(
        out["settings_task_types"],
        json!([405, {"error": true, "message": "The method is not allowed for the requested URL."}])
    );
    for who in ["outsider", "artist"] {
        assert_eq!(out["refused_add"][who], refused(), "{who}");
    }
    assert_eq!(
        out["missing_type"],
        json!([400, {"error": true, "message": "Validation error.", "data": {"errors": [{"field": "task_type_id", "message": "Field required"}]}}])
    );
    assert_eq!(
        out["malformed_type"],
        json!([400, {"error": true, "message": "task_type_id is required and must be a valid UUID", "data": null}])
    );
    // Zou fails here (500): annals answers as for an unknown status.
    let unknown = &out["unknown_type"];
    assert_eq!(unknown[0], 400, "{unknown}");
    assert!(
        unknown[1]["message"]
            .as_str()
            .unwrap()
            .starts_with("TaskType with id "),
        "{unknown}"
    );
    assert_eq!(out["unknown_project"], not_found());
    assert_eq!(out["removed_again"], json!([204, ""]));
    assert_eq!(out["removed_unknown"], json!([204, ""]));
    assert_eq!(out["refused_remove"], refused());
    assert_eq!(ids(&out["task_types_after"]), vec![id("modeling")]);

    // Task statuses.
    assert_eq!(out["no_statuses"], json!([]));
    let statuses = sorted(vec![id("todo"), id("done")]);
    assert_eq!(sorted(ids(&out["statuses"])), statuses);
    let todo = out["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id("todo"))
        .unwrap();
    assert_eq!(todo["type"], "TaskStatus");
    assert_eq!(todo["short_name"], "todo");
    assert_eq!(out["statuses_as"]["client"][0], 200);
    assert_eq!(sorted(ids(&out["statuses_as"]["client"][1])), statuses);
    assert_eq!(out["statuses_as"]["outsider"], refused());
    let unknown = &out["unknown_status"];
    assert_eq!(unknown[0], 400);
    assert_eq!(unknown[1]["data"], Value::Null);
    assert!(
        unknown[1]["message"]
            .as_str()
            .unwrap()
            .starts_with("TaskStatus with id "),
        "{unknown}"
    );
    assert_eq!(
        out["missing_status"][1]["data"]["errors"][0]["field"],
        "task_status_id"
    );
    assert_eq!(out["refused_status"], refused());
    assert_eq!(out["status_removed_again"], json!([204, ""]));
    assert_eq!(ids(&out["statuses_after"]), vec![id("todo")]);

    // Asset types.
    no_relations(&out["asset_type_added"]);
    assert!(
        out["unknown_asset_type"][1]["message"]
            .as_str()
            .unwrap()
            .starts_with("EntityType with id "),
        "{out}"
    );
    assert_eq!(
        out["missing_asset_type"][1]["data"]["errors"][0]["field"],
        "asset_type_id"
    );
    assert_eq!(out["refused_asset_type"], refused());
    assert_eq!(out["with_asset_type"], json!([id("prop")]));
    assert_eq!(out["asset_type_removed"], json!([204, ""]));
    assert_eq!(out["refused_asset_type_removal"], refused());
    assert_eq!(
        out["final"],
        json!({"asset_types": [], "task_types": [id("modeling")], "task_statuses": [id("todo")]})
    );

    // The project's comments: the latest change first, with their relations.
    let comments = ids(&out["comments"]);
    assert_eq!(sorted(comments), sorted(vec![id("first"), id("latest")]));
    let comment = &out["comments"][0];
    for key in [
        "acknowledgements",
        "attachment_files",
        "department_mentions",
        "mentions",
        "previews",
    ] {
        assert_eq!(comment[key], json!([]), "{key}: {comment}");
    }
    assert_eq!(comment["type"], "Comment");
    assert_eq!(comment["object_id"], id("main"));
    for who in ["admin", "manager", "artist"] {
        assert_eq!(out["comments_as"][who][0], 200, "{who}");
        assert_eq!(out["comments_as"][who][1].as_array().unwrap().len(), 2);
    }
    for who in ["client", "vendor", "outsider"] {
        assert_eq!(out["comments_as"][who], refused(), "{who}");
    }
    let page = &out["comments_page"][1];
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(page["nb_pages"], 2);
    assert_eq!(page["limit"], 1);
    assert_eq!(page["page"], 1);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(out["unknown_comments"], not_found());

    // The assets of a type: vendors those they have a task on.
    let assets = sorted(vec![id("chair"), id("table")]);
    assert_eq!(sorted(ids(&out["assets"])), assets);
    assert_eq!(out["assets"][0]["type"], "Asset");
    for who in ["admin", "manager", "artist", "client"] {
        assert_eq!(
            listed(&out["assets_as"][who]),
            json!([200, assets]),
            "{who}"
        );
    }
    assert_eq!(
        listed(&out["assets_as"]["vendor"]),
        json!([200, [id("table")]])
    );
    assert_eq!(out["assets_as"]["outsider"], refused());
    assert_eq!(out["assets_unknown_type"], json!([200, []]));
    assert_eq!(out["assets_unknown_project"], json!([200, []]));
    assert_eq!(listed(&out["assets_named"]), json!([200, [id("chair")]]));

    // An entity's tasks of a type, by name, plain; clients see them blank.
    assert_eq!(ids(&out["entity_tasks"]), vec![id("main"), id("second")]);
    assert!(out["entity_tasks"][0].get("assignees").is_none());
    for who in ["admin", "manager", "artist", "client", "vendor"] {
        let answer = &out["entity_tasks_as"][who];
        assert_eq!(answer[0], 200, "{who}");
        assert_eq!(ids(&answer[1]), vec![id("main"), id("second")], "{who}");
    }
    let blank = &out["entity_tasks_as"]["client"][1][0];
    assert_eq!(blank["difficulty"], Value::Null, "{blank}");
    assert_eq!(blank["last_comment_date"], Value::Null, "{blank}");
    assert_eq!(out["entity_tasks_as"]["admin"][1][0]["difficulty"], 3);
    assert_eq!(out["entity_tasks_as"]["outsider"], refused());
    assert_eq!(out["entity_tasks_unknown_type"], json!([200, []]));
    assert_eq!(out["entity_tasks_unknown"], not_found());
    assert_eq!(out["entity_tasks_malformed"], not_found());
}
