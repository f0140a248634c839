//! What a studio manager does to another person's account, through gazu 1.3.1's
//! `change_password_for_person`, `add_person_to_department`, `remove_person_from_department`,
//! `disable_two_factor_authentication` and `invite_person`, held to what the real Zou 1.0.97
//! answered (tests/fixtures/zou-1.0.97-person-actions.md, recorded by
//! tests/fixtures/zou-person-actions.py).
use annals::services::identity::otp::totp_now;
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, backends, spawn_app};
use crate::kitsu_data::admin_account;

/// The script: `host email password tag`; prints what each call answered.
const SCRIPT: &str = r##"import json, sys, uuid
import gazu, requests

host, email, password, tag = sys.argv[1:5]
gazu.set_host(host)
gazu.log_in(email, password)
out = {}
n = lambda name: name + tag
PW = "person-actions-password-1"

def call(method, path, body=None, client=None):
    t = (client or gazu.client.default_client).tokens["access_token"]
    r = requests.request(method, host.rstrip("/") + "/" + path,
                         headers={"Authorization": "Bearer " + t}, json=body)
    try:
        return [r.status_code, r.json()]
    except ValueError:
        return [r.status_code, r.text]

def login(mail, pw):
    return requests.post(host.rstrip("/") + "/auth/login", json={"email": mail, "password": pw}).status_code

def person(role, name, **extra):
    mail = n(name) + "@example.com"
    made = gazu.person.new_person(name, n("X"), mail, role=role, password=PW, **extra)
    return made, mail

ann, ann_mail = person("user", "ann")
mgr, mgr_mail = person("manager", "manager")
other_admin, _ = person("admin", "otheradmin")
bot = gazu.client.post("data/persons", {"first_name": "bot", "last_name": "X", "email": n("bot") + "@example.com", "role": "user", "is_bot": True})
M = gazu.client.create_client(gazu.client.get_host())
gazu.log_in(mgr_mail, PW, client=M)
anim = gazu.person.new_department(n("Anim"), "#123456")
unknown = str(uuid.uuid4())
me = gazu.client.get("auth/authenticated")["user"]["id"]
A = "actions/persons/"

out["change"] = gazu.person.change_password_for_person(ann, "brand-new-password-1")
out["login_new"] = login(ann_mail, "brand-new-password-1")
out["login_old"] = login(ann_mail, PW)
out["mismatch"] = call("POST", A + ann["id"] + "/change-password", {"password": "brand-new-password-1", "password_2": "brand-new-password-2"})
out["short"] = call("POST", A + ann["id"] + "/change-password", {"password": "short", "password_2": "short"})
out["no_confirmation"] = call("POST", A + ann["id"] + "/change-password", {"password": "brand-new-password-1"})
out["empty"] = call("POST", A + ann["id"] + "/change-password", {})
out["other_admin"] = call("POST", A + other_admin["id"] + "/change-password", {"password": "brand-new-password-1", "password_2": "brand-new-password-1"})
out["bot"] = call("POST", A + bot["id"] + "/change-password", {"password": "brand-new-password-1", "password_2": "brand-new-password-1"})[0]
out["unknown"] = call("POST", A + unknown + "/change-password", {"password": "brand-new-password-1", "password_2": "brand-new-password-1"})[0]
out["by_manager"] = call("POST", A + ann["id"] + "/change-password", {"password": "brand-new-password-1", "password_2": "brand-new-password-1"}, M)[0]

out["added"] = gazu.person.add_person_to_department(ann, anim)
out["added_again"] = gazu.person.add_person_to_department(ann, anim)
out["add_unknown_department"] = call("POST", A + ann["id"] + "/departments/add", {"department_id": unknown})
out["add_bad_id"] = call("POST", A + ann["id"] + "/departments/add", {"department_id": "nope"})[1]["data"]["errors"][0]["field"]
out["add_nothing"] = call("POST", A + ann["id"] + "/departments/add", {})
out["add_unknown_person"] = call("POST", A + unknown + "/departments/add", {"department_id": anim["id"]})[0]
out["add_by_manager"] = call("POST", A + ann["id"] + "/departments/add", {"department_id": anim["id"]}, M)[0]
out["read_after_add"] = call("GET", "data/persons/" + ann["id"])[1]["departments"]
out["remove_by_manager"] = call("DELETE", A + ann["id"] + "/departments/" + anim["id"], None, M)[0]
out["removed"] = call("DELETE", A + ann["id"] + "/departments/" + anim["id"])
out["removed_again"] = call("DELETE", A + ann["id"] + "/departments/" + anim["id"])[0]
out["remove_unknown_department"] = call("DELETE", A + ann["id"] + "/departments/" + unknown)
out["remove_bad_department"] = call("DELETE", A + ann["id"] + "/departments/nope")
out["remove_unknown_person"] = call("DELETE", A + unknown + "/departments/" + anim["id"])[0]
out["read_after_remove"] = call("GET", "data/persons/" + ann["id"])[1]["departments"]

out["disable_none"] = call("DELETE", A + ann["id"] + "/disable-two-factor-authentication")
out["disable_other_admin"] = call("DELETE", A + other_admin["id"] + "/disable-two-factor-authentication")
out["disable_own_none"] = call("DELETE", A + me + "/disable-two-factor-authentication")
out["disable_unknown"] = call("DELETE", A + unknown + "/disable-two-factor-authentication")[0]
out["disable_by_manager"] = call("DELETE", A + ann["id"] + "/disable-two-factor-authentication", None, M)[0]

out["invite"] = gazu.person.invite_person(ann)
out["invite_bot"] = call("GET", A + bot["id"] + "/invite")[0]
out["invite_unknown"] = call("GET", A + unknown + "/invite")[0]
out["invite_by_manager"] = call("GET", A + ann["id"] + "/invite", None, M)[0]
out["ann"] = ann["id"]
out["ann_mail"] = ann_mail
out["anim"] = anim["id"]
print(json.dumps(out))
"##;

/// Turns a second factor off through gazu: `host email password person`.
const DISABLE: &str = r##"import json, sys
import gazu
host, email, password, person = sys.argv[1:5]
gazu.set_host(host)
gazu.log_in(email, password)
print(json.dumps(gazu.person.disable_two_factor_authentication(person)))
"##;

const FORBIDDEN: u64 = 403;

fn zou(message: &str) -> Value {
    json!([400, {"error": true, "message": message}])
}

fn wrong_parameter(message: &str) -> Value {
    json!([400, {"error": true, "message": message, "data": null}])
}

fn validation(errors: Value) -> Value {
    json!([400, {"error": true, "message": "Validation error.", "data": {"errors": errors}}])
}

#[apply(backends)]
async fn gazu_changes_another_persons_password_departments_second_factor_and_invites_them(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(SCRIPT, &[&host, &email, PASSWORD, "-pa"])
        .await
        .json;

    // A studio manager sets an artist's password: the new one logs in, the old one no more.
    assert_eq!(out["change"], json!({"success": true}), "{out}");
    assert_eq!(
        (&out["login_new"], &out["login_old"]),
        (&json!(200), &json!(400))
    );
    assert_eq!(
        out["mismatch"],
        validation(
            json!([{"field": "", "message": "Value error, Confirmation password doesn't match."}])
        )
    );
    assert_eq!(out["short"], zou("Password is too short."));
    assert_eq!(
        out["no_confirmation"],
        validation(json!([{"field": "password_2", "message": "Field required"}]))
    );
    assert_eq!(
        out["empty"],
        validation(json!([{"field": "password", "message": "Field required"},
                          {"field": "password_2", "message": "Field required"}]))
    );
    assert_eq!(
        out["other_admin"],
        zou("An admin can't change another admin's password.")
    );
    assert_eq!(out["bot"], json!(FORBIDDEN));
    assert_eq!(out["unknown"], json!(404));
    assert_eq!(out["by_manager"], json!(FORBIDDEN));

    // Departments: added once (again changes nothing), read back, removed (twice is fine).
    let anim = &out["anim"];
    assert_eq!(out["added"]["departments"], json!([anim]));
    assert_eq!(out["added"]["id"], out["ann"]);
    assert_eq!(out["added_again"]["departments"], json!([anim]), "{out}");
    let no_department = wrong_parameter("Department ID matches no department");
    assert_eq!(out["add_unknown_department"], no_department);
    assert_eq!(out["add_bad_id"], json!("department_id"));
    assert_eq!(
        out["add_nothing"],
        validation(json!([{"field": "department_id", "message": "Field required"}]))
    );
    assert_eq!(out["add_unknown_person"], json!(404));
    assert_eq!(out["add_by_manager"], json!(FORBIDDEN));
    assert_eq!(out["read_after_add"], json!([anim]));
    assert_eq!(out["remove_by_manager"], json!(FORBIDDEN));
    assert_eq!(out["removed"], json!([204, ""]));
    assert_eq!(out["removed_again"], json!(204));
    assert_eq!(out["remove_unknown_department"], no_department);
    assert_eq!(out["remove_bad_department"], no_department);
    assert_eq!(out["remove_unknown_person"], json!(404));
    assert_eq!(out["read_after_remove"], json!([]));

    // Second factors: none to turn off, not another admin's.
    let none = zou("Two factor authentication not enabled for this user.");
    assert_eq!(out["disable_none"], none);
    assert_eq!(out["disable_own_none"], none);
    assert_eq!(
        out["disable_other_admin"],
        zou("An admin can't disable 2FA for other admins.")
    );
    assert_eq!(out["disable_unknown"], json!(404));
    assert_eq!(out["disable_by_manager"], json!(FORBIDDEN));

    // The invitation is a mail with a link to choose a password.
    assert_eq!(
        out["invite"],
        json!({"success": true, "message": "Email sent"})
    );
    assert_eq!(out["invite_bot"], json!(FORBIDDEN));
    assert_eq!(out["invite_unknown"], json!(404));
    assert_eq!(out["invite_by_manager"], json!(FORBIDDEN));
    let ann_mail = out["ann_mail"].as_str().unwrap();
    let invitation = app
        .mails()
        .into_iter()
        .rfind(|m| m["to"] == ann_mail)
        .expect("an invitation mail");
    assert!(
        invitation["body"].as_str().unwrap().contains("type=new"),
        "{invitation}"
    );

    // Ann turns TOTP on; the studio manager turns it off, and she logs in without it.
    let login = |otp: Value| {
        let body = json!({"email": ann_mail, "password": "brand-new-password-1", "totp": otp});
        let app = &app;
        async move { app.kitsu(None).post("/auth/login", &body).await }
    };
    let session: Value = login(Value::Null).await.json().await.unwrap();
    let token = session["access_token"].as_str().unwrap().to_string();
    let setup: Value = app
        .kitsu(Some(&token))
        .put("/auth/totp", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["otp_secret"].as_str().unwrap();
    let code = totp_now(secret, chrono::Utc::now().timestamp() as u64).unwrap();
    let enabled = app
        .kitsu(Some(&token))
        .post("/auth/totp", &json!({"totp": code}))
        .await;
    assert_eq!(enabled.status(), StatusCode::OK);
    let refused = login(Value::Null).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let ann = out["ann"].as_str().unwrap();
    let disabled = crate::clients::python(DISABLE, &[&host, &email, PASSWORD, ann])
        .await
        .json;
    // gazu's `raw.delete` hands back the body's text.
    let disabled: Value = serde_json::from_str(disabled.as_str().unwrap()).unwrap();
    assert_eq!(disabled, json!({"success": true}));
    assert_eq!(login(Value::Null).await.status(), StatusCode::OK);
}
