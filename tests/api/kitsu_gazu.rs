//! A studio's day with the real gazu client, unmodified, on both backends: reference data,
//! people, a production with its team, assets, episodes, sequences and shots, tasks assigned
//! to people, comments that move them along, reads through gazu's own helpers (paging
//! included), updates and deletes. The same script ran against the real Zou 1.0.97
//! (tests/fixtures/zou-1.0.97-persons.md), whose answers the assertions hold annals to.
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, backends, spawn_app};
use crate::kitsu_data::admin_account;

/// The studio's script: `host email password tag` (the tag suffixes names, so the script can
/// run again against a long-lived Zou).
const STUDIO: &str = r##"
import json, sys
import gazu

host, email, password, tag = sys.argv[1:5]
gazu.set_host(host)
gazu.log_in(email, password)
out = {}
n = lambda name: name + tag

# Reference data: statuses, task types and statuses, a department.
for name, color in [("Open", "#000000"), ("Closed", "#000000")]:
    if gazu.client.fetch_first("project-status", {"name": name}) is None:
        gazu.client.create("project-status", {"name": name, "color": color})
archived = gazu.client.create("project-status", {"name": n("Archived"), "color": "#999999"})
out["project_statuses"] = sorted(s["name"] for s in gazu.project.all_project_status())
modeling = gazu.task.new_task_type(n("Modeling"), color="#ff00ff", for_entity="Asset")
animation = gazu.task.new_task_type(n("Animation"), color="#00ffff", for_entity="Shot")
out["same_task_type"] = gazu.task.new_task_type(n("Animation"), for_entity="Shot")["id"] == animation["id"]
todo = gazu.task.new_task_status(n("Todo"), n("todo"), "#cccccc")
wip = gazu.task.new_task_status(n("WIP"), n("wip"), "#3273dc")
done = gazu.task.new_task_status(n("Done"), n("done"), "#22d160")
out["status_by_name"] = gazu.task.get_task_status_by_name(n("WIP"))["id"] == wip["id"]
dept = gazu.person.new_department(n("Animators"), "#00aa00")

# People: an artist and a supervisor made through gazu, found again by their email.
artist = gazu.person.new_person("Ada", n("Lovelace"), n("ada") + "@example.com", phone="555",
                                role="user", desktop_login=n("ada"), departments=[dept],
                                password="a-strong-and-secure-password")
out["artist"] = artist
out["same_person"] = gazu.person.new_person("Ada", n("Lovelace"), n("ada") + "@example.com")["id"] == artist["id"]
supervisor = gazu.person.new_person("Grace", n("Hopper"), n("grace") + "@example.com",
                                    role="supervisor", contract_type="freelance")
out["by_email"] = gazu.person.get_person_by_email(n("ada") + "@example.com")
out["by_desktop_login"] = gazu.person.get_person_by_desktop_login(n("ada"))["id"] == artist["id"]
out["by_full_name"] = gazu.person.get_person_by_full_name("Ada " + n("Lovelace"))["id"] == artist["id"]
out["by_names"] = gazu.person.get_person_by_full_name("", "Grace", n("Hopper"))["id"] == supervisor["id"]
out["person"] = gazu.person.get_person(artist["id"], relations=True)
out["emails"] = sorted(str(p["email"]) for p in gazu.person.all_persons())
out["persons"] = sorted(p["id"] for p in gazu.person.all_persons())
out["persons_paged"] = sorted(p["id"] for p in gazu.client.fetch_all("persons", paginated=True, limit=2))

# A production with its team, asset types and assets, episodes, sequences and shots.
project = gazu.project.new_project(n("Sprite Fright"))
gazu.project.add_person_to_team(project, artist)
gazu.project.add_person_to_team(project, supervisor)
out["same_project"] = gazu.project.new_project(n("Sprite Fright"))["id"] == project["id"]
out["projects"] = [p["name"] for p in gazu.project.all_projects()]
out["project_by_name"] = gazu.project.get_project_by_name(n("sprite fright"))["id"] == project["id"]
out["team"] = sorted(gazu.project.get_project(project["id"])["team"])
prop = gazu.asset.new_asset_type(n("Prop"))
character = gazu.asset.new_asset_type(n("Character"))
chair = gazu.asset.new_asset(project, prop, "Chair", description="a chair")
gazu.asset.new_asset(project, prop, "Table")
rabbit = gazu.asset.new_asset(project, character, "Rabbit")
out["assets"] = sorted(a["name"] for a in gazu.asset.all_assets_for_project(project))
episode = gazu.shot.new_episode(project, "E01")
sequence = gazu.shot.new_sequence(project, "S01", episode=episode)
shot = gazu.shot.new_shot(project, sequence, "P01", nb_frames=48, frame_in=1, frame_out=48)
other = gazu.shot.new_shot(project, sequence, "P02", nb_frames=24)
out["shots"] = sorted(s["name"] for s in gazu.shot.all_shots_for_sequence(sequence))

# Tasks assigned to the people, and comments that move them along.
anim = gazu.task.new_task(shot, animation, assignees=[artist], task_status=todo)
gazu.task.new_task(other, animation, assignees=[artist], task_status=todo)
model = gazu.task.new_task(chair, modeling, assignees=[artist, supervisor], task_status=todo)
gazu.task.add_comment(anim, wip, "blocking done")
out["comment"] = gazu.task.add_comment(anim, done, "approved")
gazu.task.add_comment(model, wip, "modeling started")
out["shot_tasks"] = gazu.task.all_tasks_for_shot(shot)
out["anim"] = gazu.task.get_task(anim["id"])
out["comments"] = [c["text"] for c in gazu.task.all_comments_for_task(anim)]
out["asset_tasks"] = [t["task_status_id"] == wip["id"] for t in gazu.task.all_tasks_for_asset(chair)]
out["tasks_paged"] = len(gazu.client.fetch_all("tasks", {"project_id": project["id"]}, paginated=True, limit=2))
out["ids"] = {"artist": artist["id"], "supervisor": supervisor["id"], "dept": dept["id"],
              "todo": todo["id"], "wip": wip["id"], "done": done["id"]}

# Updates.
artist = gazu.person.get_person(artist["id"])
artist["phone"] = "556"
artist["position"] = "lead"
out["updated_person"] = gazu.person.update_person(artist)
out["reread_person"] = gazu.person.get_person_by_email(n("ada") + "@example.com", )["id"]
shot["description"] = "opening shot"
out["updated_shot"] = gazu.shot.update_shot(shot)["description"]
chair["description"] = "a wooden chair"
out["updated_asset"] = gazu.asset.update_asset(chair)["description"]
anim["priority"] = 2
out["updated_task"] = gazu.task.update_task(anim)["priority"]
project["fps"] = "24"
out["updated_project"] = gazu.project.update_project(project)["fps"]

# Deletes.
gazu.asset.remove_asset(gazu.asset.get_asset_by_name(project, "Table"))
out["assets_left"] = sorted(a["name"] for a in gazu.asset.all_assets_for_project(project))
gazu.shot.remove_shot(gazu.shot.get_shot_by_name(sequence, "P02"), force=True)
out["shots_left"] = sorted(s["name"] for s in gazu.shot.all_shots_for_sequence(sequence))
temp = gazu.person.new_person("Temp", n("Worker"), n("temp") + "@example.com")
gazu.person.remove_person(temp)
out["removed_person"] = gazu.person.get_person_by_email(n("temp") + "@example.com")
try:
    gazu.person.remove_person(supervisor)
    out["linked_person_removed"] = True
except gazu.exception.ParameterException as e:
    out["linked_person_removed"] = str(e)
gazu.person.remove_person(supervisor, force=True)
out["team_after"] = sorted(gazu.project.get_project(project["id"])["team"])
out["model_assignees"] = gazu.task.get_task(model["id"])["assignees"]
gazu.task.remove_task(model)
out["asset_tasks_left"] = gazu.task.all_tasks_for_asset(chair)
gazu.project.close_project(project)
out["open_projects"] = [p["name"] for p in gazu.project.all_open_projects()]
gazu.project.remove_project(project, force=True)
out["projects_left"] = [p["name"] for p in gazu.project.all_projects()]
print(json.dumps(out))
"##;

fn sorted(list: &Value) -> Vec<String> {
    let mut items: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    items.sort();
    items
}

#[apply(backends)]
async fn a_studio_runs_its_production_through_gazu(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(STUDIO, &[&host, &email, PASSWORD, ""])
        .await
        .json;
    let ids = &out["ids"];
    let id = |key: &str| ids[key].clone();

    // Reference data.
    assert_eq!(
        out["project_statuses"],
        json!(["Archived", "Closed", "Open"]),
        "{out}"
    );
    assert_eq!(out["same_task_type"], true);
    assert_eq!(out["status_by_name"], true);

    // People, made and found through gazu.
    let artist = &out["artist"];
    assert_eq!(artist["type"], "Person");
    assert_eq!(artist["email"], "ada@example.com");
    assert_eq!(artist["full_name"], "Ada Lovelace");
    assert_eq!(artist["phone"], "555");
    assert_eq!(artist["desktop_login"], "ada");
    assert_eq!(artist["role"], "user");
    assert_eq!(artist["departments"], json!([id("dept")]));
    assert_eq!(out["same_person"], true);
    assert_eq!(out["by_email"]["id"], id("artist"));
    // A list answers without relations, as Zou's does.
    assert!(out["by_email"].get("departments").is_none(), "{out}");
    for lookup in ["by_desktop_login", "by_full_name", "by_names"] {
        assert_eq!(out[lookup], true, "{lookup}");
    }
    assert_eq!(out["person"]["departments"], json!([id("dept")]));
    let mut emails = vec![email, "ada@example.com".into(), "grace@example.com".into()];
    emails.sort();
    assert_eq!(out["emails"], json!(emails));
    assert_eq!(out["persons_paged"], out["persons"], "{out}");

    // The production.
    assert_eq!(out["same_project"], true);
    assert_eq!(out["projects"], json!(["Sprite Fright"]));
    assert_eq!(out["project_by_name"], true);
    assert_eq!(
        sorted(&out["team"]),
        sorted(&json!([id("artist"), id("supervisor")]))
    );
    assert_eq!(out["assets"], json!(["Chair", "Rabbit", "Table"]));
    assert_eq!(out["shots"], json!(["P01", "P02"]));

    // Tasks and the comments that moved them.
    assert_eq!(out["comment"]["task_status_id"], id("done"), "{out}");
    let shot_tasks = out["shot_tasks"].as_array().unwrap();
    assert_eq!(shot_tasks.len(), 1, "{out}");
    assert_eq!(shot_tasks[0]["task_status_id"], id("done"));
    assert_eq!(shot_tasks[0]["task_status_name"], "Done");
    assert_eq!(out["anim"]["task_status_id"], id("done"));
    assert_eq!(out["anim"]["assignees"], json!([id("artist")]));
    assert_eq!(out["comments"], json!(["approved", "blocking done"]));
    assert_eq!(out["asset_tasks"], json!([true]));
    assert_eq!(out["tasks_paged"], 3);

    // Updates.
    assert_eq!(out["updated_person"]["phone"], "556");
    assert_eq!(out["updated_person"]["position"], "lead");
    assert_eq!(out["updated_person"]["departments"], json!([id("dept")]));
    assert_eq!(out["reread_person"], id("artist"));
    assert_eq!(out["updated_shot"], "opening shot");
    assert_eq!(out["updated_asset"], "a wooden chair");
    assert_eq!(out["updated_task"], 2);
    assert_eq!(out["updated_project"], "24");

    // Deletes.
    assert_eq!(out["assets_left"], json!(["Chair", "Rabbit"]));
    assert_eq!(out["shots_left"], json!(["P01"]));
    assert_eq!(out["removed_person"], Value::Null);
    assert!(
        out["linked_person_removed"]
            .as_str()
            .unwrap()
            .contains("Some data are still linked to given person."),
        "{out}"
    );
    assert_eq!(out["team_after"], json!([id("artist")]));
    assert_eq!(out["model_assignees"], json!([id("artist")]));
    assert_eq!(out["asset_tasks_left"], json!([]));
    assert_eq!(out["open_projects"], json!([]));
    assert_eq!(out["projects_left"], json!([]));
}
