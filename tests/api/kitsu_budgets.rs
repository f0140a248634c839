//! A project's budgets and budget entries, driven through gazu 1.3.1's ten functions of its
//! `project` module (`get_budgets`, `get_budget`, `create_budget`, `update_budget`,
//! `remove_budget`, `get_budget_entries`, `get_budget_entry`, `create_budget_entry`,
//! `update_budget_entry`, `remove_budget_entry`) and plain HTTP where gazu cannot say it. The
//! answers are the real Zou 1.0.97's (tests/fixtures/zou-1.0.97-budgets.md); where Zou fails
//! with a 500 or acts outside the path's project, annals answers a 4xx, as marked there.
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

project = gazu.project.new_project(n("Budget"))
other = gazu.project.new_project(n("Other"))
P = "data/projects/%s/budgets" % project["id"]
O = "data/projects/%s/budgets" % other["id"]
manager = as_role("manager", "manager", project)
others = {
    "outsider": as_role("outsider", "manager"),
    "supervisor": as_role("supervisor", "supervisor", project),
    "artist": as_role("artist", "user", project),
}
dep = gazu.person.new_department(n("Anim"), color="#123456")
artist = gazu.person.get_person_by_email(n("artist") + "@example.com")

# Budgets.
first = gazu.project.create_budget(project, "First", description="d", currency="EUR",
                                   start_date="2025-01-01", end_date="2025-12-31", amount=1000)
out["created"] = first
out["second"] = gazu.project.create_budget(project, "Second")
out["third"] = gazu.project.create_budget(project, "Third", client=manager)
out["other_project"] = gazu.project.create_budget(other, "Other")
out["currency_null"] = call("POST", P, {"name": "Null currency", "currency": None})
out["ignored_keys"] = call("POST", P, {"name": "Keys", "revision": 9, "project_id": other["id"], "id": str(uuid.uuid4())})
out["budgets"] = gazu.project.get_budgets(project)
out["budgets_manager"] = gazu.project.get_budgets(project, client=manager)
out["get"] = gazu.project.get_budget(project, first)
out["get_manager"] = gazu.project.get_budget(project, first["id"], client=manager)
out["get_under_other_project"] = call("GET", "%s/%s" % (O, first["id"]))
out["get_unknown"] = call("GET", "%s/%s" % (P, uuid.uuid4()))
out["get_malformed"] = call("GET", P + "/nope")
out["list_malformed"] = call("GET", "data/projects/nope/budgets")
out["list_unknown_project"] = call("GET", "data/projects/%s/budgets" % uuid.uuid4())
out["no_name"] = call("POST", P, {})
out["empty_name"] = call("POST", P, {"name": ""})
out["number_name"] = call("POST", P, {"name": 12})
out["number_currency"] = call("POST", P, {"name": "N", "currency": 12})
out["long_currency"] = call("POST", P, {"name": "L", "currency": "EURO"})
out["list_body"] = call("POST", P, ["a"])
out["updated"] = gazu.project.update_budget(project, first, {"name": "Renamed", "currency": "GBP", "revision": 7, "project_id": other["id"], "amount": 5})
out["update_nulls"] = gazu.project.update_budget(project, first, {"name": None, "currency": None})
out["update_number_name"] = call("PUT", "%s/%s" % (P, first["id"]), {"name": 3})
out["update_unknown"] = call("PUT", "%s/%s" % (P, uuid.uuid4()), {"name": "U"})
out["update_under_other_project"] = call("PUT", "%s/%s" % (O, first["id"]), {"name": "Via other"})
out["update_manager"] = gazu.project.update_budget(project, out["second"], {"name": "Second by manager"}, client=manager)
out["forbidden"] = {}
for name, client in others.items():
    out["forbidden"][name] = [
        call("GET", P, client=client)[0],
        call("POST", P, {"name": "Forbidden"}, client=client)[0],
        call("GET", "%s/%s" % (P, first["id"]), client=client)[0],
        call("PUT", "%s/%s" % (P, first["id"]), {"name": "Forbidden"}, client=client)[0],
        call("DELETE", "%s/%s" % (P, first["id"]), client=client)[0],
    ]
out["forbidden_message"] = call("GET", P, client=others["artist"])[1]

# Budget entries.
E = "%s/%s/entries" % (P, first["id"])
full = {"department_id": dep["id"], "person_id": artist["id"], "start_date": "2025-02-01",
        "months_duration": 3, "daily_salary": 250.5, "position": "lead", "seniority": "senior"}
out["entry_created"] = e1 = gazu.client.post(E, dict(full, exceptions={"2025-02": 3}, name="ignored"))
out["entry_defaults"] = e2 = gazu.client.post(E, {"department_id": dep["id"], "start_date": "2025-03-01", "months_duration": 2, "daily_salary": 100}, client=manager)
out["gazu_create_entry"] = caught(gazu.project.create_budget_entry, project, first, "Camera",
                                  date="2025-01-01", amount=10, quantity=2, unit_price=5,
                                  description="d", category="gear")
out["entry_no_department"] = call("POST", E, {})
out["entry_fraction"] = call("POST", E, dict(full, months_duration=2.5))
out["entry_words"] = call("POST", E, dict(full, months_duration="three"))
out["entry_bad_salary"] = call("POST", E, dict(full, daily_salary="lots"))
out["entry_missing_dates"] = call("POST", E, {"department_id": dep["id"]})
out["entry_unknown_department"] = call("POST", E, dict(full, department_id=str(uuid.uuid4())))
out["entry_bad_date"] = call("POST", E, dict(full, start_date="March"))
out["entry_bad_position"] = call("POST", E, dict(full, position="boss"))
out["entry_unknown_budget"] = call("POST", "%s/%s/entries" % (P, uuid.uuid4()), full)
out["entry_under_other_project"] = call("POST", "%s/%s/entries" % (O, first["id"]), full)
out["entries"] = gazu.project.get_budget_entries(project, first)
out["entries_manager"] = gazu.project.get_budget_entries(project, first, client=manager)
out["entries_of_second"] = gazu.project.get_budget_entries(project, out["second"])
out["entries_unknown_budget"] = call("GET", "%s/%s/entries" % (P, uuid.uuid4()))
out["entry"] = gazu.project.get_budget_entry(project, first, e1)
out["entry_under_other_budget"] = call("GET", "%s/%s/entries/%s" % (P, out["second"]["id"], e1["id"]))
out["entry_unknown"] = call("GET", "%s/%s" % (E, uuid.uuid4()))
out["entry_malformed"] = call("GET", E + "/nope")
out["entry_updated"] = gazu.project.update_budget_entry(project, first, e1, dict(full, daily_salary=300, months_duration=4, budget_id=out["second"]["id"], exceptions={"2025-02": 2, "2025-03": 0, "2025-04": None}))
out["entry_replaced"] = gazu.project.update_budget_entry(project, first, e1, {"department_id": dep["id"], "start_date": "2025-02-01", "months_duration": 3, "daily_salary": 250.5})
out["entry_partial"] = call("PUT", "%s/%s" % (E, e1["id"]), {"daily_salary": 300})
out["entry_update_words"] = call("PUT", "%s/%s" % (E, e1["id"]), dict(full, months_duration="four"))
out["entry_update_manager"] = gazu.project.update_budget_entry(project, first, e1, full, client=manager)
out["entry_forbidden"] = {}
for name, client in others.items():
    out["entry_forbidden"][name] = [
        call("GET", E, client=client)[0],
        call("POST", E, full, client=client)[0],
        call("GET", "%s/%s" % (E, e1["id"]), client=client)[0],
        call("PUT", "%s/%s" % (E, e1["id"]), full, client=client)[0],
        call("DELETE", "%s/%s" % (E, e1["id"]), client=client)[0],
    ]
out["entry_get_after_forbidden"] = gazu.project.get_budget_entry(project, first, e1)
out["entry_removed"] = caught(gazu.project.remove_budget_entry, project, first, e1)
out["entry_after_remove"] = call("GET", "%s/%s" % (E, e1["id"]))[0]
out["entry_remove_again"] = call("DELETE", "%s/%s" % (E, e1["id"]))[0]
out["entries_after_remove"] = [e["id"] for e in gazu.project.get_budget_entries(project, first)]

# Deleting a budget deletes its entries; the next revision follows the highest left.
out["budget_removed"] = caught(gazu.project.remove_budget, project, first, client=manager)
out["budget_after_remove"] = call("GET", "%s/%s" % (P, first["id"]))[0]
out["entry_of_removed"] = call("GET", "%s/%s" % (E, e2["id"]))[0]
out["entries_of_removed"] = call("GET", E)
out["remove_again"] = call("DELETE", "%s/%s" % (P, first["id"]))[0]
out["remove_malformed"] = call("DELETE", P + "/nope")
out["remove_under_other_project"] = call("DELETE", "%s/%s" % (O, out["second"]["id"]))[0]
out["after_delete"] = gazu.project.create_budget(project, "After delete")
out["budgets_final"] = [[b["name"], b["revision"]] for b in gazu.project.get_budgets(project)]
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

/// Zou's pydantic refusal of one field.
fn validation(field: &str, message: &str) -> Value {
    json!([400, {"error": true, "message": "Validation error.",
                 "data": {"errors": [{"field": field, "message": message}]}}])
}

/// The status and message of a refusal.
fn refusal(answer: &Value) -> (u64, &str) {
    (
        answer[0].as_u64().unwrap(),
        answer[1]["message"].as_str().unwrap_or_default(),
    )
}

#[apply(backends)]
async fn gazu_makes_reads_changes_and_removes_budgets_and_their_entries(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(SCRIPT, &[&host, &email, PASSWORD, "-t"])
        .await
        .json;
    let project = out["created"]["project_id"].as_str().unwrap().to_string();
    let not_found = json!([404, {"error": true, "message": NOT_FOUND}]);
    let wrong_uuid = json!([400, {"error": true, "message": "Wrong UUID format.", "data": null}]);

    // A budget as Zou makes it (200, gazu's extra keys ignored), numbered in its project.
    assert_eq!(
        stable(&out["created"]),
        json!({"name": "First", "currency": "EUR", "project_id": project, "revision": 1,
               "type": "Budget"}),
        "{out}"
    );
    assert_eq!(out["created"]["created_at"].as_str().unwrap().len(), 19);
    assert_eq!(out["second"]["currency"], "USD");
    assert_eq!(out["second"]["revision"], 2);
    assert_eq!(out["third"]["revision"], 3, "{out}");
    assert_eq!(out["other_project"]["revision"], 1);
    assert_eq!(out["currency_null"][0], 200, "{out}");
    assert_eq!(out["currency_null"][1]["currency"], Value::Null);
    let keys = &out["ignored_keys"];
    assert_eq!(keys[0], 200, "{out}");
    assert_eq!(keys[1]["revision"], 5);
    assert_eq!(keys[1]["project_id"], project.as_str());

    // The list as Zou presents it, in creation order; the single read whole.
    let listed = out["budgets"].as_array().unwrap();
    for budget in listed {
        let keys: Vec<&str> = budget
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            ["currency", "id", "name", "project_id", "revision"],
            "{out}"
        );
    }
    let names: Vec<&str> = listed.iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["First", "Second", "Third", "Null currency", "Keys"],
        "{out}"
    );
    assert_eq!(out["budgets"][0]["id"], out["created"]["id"]);
    assert_eq!(out["budgets_manager"], out["budgets"]);
    assert_eq!(out["get"], out["created"], "{out}");
    assert_eq!(out["get_manager"], out["created"]);
    assert_eq!(out["get_under_other_project"], not_found);
    assert_eq!(out["get_unknown"], not_found);
    assert_eq!(out["get_malformed"], wrong_uuid);
    assert_eq!(out["list_malformed"], wrong_uuid);
    assert_eq!(out["list_unknown_project"], json!([200, []]));

    // Zou's schema refusals.
    assert_eq!(
        out["no_name"],
        validation("name", "Field required"),
        "{out}"
    );
    assert_eq!(
        out["empty_name"],
        validation("name", "String should have at least 1 character")
    );
    assert_eq!(
        out["number_name"],
        validation("name", "Input should be a valid string")
    );
    assert_eq!(
        out["number_currency"],
        validation("currency", "Input should be a valid string")
    );
    assert_eq!(
        out["list_body"],
        validation(
            "",
            "Input should be a valid dictionary or instance of BudgetSchema"
        )
    );
    // Zou: 500. annals names the field.
    let invalid = "One of the provided values has an invalid format.";
    assert_eq!(refusal(&out["long_currency"]), (400, invalid), "{out}");

    // Updates: name and currency only, nulls no change.
    let updated = &out["updated"];
    assert_eq!(updated["name"], "Renamed", "{out}");
    assert_eq!(updated["currency"], "GBP");
    assert_eq!(updated["revision"], 1);
    assert_eq!(updated["project_id"], project.as_str());
    assert_eq!(updated["type"], "Budget");
    assert_eq!(out["update_nulls"]["name"], "Renamed");
    assert_eq!(out["update_nulls"]["currency"], "GBP");
    assert_eq!(
        out["update_number_name"],
        validation("name", "Input should be a valid string")
    );
    assert_eq!(out["update_unknown"], not_found);
    // Zou changes the budget of another project so; annals answers 404.
    assert_eq!(out["update_under_other_project"], not_found);
    assert_eq!(out["update_manager"]["name"], "Second by manager");

    // Studio managers and the production managers of the team only.
    for who in ["outsider", "supervisor", "artist"] {
        assert_eq!(
            out["forbidden"][who],
            json!([403, 403, 403, 403, 403]),
            "{who}: {out}"
        );
        assert_eq!(
            out["entry_forbidden"][who],
            json!([403, 403, 403, 403, 403]),
            "{who}: {out}"
        );
    }
    assert_eq!(
        out["forbidden_message"],
        json!({"error": true, "message": FORBIDDEN})
    );

    // Entries: Zou's fields and defaults; `exceptions` starts empty whatever is sent.
    let department = out["entry_created"]["department_id"].clone();
    assert_eq!(
        stable(&out["entry_created"]),
        json!({"budget_id": out["created"]["id"], "department_id": department,
               "person_id": out["entry_created"]["person_id"], "start_date": "2025-02-01",
               "months_duration": 3, "daily_salary": 250.5, "position": "lead",
               "seniority": "senior", "exceptions": {}, "type": "BudgetEntry"}),
        "{out}"
    );
    assert!(out["entry_created"]["person_id"].is_string());
    let defaults = &out["entry_defaults"];
    assert_eq!(defaults["position"], "artist", "{out}");
    assert_eq!(defaults["seniority"], "mid");
    assert_eq!(defaults["person_id"], Value::Null);
    assert_eq!(defaults["daily_salary"], 100.0);
    // gazu's create_budget_entry sends no department: Zou refuses every call of it.
    assert_eq!(out["gazu_create_entry"][0], "ParameterException", "{out}");
    assert!(
        out["gazu_create_entry"][1]
            .as_str()
            .unwrap()
            .contains("department_id"),
        "{out}"
    );
    assert_eq!(
        out["entry_no_department"],
        validation("department_id", "Field required")
    );
    assert_eq!(
        out["entry_fraction"],
        validation(
            "months_duration",
            "Input should be a valid integer, got a number with a fractional part"
        )
    );
    assert_eq!(
        out["entry_words"],
        validation(
            "months_duration",
            "Input should be a valid integer, unable to parse string as an integer"
        )
    );
    assert_eq!(
        out["entry_bad_salary"],
        validation(
            "daily_salary",
            "Input should be a valid number, unable to parse string as a number"
        )
    );
    // Zou: 500 for each of these. annals refuses them, naming the field.
    assert_eq!(
        refusal(&out["entry_missing_dates"]),
        (400, "A required field is missing."),
        "{out}"
    );
    assert_eq!(
        refusal(&out["entry_unknown_department"]),
        (
            400,
            "The change conflicts with records referencing this one."
        ),
        "{out}"
    );
    assert_eq!(refusal(&out["entry_bad_date"]).0, 400, "{out}");
    assert_eq!(refusal(&out["entry_bad_position"]).0, 400, "{out}");
    assert_eq!(out["entry_unknown_budget"], not_found);
    // Zou makes the entry in the other project's budget; annals answers 404.
    assert_eq!(out["entry_under_other_project"], not_found);

    // Lists as Zou presents them (creation order, to the second: both in any order here);
    // the single read whole.
    let entries = out["entries"].as_array().unwrap();
    let mut ids: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut made = [
        out["entry_created"]["id"].as_str().unwrap(),
        out["entry_defaults"]["id"].as_str().unwrap(),
    ];
    ids.sort();
    made.sort();
    assert_eq!(ids, made, "{out}");
    for entry in entries {
        assert!(
            entry.get("created_at").is_none() && entry.get("type").is_none(),
            "{entry}"
        );
    }
    assert_eq!(out["entries_manager"], out["entries"]);
    assert_eq!(out["entries_of_second"], json!([]));
    assert_eq!(out["entries_unknown_budget"], json!([200, []]));
    assert_eq!(out["entry"], out["entry_created"], "{out}");
    // Zou reads the entry under any budget of the project; annals answers 404.
    assert_eq!(out["entry_under_other_budget"], not_found);
    assert_eq!(out["entry_unknown"], not_found);
    assert_eq!(out["entry_malformed"], wrong_uuid);

    // An update replaces the fields, cleans `exceptions`, keeps the budget.
    let updated = &out["entry_updated"];
    assert_eq!(updated["daily_salary"], 300.0, "{out}");
    assert_eq!(updated["months_duration"], 4);
    assert_eq!(updated["exceptions"], json!({"2025-02": 2}));
    assert_eq!(updated["budget_id"], out["created"]["id"]);
    let replaced = &out["entry_replaced"];
    assert_eq!(replaced["person_id"], Value::Null, "{out}");
    assert_eq!(replaced["position"], Value::Null);
    assert_eq!(replaced["seniority"], Value::Null);
    assert_eq!(replaced["exceptions"], json!({}));
    // Zou: 500 (its NOT NULL columns set to null). annals names the field.
    assert_eq!(
        refusal(&out["entry_partial"]),
        (400, "A required field is missing."),
        "{out}"
    );
    assert_eq!(
        out["entry_update_words"],
        validation(
            "months_duration",
            "Input should be a valid integer, unable to parse string as an integer"
        )
    );
    assert_eq!(out["entry_update_manager"]["position"], "lead");
    assert_eq!(
        out["entry_get_after_forbidden"], out["entry_update_manager"],
        "a refused write changed the entry: {out}"
    );
    assert_eq!(out["entry_removed"][0], "ok", "{out}");
    assert_eq!(out["entry_after_remove"], 404);
    assert_eq!(out["entry_remove_again"], 404);
    assert_eq!(
        out["entries_after_remove"],
        json!([out["entry_defaults"]["id"]])
    );

    // Deleting a budget deletes its entries.
    assert_eq!(out["budget_removed"][0], "ok", "{out}");
    assert_eq!(out["budget_after_remove"], 404);
    assert_eq!(out["entry_of_removed"], 404);
    assert_eq!(out["entries_of_removed"], json!([200, []]));
    assert_eq!(out["remove_again"], 404);
    assert_eq!(out["remove_malformed"], wrong_uuid);
    // Zou deletes another project's budget so; annals answers 404.
    assert_eq!(out["remove_under_other_project"], 404);
    assert_eq!(out["after_delete"]["revision"], 6, "{out}");
    assert_eq!(
        out["budgets_final"],
        json!([
            ["Second by manager", 2],
            ["Third", 3],
            ["Null currency", 4],
            ["Keys", 5],
            ["After delete", 6]
        ]),
        "{out}"
    );

    app.assert_rebuild_equals_live(std::sync::Arc::new(annals_projections::kitsu::KitsuRecords))
        .await;
}
