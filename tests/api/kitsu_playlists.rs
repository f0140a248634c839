//! Zou's playlists over HTTP and through gazu's `playlist` module, on both backends. The
//! answers asserted here are the real Zou 1.0.97's (tests/fixtures/zou-1.0.97-playlists.md).
use annals::http::kitsu::errors::NOT_FOUND_MESSAGE;
use annals_projections::kitsu::KitsuRecords;
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app};
use crate::kitsu_data::{FORBIDDEN, admin, admin_account, created, get, names, post, put};
use crate::kitsu_projects::person;
use crate::surfaces::answer;

const DUPLICATE: &str = "A record with the same unique values already exists.";

fn id(record: &Value) -> &str {
    record["id"].as_str().unwrap()
}

async fn delete(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    answer(app.kitsu(Some(token)).delete(path, &json!({})).await).await
}

const GAZU_PLAYLISTS: &str = r##"
import json, sys
import gazu
from gazu.exception import ParameterException

host, email, password = sys.argv[1:4]
gazu.set_host(host)
gazu.log_in(email, password)
out = {}
project = gazu.project.new_project("Caminandes")
episode = gazu.shot.new_episode(project, "E01")
sequence = gazu.shot.new_sequence(project, "S01", episode=episode)
first = gazu.shot.new_shot(project, sequence, "P01")
second = gazu.shot.new_shot(project, sequence, "P02")
review = gazu.playlist.new_playlist(project, "Review")
out["review"] = {k: v for k, v in review.items() if k not in ("id", "project_id", "created_by", "created_at", "updated_at")}
out["made_by_me"] = review["created_by"] == gazu.client.get_current_user()["id"]
out["same"] = gazu.playlist.new_playlist(project, "Review")["id"] == review["id"]
dailies = gazu.playlist.new_playlist(project, "Dailies", episode=episode, for_client=True)
out["dailies"] = [dailies["episode_id"] == episode["id"], dailies["for_client"]]
gazu.playlist.new_playlist(project, "Props", for_entity="asset", is_for_all=True)
out["by_name"] = gazu.playlist.get_playlist_by_name(project, "review")["id"] == review["id"]
out["missing_by_name"] = gazu.playlist.get_playlist_by_name(project, "nothing")
out["got"] = sorted(gazu.playlist.get_playlist(review).keys())
out["all"] = [p["name"] for p in gazu.playlist.all_playlists()]
for_project = gazu.playlist.all_playlists_for_project(project)
out["for_project"] = [p["name"] for p in for_project]
out["short_keys"] = sorted(for_project[0].keys())
out["for_episode"] = [p["name"] for p in gazu.playlist.all_playlists_for_episode(episode)]
playlist = gazu.playlist.get_playlist(review)
playlist = gazu.playlist.add_entity_to_playlist(playlist, first, persist=False, preview_file="4b3e8e34-4a6e-4f4e-9d6e-000000000000")
playlist = gazu.playlist.add_entity_to_playlist(playlist, second, persist=False, preview_file="4b3e8e34-4a6e-4f4e-9d6e-000000000001")
updated = gazu.playlist.update_playlist(playlist)
out["updated_keys"] = sorted(updated.keys())
out["entries"] = [[e["entity_id"] == s["id"], e["preview_file_id"]] for e, s in zip(updated["shots"], [first, second])]
out["shots"] = len(gazu.playlist.all_shots_for_playlist(review))
gazu.playlist.remove_entity_from_playlist(gazu.playlist.get_playlist(review), first)
out["after_removal"] = [e["entity_id"] == second["id"] for e in gazu.playlist.get_playlist(review)["shots"]]
renamed = dict(gazu.playlist.get_playlist(review), name="Review 2", project_id=episode["id"])
out["renamed"] = [gazu.playlist.update_playlist(renamed)["name"], gazu.playlist.get_playlist(review)["project_id"] == project["id"]]
try:
    gazu.client.post("data/playlists", {"name": "Bad", "project_id": project["id"], "for_entity": "thing"})
    out["bad_for_entity"] = "accepted"
except ParameterException as e:
    out["bad_for_entity"] = "refused"
out["deleted"] = gazu.playlist.delete_playlist(review)
out["left"] = [p["name"] for p in gazu.playlist.all_playlists_for_project(project)]
print(json.dumps(out))
"##;

#[apply(backends)]
async fn gazu_makes_reads_changes_and_deletes_playlists(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(GAZU_PLAYLISTS, &[&host, &email, PASSWORD])
        .await
        .json;
    assert_eq!(
        out["review"],
        json!({
            "name": "Review", "shots": null, "episode_id": null, "task_type_id": null,
            "for_client": false, "for_entity": "shot", "is_for_all": false, "build_jobs": [],
            "type": "Playlist",
        }),
        "{out}"
    );
    assert_eq!(out["made_by_me"], true, "{out}");
    assert_eq!(out["same"], true, "{out}");
    assert_eq!(out["dailies"], json!([true, true]), "{out}");
    assert_eq!(out["by_name"], true, "{out}");
    assert_eq!(out["missing_by_name"], Value::Null, "{out}");
    let full = [
        "build_jobs",
        "created_at",
        "created_by",
        "episode_id",
        "for_client",
        "for_entity",
        "id",
        "is_for_all",
        "name",
        "project_id",
        "shots",
        "task_type_id",
        "type",
        "updated_at",
    ];
    assert_eq!(out["got"], json!(full), "{out}");
    assert_eq!(out["all"], json!(["Dailies", "Props", "Review"]), "{out}");
    assert_eq!(
        out["for_project"],
        json!(["Dailies", "Props", "Review"]),
        "{out}"
    );
    let short: Vec<&str> = full
        .iter()
        .filter(|k| !["build_jobs", "shots"].contains(k))
        .copied()
        .collect();
    assert_eq!(out["short_keys"], json!(short), "{out}");
    assert_eq!(out["for_episode"], json!(["Dailies"]), "{out}");
    let updated: Vec<&str> = full
        .iter()
        .filter(|k| **k != "build_jobs")
        .copied()
        .collect();
    assert_eq!(out["updated_keys"], json!(updated), "{out}");
    // Previews that are not the entity's own are unset.
    assert_eq!(out["entries"], json!([[true, null], [true, null]]), "{out}");
    assert_eq!(out["shots"], 2, "{out}");
    assert_eq!(out["after_removal"], json!([true]), "{out}");
    assert_eq!(out["renamed"], json!(["Review 2", true]), "{out}");
    assert_eq!(out["bad_for_entity"], "refused", "{out}");
    assert_eq!(out["deleted"], "", "{out}");
    assert_eq!(out["left"], json!(["Dailies", "Props"]), "{out}");
}

/// A project with an episode and a shot, and its admin.
struct Production {
    admin: String,
    project: Value,
    episode: Value,
    shot: Value,
}

async fn production(app: &TestApp) -> Production {
    let admin = admin(app).await;
    let project = created(app, &admin, "projects", json!({"name": "Agent 327"})).await;
    let pid = id(&project);
    let (status, episode) = post(
        app,
        &admin,
        &format!("/data/projects/{pid}/episodes"),
        json!({"name": "E01"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{episode}");
    let (_, sequence) = post(
        app,
        &admin,
        &format!("/data/projects/{pid}/sequences"),
        json!({"name": "S01", "episode_id": id(&episode)}),
    )
    .await;
    let (status, shot) = post(
        app,
        &admin,
        &format!("/data/projects/{pid}/shots"),
        json!({"name": "P01", "sequence_id": id(&sequence)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{shot}");
    Production {
        admin,
        project,
        episode,
        shot,
    }
}

#[apply(backends)]
async fn playlists_answer_over_http_as_zou_does(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let p = production(&app).await;
    let (admin, pid, eid, sid) = (&p.admin, id(&p.project), id(&p.episode), id(&p.shot));
    let (_, me) = get(&app, admin, "/auth/authenticated").await;
    let me = me["user"]["id"].clone();

    // Created with Zou's defaults, by the caller whatever the body says.
    let review = created(
        &app,
        admin,
        "playlists",
        json!({"name": "Review", "project_id": pid, "created_by": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(review["created_by"], me);
    assert_eq!(review["build_jobs"], json!([]));
    assert_eq!(review["shots"], Value::Null);
    assert_eq!(review["for_entity"], "shot");
    // Zou's unique (name, project, episode) admits any number without an episode.
    let again = created(
        &app,
        admin,
        "playlists",
        json!({"name": "Review", "project_id": pid}),
    )
    .await;
    assert_ne!(again["id"], review["id"]);
    let in_episode = json!({"name": "Review", "project_id": pid, "episode_id": eid});
    created(&app, admin, "playlists", in_episode.clone()).await;
    let (status, body) = post(&app, admin, "/data/playlists", in_episode).await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::BAD_REQUEST, &json!(DUPLICATE))
    );
    // "main" and "all" are no episode; a task type that is not an id is none.
    let main = created(
        &app,
        admin,
        "playlists",
        json!({"name": "Main", "project_id": pid, "episode_id": "main", "task_type_id": "nope"}),
    )
    .await;
    assert_eq!(
        (&main["episode_id"], &main["task_type_id"]),
        (&Value::Null, &Value::Null)
    );

    // Refusals.
    for (body, message) in [
        (
            json!({"name": "X", "project_id": pid, "for_entity": "thing"}),
            "for_entity must be one of shot, asset, sequence, edit, episode",
        ),
        (json!({"project_id": pid}), "A required field is missing."),
        (json!({"name": "Orphan"}), "A required field is missing."),
        (
            json!({"name": "Y", "project_id": pid, "foo": 1}),
            "'foo' is an invalid keyword argument for Playlist",
        ),
        (
            json!({"name": "W", "project_id": uuid::Uuid::new_v4()}),
            "The change conflicts with records referencing this one.",
        ),
        (
            json!({"name": "W", "project_id": pid, "episode_id": uuid::Uuid::new_v4()}),
            "The change conflicts with records referencing this one.",
        ),
    ] {
        let (status, answer) = post(&app, admin, "/data/playlists", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} {answer}");
        assert_eq!(answer["message"], message, "{body}");
    }

    // Entries keep an entity and a preview (unset when not the entity's own); the rest goes.
    let path = format!("/data/playlists/{}", id(&review));
    let stranger = uuid::Uuid::new_v4();
    let (status, changed) = put(
        &app,
        admin,
        &path,
        json!({
            "shots": [{"id": sid}, {"entity_id": sid, "preview_file_id": stranger}, "x", {"foo": 1}],
            "project_id": uuid::Uuid::new_v4(),
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let entry = json!({"entity_id": sid, "preview_file_id": null});
    assert_eq!(changed["shots"], json!([entry, entry]));
    assert_eq!(changed["project_id"], pid);
    assert!(changed.get("build_jobs").is_none(), "{changed}");
    let (_, read) = get(&app, admin, &path).await;
    assert_eq!(read["shots"], json!([entry, entry]));
    assert_eq!(read["build_jobs"], json!([]));
    let (_, emptied) = put(&app, admin, &path, json!({"shots": "nope"})).await;
    assert_eq!(emptied["shots"], json!([]));
    let (status, body) = put(&app, admin, &path, json!({"for_entity": "thing"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["data"]["errors"][0]["field"], "for_entity");
    // Every change is an event of the playlist's stream.
    let (_, history) = get(&app, admin, &format!("{path}/history")).await;
    let events: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["RecordUpdated", "RecordUpdated", "RecordCreated"]);
    assert_eq!(history[0]["changes"][0]["field"], "shots");
    assert_eq!(history[0]["changes"][0]["new"], json!([]));

    // Lists: the generic one filters and pages; a project's, 20 a page, newest change first.
    let (_, filtered) = get(
        &app,
        admin,
        &format!("/data/playlists?project_id={pid}&name=main"),
    )
    .await;
    assert_eq!(names(&filtered), ["Main"]);
    let (_, page) = get(&app, admin, "/data/playlists?page=1&limit=2").await;
    assert_eq!((&page["total"], &page["nb_pages"]), (&json!(4), &json!(2)));
    for n in 0..21 {
        created(
            &app,
            admin,
            "playlists",
            json!({"name": format!("Daily {n:02}"), "project_id": pid, "episode_id": eid}),
        )
        .await;
    }
    let listed = |query: &str| format!("/data/projects/{pid}/playlists{query}");
    let (status, first) = get(&app, admin, &listed("")).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let first = first.as_array().unwrap().clone();
    assert_eq!(first.len(), 20);
    assert!(first[0].get("shots").is_none() && first[0].get("build_jobs").is_none());
    assert_eq!(first[0]["type"], "Playlist");
    assert_eq!(get(&app, admin, &listed("?page=1")).await.1, json!(first));
    let (_, second) = get(&app, admin, &listed("?page=2")).await;
    assert_eq!(second.as_array().unwrap().len(), 25 - 20);
    // Newest change first (whole seconds, as Zou serializes them), the pages apart.
    let both: Vec<Value> = first
        .iter()
        .chain(second.as_array().unwrap())
        .cloned()
        .collect();
    let changed: Vec<&str> = both
        .iter()
        .map(|p| p["updated_at"].as_str().unwrap())
        .collect();
    assert!(changed.windows(2).all(|w| w[0] >= w[1]), "{changed:?}");
    let mut ids: Vec<&str> = both.iter().map(id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 25);
    let (_, by_name) = get(&app, admin, &listed("?sort_by=name")).await;
    assert_eq!(by_name[0]["name"], "Daily 00");
    let unknown = format!("/data/projects/{}/playlists", uuid::Uuid::new_v4());
    assert_eq!(
        get(&app, admin, &unknown).await,
        (StatusCode::OK, json!([]))
    );

    // An episode's: its own, or "main" (none, not for all), or "all" (none, for all).
    let for_all =
        json!({"name": "Props", "project_id": pid, "is_for_all": true, "for_entity": "asset"});
    created(&app, admin, "playlists", for_all).await;
    let episode = |e: &str| format!("/data/projects/{pid}/episodes/{e}/playlists");
    let (_, of_episode) = get(&app, admin, &episode(eid)).await;
    let (_, rest) = get(&app, admin, &format!("{}?page=2", episode(eid))).await;
    let mut of_episode: Vec<Value> = of_episode.as_array().unwrap().clone();
    of_episode.extend(rest.as_array().unwrap().iter().cloned());
    let of_episode = Value::Array(of_episode);
    assert_eq!(names(&of_episode).len(), 22);
    assert!(names(&of_episode).contains(&"Review"));
    let (_, of_none) = get(&app, admin, &episode("main")).await;
    assert_eq!(names(&of_none), ["Main", "Review", "Review"]);
    let (_, of_all) = get(&app, admin, &format!("{}/", episode("all"))).await;
    assert_eq!(names(&of_all), ["Props"]);
    let missing = json!({"error": true, "message": NOT_FOUND_MESSAGE});
    for e in [uuid::Uuid::new_v4().to_string(), "nope".into(), sid.into()] {
        assert_eq!(
            get(&app, admin, &episode(&e)).await,
            (StatusCode::NOT_FOUND, missing.clone())
        );
    }

    // Deleted once; a forced project delete takes its playlists.
    assert_eq!(delete(&app, admin, &path).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        delete(&app, admin, &path).await,
        (StatusCode::NOT_FOUND, missing.clone())
    );
    assert_eq!(get(&app, admin, &path).await.0, StatusCode::NOT_FOUND);
    let closed = created(
        &app,
        admin,
        "project-status",
        json!({"name": "Closed", "color": "#000000"}),
    )
    .await;
    let project = format!("/data/projects/{pid}");
    put(
        &app,
        admin,
        &project,
        json!({"project_status_id": id(&closed)}),
    )
    .await;
    let (status, body) = delete(&app, admin, &project).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        delete(&app, admin, &format!("{project}?force=true"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(get(&app, admin, "/data/playlists").await.1, json!([]));
}

#[apply(backends)]
async fn playlists_follow_zou_rules_for_supervisors_clients_and_vendors(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let p = production(&app).await;
    let (admin, pid) = (&p.admin, id(&p.project));
    let team = format!("/data/projects/{pid}/team");
    let mut people = Vec::new();
    for role in ["supervisor", "supervisor", "client", "vendor", "user"] {
        let (token, person_id) = person(&app, role).await;
        people.push(token);
        if people.len() != 2 {
            post(&app, admin, &team, json!({"person_id": person_id})).await;
        }
    }
    let [supervisor, stranger, client, vendor, artist] = people.try_into().unwrap();
    let refused = (
        StatusCode::FORBIDDEN,
        json!({"error": true, "message": FORBIDDEN}),
    );

    // A supervisor of the team changes and deletes their own playlists, not others'.
    let theirs = created(
        &app,
        admin,
        "playlists",
        json!({"name": "Admin's", "project_id": pid}),
    )
    .await;
    let mine = created(
        &app,
        &supervisor,
        "playlists",
        json!({"name": "Mine", "project_id": pid}),
    )
    .await;
    let mine_path = format!("/data/playlists/{}", id(&mine));
    let theirs_path = format!("/data/playlists/{}", id(&theirs));
    assert_eq!(
        put(&app, &supervisor, &mine_path, json!({"name": "Mine 2"}))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        put(&app, &supervisor, &theirs_path, json!({"name": "No"})).await,
        refused
    );
    assert_eq!(delete(&app, &supervisor, &theirs_path).await, refused);
    let outside = json!({"name": "Outside", "project_id": pid});
    assert_eq!(
        post(&app, &stranger, "/data/playlists", outside).await,
        refused
    );
    assert_eq!(
        put(&app, &artist, &mine_path, json!({"name": "No"})).await,
        refused
    );
    assert_eq!(
        delete(&app, &supervisor, &mine_path).await.0,
        StatusCode::NO_CONTENT
    );

    // Clients see only what is shared with them; vendors nothing.
    let shared = created(
        &app,
        admin,
        "playlists",
        json!({"name": "Shared", "project_id": pid, "for_client": true, "episode_id": id(&p.episode)}),
    )
    .await;
    for list in [
        "/data/playlists".to_string(),
        format!("/data/projects/{pid}/playlists"),
        format!("/data/projects/{pid}/episodes/{}/playlists", id(&p.episode)),
    ] {
        assert_eq!(
            names(&get(&app, &client, &list).await.1),
            ["Shared"],
            "{list}"
        );
        assert_eq!(get(&app, &vendor, &list).await, refused, "{list}");
    }
    assert_eq!(
        names(&get(&app, &artist, "/data/playlists").await.1),
        ["Admin's", "Shared"]
    );
    let shared_path = format!("/data/playlists/{}", id(&shared));
    assert_eq!(get(&app, &client, &shared_path).await.0, StatusCode::OK);
    assert_eq!(get(&app, &client, &theirs_path).await, refused);
    assert_eq!(get(&app, &vendor, &shared_path).await, refused);
    assert_eq!(get(&app, &stranger, &shared_path).await, refused);
    assert_eq!(
        get(&app, &stranger, &format!("/data/projects/{pid}/playlists")).await,
        refused
    );

    // Team members keep listing the playlists of a closed project (Zou lists them by team).
    let closed = created(
        &app,
        admin,
        "project-status",
        json!({"name": "Closed", "color": "#000000"}),
    )
    .await;
    put(
        &app,
        admin,
        &format!("/data/projects/{pid}"),
        json!({"project_status_id": id(&closed)}),
    )
    .await;
    assert_eq!(
        names(&get(&app, &artist, "/data/playlists").await.1),
        ["Admin's", "Shared"]
    );
    assert_eq!(get(&app, &artist, "/data/entities").await.1, json!([]));

    // The playlists' read model is the log's: a rebuild gives the same rows.
    app.settle(annals_projections::Projection::name(&KitsuRecords))
        .await;
    let playlists = app.infra.views.dump("kitsu_playlists").await.unwrap();
    assert_eq!(playlists.len(), 2, "{playlists:?}");
    app.assert_rebuild_equals_live(std::sync::Arc::new(KitsuRecords))
        .await;
}
