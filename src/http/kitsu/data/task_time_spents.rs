//! The time spent on a task, by the day (gazu's `get_time_spent`, `set_time_spent`,
//! `add_time_spent`): `/actions/tasks/<id>/time-spents[/<date>]` lists it per person with its
//! total; `/actions/tasks/<id>/time-spents/<date>/persons/<person_id>` sets it (POST), adds to
//! it (`.../add`) or removes it (DELETE), as Zou 1.0.97 answers
//! (tests/fixtures/zou-1.0.97-time-spents.md).
use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_projections::kitsu::RECORDS;

use super::names::doc_of;
use super::shape::without_relations;
use super::tasks::readable_task;
use super::{json_object, scan, serialized};
use crate::http::consistency::{with_freshness, with_position};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{Day, Records, forbidden};

fn eq(field: &str, value: &str) -> Filter {
    Filter::Eq(
        FieldPath::parse(field).expect("field names are paths"),
        json!(value),
    )
}

/// A day as the path gives it, `YYYY-MM-DD`; Zou's own message otherwise (Zou 1.0.97 answers
/// 500 for a malformed date on the reads; annals answers this 400 there too).
fn date(raw: &str, message: &str) -> KitsuResult<String> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| {
            KitsuError::Body(
                StatusCode::BAD_REQUEST,
                json!({"error": true, "message": message, "data": null}),
            )
        })
}

/// The task's time spents (of one day, if given) per person, with their `total`.
async fn listed(state: &AppState, task_id: &str, date: Option<&str>) -> KitsuResult<Value> {
    let model = Records::model("time-spents")?;
    let mut filter = vec![eq("task_id", task_id)];
    if let Some(date) = date {
        filter.push(eq("date", date));
    }
    let rows = scan(state, model.collection, Filter::And(filter), &["date"]).await?;
    let mut per_person: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut total = 0.0;
    for (_, doc) in rows {
        let doc = without_relations(model, doc);
        total += doc.get("duration").and_then(Value::as_f64).unwrap_or(0.0);
        let person = doc
            .get("person_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        per_person.entry(person).or_default().push(doc);
    }
    let mut answer: Map<String, Value> = per_person
        .into_iter()
        .map(|(person, spent)| (person, Value::Array(spent)))
        .collect();
    answer.insert("total".into(), json!(total));
    Ok(Value::Object(answer))
}

#[utoipa::path(get, path = "/actions/tasks/{task_id}/time-spents", tag = "kitsu: data",
    description = "Also served under `/api`. The task's time spents per person id, each \
        person's in date order, and their `total` in minutes. For whoever reads the task \
        (its project's team).",
    security(("bearer" = [])),
    params(("task_id" = String, Path, description = "The task's UUID")),
    responses(
        (status = 200, description = "`{<person id>: [time spent, ...], total}`"),
        (status = 403, description = "The caller may not read the task"),
        (status = 404, description = "No such task"),
    ))]
pub async fn task_time_spents(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let task = readable_task(&state, &caller, &task_id).await?;
    let id = task["id"].as_str().unwrap_or(&task_id).to_string();
    let answer = listed(&state, &id, None).await?;
    Ok(with_freshness(Json(answer).into_response(), freshness))
}

#[utoipa::path(get, path = "/actions/tasks/{task_id}/time-spents/{date}", tag = "kitsu: data",
    description = "Also served under `/api`. The task's time spents of one day, per person, \
        with their `total`.",
    security(("bearer" = [])),
    params(
        ("task_id" = String, Path, description = "The task's UUID"),
        ("date" = String, Path, description = "`YYYY-MM-DD`"),
    ),
    responses(
        (status = 200, description = "`{<person id>: [time spent], total}`"),
        (status = 400, description = "`Wrong date format.`"),
        (status = 403, description = "The caller may not read the task"),
        (status = 404, description = "No such task"),
    ))]
pub async fn task_day_time_spents(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((task_id, day)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let task = readable_task(&state, &caller, &task_id).await?;
    let day = date(&day, "Wrong date format.")?;
    let id = task["id"].as_str().unwrap_or(&task_id).to_string();
    let answer = listed(&state, &id, Some(&day)).await?;
    Ok(with_freshness(Json(answer).into_response(), freshness))
}

/// The body's `duration` as Zou's schema reads it: a number (or a numeric string) above 0.
fn duration(body: &Bytes) -> KitsuResult<f64> {
    let input = json_object(body)?;
    let number = match input.get("duration") {
        None | Some(Value::Null) => {
            return Err(KitsuError::validation("duration", "Field required"));
        }
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => Some(s.trim().parse::<f64>().map_err(|_| {
            KitsuError::validation(
                "duration",
                "Input should be a valid number, unable to parse string as a number",
            )
        })?),
        Some(_) => None,
    };
    match number {
        Some(n) if n.is_finite() && n > 0.0 => Ok(n),
        Some(n) if n.is_finite() => Err(KitsuError::validation(
            "duration",
            "Input should be greater than 0",
        )),
        _ => Err(KitsuError::validation(
            "duration",
            "Input should be a valid number",
        )),
    }
}

/// The live task (its id and document) of a day's time-spent change for a known person who
/// is not a bot.
async fn permitted(
    state: &AppState,
    task_id: &str,
    person_id: &str,
) -> KitsuResult<(String, Value)> {
    let not_found = || KitsuError::from(AppError::NotFound(format!("no task {task_id}")));
    let id = uuid::Uuid::try_parse(task_id)
        .map_err(|_| not_found())?
        .to_string();
    let task = doc_of(state, "tasks", &id).await?.ok_or_else(not_found)?;
    super::person_actions::not_a_bot(state, person_id).await?;
    Ok((id, task))
}

/// Whether the caller may change the person's time spent on the task (Zou's
/// `check_time_spent_access`): the person must be one of the task's assignees, and the caller
/// that person, a studio manager, or a production manager of the task's project team.
async fn may_change(
    state: &AppState,
    caller: &KitsuCaller,
    task: &Value,
    person_id: &str,
) -> KitsuResult<()> {
    let assigned = task["assignees"]
        .as_array()
        .is_some_and(|a| a.iter().any(|p| p.as_str() == Some(person_id)));
    let tasks = Records::model("tasks")?;
    let allowed = assigned
        && (caller.user_id == person_id
            || caller.user.role == "admin"
            || (caller.user.role == "manager"
                && state
                    .records
                    .in_team(tasks, |k| task.get(k), &caller.user_id)
                    .await?));
    if allowed {
        Ok(())
    } else {
        Err(forbidden().into())
    }
}

/// Sets or adds to a day's time spent: 201 with the record.
async fn spend(
    state: AppState,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    (task_id, day, person_id): (String, String, String),
    body: Bytes,
    add: bool,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (task_id, task) = permitted(&state, &task_id, &person_id).await?;
    let minutes = duration(&body)?;
    may_change(&state, &caller, &task, &person_id).await?;
    let day = date(&day, "Invalid date format.")?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let day = Day {
        task_id: &task_id,
        person_id: &person_id,
        date: &day,
    };
    let (id, executed) = state
        .records
        .spend(&day, minutes, add, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    let model = Records::model("time-spents")?;
    let response = (
        StatusCode::CREATED,
        Json(serialized(model, &id, &executed.state)),
    );
    Ok(with_position(response.into_response(), executed.position))
}

#[utoipa::path(post, path = "/actions/tasks/{task_id}/time-spents/{date}/persons/{person_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. Sets the person's time spent on the task that \
        day to `duration` minutes (made if missing); the task's `duration` follows. The person \
        must be assigned to the task; the caller that person, a studio manager or a \
        production manager of the project's team.",
    security(("bearer" = [])),
    params(
        ("task_id" = String, Path, description = "The task's UUID"),
        ("date" = String, Path, description = "`YYYY-MM-DD`"),
        ("person_id" = String, Path, description = "The person's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 201, description = "The time spent"),
        (status = 400, description = "`Validation error.` naming `duration`, or `Invalid date format.`"),
        (status = 403, description = "Not the caller's to set"),
        (status = 404, description = "No such task or person"),
    ))]
pub async fn set_time_spent(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(path): Path<(String, String, String)>,
    body: Bytes,
) -> KitsuResult<Response> {
    spend(state, caller, meta, path, body, false).await
}

#[utoipa::path(post,
    path = "/actions/tasks/{task_id}/time-spents/{date}/persons/{person_id}/add",
    tag = "kitsu: data",
    description = "Also served under `/api`. Adds `duration` minutes to the person's time \
        spent on the task that day (made if missing). Who may: as for setting it.",
    security(("bearer" = [])),
    params(
        ("task_id" = String, Path, description = "The task's UUID"),
        ("date" = String, Path, description = "`YYYY-MM-DD`"),
        ("person_id" = String, Path, description = "The person's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 201, description = "The time spent"),
        (status = 400, description = "`Validation error.` naming `duration`, or `Invalid date format.`"),
        (status = 403, description = "Not the caller's to change"),
        (status = 404, description = "No such task or person"),
    ))]
pub async fn add_time_spent(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(path): Path<(String, String, String)>,
    body: Bytes,
) -> KitsuResult<Response> {
    spend(state, caller, meta, path, body, true).await
}

#[utoipa::path(delete, path = "/actions/tasks/{task_id}/time-spents/{date}/persons/{person_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. Removes the person's time spent on the task \
        that day and answers it, as Zou does, with 201 and `duration` 0. Who may: as for \
        setting it.",
    security(("bearer" = [])),
    params(
        ("task_id" = String, Path, description = "The task's UUID"),
        ("date" = String, Path, description = "`YYYY-MM-DD`"),
        ("person_id" = String, Path, description = "The person's UUID"),
    ),
    responses(
        (status = 201, description = "The removed time spent, `duration` 0"),
        (status = 400, description = "`Invalid date format.`"),
        (status = 403, description = "Not the caller's to remove"),
        (status = 404, description = "No such task, person or time spent"),
    ))]
pub async fn delete_time_spent(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((task_id, day, person_id)): Path<(String, String, String)>,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (task_id, task) = permitted(&state, &task_id, &person_id).await?;
    may_change(&state, &caller, &task, &person_id).await?;
    let day = date(&day, "Invalid date format.")?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let day = Day {
        task_id: &task_id,
        person_id: &person_id,
        date: &day,
    };
    let Some((id, mut record, position)) = state
        .records
        .unspend(&day, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?
    else {
        return Err(AppError::NotFound("no time spent that day".into()).into());
    };
    record.fields.insert("duration".into(), json!(0));
    let model = Records::model("time-spents")?;
    let response = (StatusCode::CREATED, Json(serialized(model, &id, &record)));
    Ok(with_position(response.into_response(), position))
}
