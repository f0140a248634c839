//! The models the generic data API serves with no behaviour of their own (reference section
//! 3: output types to entity links), on both backends: one table of bodies, one loop of
//! create, read, filtered list, update and delete, and Zou's refusal of a missing field.
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, backends, spawn_app};
use crate::kitsu_data::{admin, created, get, post, put};
use crate::surfaces::answer;

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_string()
}

/// What the records of the table point at.
struct Refs {
    admin_id: String,
    asset: String,
    shot: String,
    task: String,
}

impl Refs {
    async fn new(app: &TestApp, token: &str) -> Refs {
        let (_, me) = get(app, token, "/auth/authenticated").await;
        let admin_id = me["user"]["id"].as_str().unwrap().to_string();
        let project = id(&created(app, token, "projects", json!({"name": "Models"})).await);
        let prop = id(&created(app, token, "entity-types", json!({"name": "Prop"})).await);
        let entity =
            |name: &str| json!({"name": name, "project_id": project, "entity_type_id": prop});
        let asset = id(&created(app, token, "entities", entity("Chair")).await);
        let shot = id(&created(app, token, "entities", entity("Table")).await);
        let modeling = json!({"name": "Modeling", "for_entity": "Asset"});
        let modeling = id(&created(app, token, "task-types", modeling).await);
        let task = json!({"project_id": project, "task_type_id": modeling, "entity_id": asset});
        let task = id(&created(app, token, "tasks", task).await);
        Refs {
            admin_id,
            asset,
            shot,
            task,
        }
    }
}

/// One row of the table: the model, a minimal valid create, the field its list is filtered
/// on, an update, and a required field (none when the model has none).
struct Case {
    model: &'static str,
    body: Value,
    filter: &'static str,
    update: Value,
    required: Option<&'static str>,
}

fn cases(r: &Refs) -> Vec<Case> {
    let case = |model, body, filter, update, required| Case {
        model,
        body,
        filter,
        update,
        required,
    };
    vec![
        case(
            "output-types",
            json!({"name": "Cache", "short_name": "cch"}),
            "short_name",
            json!({"short_name": "abc"}),
            Some("short_name"),
        ),
        case(
            "custom-actions",
            json!({"name": "Open in Maya"}),
            "entity_type",
            json!({"url": "https://example.com/hook"}),
            Some("name"),
        ),
        case(
            "search-filter-groups",
            json!({"list_type": "asset", "name": "Mine"}),
            "list_type",
            json!({"color": "#123456"}),
            Some("list_type"),
        ),
        case(
            "preview-background-files",
            json!({"name": "Studio HDRI"}),
            "is_default",
            json!({"original_name": "studio.hdr"}),
            Some("name"),
        ),
        case(
            "plugins",
            json!({
                "plugin_id": "sync", "name": "Sync", "version": "1.0",
                "maintainer_name": "Someone", "license": "MIT",
            }),
            "plugin_id",
            json!({"description": "syncs"}),
            Some("license"),
        ),
        case(
            "subscriptions",
            json!({"person_id": r.admin_id, "task_id": r.task}),
            "task_id",
            json!({"entity_id": r.asset}),
            Some("person_id"),
        ),
        case(
            "day-offs",
            json!({"person_id": r.admin_id, "date": "2026-03-02", "end_date": "2026-03-04"}),
            "person_id",
            json!({"description": "holidays"}),
            Some("end_date"),
        ),
        case(
            "time-spents",
            json!({
                "person_id": r.admin_id, "task_id": r.task, "date": "2026-03-02",
                "duration": 120.0,
            }),
            "task_id",
            json!({"duration": 60.0}),
            Some("duration"),
        ),
        case(
            "asset-instances",
            json!({"asset_id": r.asset, "number": 1}),
            "asset_id",
            json!({"description": "the first"}),
            Some("asset_id"),
        ),
        case(
            "working-files",
            json!({"name": "main", "task_id": r.task, "revision": 1}),
            "task_id",
            json!({"comment": "first pass"}),
            None,
        ),
        case(
            "attachment-files",
            json!({"name": "ref.png", "extension": "png"}),
            "extension",
            json!({"mimetype": "image/png"}),
            None,
        ),
        case(
            "preview-files",
            json!({"name": "v1", "task_id": r.task}),
            "task_id",
            json!({"description": "first take"}),
            None,
        ),
        case(
            "entity-links",
            json!({"entity_in_id": r.shot, "entity_out_id": r.asset}),
            "entity_in_id",
            json!({"label": "fixed"}),
            Some("entity_out_id"),
        ),
    ]
}

#[apply(backends)]
async fn every_plain_model_is_created_read_listed_changed_and_deleted(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let refs = Refs::new(&app, &token).await;
    for case in cases(&refs) {
        let model = case.model;
        let collection = format!("/data/{model}");
        let (status, made) = post(&app, &token, &collection, case.body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{model}: {made}");
        for (key, value) in case.body.as_object().unwrap() {
            assert_eq!(&made[key], value, "{model}: {key}");
        }
        let path = format!("{collection}/{}", id(&made));

        let (status, read) = get(&app, &token, &path).await;
        assert_eq!(
            (status, &read["id"]),
            (StatusCode::OK, &made["id"]),
            "{model}"
        );

        let value = match &made[case.filter] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let (status, listed) = get(
            &app,
            &token,
            &format!("{collection}?{}={value}", case.filter),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{model}: {listed}");
        assert_eq!(listed.as_array().unwrap().len(), 1, "{model}: {listed}");
        let (_, none) = get(
            &app,
            &token,
            &format!("{collection}?id={}", uuid::Uuid::new_v4()),
        )
        .await;
        assert_eq!(none, json!([]), "{model}");

        let (status, changed) = put(&app, &token, &path, case.update.clone()).await;
        assert_eq!(status, StatusCode::OK, "{model}: {changed}");
        let (_, read) = get(&app, &token, &path).await;
        for (key, value) in case.update.as_object().unwrap() {
            assert_eq!(&read[key], value, "{model}: {key}");
        }

        let (status, _) = answer(app.kitsu(Some(&token)).delete(&path, &json!({})).await).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{model}");
        assert_eq!(
            get(&app, &token, &path).await.0,
            StatusCode::NOT_FOUND,
            "{model}"
        );

        if let Some(field) = case.required {
            let mut body = case.body;
            body.as_object_mut().unwrap().remove(field);
            let (status, refused) = post(&app, &token, &collection, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{model}: {refused}");
            assert_eq!(
                refused["message"], "A required field is missing.",
                "{model}"
            );
            assert_eq!(refused["data"]["errors"][0]["field"], field, "{model}");
        }
    }
}

/// Zou's defaults of the new models, as a create without them answers.
#[apply(backends)]
async fn the_new_models_take_zou_defaults(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let refs = Refs::new(&app, &token).await;
    let action = created(&app, &token, "custom-actions", json!({"name": "Hook"})).await;
    assert_eq!(
        (&action["entity_type"], &action["is_ajax"]),
        (&json!("all"), &json!(false))
    );
    let preview = json!({"task_id": refs.task});
    let preview = created(&app, &token, "preview-files", preview).await;
    for (key, value) in [
        ("revision", json!(1)),
        ("position", json!(1)),
        ("status", json!("processing")),
        ("validation_status", json!("neutral")),
        ("is_movie", json!(false)),
    ] {
        assert_eq!(preview[key], value, "{key}");
    }
    let link = json!({"entity_in_id": refs.shot, "entity_out_id": refs.asset});
    let link = created(&app, &token, "entity-links", link.clone()).await;
    assert_eq!(
        (&link["nb_occurences"], &link["label"]),
        (&json!(1), &json!(""))
    );
    let again = json!({"entity_in_id": refs.shot, "entity_out_id": refs.asset});
    let (status, body) = post(&app, &token, "/data/entity-links", again).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let filter = json!({"list_type": "shot"});
    let group = created(&app, &token, "search-filter-groups", filter).await;
    assert_eq!(
        (&group["name"], &group["color"], &group["is_shared"]),
        (&json!(""), &json!(""), &json!(false))
    );
}
