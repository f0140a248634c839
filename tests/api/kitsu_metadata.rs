//! A project's metadata descriptors, driven through gazu 1.3.1's seven functions of its
//! `project` module (`all_metadata_descriptors`, `add_metadata_descriptor`,
//! `get_metadata_descriptor`, `update_metadata_descriptor`, `remove_metadata_descriptor`,
//! `reorder_metadata_descriptors`, `get_metadata_descriptor_by_field_name`) and plain HTTP
//! where gazu cannot say it. The answers are the real Zou 1.0.97's
//! (tests/fixtures/zou-1.0.97-metadata.md), but where marked there.
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

def caught(f, *args, **kwargs):
    try:
        return ["ok", f(*args, **kwargs)]
    except Exception as e:
        return [type(e).__name__, str(e)]

def as_role(name, role, project=None):
    mail = n(name) + "@example.com"
    person = gazu.person.new_person(name, n("X"), mail, role=role,
                                    password="a-strong-and-secure-password-2")
    if project:
        gazu.project.add_person_to_team(project, person)
    client = gazu.client.create_client(gazu.client.get_host())
    gazu.log_in(mail, "a-strong-and-secure-password-2", client=client)
    return client

project = gazu.project.new_project(n("Meta"))
other = gazu.project.new_project(n("Other"))
P = "data/projects/%s/metadata-descriptors" % project["id"]
O = "data/projects/%s/metadata-descriptors" % other["id"]
manager = as_role("manager", "manager", project)
supervisor = as_role("supervisor", "supervisor", project)
artist = as_role("artist", "user", project)
client = as_role("client", "client", project)
vendor = as_role("vendor", "vendor", project)
outsider = as_role("outsider", "manager")
dep = gazu.person.new_department(n("Anim"), color="#123456")
tt = gazu.task.new_task_type(n("Layout"))

# Create.
out["created"] = d1 = gazu.project.add_metadata_descriptor(project, "Difficulty Level", "Asset", data_type="list", choices=["easy", "hard"])
out["camera_shot"] = d2 = gazu.project.add_metadata_descriptor(project, "Camera", "Shot")
out["notes"] = d3 = gazu.project.add_metadata_descriptor(project, "Notes", "Asset", for_client=True, departments=[dep], client=manager)
out["budget"] = d4 = gazu.project.add_metadata_descriptor(project, "Budget code", "Asset")
out["slug"] = gazu.project.add_metadata_descriptor(project, "Élan vital: 2!", "Sequence")
out["camera_asset"] = gazu.project.add_metadata_descriptor(project, "Camera", "Asset")
out["task"] = gazu.project.add_metadata_descriptor(project, "Task field", "Task", task_type_id=tt)
out["no_type"] = call("POST", P, {"name": "No type"})
out["no_name"] = call("POST", P, {"entity_type": "Asset"})
out["empty_name"] = call("POST", P, {"name": "", "entity_type": "Asset"})
out["null_name"] = call("POST", P, {"name": None, "entity_type": "Asset"})
out["bad_entity_type"] = caught(gazu.project.add_metadata_descriptor, project, "Bad type", "Person")
out["bad_data_type"] = call("POST", P, {"name": "Bad data", "entity_type": "Asset", "data_type": "float"})
out["empty_data_type"] = call("POST", P, {"name": "Empty data", "entity_type": "Asset", "data_type": ""})
out["duplicate"] = call("POST", P, {"name": "Difficulty Level", "entity_type": "Asset"})
out["duplicate_field_name"] = call("POST", P, {"name": "difficulty-level", "entity_type": "Asset"})
out["bad_choices"] = call("POST", P, {"name": "Bad choices", "entity_type": "Asset", "choices": "a"})
out["bad_choice_items"] = call("POST", P, {"name": "Bad choices 2", "entity_type": "Asset", "choices": [1, 2]})
out["bad_for_client"] = call("POST", P, {"name": "Bad client", "entity_type": "Asset", "for_client": "maybe"})
out["unknown_department"] = call("POST", P, {"name": "Unknown dep", "entity_type": "Asset", "departments": [str(uuid.uuid4())]})
out["task_no_type"] = call("POST", P, {"name": "Task no type", "entity_type": "Task"})
out["task_unknown_type"] = call("POST", P, {"name": "Task unknown", "entity_type": "Task", "task_type_id": str(uuid.uuid4())})
out["asset_with_task_type"] = call("POST", P, {"name": "Asset tt", "entity_type": "Asset", "task_type_id": tt["id"]})
out["extra_keys"] = call("POST", P, {"name": "Extra keys", "entity_type": "Edit", "position": 7, "field_name": "zzz", "project_id": other["id"]})
out["list_body"] = call("POST", P, ["a"])
out["other_project"] = gazu.project.add_metadata_descriptor(other, "Difficulty Level", "Asset")
out["unknown_project"] = call("POST", "data/projects/%s/metadata-descriptors" % uuid.uuid4(), {"name": "U", "entity_type": "Asset"})
out["malformed_project"] = call("POST", "data/projects/nope/metadata-descriptors", {"name": "U", "entity_type": "Asset"})
out["supervisor_with_department"] = call("POST", P, {"name": "Sup dep", "entity_type": "Asset", "departments": [dep["id"]]}, client=supervisor)
out["create_forbidden"] = [call("POST", P, {"name": "Forbidden", "entity_type": "Asset"}, client=c)[0]
                           for c in (outsider, supervisor, artist, client, vendor)]
out["forbidden_message"] = call("POST", P, {"name": "Forbidden", "entity_type": "Asset"}, client=artist)[1]

# Read.
out["all"] = gazu.project.all_metadata_descriptors(project)
out["all_assets"] = gazu.project.all_metadata_descriptors(project, entity_type="Asset")
out["all_by"] = {name: caught(gazu.project.all_metadata_descriptors, project, client=c)
                 for name, c in [("manager", manager), ("supervisor", supervisor), ("artist", artist),
                                 ("client", client), ("vendor", vendor), ("outsider", outsider)]}
out["all_unknown_project"] = call("GET", "data/projects/%s/metadata-descriptors" % uuid.uuid4())
out["get"] = gazu.project.get_metadata_descriptor(project, d1)
out["get_by"] = {name: call("GET", "%s/%s" % (P, d1["id"]), client=c)[0]
                 for name, c in [("manager", manager), ("supervisor", supervisor), ("artist", artist),
                                 ("client", client), ("vendor", vendor), ("outsider", outsider)]}
out["get_for_client"] = call("GET", "%s/%s" % (P, d3["id"]), client=client)[0]
out["get_under_other_project"] = call("GET", "%s/%s" % (O, d1["id"]))
out["get_unknown"] = call("GET", "%s/%s" % (P, uuid.uuid4()))
out["get_malformed"] = call("GET", P + "/nope")
out["by_field_name"] = gazu.project.get_metadata_descriptor_by_field_name(project, "difficulty_level")
out["by_field_name_none"] = gazu.project.get_metadata_descriptor_by_field_name(project, "nothing")
out["by_field_name_artist"] = gazu.project.get_metadata_descriptor_by_field_name(project, "difficulty_level", client=artist)
out["by_field_name_outsider"] = gazu.project.get_metadata_descriptor_by_field_name(project, "difficulty_level", client=outsider)
out["by_field_name_client"] = [gazu.project.get_metadata_descriptor_by_field_name(project, f, client=client)
                               for f in ("notes", "difficulty_level")]

# Update.
atype = gazu.asset.new_asset_type(n("Character"))
asset = gazu.asset.new_asset(project, atype, n("Hero"), extra_data={"difficulty_level": "hard", "budget_code": "B1", "other": 1})
asset_data = lambda: gazu.asset.get_asset(asset["id"])["data"]
out["updated"] = gazu.project.update_metadata_descriptor(project, {"id": d1["id"], "name": "Difficulty", "data_type": "list", "choices": ["easy", "medium", "hard"], "for_client": True, "departments": [dep], "entity_type": "Shot", "position": 9, "field_name": "zzz", "project_id": other["id"]})
out["data_after_rename"] = asset_data()
out["update_empty"] = call("PUT", "%s/%s" % (P, d1["id"]), {})
out["update_empty_name"] = call("PUT", "%s/%s" % (P, d1["id"]), {"name": ""})
out["update_null_name"] = call("PUT", "%s/%s" % (P, d1["id"]), {"name": None, "data_type": "list", "choices": ["a"]})
out["update_bad_data_type"] = call("PUT", "%s/%s" % (P, d1["id"]), {"data_type": "float"})
out["update_taken_name"] = call("PUT", "%s/%s" % (P, d1["id"]), {"name": "Budget code"})
out["update_taken_other_type"] = call("PUT", "%s/%s" % (P, d1["id"]), {"name": "Camera"})
out["update_number_name"] = call("PUT", "%s/%s" % (P, d1["id"]), {"name": 3})
out["update_manager"] = gazu.project.update_metadata_descriptor(project, {"id": d2["id"], "name": "Camera lens"}, client=manager)
out["update_forbidden"] = [call("PUT", "%s/%s" % (P, d1["id"]), {"name": "Forbidden"}, client=c)[0]
                           for c in (outsider, supervisor, artist, client, vendor)]
out["update_unknown"] = call("PUT", "%s/%s" % (P, uuid.uuid4()), {"name": "U"})
out["update_under_other_project"] = call("PUT", "%s/%s" % (O, d1["id"]), {"name": "Via other"})
whole = gazu.project.get_metadata_descriptor(project, d4)
whole["name"] = "Budget line"
out["update_whole"] = gazu.project.update_metadata_descriptor(project, whole)
out["data_after_second_rename"] = asset_data()

# Reorder.
d6 = gazu.project.add_metadata_descriptor(project, "Alpha", "Asset")
out["reordered"] = gazu.project.reorder_metadata_descriptors(project, "Asset", [d6, d1["id"]])
out["after_reorder"] = [[d["name"], d["position"]] for d in gazu.project.all_metadata_descriptors(project)]
out["reorder_other_type"] = call("POST", P + "/reorder", {"entity_type": "Asset", "descriptor_ids": [d2["id"]]})
out["reorder_empty"] = call("POST", P + "/reorder", {"entity_type": "Asset", "descriptor_ids": []})
out["reorder_no_ids"] = call("POST", P + "/reorder", {"entity_type": "Asset"})
out["reorder_no_type"] = call("POST", P + "/reorder", {"descriptor_ids": [d1["id"]]})
out["reorder_bad_type"] = caught(gazu.project.reorder_metadata_descriptors, project, "Person", [d1])
out["reorder_twice"] = gazu.project.reorder_metadata_descriptors(project, "Shot", [d2, d2])
out["reorder_under_other_project"] = call("POST", O + "/reorder", {"entity_type": "Asset", "descriptor_ids": [d1["id"]]})
out["reorder_manager"] = [[d["name"], d["position"]] for d in gazu.project.reorder_metadata_descriptors(project, "Asset", [d1], client=manager)]
out["reorder_forbidden"] = [call("POST", P + "/reorder", {"entity_type": "Asset", "descriptor_ids": [d1["id"]]}, client=c)[0]
                            for c in (outsider, supervisor, artist, client, vendor)]

# Delete.
out["remove_forbidden"] = [call("DELETE", "%s/%s" % (P, d4["id"]), client=c)[0]
                           for c in (outsider, supervisor, artist, client, vendor)]
out["remove_under_other_project"] = call("DELETE", "%s/%s" % (O, d4["id"]))[0]
out["removed"] = caught(gazu.project.remove_metadata_descriptor, project, d4)
out["data_after_remove"] = asset_data()
out["remove_again"] = call("DELETE", "%s/%s" % (P, d4["id"]))
out["get_removed"] = call("GET", "%s/%s" % (P, d4["id"]))[0]
out["removed_manager"] = caught(gazu.project.remove_metadata_descriptor, project, d1, force=True, client=manager)
out["remove_malformed"] = call("DELETE", P + "/nope")[0]
out["final"] = [d["field_name"] for d in gazu.project.all_metadata_descriptors(project, entity_type="Asset")]
out["readded"] = gazu.project.add_metadata_descriptor(project, "Budget code", "Asset")["field_name"]
rating = gazu.project.add_metadata_descriptor(project, "Rating", "Project", data_type="number")
gazu.project.update_project_data(project, {"rating": 4, "keep": True})
gazu.project.remove_metadata_descriptor(project, rating)
out["project_data_after_remove"] = gazu.project.get_project(project["id"])["data"]
tt2 = gazu.task.new_task_type(n("Anim"))
out["task_other_type"] = call("POST", P, {"name": "Task field", "entity_type": "Task", "task_type_id": tt2["id"]})[0]
out["task_same_type"] = call("POST", P, {"name": "task-field", "entity_type": "Task", "task_type_id": tt["id"]})
print(json.dumps(out))
"##;

/// Zou's answer to an unknown record.
const NOT_FOUND: &str = "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";
const FORBIDDEN: &str = "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.";

/// A record without its id and dates, which differ from run to run (checked to be there).
fn stable(record: &Value) -> Value {
    let mut fields = record.as_object().unwrap().clone();
    for key in ["id", "created_at", "updated_at"] {
        let value = fields.remove(key);
        assert!(
            value.as_ref().is_some_and(Value::is_string),
            "{key}: {record}"
        );
    }
    Value::Object(fields)
}

/// Zou's pydantic refusal of `fields`, each with its message.
fn validation(errors: &[(&str, &str)]) -> Value {
    let errors: Vec<Value> = errors
        .iter()
        .map(|(field, message)| json!({"field": field, "message": message}))
        .collect();
    json!([400, {"error": true, "message": "Validation error.", "data": {"errors": errors}}])
}

/// Zou's `WrongParameterException`.
fn wrong(message: &str) -> Value {
    json!([400, {"error": true, "message": message, "data": null}])
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect()
}

#[apply(backends)]
async fn gazu_makes_reads_changes_reorders_and_removes_metadata_descriptors(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(SCRIPT, &[&host, &email, PASSWORD, "-t"])
        .await
        .json;
    let project = out["created"]["project_id"].as_str().unwrap().to_string();
    let not_found = json!([404, {"error": true, "message": NOT_FOUND}]);
    let forbidden = json!({"error": true, "message": FORBIDDEN});

    // A descriptor as Zou makes it: whole, its field name the slug of its name.
    assert_eq!(
        stable(&out["created"]),
        json!({"name": "Difficulty Level", "field_name": "difficulty_level", "entity_type": "Asset",
               "data_type": "list", "choices": ["easy", "hard"], "for_client": false,
               "departments": [], "position": null, "project_id": project,
               "task_type_id": null, "type": "MetadataDescriptor"}),
        "{out}"
    );
    assert_eq!(out["created"]["created_at"].as_str().unwrap().len(), 19);
    assert_eq!(out["camera_shot"]["data_type"], "string");
    assert_eq!(out["camera_shot"]["choices"], json!([]));
    assert_eq!(out["notes"]["departments"].as_array().unwrap().len(), 1);
    assert_eq!(out["notes"]["for_client"], true);
    assert_eq!(out["slug"]["field_name"], "elan_vital_2");
    assert_eq!(out["camera_asset"]["field_name"], "camera", "{out}");
    assert_eq!(out["task"]["entity_type"], "Task");
    assert!(out["task"]["task_type_id"].is_string());
    assert_eq!(out["no_type"][0], 201, "{out}");
    assert_eq!(out["no_type"][1]["entity_type"], "Asset");

    // Zou's refusals.
    assert_eq!(out["no_name"], validation(&[("name", "Field required")]));
    assert_eq!(
        out["empty_name"],
        validation(&[("name", "String should have at least 1 character")])
    );
    assert_eq!(
        out["null_name"],
        validation(&[("name", "Input should be a valid string")])
    );
    assert_eq!(out["bad_entity_type"][0], "ParameterException", "{out}");
    assert!(
        out["bad_entity_type"][1]
            .as_str()
            .unwrap()
            .contains("Wrong entity type. Please select Asset, Shot, Sequence, Episode, Edit, Project, or Task."),
        "{out}"
    );
    assert_eq!(out["bad_data_type"], wrong("Invalid data_type"));
    assert_eq!(
        out["empty_data_type"],
        validation(&[("data_type", "String should have at least 1 character")])
    );
    assert_eq!(
        out["duplicate"],
        wrong("Metadata descriptor already exists.")
    );
    assert_eq!(
        out["duplicate_field_name"],
        wrong("Metadata descriptor already exists.")
    );
    assert_eq!(
        out["bad_choices"],
        validation(&[("choices", "Input should be a valid list")])
    );
    assert_eq!(
        out["bad_choice_items"],
        validation(&[
            ("choices.0", "Input should be a valid string"),
            ("choices.1", "Input should be a valid string")
        ])
    );
    assert_eq!(
        out["bad_for_client"],
        validation(&[(
            "for_client",
            "Input should be a valid boolean, unable to interpret input"
        )])
    );
    assert_eq!(out["unknown_department"][0], 201, "{out}");
    assert_eq!(out["unknown_department"][1]["departments"], json!([]));
    assert_eq!(
        out["task_no_type"],
        wrong("Task metadata descriptors require a task_type_id.")
    );
    assert_eq!(out["task_unknown_type"], wrong("Task type not found."));
    assert_eq!(
        out["asset_with_task_type"],
        wrong("task_type_id only applies to Task metadata descriptors.")
    );
    let extra = &out["extra_keys"];
    assert_eq!(extra[0], 201, "{out}");
    assert_eq!(extra[1]["position"], Value::Null);
    assert_eq!(extra[1]["field_name"], "extra_keys");
    assert_eq!(extra[1]["project_id"], project.as_str());
    assert_eq!(
        out["list_body"],
        validation(&[(
            "",
            "Input should be a valid dictionary or instance of MetadataDescriptorSchema"
        )])
    );
    assert_eq!(out["other_project"]["field_name"], "difficulty_level");
    assert_eq!(out["unknown_project"], not_found);
    assert_eq!(out["malformed_project"], not_found);
    assert_eq!(out["supervisor_with_department"][0], 201, "{out}");
    assert_eq!(out["create_forbidden"], json!([403, 403, 403, 403, 403]));
    assert_eq!(out["forbidden_message"], forbidden);

    // The list: whole, by position then name (bytes: "É" after "U").
    let all = names(&out["all"]);
    assert_eq!(
        all,
        [
            "Budget code",
            "Camera",
            "Camera",
            "Difficulty Level",
            "Extra keys",
            "No type",
            "Notes",
            "Sup dep",
            "Task field",
            "Unknown dep",
            "Élan vital: 2!"
        ],
        "{out}"
    );
    assert!(out["all"][0]["departments"].is_array());
    assert_eq!(out["all"][0]["type"], "MetadataDescriptor");
    assert_eq!(out["all_assets"].as_array().unwrap().len(), 7);
    for role in ["manager", "supervisor", "artist"] {
        assert_eq!(
            out["all_by"][role][1].as_array().unwrap().len(),
            11,
            "{role}: {out}"
        );
    }
    // A vendor without departments: the descriptors of no department.
    assert_eq!(
        out["all_by"]["vendor"][1].as_array().unwrap().len(),
        9,
        "{out}"
    );
    assert_eq!(names(&out["all_by"]["client"][1]), ["Notes"], "{out}");
    assert_eq!(out["all_by"]["outsider"][0], "NotAllowedException", "{out}");
    assert_eq!(out["all_unknown_project"], json!([200, []]));
    assert_eq!(out["get"], out["created"]);
    assert_eq!(
        out["get_by"],
        json!({"manager": 200, "supervisor": 200, "artist": 200, "client": 403,
               "vendor": 200, "outsider": 403})
    );
    assert_eq!(out["get_for_client"], 200);
    assert_eq!(out["get_under_other_project"], not_found);
    assert_eq!(out["get_unknown"], not_found);
    assert_eq!(out["get_malformed"], not_found);

    // By field name: the generic list, without departments; the team's only.
    let mut by = out["created"].clone();
    by.as_object_mut().unwrap().remove("departments");
    assert_eq!(out["by_field_name"], by, "{out}");
    assert_eq!(out["by_field_name_none"], Value::Null);
    assert_eq!(out["by_field_name_artist"], by);
    assert_eq!(out["by_field_name_outsider"], Value::Null);
    assert_eq!(out["by_field_name_client"][0]["name"], "Notes");
    assert_eq!(out["by_field_name_client"][1], Value::Null);

    // Update: a rename renames the field; every other key takes its value or its default.
    let updated = &out["updated"];
    assert_eq!(updated["name"], "Difficulty");
    assert_eq!(updated["field_name"], "difficulty");
    assert_eq!(updated["choices"], json!(["easy", "medium", "hard"]));
    assert_eq!(updated["for_client"], true);
    assert_eq!(updated["departments"].as_array().unwrap().len(), 1);
    assert_eq!(updated["entity_type"], "Asset");
    assert_eq!(updated["position"], Value::Null);
    assert_eq!(updated["project_id"], project.as_str());
    // The values move to the new key in the records' data.
    assert_eq!(
        out["data_after_rename"],
        json!({"difficulty": "hard", "budget_code": "B1", "other": 1}),
        "{out}"
    );
    assert_eq!(
        out["data_after_second_rename"],
        json!({"difficulty": "hard", "budget_line": "B1", "other": 1}),
        "{out}"
    );
    let empty = &out["update_empty"];
    assert_eq!(empty[0], 200);
    assert_eq!(
        [
            &empty[1]["name"],
            &empty[1]["data_type"],
            &empty[1]["choices"],
            &empty[1]["for_client"],
            &empty[1]["departments"]
        ],
        [
            &json!("Difficulty"),
            &json!("string"),
            &json!([]),
            &json!(false),
            &json!([])
        ]
    );
    assert_eq!(out["update_empty_name"], wrong("Name cannot be empty."));
    assert_eq!(out["update_null_name"][0], 200);
    assert_eq!(out["update_null_name"][1]["name"], "Difficulty");
    assert_eq!(out["update_null_name"][1]["choices"], json!(["a"]));
    assert_eq!(out["update_bad_data_type"], wrong("Invalid data_type"));
    assert_eq!(
        out["update_taken_name"],
        wrong("Metadata descriptor already exists.")
    );
    assert_eq!(
        out["update_taken_other_type"],
        wrong("Metadata descriptor already exists.")
    );
    assert_eq!(
        out["update_number_name"],
        validation(&[("name", "Input should be a valid string")])
    );
    assert_eq!(out["update_manager"]["field_name"], "camera_lens");
    assert_eq!(out["update_forbidden"], json!([403, 403, 403, 403, 403]));
    assert_eq!(out["update_unknown"], not_found);
    assert_eq!(out["update_under_other_project"], not_found);
    assert_eq!(out["update_whole"]["field_name"], "budget_line");

    // Reorder: the listed first, the others by name after them.
    let reordered: Vec<(&str, i64)> = out["reordered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["position"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        reordered,
        [
            ("Alpha", 1),
            ("Difficulty", 2),
            ("Budget line", 3),
            ("Camera", 4),
            ("No type", 5),
            ("Notes", 6),
            ("Sup dep", 7),
            ("Unknown dep", 8)
        ],
        "{out}"
    );
    assert_eq!(out["after_reorder"][0], json!(["Alpha", 1]));
    assert_eq!(
        out["reorder_other_type"],
        wrong(&format!(
            "Descriptor {} not found for project {project} and entity type Asset",
            out["camera_shot"]["id"].as_str().unwrap()
        ))
    );
    assert_eq!(
        out["reorder_empty"],
        validation(&[(
            "descriptor_ids",
            "List should have at least 1 item after validation, not 0"
        )])
    );
    assert_eq!(
        out["reorder_no_ids"],
        validation(&[("descriptor_ids", "Field required")])
    );
    assert_eq!(
        out["reorder_no_type"],
        validation(&[("entity_type", "Field required")])
    );
    assert_eq!(out["reorder_bad_type"][0], "ParameterException");
    assert_eq!(out["reorder_twice"][0]["position"], 2, "{out}");
    assert_eq!(out["reorder_under_other_project"][0], 400);
    assert_eq!(out["reorder_manager"][0], json!(["Difficulty", 1]));
    assert_eq!(out["reorder_manager"][1], json!(["Alpha", 2]));
    assert_eq!(out["reorder_forbidden"], json!([403, 403, 403, 403, 403]));

    // Delete.
    assert_eq!(out["remove_forbidden"], json!([403, 403, 403, 403, 403]));
    assert_eq!(out["remove_under_other_project"], 404);
    assert_eq!(out["removed"][0], "ok", "{out}");
    assert_eq!(out["remove_again"], not_found);
    assert_eq!(
        out["data_after_remove"],
        json!({"difficulty": "hard", "other": 1}),
        "{out}"
    );
    assert_eq!(out["get_removed"], 404);
    assert_eq!(out["removed_manager"][0], "ok", "{out}");
    assert_eq!(out["remove_malformed"], 404);
    assert_eq!(
        out["final"],
        json!([
            "alpha",
            "camera",
            "no_type",
            "notes",
            "sup_dep",
            "unknown_dep"
        ]),
        "{out}"
    );
    // A removed descriptor's name is free again.
    assert_eq!(out["readded"], "budget_code");
    // A project's descriptor removed: out of the project's data.
    assert_eq!(
        out["project_data_after_remove"],
        json!({"keep": true}),
        "{out}"
    );

    app.assert_rebuild_equals_live(std::sync::Arc::new(annals_projections::kitsu::KitsuRecords))
        .await;
}
