//! The models gazu 1.3.1 reads and writes that annals added to the registry or beside it
//! (tests/fixtures/gazu-routes.md): the softwares (`all_softwares`, `get_software_by_name`,
//! `new_software`, `get_software`, `update_software`, and the working files that name one)
//! and the organisations (`all_organisations`). The script ran unchanged against the real Zou 1.0.97
//! (tests/fixtures/zou-1.0.97-models.md), whose answers the assertions hold annals to.
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

def call(method, path, body=None, client=None):
    t = (client or gazu.client.default_client).tokens["access_token"]
    r = requests.request(method, host.rstrip("/") + "/" + path,
                         headers={"Authorization": "Bearer " + t}, json=body)
    try:
        return [r.status_code, r.json()]
    except ValueError:
        return [r.status_code, r.text]

def as_role(role):
    mail = n(role) + "@example.com"
    gazu.person.new_person(role, n("X"), mail, role=role,
                           password="a-strong-and-secure-password-2")
    client = gazu.client.create_client(gazu.client.get_host())
    gazu.log_in(mail, "a-strong-and-secure-password-2", client=client)
    return client

artist = as_role("user")
manager = as_role("manager")

# Softwares: the generic CRUD, read by anyone signed in, written by studio managers.
blender = gazu.files.new_software(n("Blender"), "bl", ".blend")
maya = gazu.files.new_software(n("Maya"), "ma", ".ma", secondary_extensions=["mb"])
out["created"] = dict(blender)
out["created_maya"] = maya
out["all"] = sorted(s["name"] for s in gazu.files.all_softwares() if s["name"].endswith(tag))
out["by_name"] = gazu.files.get_software_by_name(n("Maya"))
out["by_name_artist"] = gazu.files.get_software_by_name(n("Maya"), client=artist)["id"]
out["by_unknown_name"] = gazu.files.get_software_by_name(n("Houdini"))
out["get"] = gazu.files.get_software(blender["id"])
out["get_artist"] = gazu.files.get_software(blender["id"], client=artist)["id"]
blender["version"] = "4.2"
blender["monthly_cost"] = 10
out["updated"] = gazu.files.update_software(blender)
out["get_updated"] = gazu.files.get_software(blender["id"])
out["duplicate"] = call("POST", "data/softwares", {"name": n("Blender"), "short_name": "b", "file_extension": ".b"})
out["rename_to_taken"] = call("PUT", "data/softwares/" + blender["id"], {"name": n("Maya")})
out["no_extension"] = call("POST", "data/softwares", {"name": n("NoExt"), "short_name": "ne"})
out["long_name"] = call("POST", "data/softwares", {"name": "x" * 41, "short_name": "x", "file_extension": ".x"})
out["bad_cost"] = call("POST", "data/softwares", {"name": n("Cost"), "short_name": "c", "file_extension": ".x", "monthly_cost": "lots"})
out["unknown_key"] = call("POST", "data/softwares", {"name": n("Foo"), "short_name": "f", "file_extension": ".x", "foo": 1})
out["manager_creates"] = call("POST", "data/softwares", {"name": n("Mgr"), "short_name": "m", "file_extension": ".x"}, manager)[0]
out["artist_creates"] = call("POST", "data/softwares", {"name": n("Art"), "short_name": "a", "file_extension": ".x"}, artist)[0]
out["manager_updates"] = call("PUT", "data/softwares/" + blender["id"], {"version": "5"}, manager)[0]
out["manager_deletes"] = call("DELETE", "data/softwares/" + maya["id"], None, manager)[0]
out["unknown"] = call("GET", "data/softwares/%s" % uuid.uuid4())
out["malformed"] = call("GET", "data/softwares/nope")
out["deleted"] = call("DELETE", "data/softwares/" + maya["id"])
out["after_delete"] = call("GET", "data/softwares/" + maya["id"])[0]
# A working file names its software: an unknown one is refused, a named one is not removed.
project = gazu.project.new_project(n("Soft"))
prop = gazu.asset.new_asset_type(n("Prop"))
chair = gazu.asset.new_asset(project, prop, "Chair")
modeling = gazu.task.new_task_type(n("Modeling"), for_entity="Asset")
todo = gazu.task.new_task_status(n("Todo"), n("td"), "#cccccc")
task = gazu.task.new_task(chair, modeling, task_status=todo)
working = {"name": "main", "task_id": task["id"], "entity_id": chair["id"], "revision": 1}
out["unknown_software"] = call("POST", "data/working-files", dict(working, software_id=str(uuid.uuid4())))
made = call("POST", "data/working-files", dict(working, software_id=blender["id"]))
out["working_file_software"] = [made[0], made[1]["software_id"] == blender["id"]]
out["delete_used_software"] = call("DELETE", "data/softwares/" + blender["id"])

# Organisations: the one organisation, its chat tokens for studio managers only.
out["organisations"] = gazu.person.all_organisations()
out["organisations_artist"] = gazu.person.all_organisations(client=artist)
out["organisations_manager"] = gazu.person.all_organisations(client=manager)
out["authenticated_organisation"] = gazu.client.get("auth/authenticated")["organisation"]
print(json.dumps(out))
"##;

/// Zou's answer to an unknown or malformed id.
const NOT_FOUND: &str = "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

/// A refusal's status and message (annals adds `data.errors` naming the field).
fn refusal(answer: &Value) -> (u64, &str) {
    (
        answer[0].as_u64().unwrap(),
        answer[1]["message"].as_str().unwrap_or_default(),
    )
}

#[apply(backends)]
async fn gazu_makes_reads_and_updates_softwares_and_lists_the_organisation(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(SCRIPT, &[&host, &email, PASSWORD, "-t"])
        .await
        .json;

    // A software as Zou makes it: its defaults, whole-second dates, `type`.
    let created = &out["created"];
    let mut fields = created.as_object().unwrap().clone();
    for key in ["id", "created_at", "updated_at"] {
        let value = fields.remove(key).unwrap();
        assert!(value.is_string(), "{key}: {out}");
    }
    assert_eq!(
        Value::Object(fields),
        json!({"name": "Blender-t", "short_name": "bl", "archived": false, "version": null,
               "file_extension": ".blend", "secondary_extensions": null, "monthly_cost": 0,
               "inventory_amount": 0, "type": "Software"}),
        "{out}"
    );
    assert_eq!(created["created_at"].as_str().unwrap().len(), 19, "{out}");
    assert_eq!(out["created_maya"]["secondary_extensions"], json!(["mb"]));

    // Read by anyone signed in: the list, by name (gazu's first match, or none), by id.
    assert_eq!(out["all"], json!(["Blender-t", "Maya-t"]), "{out}");
    assert_eq!(out["by_name"], out["created_maya"], "{out}");
    assert_eq!(out["by_name_artist"], out["created_maya"]["id"]);
    assert_eq!(out["by_unknown_name"], Value::Null);
    assert_eq!(out["get"], out["created"], "{out}");
    assert_eq!(out["get_artist"], created["id"]);

    // gazu's update puts the whole record back; only the changed fields change.
    for answer in [&out["updated"], &out["get_updated"]] {
        assert_eq!(answer["version"], "4.2", "{out}");
        assert_eq!(answer["monthly_cost"], 10, "{out}");
        assert_eq!(answer["name"], "Blender-t");
        assert_eq!(answer["created_at"], created["created_at"]);
    }

    // Zou's refusals, with its messages.
    let unique = "A record with the same unique values already exists.";
    let invalid = "One of the provided values has an invalid format.";
    assert_eq!(refusal(&out["duplicate"]), (400, unique), "{out}");
    assert_eq!(refusal(&out["rename_to_taken"]), (400, unique), "{out}");
    assert_eq!(
        refusal(&out["no_extension"]),
        (400, "A required field is missing."),
        "{out}"
    );
    assert_eq!(refusal(&out["long_name"]), (400, invalid), "{out}");
    assert_eq!(refusal(&out["bad_cost"]), (400, invalid), "{out}");
    assert_eq!(
        refusal(&out["unknown_key"]),
        (400, "'foo' is an invalid keyword argument for Software"),
        "{out}"
    );
    // Studio managers only write.
    for key in [
        "manager_creates",
        "artist_creates",
        "manager_updates",
        "manager_deletes",
    ] {
        assert_eq!(out[key], 403, "{key}: {out}");
    }
    assert_eq!(
        out["unknown"],
        json!([404, {"error": true, "message": NOT_FOUND}])
    );
    // Zou's software read answers a malformed id as an unknown one (404); annals answers it
    // as its generic read answers every model (Zou's department read, for one).
    assert_eq!(
        out["malformed"],
        json!([400, {"error": true, "message": "Malformed ID.", "data": null}])
    );
    assert_eq!(out["deleted"], json!([204, ""]), "{out}");
    assert_eq!(out["after_delete"], 404);
    let referenced = "The change conflicts with records referencing this one.";
    assert_eq!(
        refusal(&out["unknown_software"]),
        (400, referenced),
        "{out}"
    );
    assert_eq!(out["working_file_software"], json!([201, true]), "{out}");
    assert_eq!(
        refusal(&out["delete_used_software"]),
        (400, referenced),
        "{out}"
    );

    // The organisation, as `/auth/authenticated` names it; its chat tokens for studio
    // managers only.
    let organisation = &out["authenticated_organisation"];
    assert_eq!(out["organisations"], json!([organisation]), "{out}");
    let mut minimal = organisation.as_object().unwrap().clone();
    for key in [
        "chat_token_slack",
        "chat_webhook_mattermost",
        "chat_token_discord",
    ] {
        assert_eq!(minimal.remove(key), Some(json!("")), "{key}: {out}");
    }
    assert_eq!(out["organisations_artist"], json!([minimal]), "{out}");
    assert_eq!(out["organisations_manager"], json!([minimal]), "{out}");
}
