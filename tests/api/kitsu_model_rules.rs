//! The rules some registry models have beyond generic CRUD, on both backends: a project's
//! casting links (list and removal), day offs that may not overlap, the date range of the time
//! spents' list, and the one default preview background. The answers asserted here are the
//! real Zou 1.0.97's (tests/fixtures/zou-1.0.97-model-rules.md).
use annals::http::kitsu::errors::NOT_FOUND_MESSAGE;
use annals_projections::kitsu::{EXACT_LINKS, KitsuRecords};
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, backends, spawn_app};
use crate::kitsu_data::{FORBIDDEN, admin, created, get, post};
use crate::kitsu_projects::person;
use crate::surfaces::answer;

const DUPLICATE: &str = "A record with the same unique values already exists.";

fn id(record: &Value) -> &str {
    record["id"].as_str().unwrap()
}

async fn delete(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let response = app.kitsu(Some(token)).delete(path, &json!({})).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn keys(doc: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    keys
}

fn forbidden() -> (StatusCode, Value) {
    (
        StatusCode::FORBIDDEN,
        json!({"error": true, "message": FORBIDDEN}),
    )
}

fn not_found() -> (StatusCode, Value) {
    (
        StatusCode::NOT_FOUND,
        json!({"error": true, "message": NOT_FOUND_MESSAGE}),
    )
}

/// A project with a shot and three assets, and another project with one asset.
struct Casting {
    project: String,
    other: String,
    shot: String,
    assets: Vec<String>,
    foreign: String,
}

async fn casting(app: &TestApp, token: &str) -> Casting {
    let project = id(&created(app, token, "projects", json!({"name": "Links"})).await).to_string();
    let other = id(&created(app, token, "projects", json!({"name": "Other"})).await).to_string();
    let prop = created(app, token, "entity-types", json!({"name": "Prop"})).await;
    let asset = |project: &str, name: &str| json!({"name": name, "project_id": project, "entity_type_id": id(&prop)});
    let (status, sequence) = post(
        app,
        token,
        &format!("/data/projects/{project}/sequences"),
        json!({"name": "SQ01"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sequence}");
    let (status, shot) = post(
        app,
        token,
        &format!("/data/projects/{project}/shots"),
        json!({"name": "SH01", "sequence_id": id(&sequence)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{shot}");
    let mut assets = Vec::new();
    for name in ["hero", "villain", "extra"] {
        let made = created(app, token, "entities", asset(&project, name)).await;
        assets.push(id(&made).to_string());
    }
    let foreign = created(app, token, "entities", asset(&other, "other")).await;
    Casting {
        project,
        other,
        shot: id(&shot).to_string(),
        assets,
        foreign: id(&foreign).to_string(),
    }
}

#[apply(backends)]
async fn a_projects_casting_links_are_listed_and_removed_as_zou_does(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let c = casting(&app, &admin).await;
    let link = |entity_in: &str, entity_out: &str| json!({"entity_in_id": entity_in, "entity_out_id": entity_out});

    // The generic create, as Zou answers it.
    let first = created(&app, &admin, "entity-links", link(&c.shot, &c.assets[0])).await;
    assert_eq!(
        keys(&first),
        [
            "created_at",
            "data",
            "entity_in_id",
            "entity_out_id",
            "id",
            "label",
            "nb_occurences",
            "type",
            "updated_at"
        ]
    );
    assert_eq!(
        (&first["label"], &first["nb_occurences"], &first["data"]),
        (&json!(""), &json!(1), &Value::Null)
    );
    assert_eq!(first["type"], "EntityLink");
    let body = json!({
        "entity_in_id": c.shot, "entity_out_id": c.assets[1], "nb_occurences": 3,
        "label": "fixed", "data": {"k": 1},
    });
    let second = created(&app, &admin, "entity-links", body).await;
    let third = created(
        &app,
        &admin,
        "entity-links",
        link(&c.assets[0], &c.assets[2]),
    )
    .await;
    let foreign = created(&app, &admin, "entity-links", link(&c.foreign, &c.assets[0])).await;
    let refusals = [
        (link(&c.shot, &c.assets[0]), DUPLICATE),
        (
            json!({"entity_in_id": c.shot}),
            "A required field is missing.",
        ),
        (
            link(&c.shot, &uuid::Uuid::new_v4().to_string()),
            "The change conflicts with records referencing this one.",
        ),
        (
            json!({"entity_in_id": c.shot, "entity_out_id": c.assets[2], "foo": 1}),
            "'foo' is an invalid keyword argument for EntityLink",
        ),
    ];
    for (body, message) in refusals {
        let (status, refused) = post(&app, &admin, "/data/entity-links", body.clone()).await;
        assert_eq!(
            (status, &refused["message"]),
            (StatusCode::BAD_REQUEST, &json!(message)),
            "{body}"
        );
    }

    // The plain list: the project's links (by their casting entity), oldest first, times to
    // the microsecond, no `updated_at`; `limit` keeps the first ones; filters are ignored.
    let links = format!("/data/projects/{}/entity-links", c.project);
    let (status, plain) = get(&app, &admin, &links).await;
    assert_eq!(status, StatusCode::OK, "{plain}");
    let listed: Vec<&str> = plain.as_array().unwrap().iter().map(id).collect();
    assert_eq!(listed, [id(&first), id(&second), id(&third)]);
    assert_eq!(
        keys(&plain[1]),
        [
            "created_at",
            "data",
            "entity_in_id",
            "entity_out_id",
            "id",
            "label",
            "nb_occurences",
            "type"
        ]
    );
    assert_eq!(
        (&plain[1]["data"], &plain[1]["label"]),
        (&json!({"k": 1}), &json!("fixed"))
    );
    let exact = plain[0]["created_at"].as_str().unwrap();
    assert_eq!(exact.len(), 26, "{exact}");
    assert_eq!(&exact[..19], first["created_at"].as_str().unwrap());
    let (_, two) = get(&app, &admin, &format!("{links}?limit=2")).await;
    assert_eq!(two, json!(plain.as_array().unwrap()[..2]));
    let (_, filtered) = get(&app, &admin, &format!("{links}?entity_in_id={}", c.shot)).await;
    assert_eq!(filtered, plain);
    for page in ["0", "-3"] {
        let (_, listed) = get(&app, &admin, &format!("{links}?page={page}")).await;
        assert_eq!(listed, plain, "page={page}");
    }

    // Paged: Zou's paginated object of whole links, in creation order.
    let (_, paged) = get(&app, &admin, &format!("{links}?page=1&limit=2")).await;
    assert_eq!(
        (
            &paged["total"],
            &paged["nb_pages"],
            &paged["limit"],
            &paged["offset"],
            &paged["page"]
        ),
        (&json!(3), &json!(2), &json!(2), &json!(0), &json!(1))
    );
    assert_eq!(paged["data"][0], first);
    assert_eq!(paged["data"].as_array().unwrap().len(), 2);
    let (_, last) = get(&app, &admin, &format!("{links}?page=2&limit=2")).await;
    assert_eq!((&last["data"][0], &last["offset"]), (&third, &json!(2)));
    let (_, beyond) = get(&app, &admin, &format!("{links}?page=5&limit=2")).await;
    assert_eq!(
        beyond,
        json!({"data": [], "total": 3, "nb_pages": 2, "limit": 2, "offset": 8, "page": 5})
    );
    let far = format!("{links}?page={}&limit=2", i64::MAX);
    let (status, far) = get(&app, &admin, &far).await;
    assert_eq!((status, &far["data"]), (StatusCode::OK, &json!([])));
    let (_, hundred) = get(&app, &admin, &format!("{links}?page=1&limit=0")).await;
    assert_eq!(
        (&hundred["limit"], hundred["data"].as_array().unwrap().len()),
        (&json!(100), 3)
    );
    for bad in ["page", "limit"] {
        assert_eq!(
            get(&app, &admin, &format!("{links}?{bad}=x")).await,
            (
                StatusCode::BAD_REQUEST,
                json!({"error": true, "message": format!("{bad} must be an integer."), "data": null})
            )
        );
    }

    // After a cursor: the links created after it, both times exact, with the total.
    let cursor = format!("{links}?cursor_created_at={exact}");
    let (_, after) = get(&app, &admin, &cursor).await;
    assert_eq!((&after["total"], &after["limit"]), (&json!(3), &json!(100)));
    let later: Vec<&str> = after["data"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(later, [id(&second), id(&third)]);
    assert_eq!(after["data"][0]["updated_at"].as_str().unwrap().len(), 26);
    let (_, one) = get(&app, &admin, &format!("{cursor}&limit=1")).await;
    assert_eq!(one["data"].as_array().unwrap().len(), 1);
    let (status, _) = get(&app, &admin, &format!("{links}?cursor_created_at=garbage")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Another project's links are its own; an unknown project is not found.
    let (_, others) = get(
        &app,
        &admin,
        &format!("/data/projects/{}/entity-links", c.other),
    )
    .await;
    assert_eq!(others.as_array().unwrap().len(), 1);
    assert_eq!(others[0]["id"], foreign["id"]);
    for unknown in [uuid::Uuid::new_v4().to_string(), "nope".into()] {
        let path = format!("/data/projects/{unknown}/entity-links");
        assert_eq!(get(&app, &admin, &path).await, not_found(), "{unknown}");
    }

    // The removal: 200 with the removed link; a link of another project is refused, an
    // unknown one is not found.
    let foreign_path = format!("{links}/{}", id(&foreign));
    assert_eq!(delete(&app, &admin, &foreign_path).await, forbidden());
    let unknown = format!("{links}/{}", uuid::Uuid::new_v4());
    assert_eq!(delete(&app, &admin, &unknown).await, not_found());
    let elsewhere = format!(
        "/data/projects/{}/entity-links/{}",
        uuid::Uuid::new_v4(),
        id(&first)
    );
    assert_eq!(delete(&app, &admin, &elsewhere).await, forbidden());
    let first_path = format!("{links}/{}", id(&first));
    assert_eq!(
        delete(&app, &admin, &first_path).await,
        (StatusCode::OK, first.clone())
    );
    assert_eq!(delete(&app, &admin, &first_path).await, not_found());
    let (_, left) = get(&app, &admin, &links).await;
    let left: Vec<&str> = left.as_array().unwrap().iter().map(id).collect();
    assert_eq!(left, [id(&second), id(&third)]);

    // The shot's count of cast assets is recounted by the project route (one link left);
    // the generic removal does not recount.
    let (_, shot) = get(&app, &admin, &format!("/data/entities/{}", c.shot)).await;
    assert_eq!(shot["nb_entities_out"], 1);
    let generic = format!("/data/entity-links/{}", id(&third));
    assert_eq!(
        delete(&app, &admin, &generic).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, hero) = get(&app, &admin, &format!("/data/entities/{}", c.assets[0])).await;
    assert_eq!(hero["nb_entities_out"], 0);

    // The exact copy of the links is the log's too: a rebuild gives the same rows.
    app.settle(annals_projections::Projection::name(&KitsuRecords))
        .await;
    let exact = app.infra.views.dump(EXACT_LINKS).await.unwrap();
    assert_eq!(exact.len(), 2, "{exact:?}");
    app.assert_rebuild_equals_live(std::sync::Arc::new(KitsuRecords))
        .await;
}

#[apply(backends)]
async fn only_the_projects_managers_list_and_remove_its_casting_links(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let c = casting(&app, &admin).await;
    let link = json!({"entity_in_id": c.shot, "entity_out_id": c.assets[0]});
    let link = created(&app, &admin, "entity-links", link).await;
    let links = format!("/data/projects/{}/entity-links", c.project);
    let path = format!("{links}/{}", id(&link));
    let team = format!("/data/projects/{}/team", c.project);
    let (manager, manager_id) = person(&app, "manager").await;
    let (artist, artist_id) = person(&app, "user").await;

    // Outside the team, a production manager may do neither.
    assert_eq!(get(&app, &manager, &links).await, forbidden());
    assert_eq!(delete(&app, &manager, &path).await, forbidden());
    for member in [&manager_id, &artist_id] {
        let (status, _) = post(&app, &admin, &team, json!({"person_id": member})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // An artist of the team may not list them; the generic create stays the studio managers'.
    assert_eq!(get(&app, &artist, &links).await, forbidden());
    let body = json!({"entity_in_id": c.shot, "entity_out_id": c.assets[1]});
    let (status, _) = post(&app, &manager, "/data/entity-links", body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The team's production manager lists and removes them.
    let (status, listed) = get(&app, &manager, &links).await;
    assert_eq!(
        (status, listed.as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );
    assert_eq!(delete(&app, &manager, &path).await, (StatusCode::OK, link));
    let (status, _) = answer(app.kitsu(None).get(&links).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

const OVERLAP: &str = "Day off already exists for this period";
const INTEGRITY: &str = "The data conflicts with database integrity rules.";

fn day_off(person: &str, start: &str, end: &str) -> Value {
    json!({"person_id": person, "date": start, "end_date": end})
}

/// A refusal's status and message.
fn refusal(answer: (StatusCode, Value)) -> (StatusCode, Value) {
    (answer.0, answer.1["message"].clone())
}

fn refused(message: &str) -> (StatusCode, Value) {
    (StatusCode::BAD_REQUEST, json!(message))
}

#[apply(backends)]
async fn a_persons_day_offs_may_not_overlap_nor_end_before_they_start(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let (bob_token, bob) = person(&app, "user").await;
    let (_, ann) = person(&app, "user").await;
    let days = "/data/day-offs";
    let mut body = day_off(&bob, "2026-12-01", "2026-12-05");
    body["description"] = json!("ski");
    let ski = created(&app, &admin, "day-offs", body).await;
    assert_eq!(ski["type"], "DayOff");

    // Any shared day, both ends included, is refused; the next day and another person's
    // same days are not.
    for (start, end) in [
        ("2026-12-03", "2026-12-03"),
        ("2026-11-28", "2026-12-01"),
        ("2026-12-05", "2026-12-09"),
        ("2026-11-20", "2026-12-20"),
    ] {
        let answer = post(&app, &admin, days, day_off(&bob, start, end)).await;
        assert_eq!(refusal(answer.clone()), refused(OVERLAP), "{start}..{end}");
        assert_eq!(answer.1["data"]["errors"][0]["field"], "date");
    }
    let next = created(
        &app,
        &admin,
        "day-offs",
        day_off(&bob, "2026-12-06", "2026-12-06"),
    )
    .await;
    let anns = created(
        &app,
        &admin,
        "day-offs",
        day_off(&ann, "2026-12-01", "2026-12-05"),
    )
    .await;
    // The person themselves is held to the same rule.
    let own = post(
        &app,
        &bob_token,
        days,
        day_off(&bob, "2026-12-20", "2026-12-20"),
    )
    .await;
    assert_eq!(own.0, StatusCode::CREATED, "{}", own.1);
    let own = post(
        &app,
        &bob_token,
        days,
        day_off(&bob, "2026-12-20", "2026-12-21"),
    )
    .await;
    assert_eq!(refusal(own), refused(OVERLAP));

    // A day off ends on or after its first day, on create and on update.
    let reversed = post(
        &app,
        &admin,
        days,
        day_off(&bob, "2026-12-12", "2026-12-10"),
    )
    .await;
    assert_eq!(refusal(reversed), refused(INTEGRITY));
    let next_path = format!("{days}/{}", id(&next));
    for change in [
        json!({"end_date": "2026-12-02"}),
        json!({"date": "2026-12-08"}),
    ] {
        let answer = crate::kitsu_data::put(&app, &admin, &next_path, change.clone()).await;
        assert_eq!(refusal(answer), refused(INTEGRITY), "{change}");
    }
    let missing = post(
        &app,
        &admin,
        days,
        json!({"person_id": bob, "date": "2026-12-12"}),
    )
    .await;
    assert_eq!(refusal(missing), refused("A required field is missing."));

    // Updates move within free days or their own, not onto another's, nor to a person who
    // holds those days.
    let put = |path: String, body: Value| {
        let (app, admin) = (&app, &admin);
        async move { crate::kitsu_data::put(app, admin, &path, body).await }
    };
    let onto = put(next_path.clone(), json!({"date": "2026-12-05"})).await;
    assert_eq!(refusal(onto), refused(OVERLAP));
    let moved = put(
        next_path.clone(),
        json!({"date": "2026-12-07", "end_date": "2026-12-08"}),
    )
    .await;
    assert_eq!(moved.0, StatusCode::OK, "{}", moved.1);
    let ski_path = format!("{days}/{}", id(&ski));
    let stretched = put(ski_path.clone(), json!({"end_date": "2026-12-06"})).await;
    assert_eq!(stretched.1["end_date"], "2026-12-06");
    let later = put(
        ski_path,
        json!({"description": "skiing", "date": "2026-12-02"}),
    )
    .await;
    assert_eq!(later.0, StatusCode::OK, "{}", later.1);
    let anns_path = format!("{days}/{}", id(&anns));
    let to_bob = put(anns_path.clone(), json!({"person_id": bob})).await;
    assert_eq!(refusal(to_bob), refused(OVERLAP));
    // Moved to Bob on free days, Ann's days are hers no more: she takes them again.
    let free = json!({"person_id": bob, "date": "2026-12-24", "end_date": "2026-12-26"});
    assert_eq!(put(anns_path.clone(), free).await.0, StatusCode::OK);
    created(
        &app,
        &admin,
        "day-offs",
        day_off(&ann, "2026-12-01", "2026-12-05"),
    )
    .await;

    // A deleted day off gives its days back.
    assert_eq!(
        delete(&app, &admin, &anns_path).await.0,
        StatusCode::NO_CONTENT
    );
    created(
        &app,
        &admin,
        "day-offs",
        day_off(&bob, "2026-12-25", "2026-12-25"),
    )
    .await;
    let (_, listed) = get(&app, &admin, &format!("{days}?person_id={bob}")).await;
    assert_eq!(listed.as_array().unwrap().len(), 4, "{listed}");
}

#[apply(backends)]
async fn of_concurrent_overlapping_day_offs_of_one_person_exactly_one_is_made(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let (_, bob) = person(&app, "user").await;
    // Twenty requests, each one day longer than the last, all holding December 10th.
    let answers = futures::future::join_all((0..20).map(|i| {
        let body = day_off(&bob, &format!("2026-12-{:02}", 10 - i % 10), "2026-12-10");
        let (app, admin) = (&app, &admin);
        async move { post(app, admin, "/data/day-offs", body).await }
    }))
    .await;
    let made = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    let overlapping = answers
        .iter()
        .filter(|answer| refusal((*answer).clone()) == refused(OVERLAP))
        .count();
    assert_eq!((made, overlapping), (1, 19), "{answers:?}");
    let (_, listed) = get(&app, &admin, &format!("/data/day-offs?person_id={bob}")).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

/// Ann's time spent of 60, 30 and 45 on December 10th, 12th and 15th, and Bob's 15 on the
/// 12th, on one task: the admin's token, Ann's and Bob's ids, and the task.
async fn timesheet(app: &TestApp) -> (String, String, String, Value) {
    let admin = admin(app).await;
    let c = casting(app, &admin).await;
    let modeling = json!({"name": "Modeling", "for_entity": "Asset"});
    let modeling = created(app, &admin, "task-types", modeling).await;
    let task =
        json!({"project_id": c.project, "task_type_id": id(&modeling), "entity_id": c.assets[0]});
    let task = created(app, &admin, "tasks", task).await;
    let (_, ann) = person(app, "user").await;
    let (_, bob) = person(app, "user").await;
    for (who, date, duration) in [
        (&ann, "2026-12-10", 60.0),
        (&ann, "2026-12-12", 30.0),
        (&ann, "2026-12-15", 45.0),
        (&bob, "2026-12-12", 15.0),
    ] {
        let body =
            json!({"person_id": who, "task_id": id(&task), "date": date, "duration": duration});
        created(app, &admin, "time-spents", body).await;
    }
    (admin, ann, bob, task)
}

#[apply(backends)]
async fn a_day_off_clears_the_time_its_person_spent_on_its_days(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (admin, ann, bob, _) = timesheet(&app).await;
    let dates = |person: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let (_, list) = get(app, admin, &format!("/data/time-spents?person_id={person}")).await;
            let mut dates: Vec<String> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["date"].as_str().unwrap().to_string())
                .collect();
            dates.sort();
            dates
        }
    };
    let off = created(
        &app,
        &admin,
        "day-offs",
        day_off(&ann, "2026-12-11", "2026-12-14"),
    )
    .await;
    assert_eq!(dates(ann.clone()).await, ["2026-12-10", "2026-12-15"]);
    assert_eq!(dates(bob.clone()).await, ["2026-12-12"]);
    let path = format!("/data/day-offs/{}", id(&off));
    let (status, _) =
        crate::kitsu_data::put(&app, &admin, &path, json!({"end_date": "2026-12-15"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dates(ann).await, ["2026-12-10"]);
    assert_eq!(dates(bob).await, ["2026-12-12"]);
}

#[apply(backends)]
async fn time_spents_are_listed_by_a_range_of_days_as_zou_does(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (admin, ann, _, _) = timesheet(&app).await;
    let listed = |query: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let (status, list) = get(app, admin, &format!("/data/time-spents?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {list}");
            let mut durations: Vec<String> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["duration"].to_string())
                .collect();
            durations.sort();
            durations
        }
    };
    let all = ["15.0", "30.0", "45.0", "60.0"];
    // Both ends included; with other filters; a date and time is its day; an empty pair is
    // no range; a reversed one keeps nothing.
    for (query, expected) in [
        (
            "start_date=2026-12-10&end_date=2026-12-12",
            vec!["15.0", "30.0", "60.0"],
        ),
        (
            &format!("start_date=2026-12-11&end_date=2026-12-15&person_id={ann}") as &str,
            vec!["30.0", "45.0"],
        ),
        (
            "start_date=2026-12-10T12:00:00&end_date=2026-12-12",
            vec!["15.0", "30.0", "60.0"],
        ),
        ("start_date=&end_date=", all.to_vec()),
        ("start_date=2026-12-15&end_date=2026-12-10", vec![]),
        ("date=2026-12-12", vec!["15.0", "30.0"]),
    ] {
        assert_eq!(listed(query.to_string()).await, expected, "{query}");
    }
    let (status, paged) = get(
        &app,
        &admin,
        "/data/time-spents?start_date=2026-12-10&end_date=2026-12-15&page=1&limit=2",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            &paged["total"],
            &paged["nb_pages"],
            paged["data"].as_array().unwrap().len()
        ),
        (&json!(4), &json!(2), 2)
    );

    // One end alone, an empty one beside a date, or a malformed date: Zou's refusals.
    let both =
        "If querying for a range of dates, both a `start_date` and an `end_date` must be given.";
    for query in ["start_date=2026-12-11", "end_date=2026-12-11"] {
        assert_eq!(
            get(&app, &admin, &format!("/data/time-spents?{query}")).await,
            (
                StatusCode::BAD_REQUEST,
                json!({"error": true, "message": both, "data": null})
            ),
            "{query}"
        );
    }
    for query in [
        "start_date=&end_date=2026-12-11",
        "start_date=2026-12-xx&end_date=2026-12-11",
    ] {
        assert_eq!(
            get(&app, &admin, &format!("/data/time-spents?{query}")).await,
            (
                StatusCode::BAD_REQUEST,
                json!({"error": true, "message": "One of the provided values has an invalid format."})
            ),
            "{query}"
        );
    }
}

#[apply(backends)]
async fn one_preview_background_is_the_default_and_each_unset_is_an_event(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let files = "/data/preview-background-files";
    let file = |name: &str, default: bool| json!({"name": name, "is_default": default});
    let one = created(&app, &admin, "preview-background-files", file("one", true)).await;
    let two = created(&app, &admin, "preview-background-files", file("two", false)).await;
    let path = |record: &Value| format!("{files}/{}", id(record));
    let default_of = |record: Value| {
        let (app, admin, path) = (&app, &admin, path(&record));
        async move { get(app, admin, &path).await.1["is_default"].clone() }
    };
    let defaults = || {
        let (app, admin) = (&app, &admin);
        async move {
            let (_, list) = get(app, admin, &format!("{files}?is_default=true")).await;
            list.as_array()
                .unwrap()
                .iter()
                .map(|f| f["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let history = |record: Value| {
        let (app, admin, path) = (&app, &admin, path(&record));
        async move {
            let (status, history) = get(app, admin, &format!("{path}/history")).await;
            assert_eq!(status, StatusCode::OK, "{history}");
            history
        }
    };

    // A new default takes the title from the old one, which gets an update event of its own;
    // a file that was not the default is left alone.
    let three = created(
        &app,
        &admin,
        "preview-background-files",
        file("three", true),
    )
    .await;
    assert_eq!(three["is_default"], true);
    assert_eq!(defaults().await, ["three"]);
    assert_eq!(default_of(one.clone()).await, false);
    let changes = history(one.clone()).await;
    // Newest first.
    let last = changes[0].clone();
    assert_eq!(last["event"], "RecordUpdated", "{changes}");
    assert_eq!(
        last["changes"],
        json!([{"field": "is_default", "old": true, "new": false}]),
        "{changes}"
    );
    assert_eq!(history(two.clone()).await.as_array().unwrap().len(), 1);

    // An update that makes one the default does the same; one that unsets it resets nothing.
    let (status, _) =
        crate::kitsu_data::put(&app, &admin, &path(&one), json!({"is_default": true})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(defaults().await, ["one"]);
    assert_eq!(default_of(three.clone()).await, false);
    let rename = json!({"name": "three-b", "is_default": false});
    let (status, _) = crate::kitsu_data::put(&app, &admin, &path(&three), rename).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(defaults().await, ["one"]);

    // Zou's refusal of a name already taken; case counts.
    for (method, answer) in [
        (
            "create",
            post(&app, &admin, files, json!({"name": "one"})).await,
        ),
        (
            "rename",
            crate::kitsu_data::put(&app, &admin, &path(&two), json!({"name": "one"})).await,
        ),
    ] {
        assert_eq!(
            refusal(answer),
            refused("A preview background file with similar name already exists"),
            "{method}"
        );
    }
    created(&app, &admin, "preview-background-files", file("ONE", false)).await;
}

#[apply(backends)]
async fn a_tasks_duration_is_the_sum_of_its_time_spents(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (admin, ann, _, task) = timesheet(&app).await;
    let task_path = format!("/data/tasks/{}", id(&task));
    let duration = || {
        let (app, admin, path) = (&app, &admin, &task_path);
        async move { get(app, admin, path).await.1["duration"].clone() }
    };
    assert_eq!(duration().await, json!(150.0));
    let (_, spent) = get(&app, &admin, &format!("/data/time-spents?person_id={ann}")).await;
    let first = format!("/data/time-spents/{}", id(&spent[0]));
    let old = spent[0]["duration"].as_f64().unwrap();
    let (status, _) = crate::kitsu_data::put(&app, &admin, &first, json!({"duration": 10.0})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(duration().await, json!(150.0 - old + 10.0));
    assert_eq!(delete(&app, &admin, &first).await.0, StatusCode::NO_CONTENT);
    assert_eq!(duration().await, json!(150.0 - old));
    // A day off's clearing leaves the duration as it was, as in Zou.
    let (_, left) = get(&app, &admin, &format!("/data/time-spents?person_id={ann}")).await;
    let date = left[0]["date"].as_str().unwrap();
    created(&app, &admin, "day-offs", day_off(&ann, date, date)).await;
    assert_eq!(duration().await, json!(150.0 - old));
}

/// Time spents written at once by many clients each retake their task's duration: none of
/// them is lost to another's sum taken before it was in the read model.
#[apply(backends)]
async fn concurrent_time_spents_all_count_in_their_tasks_duration(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (admin, ann, _, task) = timesheet(&app).await;
    let task_path = format!("/data/tasks/{}", id(&task));
    let creates = (1..=12).map(|day| {
        let body = json!({"person_id": ann, "task_id": id(&task),
                          "date": format!("2027-01-{day:02}"), "duration": day as f64});
        let (app, admin) = (&app, &admin);
        async move { post(app, admin, "/data/time-spents", body).await }
    });
    let spent: Vec<Value> = futures::future::join_all(creates)
        .await
        .into_iter()
        .map(|(status, body)| {
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body
        })
        .collect();
    assert_eq!(
        get(&app, &admin, &task_path).await.1["duration"],
        json!(150.0 + 78.0)
    );
    // Changed at once too: each to twice its value.
    let updates = spent.iter().map(|record| {
        let path = format!("/data/time-spents/{}", id(record));
        let duration = record["duration"].as_f64().unwrap() * 2.0;
        let (app, admin) = (&app, &admin);
        async move { crate::kitsu_data::put(app, admin, &path, json!({"duration": duration})).await }
    });
    for (status, body) in futures::future::join_all(updates).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(
        get(&app, &admin, &task_path).await.1["duration"],
        json!(150.0 + 156.0)
    );
}
