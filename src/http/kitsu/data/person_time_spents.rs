//! A person's time spents as gazu reads them (`get_time_spents_by_date`,
//! `get_time_spents_range`, `get_all_month_time_spents`, `get_year_time_spents`,
//! `get_week_time_spents`): of a day, of a range of days, of a month, and summed per task over
//! a year or week, read from the `time-spents` read model with Zou's rule on who reads whose.
use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use annals_contracts::filter::Filter;
use annals_domain::identity::User;
use annals_projections::kitsu::RECORDS;

use super::names::Names;
use super::person_calendar::{
    Period, date_of, day, departments, path, range, shared_projects, wrong,
};
use super::person_work::subject;
use super::{query_pairs, scan};
use crate::http::consistency::with_freshness;
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::state::AppState;
use crate::services::kitsu::{Records, forbidden};

/// Which of the person's time spents a caller reads (Zou's
/// `_get_project_department_ids_for_person_access`): studio managers and the person all of
/// them; a production manager those on the tasks of the projects whose team holds them, a
/// supervisor those of these of their departments' task types; anyone else is refused.
struct Scope {
    projects: Option<Vec<Value>>,
    departments: Vec<Value>,
}

impl Scope {
    async fn of(state: &AppState, caller: &KitsuCaller, person: &User) -> KitsuResult<Scope> {
        let role = caller.user.role.as_str();
        if role == "admin" || caller.user_id == person.user_id {
            return Ok(Scope {
                projects: None,
                departments: vec![],
            });
        }
        if !matches!(role, "manager" | "supervisor") {
            return Err(forbidden().into());
        }
        Ok(Scope {
            projects: Some(shared_projects(state, &[&caller.user_id]).await?),
            departments: if role == "supervisor" {
                departments(&caller.user)
            } else {
                vec![]
            },
        })
    }

    /// Narrows to the query's `project_id` (one of the caller's projects, else 403).
    fn within(mut self, raw: &Option<String>) -> KitsuResult<Scope> {
        let asked = query_pairs(raw)
            .into_iter()
            .find(|(k, _)| k == "project_id")
            .map(|(_, v)| json!(v));
        if let Some(asked) = asked {
            if self.projects.as_ref().is_some_and(|p| !p.contains(&asked)) {
                return Err(forbidden().into());
            }
            self.projects = Some(vec![asked]);
        }
        Ok(self)
    }
}

/// The person's time spents `days` matches whose task the scope reaches, each with its task,
/// in creation order.
async fn time_spents(
    state: &AppState,
    names: &mut Names<'_>,
    person: &User,
    scope: &Scope,
    days: Filter,
) -> KitsuResult<Vec<(Value, Value)>> {
    let model = Records::model("time-spents")?;
    let mine = Filter::And(vec![
        Filter::Eq(path("person_id"), json!(person.user_id)),
        days,
    ]);
    let docs: Vec<Value> = scan(state, model.collection, mine, &["created_at"])
        .await?
        .into_iter()
        .map(|(_, doc)| doc)
        .collect();
    names
        .preload("tasks", docs.iter().map(|d| d.get("task_id")))
        .await?;
    let mut kept = Vec::new();
    for doc in docs {
        let task = names.doc("tasks", doc.get("task_id")).await?;
        if let Some(projects) = &scope.projects
            && !projects.contains(&task["project_id"])
        {
            continue;
        }
        if !scope.departments.is_empty() {
            let task_type = names.doc("task-types", task.get("task_type_id")).await?;
            if !scope.departments.contains(&task_type["department_id"]) {
                continue;
            }
        }
        kept.push((doc, task));
    }
    Ok(kept)
}

#[utoipa::path(get, path = "/data/persons/{id}/time-spents/{date}", tag = "kitsu: data",
    description = "Also served under `/api`. The person's time spents of the day \
        (`YYYY-MM-DD`). Studio managers and the person read all of them; a production manager \
        those on the projects whose team holds them, a supervisor those of these whose task \
        type is of their departments.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The person's UUID"),
        ("date" = String, Path, description = "The day"),
    ),
    responses(
        (status = 200, description = "Array of time spents"),
        (status = 400, description = "`Invalid month or year.`"),
        (status = 403, description = "A bot; a caller who may not read them"),
        (status = 404, description = "No such person"),
    ))]
pub async fn day_time_spents(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, date)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let person = subject(&state, &id).await?;
    let scope = Scope::of(&state, &caller, &person).await?;
    let asked = date_of(&date).ok_or_else(|| wrong("Invalid month or year."))?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let mut names = Names::new(&state);
    let on_day = Filter::Eq(path("date"), day(asked));
    let listed: Vec<Value> = time_spents(&state, &mut names, &person, &scope, on_day)
        .await?
        .into_iter()
        .map(|(doc, _)| doc)
        .collect();
    Ok(with_freshness(Json(listed).into_response(), freshness))
}

#[utoipa::path(get, path = "/data/persons/{id}/time-spents", tag = "kitsu: data",
    description = "Also served under `/api`. With `start_date` and `end_date` (`YYYY-MM-DD`, \
        both included), the person's time spents of the range, each with its task's \
        `project_id` and `task_type_id` (gazu's `get_time_spents_range`); without them, as \
        Zou, an empty list. Read as `/data/persons/{id}/time-spents/{date}`.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The person's UUID"),
        ("start_date" = Option<String>, Query, description = "The first day"),
        ("end_date" = Option<String>, Query, description = "The last day"),
    ),
    responses(
        (status = 200, description = "Array of time spents"),
        (status = 400, description = "One date without the other; a malformed date"),
        (status = 403, description = "A bot; a caller who may not read them"),
        (status = 404, description = "No such person"),
    ))]
pub async fn range_time_spents(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let person = subject(&state, &id).await?;
    let scope = Scope::of(&state, &caller, &person).await?;
    let pairs = query_pairs(&raw);
    let arg = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let (start, end) = match (arg("start_date"), arg("end_date")) {
        // Zou asks for the time spents of a null date: none.
        (None, None) => return Ok(with_freshness(Json(json!([])).into_response(), freshness)),
        (Some(start), Some(end)) => (start, end),
        _ => {
            return Err(wrong(
                "If querying for a range of dates, both a `start_date` and an `end_date` must be given.",
            ));
        }
    };
    let (Some(first), Some(last)) = (date_of(&start), date_of(&end)) else {
        return Err(wrong(format!("Wrong date format for {start} and/or {end}")));
    };
    let mut names = Names::new(&state);
    let within = range(
        "date",
        Some(day(first)),
        Some(day(last + chrono::Duration::days(1))),
    );
    let mut listed = Vec::new();
    for (mut doc, task) in time_spents(&state, &mut names, &person, &scope, within).await? {
        doc["project_id"] = task["project_id"].clone();
        doc["task_type_id"] = task["task_type_id"].clone();
        listed.push(doc);
    }
    listed.sort_by_key(|d| d["date"].as_str().unwrap_or_default().to_string());
    Ok(with_freshness(Json(listed).into_response(), freshness))
}

/// The person's time spents of `period`, summed per task with the names Zou's time sheet
/// shows, by project, entity and task type name.
async fn summed(
    state: &AppState,
    caller: KitsuCaller,
    id: &str,
    period: Period,
    raw: &Option<String>,
    headers: &HeaderMap,
) -> KitsuResult<Response> {
    let person = subject(state, id).await?;
    let scope = Scope::of(state, &caller, &person).await?.within(raw)?;
    let freshness = state.gate.wait(headers, &[RECORDS]).await?;
    let mut names = Names::new(state);
    let spent = time_spents(state, &mut names, &person, &scope, period.holds("date")).await?;
    let mut per_task: BTreeMap<String, (Value, f64)> = BTreeMap::new();
    for (doc, task) in spent {
        let Some(id) = task["id"].as_str() else {
            continue;
        };
        let entry = per_task
            .entry(id.to_string())
            .or_insert_with(|| (task.clone(), 0.0));
        entry.1 += doc["duration"].as_f64().unwrap_or_default();
    }
    let mut listed = Vec::new();
    for (task_id, (task, duration)) in per_task {
        let entity = names.doc("entities", task.get("entity_id")).await?;
        let sequence = names.doc("entities", entity.get("parent_id")).await?;
        listed.push(json!({
            "task_id": task_id,
            "task_type_id": task["task_type_id"],
            "project_id": task["project_id"],
            "project_name": names.name("projects", task.get("project_id")).await?,
            "entity_name": entity["name"],
            "entity_type_name": names.name("entity-types", entity.get("entity_type_id")).await?,
            "sequence_name": sequence.get("name").cloned().unwrap_or(Value::Null),
            "episode_name": names.name("entities", sequence.get("parent_id")).await?,
            "duration": duration,
        }));
    }
    // Zou's order is a GROUP BY's: annals gives one, by names.
    let key = |d: &Value| {
        ["project_name", "entity_name", "task_type_id"]
            .map(|k| d[k].as_str().unwrap_or_default().to_string())
    };
    listed.sort_by_key(key);
    Ok(with_freshness(Json(listed).into_response(), freshness))
}

#[utoipa::path(get, path = "/data/persons/{id}/time-spents/year/{year}", tag = "kitsu: data",
    description = "Also served under `/api`. The person's time spents of the year, summed per \
        task: `{task_id, task_type_id, project_id, project_name, entity_name, \
        entity_type_name, sequence_name, episode_name, duration}`. `project_id` narrows to \
        one project. Read as `/data/persons/{id}/time-spents/{date}`.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The person's UUID"),
        ("year" = String, Path, description = "The year"),
        ("project_id" = Option<String>, Query, description = "One project"),
    ),
    responses(
        (status = 200, description = "Array of sums per task"),
        (status = 400, description = "`Invalid date format.`"),
        (status = 403, description = "A bot; a caller who may not read them, or the project"),
        (status = 404, description = "No such person"),
    ))]
pub async fn year_time_spents(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, year)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let period = Period::year(&year).map_err(|_| wrong("Invalid date format."))?;
    summed(&state, caller, &id, period, &raw, &headers).await
}

#[utoipa::path(get, path = "/data/persons/{id}/time-spents/week/{year}/{week}",
    tag = "kitsu: data",
    description = "Also served under `/api`. The person's time spents of the ISO week, summed \
        per task (as `/data/persons/{id}/time-spents/year/{year}`).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The person's UUID"),
        ("year" = String, Path, description = "The ISO year"),
        ("week" = String, Path, description = "The ISO week"),
        ("project_id" = Option<String>, Query, description = "One project"),
    ),
    responses(
        (status = 200, description = "Array of sums per task"),
        (status = 400, description = "`Invalid month or year.`"),
        (status = 403, description = "A bot; a caller who may not read them, or the project"),
        (status = 404, description = "No such person"),
    ))]
pub async fn week_time_spents(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, year, week)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let period = Period::week(&year, &week).map_err(|_| wrong("Invalid month or year."))?;
    summed(&state, caller, &id, period, &raw, &headers).await
}

#[utoipa::path(get, path = "/data/persons/{id}/time-spents/month/all/{year}/{month}",
    tag = "kitsu: data",
    description = "Also served under `/api`. Every time spent of the person in the month \
        (gazu's `get_all_month_time_spents`), for studio managers and the person only.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The person's UUID"),
        ("year" = String, Path, description = "The year"),
        ("month" = String, Path, description = "The month, 1 to 12"),
    ),
    responses(
        (status = 200, description = "Array of time spents"),
        (status = 400, description = "`Invalid month or year.`"),
        (status = 403, description = "A bot; neither a studio manager nor the person"),
        (status = 404, description = "No such person"),
    ))]
pub async fn month_all_time_spents(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, year, month)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let person = subject(&state, &id).await?;
    if caller.user.role != "admin" && caller.user_id != person.user_id {
        return Err(forbidden().into());
    }
    let period = Period::month(&year, &month).map_err(|_| wrong("Invalid month or year."))?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let mut names = Names::new(&state);
    let everything = Scope {
        projects: None,
        departments: vec![],
    };
    let listed: Vec<Value> = time_spents(
        &state,
        &mut names,
        &person,
        &everything,
        period.holds("date"),
    )
    .await?
    .into_iter()
    .map(|(doc, _)| doc)
    .collect();
    Ok(with_freshness(Json(listed).into_response(), freshness))
}
