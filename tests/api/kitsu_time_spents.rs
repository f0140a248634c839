//! The time spent on a task by the day, through gazu 1.3.1's `set_time_spent`,
//! `add_time_spent`, `get_time_spent` and `get_task_time_spent_for_date`, and the delete beside
//! them, held to what the real Zou 1.0.97 answered (tests/fixtures/zou-1.0.97-time-spents.md,
//! recorded by tests/fixtures/zou-time-spents.py).
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
out = {}
n = lambda name: name + tag

def call(method, path, body=None, client=None):
    t = (client or gazu.client.default_client).tokens["access_token"]
    r = requests.request(method, host.rstrip("/") + "/" + path,
                         headers={"Authorization": "Bearer " + t}, json=body)
    try:
        return [r.status_code, r.json()]
    except ValueError:
        return [r.status_code, r.text]

def person(role, name):
    mail = n(name) + "@example.com"
    made = gazu.person.new_person(name, n("X"), mail, role=role,
                                  password="a-strong-and-secure-password-2")
    client = gazu.client.create_client(gazu.client.get_host())
    gazu.log_in(mail, "a-strong-and-secure-password-2", client=client)
    return made, client

ann, ANN = person("user", "ann")
bob, BOB = person("user", "bob")
mgr, MGR = person("manager", "manager")
outsider, OUT = person("manager", "outsider")
project = gazu.project.new_project(n("Spent"))
for p in (ann, bob, mgr):
    gazu.project.add_person_to_team(project, p)
prop = gazu.asset.new_asset_type(n("Prop"))
chair = gazu.asset.new_asset(project, prop, "Chair")
modeling = gazu.task.new_task_type(n("Modeling"), for_entity="Asset")
todo = gazu.task.new_task_status(n("Todo"), n("td"), "#cccccc")
task = gazu.task.new_task(chair, modeling, task_status=todo, assignees=[ann])
other = gazu.task.new_task(chair, modeling, name="other", task_status=todo)
P = "actions/tasks/%s/time-spents" % task["id"]

out["set"] = gazu.task.set_time_spent(task, ann, "2026-12-01", 60)
out["set_again"] = gazu.task.set_time_spent(task, ann, "2026-12-01", 30)
out["add"] = gazu.task.add_time_spent(task, ann, "2026-12-01", 15)
out["add_new_day"] = gazu.task.add_time_spent(task, ann, "2026-12-02", 20)
out["all"] = gazu.task.get_time_spent(task)
out["day"] = gazu.task.get_time_spent(task, "2026-12-01")
out["day_for_date"] = gazu.task.get_task_time_spent_for_date(task, "2026-12-01")
out["empty_day"] = gazu.task.get_time_spent(task, "2026-12-09")
out["task_duration"] = gazu.task.get_task(task["id"])["duration"]

out["herself"] = call("POST", P + "/2026-12-03/persons/" + ann["id"], {"duration": 10}, ANN)[0]
out["artist_for_ann"] = call("POST", P + "/2026-12-03/persons/" + ann["id"], {"duration": 11}, BOB)
out["artist_himself_unassigned"] = call("POST", P + "/2026-12-03/persons/" + bob["id"], {"duration": 11}, BOB)[0]
out["admin_for_unassigned"] = call("POST", P + "/2026-12-03/persons/" + bob["id"], {"duration": 11})[0]
out["team_manager"] = call("POST", P + "/2026-12-04/persons/" + ann["id"], {"duration": 12}, MGR)[0]
out["outside_manager"] = call("POST", P + "/2026-12-04/persons/" + ann["id"], {"duration": 13}, OUT)[0]
out["team_artist_reads"] = call("GET", P, None, BOB)[0]
out["outside_manager_reads"] = call("GET", P, None, OUT)[0]

out["bad_date"] = call("POST", P + "/2026-13-45/persons/" + ann["id"], {"duration": 10})
out["nonsense_date"] = call("POST", P + "/nonsense/persons/" + ann["id"], {"duration": 10})
out["zero"] = call("POST", P + "/2026-12-05/persons/" + ann["id"], {"duration": 0})
out["negative"] = call("POST", P + "/2026-12-05/persons/" + ann["id"], {"duration": -5})
out["missing"] = call("POST", P + "/2026-12-05/persons/" + ann["id"], {})
out["text"] = call("POST", P + "/2026-12-05/persons/" + ann["id"], {"duration": "abc"})
out["fraction"] = call("POST", P + "/2026-12-05/persons/" + ann["id"], {"duration": 12.5})[1]["duration"]
out["unknown_task"] = call("POST", "actions/tasks/%s/time-spents/2026-12-05/persons/%s" % (uuid.uuid4(), ann["id"]), {"duration": 10})
out["unknown_person"] = call("POST", P + "/2026-12-05/persons/%s" % uuid.uuid4(), {"duration": 10})[0]
out["read_unknown_task"] = call("GET", "actions/tasks/%s/time-spents" % uuid.uuid4())[0]
out["read_bad_date"] = call("GET", P + "/nonsense")[0]
out["other_task"] = gazu.task.get_time_spent(other)

out["delete"] = call("DELETE", P + "/2026-12-02/persons/" + ann["id"])
out["delete_again"] = call("DELETE", P + "/2026-12-02/persons/" + ann["id"])[0]
out["after_delete"] = gazu.task.get_time_spent(task)
out["duration_after"] = gazu.task.get_task(task["id"])["duration"]
out["ann"] = ann["id"]
out["task"] = task["id"]
print(json.dumps(out))
"##;

const FORBIDDEN: &str = "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.";

/// A time spent as Zou serializes it, without its server-made keys.
fn spent(record: &Value) -> Value {
    let mut fields = record.as_object().unwrap().clone();
    for key in ["id", "created_at", "updated_at"] {
        assert!(fields.remove(key).unwrap().is_string(), "{key}: {record}");
    }
    Value::Object(fields)
}

#[apply(backends)]
async fn gazu_sets_adds_reads_and_removes_a_tasks_time_spent_by_the_day(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(SCRIPT, &[&host, &email, PASSWORD, "-t"])
        .await
        .json;
    let (ann, task) = (&out["ann"], &out["task"]);
    let day = |date: &str, duration: f64| {
        json!({"date": date, "duration": duration, "person_id": ann, "task_id": task,
               "type": "TimeSpent"})
    };

    // Set, set again (the same record), add to it, add to a new day: 201 and the record.
    assert_eq!(spent(&out["set"]), day("2026-12-01", 60.0), "{out}");
    assert_eq!(spent(&out["set_again"]), day("2026-12-01", 30.0));
    assert_eq!(out["set_again"]["id"], out["set"]["id"]);
    assert_eq!(spent(&out["add"]), day("2026-12-01", 45.0));
    assert_eq!(out["add"]["id"], out["set"]["id"]);
    assert_eq!(spent(&out["add_new_day"]), day("2026-12-02", 20.0));

    // Read per person with the total; a day; an empty day; the task's duration follows.
    let ann_key = ann.as_str().unwrap();
    let all = out["all"].as_object().unwrap();
    assert_eq!(all.len(), 2, "{out}");
    assert_eq!(all["total"], json!(65.0));
    let listed: Vec<Value> = all[ann_key].as_array().unwrap().iter().map(spent).collect();
    assert_eq!(
        listed,
        vec![day("2026-12-01", 45.0), day("2026-12-02", 20.0)]
    );
    assert_eq!(out["day"]["total"], json!(45.0));
    assert_eq!(out["day"][ann_key].as_array().unwrap().len(), 1);
    assert_eq!(out["day_for_date"], out["day"]);
    assert_eq!(out["empty_day"], json!({"total": 0.0}));
    assert_eq!(out["other_task"], json!({"total": 0.0}));
    assert_eq!(out["task_duration"], json!(65.0));

    // Who may: the assignee herself, a production manager of the team; not another artist,
    // not for a person the task is not assigned to (even a studio manager), not a manager
    // outside the team. The team reads, others do not.
    assert_eq!(out["herself"], json!(201));
    assert_eq!(
        out["artist_for_ann"],
        json!([403, {"error": true, "message": FORBIDDEN}])
    );
    assert_eq!(out["artist_himself_unassigned"], json!(403));
    assert_eq!(out["admin_for_unassigned"], json!(403));
    assert_eq!(out["team_manager"], json!(201));
    assert_eq!(out["outside_manager"], json!(403));
    assert_eq!(out["team_artist_reads"], json!(200));
    assert_eq!(out["outside_manager_reads"], json!(403));

    // Bad input: Zou's messages. (Zou answers 500 to a malformed date on the read; annals 400.)
    let invalid_date =
        json!([400, {"data": null, "error": true, "message": "Invalid date format."}]);
    assert_eq!(out["bad_date"], invalid_date);
    assert_eq!(out["nonsense_date"], invalid_date);
    let validation = |message: &str| {
        json!([400, {"error": true, "message": "Validation error.",
                     "data": {"errors": [{"field": "duration", "message": message}]}}])
    };
    assert_eq!(out["zero"], validation("Input should be greater than 0"));
    assert_eq!(
        out["negative"],
        validation("Input should be greater than 0")
    );
    assert_eq!(out["missing"], validation("Field required"));
    assert_eq!(
        out["text"],
        validation("Input should be a valid number, unable to parse string as a number")
    );
    assert_eq!(out["fraction"], json!(12.5));
    assert_eq!(out["unknown_task"][0], json!(404));
    assert!(
        out["unknown_task"][1]["message"]
            .as_str()
            .unwrap()
            .starts_with("404 Not Found"),
        "{out}"
    );
    assert_eq!(out["unknown_person"], json!(404));
    assert_eq!(out["read_unknown_task"], json!(404));
    assert_eq!(out["read_bad_date"], json!(400));

    // Removed: 201 with the record at 0, then 404; the total and the duration follow.
    assert_eq!(out["delete"][0], json!(201));
    // Zou's `duration` is the integer 0 there.
    let mut removed = day("2026-12-02", 0.0);
    removed["duration"] = json!(0);
    assert_eq!(spent(&out["delete"][1]), removed);
    assert_eq!(out["delete_again"], json!(404));
    // 45 + 10 (herself) + 12 (the manager) + 12.5: the 2nd's 20 is gone.
    assert_eq!(out["after_delete"]["total"], json!(79.5));
    assert_eq!(out["duration_after"], json!(79.5));
}
