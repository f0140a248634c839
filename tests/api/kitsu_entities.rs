//! Zou's entities over HTTP on both backends: one `entities` model with typed views (assets,
//! shots, sequences, episodes, edits, asset types), the project lists and creators gazu
//! calls, and who sees what. The answers asserted here are the real Zou 1.0.97's
//! (tests/fixtures/zou-1.0.97-entities.md).
use annals::http::kitsu::errors::NOT_FOUND_MESSAGE;
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app};
use crate::kitsu_data::{FORBIDDEN, admin, created, get, post, put};
use crate::kitsu_projects::person;

fn id(record: &Value) -> &str {
    record["id"].as_str().unwrap()
}

/// A project with one asset of a new asset type, and an episode, sequence and shot.
struct Breakdown {
    project: Value,
    asset_type: Value,
    asset: Value,
    sequence: Value,
    shot: Value,
}

async fn breakdown(app: &TestApp, token: &str) -> Breakdown {
    let project = created(app, token, "projects", json!({"name": "Sintel"})).await;
    let asset_type = created(app, token, "entity-types", json!({"name": "Prop"})).await;
    let pid = id(&project).to_string();
    let (status, asset) = post(
        app,
        token,
        &format!(
            "/data/projects/{pid}/asset-types/{}/assets/new",
            id(&asset_type)
        ),
        json!({"name": "Chair", "data": {"legs": 4}, "is_shared": false, "unknown": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{asset}");
    let (_, episode) = post(
        app,
        token,
        &format!("/data/projects/{pid}/episodes"),
        json!({"name": "E01"}),
    )
    .await;
    let (_, sequence) = post(
        app,
        token,
        &format!("/data/projects/{pid}/sequences"),
        json!({"name": "S01", "episode_id": id(&episode)}),
    )
    .await;
    let (status, shot) = post(
        app,
        token,
        &format!("/data/projects/{pid}/shots"),
        json!({"name": "P01", "sequence_id": id(&sequence), "nb_frames": 24, "data": {"frame_in": 1}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{shot}");
    Breakdown {
        project,
        asset_type,
        asset,
        sequence,
        shot,
    }
}

#[apply(backends)]
async fn creators_make_entities_of_their_kind_as_zou_does(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let (_, me) = get(&app, &token, "/auth/authenticated").await;
    let b = breakdown(&app, &token).await;
    let pid = id(&b.project).to_string();

    for (key, value) in [
        ("type", json!("Asset")),
        ("name", json!("Chair")),
        ("description", json!("")),
        ("data", json!({"legs": 4})),
        ("status", json!("running")),
        ("canceled", json!(false)),
        ("nb_entities_out", json!(0)),
        ("parent_id", Value::Null),
        ("project_id", json!(pid)),
        ("entity_type_id", b.asset_type["id"].clone()),
        ("created_by", me["user"]["id"].clone()),
    ] {
        assert_eq!(b.asset[key], value, "{key}: {}", b.asset);
    }
    assert_eq!(b.shot["type"], "Shot");
    assert_eq!(b.shot["parent_id"], b.sequence["id"]);
    assert_eq!(b.shot["nb_frames"], 24);
    // Zou leaves a shot's description null, and gives other kinds "".
    assert_eq!(b.shot["description"], Value::Null);
    assert_eq!(b.sequence["type"], "Sequence");
    assert_eq!(b.sequence["description"], "");

    // The same shot under the same sequence is the one answered again; assets may repeat.
    let (status, again) = post(
        &app,
        &token,
        &format!("/data/projects/{pid}/shots"),
        json!({"name": "P01", "sequence_id": id(&b.sequence)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["id"], b.shot["id"]);
    let (status, twin) = post(
        &app,
        &token,
        &format!(
            "/data/projects/{pid}/asset-types/{}/assets/new",
            id(&b.asset_type)
        ),
        json!({"name": "Chair"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(twin["id"], b.asset["id"]);

    // Zou's refusals: no name, an unknown parent, a temporal type as asset type.
    let (status, body) = post(
        &app,
        &token,
        &format!("/data/projects/{pid}/episodes"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Validation error.");
    assert_eq!(body["data"]["errors"][0]["field"], "name");
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, body) = post(
        &app,
        &token,
        &format!("/data/projects/{pid}/shots"),
        json!({"name": "P9", "sequence_id": unknown}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["message"], NOT_FOUND_MESSAGE);
    let (status, _) = post(
        &app,
        &token,
        &format!("/data/projects/{unknown}/episodes"),
        json!({"name": "E"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let shot_type = b.shot["entity_type_id"].as_str().unwrap();
    let (status, _) = post(
        &app,
        &token,
        &format!("/data/projects/{pid}/asset-types/{shot_type}/assets/new"),
        json!({"name": "Z"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Project lists and asset types: those the project's assets use.
    let (_, assets) = get(&app, &token, &format!("/data/projects/{pid}/assets")).await;
    assert_eq!(assets.as_array().unwrap().len(), 2, "{assets}");
    let (_, types) = get(&app, &token, &format!("/data/projects/{pid}/asset-types")).await;
    assert_eq!(
        types,
        json!([{
            "id": b.asset_type["id"], "type": "AssetType", "name": "Prop", "short_name": null,
            "description": null, "archived": false,
            "created_at": b.asset_type["created_at"], "updated_at": b.asset_type["updated_at"],
        }])
    );
    let (_, shots) = get(
        &app,
        &token,
        &format!("/data/sequences/{}/shots", id(&b.sequence)),
    )
    .await;
    assert_eq!(shots.as_array().unwrap().len(), 1, "{shots}");
    let (status, body) = get(&app, &token, "/data/projects/nope/assets").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Invalid UUID value: nope");
    let (status, body) = get(&app, &token, &format!("/data/projects/{unknown}/assets")).await;
    assert_eq!((status, body), (StatusCode::OK, json!([])));
}

#[apply(backends)]
async fn a_typed_route_does_not_serve_an_entity_of_another_kind(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let b = breakdown(&app, &token).await;
    let (asset, shot) = (id(&b.asset), id(&b.shot));

    for (path, expected) in [
        (format!("/data/assets/{asset}"), StatusCode::OK),
        (format!("/data/shots/{shot}"), StatusCode::OK),
        (format!("/data/entities/{shot}"), StatusCode::OK),
        (format!("/data/shots/{asset}"), StatusCode::NOT_FOUND),
        (format!("/data/sequences/{asset}"), StatusCode::NOT_FOUND),
        (format!("/data/assets/{shot}"), StatusCode::NOT_FOUND),
        (format!("/data/episodes/{shot}"), StatusCode::NOT_FOUND),
        (
            format!(
                "/data/asset-types/{}",
                b.shot["entity_type_id"].as_str().unwrap()
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/data/asset-types/{}", id(&b.asset_type)),
            StatusCode::OK,
        ),
    ] {
        let (status, body) = get(&app, &token, &path).await;
        assert_eq!(status, expected, "{path}: {body}");
        if status == StatusCode::NOT_FOUND {
            assert_eq!(body["message"], NOT_FOUND_MESSAGE, "{path}");
        }
    }
    let (_, one) = get(&app, &token, &format!("/data/entities/{shot}")).await;
    assert_eq!(one["type"], "Shot");
    assert!(one.get("sequence_name").is_none(), "{one}");
    // A typed read adds what Zou's does: names of the project and parent, the parent's id.
    let (_, one) = get(&app, &token, &format!("/data/shots/{shot}")).await;
    assert_eq!(one["project_name"], "Sintel");
    assert_eq!(one["sequence_id"], b.sequence["id"]);
    assert_eq!(one["sequence_name"], "S01");
    let (_, one) = get(&app, &token, &format!("/data/assets/{asset}")).await;
    assert_eq!(one["asset_type_id"], b.asset_type["id"]);
    assert_eq!(one["asset_type_name"], "Prop");
    let (_, one) = get(
        &app,
        &token,
        &format!("/data/sequences/{}", id(&b.sequence)),
    )
    .await;
    assert_eq!(one["episode_name"], "E01");
    let (_, one) = get(
        &app,
        &token,
        &format!("/data/asset-types/{}", id(&b.asset_type)),
    )
    .await;
    assert_eq!(one["type"], "AssetType");
    // Lists of a kind hold only that kind; asset types leave out the temporal types.
    let (_, shots) = get(&app, &token, "/data/shots").await;
    assert_eq!(shots.as_array().unwrap().len(), 1, "{shots}");
    let (_, types) = get(&app, &token, "/data/asset-types").await;
    let names: Vec<_> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, [json!("Prop")], "{types}");
    assert_eq!(
        types[0]["task_types"],
        json!([]),
        "asset types list with relations"
    );
    // Views are written through `entities`: Zou answers 405 to a write of a view.
    let (status, _) = put(
        &app,
        &token,
        &format!("/data/assets/{asset}"),
        json!({"name": "X"}),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = post(&app, &token, "/data/assets", json!({"name": "X"})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // A sequence with shots stays, with the message of the route it is deleted through.
    let sequence = id(&b.sequence);
    for (path, body) in [
        (
            format!("/data/sequences/{sequence}"),
            json!({"error": true, "message": "Some data are still linked to this sequence."}),
        ),
        (
            format!("/data/entities/{sequence}"),
            json!({"message": "The change conflicts with records referencing this one."}),
        ),
    ] {
        let response = app.kitsu(Some(&token)).delete(&path, &json!({})).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["message"], body["message"], "{path}: {answer}");
        assert_eq!(answer.get("error"), body.get("error"), "{path}: {answer}");
    }
    // A delete through the wrong kind finds nothing; through its own, it goes.
    let wrong = app
        .kitsu(Some(&token))
        .delete(&format!("/data/shots/{asset}"), &json!({}))
        .await;
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let gone = app
        .kitsu(Some(&token))
        .delete(&format!("/data/assets/{asset}"), &json!({}))
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let (status, _) = get(&app, &token, &format!("/data/assets/{asset}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[apply(backends)]
async fn an_artist_sees_a_projects_entities_only_from_its_team(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let b = breakdown(&app, &token).await;
    let pid = id(&b.project).to_string();
    let (artist, artist_id) = person(&app, "user").await;
    let asset_path = format!("/data/assets/{}", id(&b.asset));
    let new_episode = format!("/data/projects/{pid}/episodes");

    for path in [
        format!("/data/projects/{pid}/assets"),
        format!("/data/projects/{pid}/asset-types"),
        format!("/data/projects/{pid}/shots"),
        format!("/data/sequences/{}/shots", id(&b.sequence)),
        asset_path.clone(),
    ] {
        let (status, body) = get(&app, &artist, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["message"], FORBIDDEN, "{path}");
    }
    for path in ["/data/assets/all", "/data/entities", "/data/assets"] {
        let (status, body) = get(&app, &artist, path).await;
        assert_eq!((status, body), (StatusCode::OK, json!([])), "{path}");
    }
    let (status, _) = post(
        &app,
        &artist,
        &format!(
            "/data/projects/{pid}/asset-types/{}/assets/new",
            id(&b.asset_type)
        ),
        json!({"name": "Mine"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _) = post(
        &app,
        &token,
        &format!("/data/projects/{pid}/team"),
        json!({"person_id": artist_id}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, assets) = get(&app, &artist, &format!("/data/projects/{pid}/assets")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(assets.as_array().unwrap().len(), 1, "{assets}");
    let (_, all) = get(&app, &artist, "/data/assets/all").await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    let (status, _) = get(&app, &artist, &asset_path).await;
    assert_eq!(status, StatusCode::OK);
    // In the team, an artist still does not manage the project.
    let (status, _) = post(&app, &artist, &new_episode, json!({"name": "E09"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let entity = json!({
        "name": "Lamp", "project_id": pid, "entity_type_id": b.asset_type["id"],
    });
    let (status, _) = post(&app, &artist, "/data/entities", entity.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A production manager manages the projects whose team holds them, only those.
    let (manager, manager_id) = person(&app, "manager").await;
    let (status, _) = post(&app, &manager, &new_episode, json!({"name": "E02"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(&app, &manager, "/data/entities", entity.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let team = format!("/data/projects/{pid}/team");
    let (status, _) = post(&app, &token, &team, json!({"person_id": manager_id})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, episode) = post(&app, &manager, &new_episode, json!({"name": "E02"})).await;
    assert_eq!(status, StatusCode::CREATED, "{episode}");
    let (status, lamp) = post(&app, &manager, "/data/entities", entity).await;
    assert_eq!(status, StatusCode::CREATED, "{lamp}");
    assert_eq!(lamp["type"], "Asset");
}

const GAZU_ENTITIES: &str = r##"
import json, sys
import gazu

host, email, password = sys.argv[1:4]
gazu.set_host(host)
gazu.log_in(email, password)
out = {}
project = gazu.project.new_project("Sintel")
prop = gazu.asset.new_asset_type("Prop")
out["same_type"] = gazu.asset.new_asset_type("Prop")["id"] == prop["id"]
chair = gazu.asset.new_asset(project, prop, "Chair", description="a chair", extra_data={"legs": 4})
out["chair"] = chair
out["same_asset"] = gazu.asset.new_asset(project, prop, "Chair")["id"] == chair["id"]
gazu.asset.new_asset(project, prop, "Table")
out["assets"] = [a["name"] for a in gazu.asset.all_assets_for_project(project)]
out["by_name"] = gazu.asset.get_asset_by_name(project, "chair", prop)["id"] == chair["id"]
out["asset"] = gazu.asset.get_asset(chair["id"])["name"]
out["project_types"] = [t["name"] for t in gazu.asset.all_asset_types_for_project(project)]
episode = gazu.shot.new_episode(project, "E01")
out["same_episode"] = gazu.shot.new_episode(project, "E01")["id"] == episode["id"]
sequence = gazu.shot.new_sequence(project, "S01", episode=episode)
out["same_sequence"] = gazu.shot.new_sequence(project, "S01", episode=episode)["id"] == sequence["id"]
shot = gazu.shot.new_shot(project, sequence, "P01", nb_frames=24, frame_in=1, frame_out=24)
out["shot"] = shot
out["same_shot"] = gazu.shot.new_shot(project, sequence, "P01")["id"] == shot["id"]
gazu.shot.new_shot(project, sequence, "P02")
out["shots"] = [s["name"] for s in gazu.shot.all_shots_for_sequence(sequence)]
out["sequence_of_shot"] = gazu.shot.get_sequence_from_shot(shot)["id"] == sequence["id"]
out["episodes"] = [e["name"] for e in gazu.shot.all_episodes_for_project(project)]
out["sequences"] = [s["name"] for s in gazu.shot.all_sequences_for_project(project)]
out["all_types"] = [t["name"] for t in gazu.asset.all_asset_types()]
shot["description"] = "the first shot"
out["updated"] = gazu.shot.update_shot(shot)["description"]
out["data"] = gazu.shot.update_shot_data(shot, {"fps": 24})["data"]
out["read_back"] = gazu.shot.get_shot(shot["id"])["description"]
gazu.shot.remove_shot(gazu.shot.get_shot_by_name(sequence, "P02"))
out["shots_left"] = [s["name"] for s in gazu.shot.all_shots_for_sequence(sequence)]
gazu.asset.remove_asset(gazu.asset.get_asset_by_name(project, "Table"))
out["assets_left"] = [a["name"] for a in gazu.asset.all_assets_for_project(project)]
gazu.client.create("project-status", {"name": "Closed", "color": "#000000"})
gazu.project.close_project(project)
gazu.project.remove_project(project, force=True)
out["projects_left"] = gazu.project.all_projects()
out["entities_left"] = gazu.client.fetch_all("entities")
print(json.dumps(out))
"##;

#[apply(backends)]
async fn gazu_builds_a_breakdown_of_assets_episodes_sequences_and_shots(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = crate::kitsu_data::admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(GAZU_ENTITIES, &[&host, &email, PASSWORD])
        .await
        .json;
    assert_eq!(out["same_type"], true, "{out}");
    assert_eq!(out["chair"]["type"], "Asset", "{out}");
    assert_eq!(out["chair"]["description"], "a chair", "{out}");
    assert_eq!(out["chair"]["data"], json!({"legs": 4}), "{out}");
    assert_eq!(out["same_asset"], true, "{out}");
    assert_eq!(out["assets"], json!(["Chair", "Table"]), "{out}");
    assert_eq!(out["by_name"], true, "{out}");
    assert_eq!(out["asset"], "Chair", "{out}");
    assert_eq!(out["project_types"], json!(["Prop"]), "{out}");
    assert_eq!(out["same_episode"], true, "{out}");
    assert_eq!(out["same_sequence"], true, "{out}");
    assert_eq!(out["shot"]["type"], "Shot", "{out}");
    assert_eq!(out["shot"]["nb_frames"], 24, "{out}");
    assert_eq!(
        out["shot"]["data"],
        json!({"frame_in": 1, "frame_out": 24}),
        "{out}"
    );
    assert_eq!(out["same_shot"], true, "{out}");
    assert_eq!(out["shots"], json!(["P01", "P02"]), "{out}");
    assert_eq!(out["sequence_of_shot"], true, "{out}");
    assert_eq!(out["episodes"], json!(["E01"]), "{out}");
    assert_eq!(out["sequences"], json!(["S01"]), "{out}");
    assert_eq!(out["all_types"], json!(["Prop"]), "{out}");
    assert_eq!(out["updated"], "the first shot", "{out}");
    assert_eq!(
        out["data"],
        json!({"frame_in": 1, "frame_out": 24, "fps": 24}),
        "{out}"
    );
    assert_eq!(out["read_back"], "the first shot", "{out}");
    assert_eq!(out["shots_left"], json!(["P01"]), "{out}");
    assert_eq!(out["assets_left"], json!(["Chair"]), "{out}");
    assert_eq!(out["projects_left"], json!([]), "{out}");
    assert_eq!(out["entities_left"], json!([]), "{out}");
}

/// Entities change through `entities` (Zou merges `data`), and their read model is a function
/// of the log: a rebuild gives the same rows.
#[apply(backends)]
async fn entities_update_through_the_model_and_rebuild_to_the_same_rows(#[case] backend: Backend) {
    use annals_projections::kitsu::KitsuRecords;

    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let b = breakdown(&app, &token).await;
    let path = format!("/data/entities/{}", id(&b.asset));
    let (status, updated) = put(
        &app,
        &token,
        &path,
        json!({"data": {"extra_field": true}, "type": "Shot", "created_by": null}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["data"], json!({"legs": 4, "extra_field": true}));
    assert_eq!(updated["type"], "Asset");
    assert_eq!(updated["created_by"], b.asset["created_by"]);
    let (_, read) = get(&app, &token, &format!("/data/assets/{}", id(&b.asset))).await;
    assert_eq!(read["data"], json!({"legs": 4, "extra_field": true}));
    let gone = app
        .kitsu(Some(&token))
        .delete(&format!("/data/shots/{}", id(&b.shot)), &json!({}))
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);

    app.settle(annals_projections::Projection::name(&KitsuRecords))
        .await;
    let entities = app.infra.views.dump("kitsu_entities").await.unwrap();
    assert_eq!(entities.len(), 3, "an asset, an episode, a sequence");
    app.assert_rebuild_equals_live(std::sync::Arc::new(KitsuRecords))
        .await;
}

/// Zou's unique (name, project, type, parent) holds under concurrency: twenty creators of one
/// shot all get the same one; a generic duplicate is refused, one without parent is not.
#[apply(backends)]
async fn one_shot_of_a_name_per_sequence_under_concurrent_creators(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let b = breakdown(&app, &token).await;
    let pid = id(&b.project).to_string();
    let shots = format!("/data/projects/{pid}/shots");
    let body = json!({"name": "P77", "sequence_id": id(&b.sequence)});
    let answers =
        futures::future::join_all((0..20).map(|_| post(&app, &token, &shots, body.clone()))).await;
    let mut ids: Vec<Value> = answers
        .iter()
        .map(|(status, shot)| {
            assert_eq!(*status, StatusCode::CREATED, "{shot}");
            shot["id"].clone()
        })
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let (_, listed) = get(
        &app,
        &token,
        &format!("/data/sequences/{}/shots", id(&b.sequence)),
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "P01 and P77: {listed}");

    let twin = json!({
        "name": "P77", "project_id": pid, "entity_type_id": b.shot["entity_type_id"],
        "parent_id": b.sequence["id"],
    });
    let (status, refused) = post(&app, &token, "/data/entities", twin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused["message"],
        "A record with the same unique values already exists."
    );
    let orphan =
        json!({"name": "S01", "project_id": pid, "entity_type_id": b.sequence["entity_type_id"]});
    let (status, made) = post(&app, &token, "/data/entities", orphan.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["type"], "Sequence");
    let (status, _) = post(&app, &token, "/data/entities", orphan).await;
    assert_eq!(status, StatusCode::CREATED, "a null parent admits many");
}

/// A closed project with entities: refused without `force` (Zou answers a 500 there), deleted
/// with its entities by `?force=true`, as Zou does.
#[apply(backends)]
async fn a_forced_project_removal_takes_its_entities_with_it(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let b = breakdown(&app, &token).await;
    let pid = id(&b.project).to_string();
    let closed = created(
        &app,
        &token,
        "project-status",
        json!({"name": "Closed", "color": "#000000"}),
    )
    .await;
    let path = format!("/data/projects/{pid}");
    let (status, _) = put(
        &app,
        &token,
        &path,
        json!({"project_status_id": closed["id"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let refused = app.kitsu(Some(&token)).delete(&path, &json!({})).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let (status, _) = get(&app, &token, &format!("/data/assets/{}", id(&b.asset))).await;
    assert_eq!(status, StatusCode::OK, "a refused delete changes nothing");

    let forced = app
        .kitsu(Some(&token))
        .delete(&format!("{path}?force=true"), &json!({}))
        .await;
    assert_eq!(forced.status(), StatusCode::NO_CONTENT);
    for gone in [
        &path,
        &format!("/data/entities/{}", id(&b.shot)),
        &format!("/data/entities/{}", id(&b.asset)),
    ] {
        let (status, _) = get(&app, &token, gone).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    }
    let (_, left) = get(&app, &token, "/data/entities").await;
    assert_eq!(left, json!([]));
}
