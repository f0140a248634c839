//! The bucket API driven by the real `@pm2/js-api` client: the user session of the Keymetrics
//! notes (section 7) from start to end with three users, its negative checks, and
//! read-your-writes through the client.
use std::time::Duration;

use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::buckets::{Account, account, expect};
use crate::clients;
use crate::helpers::{Backend, TestApp, backends, spawn_app, unique_email};

fn members_by_email(members: &Value) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = members
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {members}"))
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_string(),
                m["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    all.sort();
    all
}

const SESSION_START: &str = r#"
async function main() {
  const [base, rtAlice, rtBob, aliceEmail, bobEmail, carolEmail, daveEmail] = process.argv.slice(-7);
  const alice = login(base, rtAlice);
  const bob = login(base, rtBob);
  const out = {};
  // 2-3: create, list, retrieve, role.
  const created = await alice.bucket.create({ name: 'prod', comment: 'EU cluster', app_url: 'https://x' });
  out.createdStatus = created.status;
  const bucket = created.data.bucket;
  const id = bucket._id;
  out.created = bucket;
  out.all = (await alice.bucket.retrieveAll()).data;
  out.retrieved = (await alice.bucket.retrieve(id)).data;
  out.role = (await alice.bucket.currentRole(id)).data;
  // 4: an account is added directly, unknown addresses are invited.
  out.inviteBob = (await alice.bucket.inviteUser(id, { email: bobEmail })).data;
  out.inviteCarol = (await alice.bucket.inviteUser(id, { email: carolEmail })).data;
  out.inviteDave = (await alice.bucket.inviteUser(id, { email: daveEmail })).data;
  // 5-6: members, roles, notifications, settings, options.
  out.users = (await alice.bucket.retrieveUsers(id)).data;
  out.promoted = (await alice.bucket.setUserRole(id, { email: bobEmail, role: 'admin' })).data;
  out.notifications = (await alice.bucket.setNotificationState(id, { email: bobEmail, state: 'none' })).data;
  out.updated = (await alice.bucket.update(id, { name: 'prod-eu' })).data;
  out.options = (await alice.bucket.updateUserOptions(id, { options: { theme: 'dark' } })).data;
  out.servers = (await alice.bucket.retrieveServers(id)).data;
  out.feedback = (await alice.bucket.sendFeedback(id, { feedback: 'great tool' })).data;
  // 7: Carol's invitation is cancelled.
  out.removedInvitation = (await alice.bucket.removeInvitation(id, carolEmail)).data;
  // Negative checks.
  out.ownerRole = await alice.bucket.setUserRole(id, { email: aliceEmail, role: 'user' }).then((r) => ({ status: r.status }), failure);
  out.removeOwner = await bob.bucket.removeUser(id, { email: aliceEmail }).then((r) => ({ status: r.status }), failure);
  out.unknownRole = await alice.bucket.setUserRole(id, { email: 'nobody@example.com', role: 'admin' }).then((r) => ({ status: r.status }), failure);
  out.unknownRemove = await alice.bucket.removeUser(id, { email: 'nobody@example.com' }).then((r) => ({ status: r.status }), failure);
  out.unknownTransfer = await alice.bucket.transferOwnership(id, { new_owner: 'nobody@example.com' }).then((r) => ({ status: r.status }), failure);
  out.bobDestroys = await bob.bucket.destroy(id).then((r) => ({ status: r.status }), failure);
  out.noBody = await alice.bucket.create().then((r) => ({ status: r.status }), failure);
  out.second = (await alice.bucket.create({ name: 'staging' })).status;
  out.pastCap = await alice.bucket.create({ name: 'one too many' }).then((r) => ({ status: r.status }), failure);
  return out;
}"#;

const SESSION_END: &str = r#"
async function main() {
  const [base, rtAlice, rtBob, rtDave, id, aliceEmail, bobEmail] = process.argv.slice(-7);
  const alice = login(base, rtAlice);
  const bob = login(base, rtBob);
  const dave = login(base, rtDave);
  const out = {};
  // Dave registered since he was invited: he is a member.
  out.daveBuckets = (await dave.bucket.retrieveAll()).data.map((b) => b._id);
  out.daveRole = (await dave.bucket.currentRole(id)).data;
  out.users = (await alice.bucket.retrieveUsers(id)).data;
  // 8: transfer to Bob (a free bucket needs no card).
  out.transferred = (await alice.bucket.transferOwnership(id, { new_owner: bobEmail })).data;
  out.aliceRole = (await alice.bucket.currentRole(id)).data;
  // 9: Bob is the owner and removes Alice.
  out.bobRole = (await bob.bucket.currentRole(id)).data;
  out.removed = (await bob.bucket.removeUser(id, { email: aliceEmail })).data;
  out.aliceGone = await alice.bucket.retrieveUsers(id).then((r) => ({ status: r.status }), failure);
  // 10: Bob deletes the bucket; nobody sees it any more.
  out.destroyed = (await bob.bucket.destroy(id)).data;
  out.aliceAfter = await alice.bucket.retrieve(id).then((r) => ({ status: r.status }), failure);
  out.bobAfter = await bob.bucket.retrieve(id).then((r) => ({ status: r.status }), failure);
  out.daveAfter = (await dave.bucket.retrieveAll()).data;
  return out;
}"#;

#[apply(backends)]
async fn the_keymetrics_user_session_end_to_end(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let bob = account(&app).await;
    let carol = unique_email();
    let dave = unique_email();
    let limit = Duration::from_secs(60);
    let out = clients::pm2(
        SESSION_START,
        &[
            &app.address,
            &alice.refresh,
            &bob.refresh,
            &alice.email,
            &bob.email,
            &carol,
            &dave,
        ],
        limit,
    )
    .await;
    assert!(
        out.get("unexpected").is_none() && out.get("hung").is_none(),
        "{out}"
    );
    let bucket = &out["created"];
    let id = bucket["_id"].as_str().unwrap().to_string();
    assert_eq!(out["createdStatus"], 200);
    assert_eq!(id.len(), 24, "{bucket}");
    assert_eq!(bucket["public_id"].as_str().unwrap().len(), 15);
    assert_eq!(bucket["secret_id"].as_str().unwrap().len(), 15);
    assert_eq!(bucket["node"]["endpoints"]["web"], json!(app.address));
    assert_eq!(out["all"][0]["_id"], json!(id), "{out}");
    assert_eq!(out["retrieved"]["name"], "prod");
    assert_eq!(out["role"], "owner");
    assert_eq!(out["inviteBob"], json!({"invitations": []}));
    assert_eq!(out["inviteCarol"]["invitations"][0]["email"], json!(carol));
    assert_eq!(
        out["inviteDave"]["invitations"].as_array().unwrap().len(),
        2
    );
    assert_eq!(members_by_email(&out["users"]), {
        let mut v = vec![
            (alice.email.clone(), "owner".to_string()),
            (bob.email.clone(), "user".to_string()),
        ];
        v.sort();
        v
    });
    assert!(members_by_email(&out["promoted"]).contains(&(bob.email.clone(), "admin".into())));
    let bob_state = out["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == json!(bob.email))
        .unwrap();
    assert_eq!(bob_state["state"], "none");
    assert_eq!(out["updated"]["name"], "prod-eu");
    assert_eq!(out["updated"]["comment"], "EU cluster");
    assert_eq!(
        out["options"]["bucket"]["user_options"],
        json!({"theme": "dark"})
    );
    assert_eq!(out["servers"], json!([]));
    assert_eq!(out["feedback"], json!({"feedback": "great tool"}));
    let left: Vec<&Value> = out["removedInvitation"]["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["email"])
        .collect();
    assert_eq!(left, [&json!(dave)]);
    // The negative checks of the session.
    assert_eq!(out["ownerRole"]["status"], 403, "{out}");
    assert_eq!(
        out["ownerRole"]["data"]["msg"],
        "impossible to set the role of the owner"
    );
    assert_eq!(out["removeOwner"]["status"], 403);
    assert_eq!(
        out["removeOwner"]["data"]["msg"],
        "impossible to remove the owner from the bucket"
    );
    for check in ["unknownRole", "unknownRemove", "unknownTransfer"] {
        assert_eq!(out[check]["status"], 404, "{check}: {out}");
        assert_eq!(out[check]["data"]["msg"], "user not found", "{check}");
    }
    assert_eq!(out["bobDestroys"]["status"], 403);
    assert_eq!(out["noBody"]["status"], 400);
    assert_eq!(out["noBody"]["data"]["fields"], json!(["name"]));
    assert_eq!(out["second"], 200);
    assert_eq!(out["pastCap"]["status"], 403);
    assert_eq!(
        out["pastCap"]["data"]["msg"],
        "you cant create any more bucket"
    );

    // Dave registers (on another surface) between the two halves.
    let (_, dave_refresh) = app.signed_up(&dave).await;
    let out = clients::pm2(
        SESSION_END,
        &[
            &app.address,
            &alice.refresh,
            &bob.refresh,
            &dave_refresh,
            &id,
            &alice.email,
            &bob.email,
        ],
        limit,
    )
    .await;
    assert!(
        out.get("unexpected").is_none() && out.get("hung").is_none(),
        "{out}"
    );
    assert_eq!(out["daveBuckets"], json!([id]), "{out}");
    assert_eq!(out["daveRole"], "user");
    assert_eq!(out["users"].as_array().unwrap().len(), 3);
    assert_eq!(
        out["transferred"]["owner"],
        out["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == json!(bob.email))
            .unwrap()["_id"]
    );
    assert_eq!(out["aliceRole"], "admin");
    assert_eq!(out["bobRole"], "owner");
    let after: Vec<String> = members_by_email(&out["removed"])
        .into_iter()
        .map(|(email, _)| email)
        .collect();
    assert!(
        !after.contains(&alice.email) && after.contains(&bob.email),
        "{out}"
    );
    assert_eq!(out["aliceGone"]["status"], 404);
    assert_eq!(out["destroyed"]["_id"], json!(id));
    assert_eq!(out["aliceAfter"]["status"], 404);
    assert_eq!(out["bobAfter"]["status"], 404);
    assert_eq!(out["daveAfter"], json!([]));
}

const READ_YOUR_WRITES: &str = r#"
async function main() {
  const [base, rtAlice, bobEmail, rounds] = process.argv.slice(-4);
  const alice = login(base, rtAlice);
  const stale = [];
  for (let i = 0; i < Number(rounds); i++) {
    const name = 'bucket-' + i;
    const created = await alice.bucket.create({ name });
    const id = created.data.bucket._id;
    // The client resolves the bucket's node first: that read must already see it.
    const retrieved = await alice.bucket.retrieve(id).then((r) => r.data, failure);
    if (retrieved._id !== id || retrieved.name !== name) stale.push({ i, step: 'retrieve', got: retrieved });
    await alice.bucket.inviteUser(id, { email: bobEmail });
    const users = await alice.bucket.retrieveUsers(id).then((r) => r.data, failure);
    if (!Array.isArray(users) || !users.some((u) => u.email === bobEmail)) stale.push({ i, step: 'users', got: users });
    await alice.bucket.destroy(id);
  }
  return { stale, rounds: Number(rounds) };
}"#;

async fn read_your_writes(app: &TestApp, alice: &Account, bob: &Account) {
    let out = clients::pm2(
        READ_YOUR_WRITES,
        &[&app.address, &alice.refresh, &bob.email, "200"],
        Duration::from_secs(240),
    )
    .await;
    assert_eq!(out["rounds"], 200, "{out}");
    assert_eq!(out["stale"], json!([]), "{out}");
}

#[apply(backends)]
async fn the_client_reads_its_own_writes_200_times(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let bob = account(&app).await;
    read_your_writes(&app, &alice, &bob).await;
    // Every bucket was deleted again.
    let list = expect(
        app.workspaces(Some(&alice.access)).get("/api/bucket").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list, json!([]));
}
