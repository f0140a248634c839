//! A person's day offs as gazu reads them (`get_day_offs`, `get_year_day_offs`,
//! `get_month_day_offs`, `get_week_day_offs`): all of them, or those meeting a year, month or
//! ISO week, read from the `day-offs` read model with Zou's rule on who reads whose.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use annals_contracts::filter::Filter;
use annals_domain::identity::User;
use annals_projections::kitsu::RECORDS;

use super::person_calendar::{Period, departments, path, shared_projects};
use super::person_work::subject;
use super::scan;
use crate::http::consistency::with_freshness;
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::state::AppState;
use crate::services::kitsu::{Records, forbidden};

/// Zou's `check_day_off_read_access`: studio managers and the person read their day offs
/// whole, a production manager of a project whose team holds both of them too, a supervisor
/// of such a project without departments or sharing one with the person the dates only
/// (`false`); anyone else is refused.
async fn day_off_reader(
    state: &AppState,
    caller: &KitsuCaller,
    person: &User,
) -> KitsuResult<bool> {
    let role = caller.user.role.as_str();
    if role == "admin" || caller.user_id == person.user_id {
        return Ok(true);
    }
    if !matches!(role, "manager" | "supervisor")
        || shared_projects(state, &[&caller.user_id, &person.user_id])
            .await?
            .is_empty()
    {
        return Err(forbidden().into());
    }
    if role == "manager" {
        return Ok(true);
    }
    let theirs = departments(&caller.user);
    let supervised = theirs.is_empty() || departments(person).iter().any(|d| theirs.contains(d));
    if supervised {
        Ok(false)
    } else {
        Err(forbidden().into())
    }
}

/// The person's day offs meeting `period` (all of them without one), with the description
/// when the caller may read it.
async fn day_offs(
    state: &AppState,
    caller: KitsuCaller,
    id: &str,
    period: Option<Period>,
    headers: &HeaderMap,
) -> KitsuResult<Response> {
    let person = subject(state, id).await?;
    let whole = day_off_reader(state, &caller, &person).await?;
    let freshness = state.gate.wait(headers, &[RECORDS]).await?;
    let model = Records::model("day-offs")?;
    let mut filters = vec![Filter::Eq(path("person_id"), json!(person.user_id))];
    filters.extend(period.map(|p| p.meets("date", "end_date")));
    let mut docs: Vec<Value> = scan(
        state,
        model.collection,
        Filter::And(filters),
        &["created_at"],
    )
    .await?
    .into_iter()
    .map(|(_, doc)| doc)
    .collect();
    // Zou lists them as stored (creation order), a period's by date. Creation times have
    // whole seconds here: ties go by date.
    let text = |doc: &Value, key: &str| doc[key].as_str().unwrap_or_default().to_string();
    if period.is_some() {
        docs.sort_by_key(|doc| text(doc, "date"));
    } else {
        docs.sort_by_key(|doc| (text(doc, "created_at"), text(doc, "date")));
    }
    if !whole {
        for doc in &mut docs {
            if let Value::Object(doc) = doc {
                doc.remove("description");
            }
        }
    }
    Ok(with_freshness(Json(docs).into_response(), freshness))
}

#[utoipa::path(get, path = "/data/persons/{id}/day-offs", tag = "kitsu: data",
    description = "Also served under `/api`. The person's day offs, in creation order (to the \
        second; then by date). Studio \
        managers and the person read them whole, as does a production manager of a project \
        whose team holds both; a supervisor of such a project (without departments, or \
        sharing one with the person) reads them without `description`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The person's UUID")),
    responses(
        (status = 200, description = "Array of day offs"),
        (status = 403, description = "A bot; a caller who may not read them"),
        (status = 404, description = "No such person"),
    ))]
pub async fn all_day_offs(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    day_offs(&state, caller?, &id, None, &headers).await
}

#[utoipa::path(get, path = "/data/persons/{id}/day-offs/year/{year}", tag = "kitsu: data",
    description = "Also served under `/api`. The person's day offs meeting the year, by date \
        (read as `/data/persons/{id}/day-offs`).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The person's UUID"),
        ("year" = String, Path, description = "The year"),
    ),
    responses(
        (status = 200, description = "Array of day offs"),
        (status = 400, description = "The year is not one (Zou: 500)"),
        (status = 403, description = "A bot; a caller who may not read them"),
        (status = 404, description = "No such person"),
    ))]
pub async fn year_day_offs(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, year)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let period = Period::year(&year)?;
    day_offs(&state, caller, &id, Some(period), &headers).await
}

#[utoipa::path(get, path = "/data/persons/{id}/day-offs/month/{year}/{month}",
    tag = "kitsu: data",
    description = "Also served under `/api`. The person's day offs meeting the month (`3` or \
        `03`), by date (read as `/data/persons/{id}/day-offs`).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The person's UUID"),
        ("year" = String, Path, description = "The year"),
        ("month" = String, Path, description = "The month, 1 to 12"),
    ),
    responses(
        (status = 200, description = "Array of day offs"),
        (status = 400, description = "The year or month is not one (Zou: 500)"),
        (status = 403, description = "A bot; a caller who may not read them"),
        (status = 404, description = "No such person"),
    ))]
pub async fn month_day_offs(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, year, month)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let period = Period::month(&year, &month)?;
    day_offs(&state, caller, &id, Some(period), &headers).await
}

#[utoipa::path(get, path = "/data/persons/{id}/day-offs/week/{year}/{week}",
    tag = "kitsu: data",
    description = "Also served under `/api`. The person's day offs meeting the ISO week, by \
        date (read as `/data/persons/{id}/day-offs`).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The person's UUID"),
        ("year" = String, Path, description = "The ISO year"),
        ("week" = String, Path, description = "The ISO week, 1 to 52 or 53"),
    ),
    responses(
        (status = 200, description = "Array of day offs"),
        (status = 400, description = "The year or week is not one (Zou: 500)"),
        (status = 403, description = "A bot; a caller who may not read them"),
        (status = 404, description = "No such person"),
    ))]
pub async fn week_day_offs(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, year, week)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let period = Period::week(&year, &week)?;
    day_offs(&state, caller, &id, Some(period), &headers).await
}
