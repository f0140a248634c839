//! gazu's casting calls and comment actions (tests/fixtures/gazu-routes.md): an entity's
//! casting read and replaced (with the episode mirror and the episode's cascade to its
//! shots), one asset cast in many entities, the casting lists of a project, sequence,
//! episode and asset type, where an asset is cast, a shot's assets and asset types, and
//! acknowledging, replying to and deleting a reply of a comment. The script
//! (tests/fixtures/zou-casting.py) ran unchanged against the real Zou 1.0.97
//! (tests/fixtures/zou-1.0.97-casting.md), whose answers the assertions hold annals to.
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, backends, spawn_app};
use crate::kitsu_data::admin_account;

const SCRIPT: &str = include_str!("../fixtures/zou-casting.py");

/// Zou's 404 and 403 bodies.
const NOT_FOUND: &str = "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";
const FORBIDDEN: &str = "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.";

fn not_found() -> Value {
    json!([404, {"error": true, "message": NOT_FOUND}])
}

fn forbidden() -> Value {
    json!([403, {"error": true, "message": FORBIDDEN}])
}

/// The `(asset_id, nb_occurences, label)` of each entry of a casting.
fn casts(list: &Value) -> Vec<(Value, Value, Value)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a casting: {list}"))
        .iter()
        .map(|c| {
            (
                c["asset_id"].clone(),
                c["nb_occurences"].clone(),
                c["label"].clone(),
            )
        })
        .collect()
}

fn keys(entry: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    keys
}

#[apply(backends)]
async fn gazu_reads_and_changes_castings_and_acts_on_comments(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let email = admin_account(&app).await;
    let host = app.url("/api");
    let out = crate::clients::python(SCRIPT, &[&host, &email, PASSWORD, ""])
        .await
        .json;
    let id = |key: &str| out["ids"][key].clone();
    let (hero, villain, chair, ghost) = (id("hero"), id("villain"), id("chair"), id("ghost"));
    let project = id("project");

    // An entity's casting: the entries with `asset_id` and `nb_occurences`, the body echoed,
    // read back by asset type name then asset name, canceled assets left out.
    assert_eq!(out["empty"], json!([]));
    assert_eq!(out["put"].as_array().unwrap().len(), 4, "{out}");
    assert_eq!(
        casts(&out["get"]),
        vec![
            (hero.clone(), json!(2), json!("")),
            (chair.clone(), json!(1), json!("fixed")),
            (ghost.clone(), json!(1), json!("")),
        ]
    );
    assert_eq!(
        keys(&out["get"][0]),
        [
            "asset_id",
            "asset_name",
            "asset_type_name",
            "episode_id",
            "is_shared",
            "label",
            "nb_occurences",
            "preview_file_id",
            "project_id",
            "ready_for"
        ]
    );
    assert_eq!(out["get"][0]["asset_name"], "Hero");
    assert_eq!(out["get"][0]["project_id"], project);
    assert_eq!(out["get"][0]["is_shared"], false);
    assert_eq!(
        casts(&out["get_without_canceled"]),
        vec![
            (hero.clone(), json!(2), json!("")),
            (chair.clone(), json!(1), json!("fixed")),
        ]
    );
    // The shot counts its links; its episode casts what the shot casts, marked `auto`.
    assert_eq!(out["shot_after_put"], 3);
    assert_eq!(out["episode_after_put"], 3);
    let links = out["links_after_put"].as_array().unwrap();
    assert_eq!(links.len(), 6, "{out}");
    let of = |links: &Value, entity: &Value| -> Vec<(Value, Value, Value)> {
        let mut found: Vec<_> = links
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["entity_in_id"] == *entity)
            .map(|l| {
                (
                    l["entity_out_id"].clone(),
                    l["nb_occurences"].clone(),
                    l["data"].clone(),
                )
            })
            .collect();
        found.sort_by_key(|f| f.0.to_string());
        found
    };
    let sorted = |mut v: Vec<(Value, Value, Value)>| {
        v.sort_by_key(|f| f.0.to_string());
        v
    };
    // In the order Zou makes them: each asset's episode mirror, then the shot's link.
    let made: Vec<(Value, Value)> = links
        .iter()
        .map(|l| (l["entity_in_id"].clone(), l["entity_out_id"].clone()))
        .collect();
    let (episode, shot) = (id("episode"), id("shot"));
    assert_eq!(
        made,
        [
            (episode.clone(), hero.clone()),
            (shot.clone(), hero.clone()),
            (episode.clone(), chair.clone()),
            (shot.clone(), chair.clone()),
            (episode.clone(), ghost.clone()),
            (shot.clone(), ghost.clone()),
        ]
    );
    let auto = json!({"auto": true});
    assert_eq!(
        of(&out["links_after_put"], &id("episode")),
        sorted(vec![
            (hero.clone(), json!(1), auto.clone()),
            (chair.clone(), json!(1), auto.clone()),
            (ghost.clone(), json!(1), auto.clone()),
        ])
    );
    assert_eq!(
        casts(&out["episode_casting"]),
        vec![
            (hero.clone(), json!(1), json!("")),
            (chair.clone(), json!(1), json!("fixed")),
        ]
    );
    // Replaced again: what no shot of the episode casts leaves the episode.
    assert_eq!(
        out["put_again"],
        json!([{"asset_id": hero, "nb_occurences": 3}])
    );
    assert_eq!(
        of(&out["links_after_put_again"], &id("shot")),
        vec![(hero.clone(), json!(3), Value::Null)]
    );
    assert_eq!(
        of(&out["links_after_put_again"], &id("episode")),
        vec![(hero.clone(), json!(1), auto.clone())]
    );
    assert_eq!(out["shot_after_put_again"], 1);
    assert_eq!(out["episode_after_put_again"], 1);
    // An asset's casting; an episode's, which takes what it drops out of its shots.
    assert_eq!(
        casts(&out["asset_casting"]),
        vec![(chair.clone(), json!(1), json!(""))]
    );
    assert_eq!(
        casts(&out["episode_casting_after_put"]),
        vec![(villain.clone(), json!(5), json!(""))]
    );
    assert_eq!(
        casts(&out["shot2_after_episode_put"]),
        vec![(villain.clone(), json!(1), json!(""))]
    );
    assert_eq!(out["episode_after_episode_put"], 1);

    // Where an asset is cast, a shot's assets and their types.
    assert_eq!(out["cast_in_hero"], json!([]));
    assert_eq!(
        out["cast_in_chair"],
        json!([{"asset_id": hero, "asset_name": "Hero", "asset_type_name": out["get"][0]["asset_type_name"],
            "nb_occurences": 1, "preview_file_id": null}])
    );
    let assets = out["shot_assets"].as_array().unwrap();
    assert_eq!(assets.len(), 1, "{out}");
    assert_eq!(assets[0]["id"], villain);
    assert_eq!(assets[0]["type"], "Asset");
    assert_eq!(keys(&assets[0]).len(), 22, "{out}");
    let types = out["shot_asset_types"].as_array().unwrap();
    assert_eq!(types.len(), 1, "{out}");
    assert_eq!(types[0]["id"], id("character"));
    assert_eq!(types[0]["type"], "AssetType");
    assert!(types[0].get("task_types").is_none(), "{out}");
    assert_eq!(out["shot3_asset_types"], json!([]));

    // The lists keyed by entity.
    let shot2 = id("shot2");
    let sequence_casting = json!({shot2.as_str().unwrap(): [{
        "asset_id": villain, "asset_name": "Villain", "asset_type_name": out["get"][0]["asset_type_name"],
        "is_shared": false, "label": "", "name": "Villain", "nb_occurences": 1,
        "preview_file_id": null, "project_id": project, "sequence_name": "S01"}]});
    for key in [
        "sequence_casting",
        "sequence_shots_casting",
        "project_shots_casting",
        "episode_shots_casting",
    ] {
        assert_eq!(out[key], sequence_casting, "{key}");
    }
    // Zou 1.0.97 keys every casting entity of the project here, not only the episodes.
    let episodes = out["episodes_casting"].as_object().unwrap();
    let mut held: Vec<&String> = episodes.keys().collect();
    held.sort();
    let mut expected = [
        shot2.as_str().unwrap().to_string(),
        hero.as_str().unwrap().to_string(),
        id("episode").as_str().unwrap().to_string(),
    ];
    expected.sort();
    assert_eq!(held, expected.iter().collect::<Vec<_>>());
    assert_eq!(
        casts(&episodes[id("episode").as_str().unwrap()]),
        vec![(villain.clone(), json!(5), json!(""))]
    );
    assert!(
        episodes[hero.as_str().unwrap()][0]
            .get("sequence_name")
            .is_none()
    );
    let by_type = out["asset_type_casting"].as_object().unwrap();
    assert_eq!(by_type.len(), 1, "{out}");
    assert_eq!(
        keys(&by_type[hero.as_str().unwrap()][0]),
        [
            "asset_id",
            "asset_name",
            "asset_type_name",
            "label",
            "name",
            "nb_occurences",
            "preview_file_id"
        ]
    );
    assert_eq!(out["prop_type_casting"], json!({}));

    // One asset cast in many entities: counts and labels kept where not given, 0 takes out.
    assert_eq!(out["cast_asset"][0], 200, "{out}");
    assert_eq!(
        casts(&out["cast_asset"][1][shot2.as_str().unwrap()]),
        vec![
            (villain.clone(), json!(1), json!("")),
            (chair.clone(), json!(2), json!("")),
        ]
    );
    assert_eq!(
        casts(&out["cast_asset"][1][id("shot").as_str().unwrap()]),
        vec![(chair.clone(), json!(2), json!(""))]
    );
    assert_eq!(
        casts(&out["cast_asset_keep"][1][id("shot").as_str().unwrap()]),
        vec![(chair.clone(), json!(2), json!("kept"))]
    );
    assert_eq!(
        casts(&out["uncast_asset"][1][shot2.as_str().unwrap()]),
        vec![(villain.clone(), json!(1), json!(""))]
    );
    let invalid = |field: &str, problem: &str| {
        json!([400, {"error": true, "message": "Validation error.",
            "data": {"errors": [{"field": field, "message": problem}]}}])
    };
    assert_eq!(
        out["cast_asset_empty"],
        invalid(
            "entity_ids",
            "List should have at least 1 item after validation, not 0"
        )
    );
    assert_eq!(
        out["cast_asset_no_body"],
        invalid("entity_ids", "Field required")
    );
    assert_eq!(
        out["cast_asset_negative"],
        invalid(
            "nb_occurences",
            "Input should be greater than or equal to 0"
        )
    );
    assert_eq!(out["cast_asset_unknown_asset"], not_found());
    assert_eq!(out["cast_asset_foreign_entity"], forbidden());
    assert_eq!(out["shot_after_cast_asset"], 1);

    // Refusals, as Zou gives them (but a malformed count: Zou fails with 500).
    assert_eq!(
        out["put_object"],
        json!([400, {"error": true, "message": "Request body must be a JSON array"}])
    );
    assert_eq!(out["put_not_json"][0], 400);
    for key in [
        "put_foreign_entity",
        "get_foreign_entity",
        "get_unknown_project",
        "sequence_casting_other_project",
    ] {
        assert_eq!(out[key], forbidden(), "{key}");
    }
    for key in [
        "get_unknown_entity",
        "get_malformed_entity",
        "put_unknown_entity",
        "cast_in_unknown",
        "cast_in_shot",
        "shot_assets_unknown",
        "shot_assets_of_asset",
        "shot_asset_types_unknown",
        "sequence_casting_unknown",
        "asset_type_casting_unknown",
    ] {
        assert_eq!(out[key], not_found(), "{key}");
    }
    assert_eq!(out["put_bad_count"][0], 400, "{out}");
    assert_eq!(
        out["put_bad_count"][1]["data"]["errors"][0]["field"],
        "nb_occurences"
    );
    assert_eq!(out["episodes_casting_unknown_project"], json!([200, {}]));

    // Roles.
    assert_eq!(out["artist_get"], 200);
    assert_eq!(out["artist_put"], forbidden());
    assert_eq!(out["artist_cast_asset"], 403);
    assert_eq!(out["artist_cast_in"], 200);
    assert_eq!(out["artist_sequence_casting"], 200);
    assert_eq!(
        out["manager_put"],
        json!([200, [{"asset_id": villain, "nb_occurences": 1}]])
    );
    for key in [
        "outsider_get",
        "outsider_cast_in",
        "outsider_shot_assets",
        "outsider_episodes_casting",
    ] {
        assert_eq!(out[key], 403, "{key}");
    }

    // Comment actions: acknowledging toggles the caller, in the order given.
    let (artist, manager) = (id("artist"), id("manager"));
    let admin = out["ack"]["acknowledgements"][0].clone();
    assert!(admin.is_string(), "{out}");
    assert_eq!(out["ack"]["id"], id("comment"));
    assert_eq!(out["ack"]["type"], "Comment");
    assert_eq!(out["ack"]["mentions"], json!([artist]));
    assert!(out["ack"].get("person").is_none());
    assert_eq!(
        out["ack_artist"][1]["acknowledgements"],
        json!([admin, artist])
    );
    assert_eq!(out["unack"]["acknowledgements"], json!([artist]));
    // annals differs: Zou acknowledges a comment named under another task (200).
    assert_eq!(out["ack_other_task"], forbidden());
    assert_eq!(out["ack_unknown_comment"], not_found());
    assert_eq!(out["ack_unknown_task"], not_found());
    assert_eq!(out["ack_outsider"], forbidden());
    assert_eq!(
        out["comment_after_acks"]["acknowledgements"],
        json!([artist])
    );
    // Replies: as the caller (a `person_id` ignored), with the people the text mentions.
    let reply = &out["reply"];
    assert_eq!(
        keys(reply),
        [
            "created_at",
            "date",
            "department_mentions",
            "id",
            "mentions",
            "person",
            "person_id",
            "text"
        ]
    );
    assert_eq!(reply["mentions"], json!([manager]));
    assert_eq!(reply["person_id"], admin);
    assert_eq!(reply["person"]["id"], admin);
    assert_eq!(reply["created_at"], reply["date"]);
    assert_eq!(out["reply_for_someone"]["person_id"], admin);
    assert_eq!(out["reply_artist"][0], 200);
    assert_eq!(out["reply_artist"][1]["person"]["id"], artist);
    assert_eq!(out["reply_artist"][1]["person"]["role"], "user");
    assert_eq!(out["reply_no_text"][1]["text"], "");
    assert_eq!(out["reply_other_task"], forbidden());
    assert_eq!(out["reply_unknown_comment"], not_found());
    assert_eq!(out["reply_outsider"], 403);
    let replies = out["comment_after_replies"]["replies"].as_array().unwrap();
    let texts: Vec<&str> = replies
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts[1..], ["Said for", "On it", ""], "{out}");
    // A comment read shows each reply's author.
    assert_eq!(replies[2]["person"]["id"], artist);
    assert_eq!(
        replies[2]["person"]["full_name"],
        out["reply_artist"][1]["person"]["full_name"]
    );
    assert_eq!(replies[0]["person"]["id"], admin);
    // Deleting a reply: its author or a studio manager; the comment answered.
    assert_eq!(out["delete_reply_of_other_as_artist"], forbidden());
    assert_eq!(out["delete_reply_again"], not_found());
    assert_eq!(out["delete_own_reply_as_artist"][0], 200);
    let left = &out["delete_own_reply_as_artist"][1];
    assert!(left.get("acknowledgements").is_none(), "{out}");
    let texts: Vec<&str> = left["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Said for", ""]);
    assert_eq!(out["delete_reply_unknown_comment"], not_found());
    let after: Vec<&str> = out["comment_after_deletes"]["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(after, ["Said for", ""]);
    // A task's comment list shows each reply's author too.
    assert_eq!(
        out["task_comment_replies"],
        json!([["Said for", true], ["", true]])
    );
}

fn id_of(record: &Value) -> String {
    record["id"].as_str().unwrap().to_string()
}

/// The `(asset_id, nb_occurences)` of a casting, sorted.
fn pairs(list: &Value) -> Vec<(String, i64)> {
    let mut found: Vec<(String, i64)> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a casting: {list}"))
        .iter()
        .map(|c| {
            (
                c["asset_id"].as_str().unwrap().to_string(),
                c["nb_occurences"].as_i64().unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

#[apply(backends)]
async fn a_casting_change_is_one_transaction_of_link_commands(#[case] backend: Backend) {
    use crate::kitsu_data::{admin, created, get, post, put};
    use reqwest::StatusCode;

    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let project = id_of(&created(&app, &token, "projects", json!({"name": "Cast"})).await);
    let prop = id_of(&created(&app, &token, "entity-types", json!({"name": "Prop"})).await);
    let (status, sequence) = post(
        &app,
        &token,
        &format!("/data/projects/{project}/sequences"),
        json!({"name": "SQ01"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sequence}");
    let mut shots = Vec::new();
    for name in ["SH01", "SH02"] {
        let (status, shot) = post(
            &app,
            &token,
            &format!("/data/projects/{project}/shots"),
            json!({"name": name, "sequence_id": id_of(&sequence)}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{shot}");
        shots.push(id_of(&shot));
    }
    let mut assets = Vec::new();
    for name in ["A", "B", "C", "D"] {
        let (status, asset) = post(
            &app,
            &token,
            &format!("/data/projects/{project}/asset-types/{prop}/assets/new"),
            json!({"name": name}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{asset}");
        assets.push(id_of(&asset));
    }
    let casting = |shot: &str| format!("/data/projects/{project}/entities/{shot}/casting");

    // Concurrent replacements of one casting: each lands whole, none merges with another.
    let bodies: Vec<Value> = (0..6)
        .map(|i| {
            json!([
                {"asset_id": assets[i % 4], "nb_occurences": i + 1},
                {"asset_id": assets[(i + 1) % 4], "nb_occurences": 1},
            ])
        })
        .collect();
    let path = casting(&shots[0]);
    let puts = bodies
        .iter()
        .map(|body| put(&app, &token, &path, body.clone()));
    for (status, answer) in futures::future::join_all(puts).await {
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (status, now) = get(&app, &token, &path).await;
    assert_eq!(status, StatusCode::OK, "{now}");
    assert!(
        bodies.iter().any(|body| pairs(body) == pairs(&now)),
        "{now} is none of the castings sent"
    );
    let (_, shot) = get(&app, &token, &format!("/data/entities/{}", shots[0])).await;
    assert_eq!(shot["nb_entities_out"], 2, "{shot}");

    // A kept asset keeps its link; a dropped one gives its pair back to the generic create.
    let second = casting(&shots[1]);
    let body = json!([{"asset_id": assets[0], "nb_occurences": 1}, {"asset_id": assets[1], "nb_occurences": 1}]);
    assert_eq!(put(&app, &token, &second, body).await.0, StatusCode::OK);
    let links_path = format!("/data/projects/{project}/entity-links");
    let link_of = |links: &Value, asset: &str| {
        links
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["entity_in_id"] == json!(shots[1]) && l["entity_out_id"] == json!(asset))
            .cloned()
    };
    let (_, before) = get(&app, &token, &links_path).await;
    let kept = link_of(&before, &assets[0]).unwrap();
    let body = json!([{"asset_id": assets[0], "nb_occurences": 4, "label": "crowd"}]);
    assert_eq!(put(&app, &token, &second, body).await.0, StatusCode::OK);
    let (_, after) = get(&app, &token, &links_path).await;
    let now = link_of(&after, &assets[0]).unwrap();
    assert_eq!(now["id"], kept["id"]);
    assert_eq!(
        (now["nb_occurences"].clone(), now["label"].clone()),
        (json!(4), json!("crowd"))
    );
    assert!(link_of(&after, &assets[1]).is_none(), "{after}");
    let (status, history) = get(
        &app,
        &token,
        &format!("/data/entity-links/{}/history", id_of(&kept)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert!(history.to_string().contains("crowd"), "{history}");
    let link = |asset: &str| json!({"entity_in_id": shots[1], "entity_out_id": asset});
    let (status, made) = post(&app, &token, "/data/entity-links", link(&assets[1])).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (status, refused) = post(&app, &token, "/data/entity-links", link(&assets[0])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");

    // An unknown asset is refused, naming the field; nothing changes.
    let unknown = json!([{"asset_id": uuid::Uuid::new_v4().to_string(), "nb_occurences": 1}]);
    let (status, refused) = put(&app, &token, &second, unknown).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["data"]["errors"][0]["field"], "asset_id");
    let (_, still) = get(&app, &token, &second).await;
    let mut expected = vec![(assets[0].clone(), 4), (assets[1].clone(), 1)];
    expected.sort();
    assert_eq!(pairs(&still), expected);

    // An asset another production shares is cast; one it keeps to itself is not (Zou casts
    // any entity).
    let elsewhere = id_of(&created(&app, &token, "projects", json!({"name": "Elsewhere"})).await);
    let foreign = |shared: bool| {
        let path = format!("/data/projects/{elsewhere}/asset-types/{prop}/assets/new");
        let (app, token) = (&app, &token);
        async move {
            let (status, asset) =
                post(app, token, &path, json!({"name": "F", "is_shared": shared})).await;
            assert_eq!(status, StatusCode::CREATED, "{asset}");
            id_of(&asset)
        }
    };
    let (shared, kept) = (foreign(true).await, foreign(false).await);
    let body = json!([{"asset_id": shared, "nb_occurences": 1}]);
    let (status, answer) = put(&app, &token, &second, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, now) = get(&app, &token, &second).await;
    assert_eq!(pairs(&now), vec![(shared.clone(), 1)]);
    let body = json!([{"asset_id": kept, "nb_occurences": 1}]);
    assert_eq!(
        put(&app, &token, &second, body).await.0,
        StatusCode::FORBIDDEN
    );
    let cast = format!("/data/projects/{project}/entities/casting/assets/{kept}");
    let body = json!({"entity_ids": [shots[1]]});
    assert_eq!(
        put(&app, &token, &cast, body).await.0,
        StatusCode::FORBIDDEN
    );

    app.assert_rebuild_equals_live(std::sync::Arc::new(annals_projections::kitsu::KitsuRecords))
        .await;
}
