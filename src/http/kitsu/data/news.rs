//! Zou's news feed (reference 4.3): `GET /data/projects/<id>/news`, `GET /data/projects/news`
//! and `GET /data/projects/<id>/news/<news_id>`, read from the `kitsu_news` projection, with
//! the names around each entry (project, entity, author) joined as Zou joins them.
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use annals_contracts::filter::{FieldPath, Filter, Query, Sort};
use annals_domain::kitsu::{Access, parse_datetime, zou_datetime};
use annals_projections::kitsu::{EXACT_AT, NEWS, NEWS_COLLECTION, RECORDS};

use super::names::Names;
use super::shape::open_filter;
use super::tasks::every;
use super::{PROFILES, kept_answer, query_pairs};
use crate::http::consistency::with_freshness;
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::Records;

/// Zou's default page size of the feed.
const DEFAULT_LIMIT: i64 = 50;

/// What a feed is read from: the records (projects, entities, names), the feed itself, and
/// the people (authors' names).
const FEED: [&str; 3] = [RECORDS, NEWS, PROFILES];

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

fn not_found(what: &str) -> KitsuError {
    AppError::NotFound(what.to_string()).into()
}

/// What a feed request asks (Zou's `NewsMixin.get_arguments`).
struct Asked {
    page: i64,
    limit: i64,
    filters: Vec<Filter>,
    /// `episode_id`: only entries about entities of this episode.
    episode: Option<String>,
}

fn integer(value: &str, key: &str) -> KitsuResult<i64> {
    value
        .trim()
        .parse()
        .map_err(|_| KitsuError::invalid_field(key, "must be an integer"))
}

fn uuid_value(value: &str, key: &str) -> KitsuResult<Value> {
    uuid::Uuid::try_parse(value)
        .map(|u| json!(u.to_string()))
        .map_err(|_| KitsuError::invalid_field(key, "must be a UUID"))
}

fn date_bound(value: &str, key: &str) -> KitsuResult<Value> {
    parse_datetime(value)
        .map(|at| json!(zou_datetime(at.and_utc())))
        .ok_or_else(|| {
            KitsuError::invalid_field(key, "must be a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)")
        })
}

fn asked(pairs: &[(String, String)]) -> KitsuResult<Asked> {
    let mut asked = Asked {
        page: 1,
        limit: DEFAULT_LIMIT,
        filters: Vec::new(),
        episode: None,
    };
    for (key, value) in pairs {
        let eq = |field: &str| -> KitsuResult<Filter> {
            Ok(Filter::Eq(path(field), uuid_value(value, key)?))
        };
        match key.as_str() {
            "page" => asked.page = integer(value, key)?,
            "limit" => asked.limit = integer(value, key)?,
            "task_type_id" => asked.filters.push(eq("task_type_id")?),
            "task_status_id" => asked.filters.push(eq("task_status_id")?),
            "person_id" => asked.filters.push(eq("author_id")?),
            "episode_id" => asked.episode = uuid_value(value, key)?.as_str().map(str::to_string),
            "only_preview" => {
                if matches!(
                    value.to_ascii_lowercase().as_str(),
                    "true" | "1" | "on" | "yes"
                ) {
                    asked.filters.push(Filter::Not(Box::new(Filter::Eq(
                        path("preview_file_id"),
                        Value::Null,
                    ))));
                }
            }
            "after" => asked.filters.push(Filter::Range {
                path: path("created_at"),
                gt: Some(date_bound(value, key)?),
                gte: None,
                lt: None,
                lte: None,
            }),
            "before" => asked.filters.push(Filter::Range {
                path: path("created_at"),
                gt: None,
                gte: None,
                lt: Some(date_bound(value, key)?),
                lte: None,
            }),
            _ => {}
        }
    }
    if asked.limit < 1 {
        asked.limit = DEFAULT_LIMIT;
    }
    Ok(asked)
}

/// The ids of the entities of episode `episode`: its sequences' shots, the sequences
/// themselves, and the assets made for it (Zou's `full_entity_name` episode).
async fn episode_entities(state: &AppState, episode: &str) -> KitsuResult<Vec<Value>> {
    let entities = Records::model("entities")?;
    let sequences = every(
        state,
        entities.collection,
        Filter::Eq(path("parent_id"), json!(episode)),
        &["created_at"],
    )
    .await?;
    let sequence_ids: Vec<Value> = sequences.iter().map(|s| s["id"].clone()).collect();
    let below = every(
        state,
        entities.collection,
        Filter::Or(vec![
            Filter::In(path("parent_id"), sequence_ids.clone()),
            Filter::Eq(path("source_id"), json!(episode)),
        ]),
        &["created_at"],
    )
    .await?;
    Ok(sequence_ids
        .into_iter()
        .chain(below.into_iter().map(|e| e["id"].clone()))
        .collect())
}

/// Zou's name of an entity in the feed ("E01 / S01 / P01", "Props / Chair") and its episode.
async fn entity_name(names: &mut Names<'_>, entity: &Value) -> KitsuResult<(Value, Value)> {
    let name = entity["name"].as_str().unwrap_or_default().to_string();
    Ok(match entity["type"].as_str() {
        None => (json!(""), Value::Null),
        Some("Episode") => (json!(name), Value::Null),
        Some("Sequence") => {
            let episode = names.doc("entities", entity.get("parent_id")).await?;
            match episode["name"].as_str() {
                Some(e) => (json!(format!("{e} / {name}")), episode["id"].clone()),
                None => (json!(name), Value::Null),
            }
        }
        Some("Shot") => {
            let sequence = names.doc("entities", entity.get("parent_id")).await?;
            let episode = names.doc("entities", sequence.get("parent_id")).await?;
            match (sequence["name"].as_str(), episode["name"].as_str()) {
                (Some(s), Some(e)) => (json!(format!("{e} / {s} / {name}")), episode["id"].clone()),
                (Some(s), None) => (json!(format!("{s} / {name}")), Value::Null),
                _ => (json!(name), Value::Null),
            }
        }
        Some(_) => {
            let kind = names
                .name("entity-types", entity.get("entity_type_id"))
                .await?;
            let full = match kind.as_str() {
                Some(kind) => format!("{kind} / {name}"),
                None => name,
            };
            (json!(full), entity["source_id"].clone())
        }
    })
}

/// Reads what the entries of a page refer to (see [`shown`]) in one query per model and
/// level (a shot's sequence, then its episode), so that showing them reads nothing more.
async fn preload(names: &mut Names<'_>, entries: &[Value]) -> KitsuResult<()> {
    names
        .preload("projects", entries.iter().map(|e| e.get("project_id")))
        .await?;
    names
        .preload_persons(entries.iter().map(|e| e.get("author_id")))
        .await?;
    names
        .preload("entities", entries.iter().map(|e| e.get("task_entity_id")))
        .await?;
    let mut entities = Vec::with_capacity(entries.len());
    for entry in entries {
        entities.push(names.doc("entities", entry.get("task_entity_id")).await?);
    }
    names
        .preload(
            "entity-types",
            entities.iter().map(|e| e.get("entity_type_id")),
        )
        .await?;
    let mut level = entities;
    for _ in 0..2 {
        let parents: Vec<Value> = level
            .iter()
            .filter(|e| matches!(e["type"].as_str(), Some("Sequence" | "Shot")))
            .map(|e| e["parent_id"].clone())
            .collect();
        names.preload("entities", parents.iter().map(Some)).await?;
        level = Vec::with_capacity(parents.len());
        for parent in &parents {
            level.push(names.doc("entities", Some(parent)).await?);
        }
    }
    Ok(())
}

/// A stored entry as Zou's feed shows it.
async fn shown(names: &mut Names<'_>, entry: Value) -> KitsuResult<Value> {
    let entity = names.doc("entities", entry.get("task_entity_id")).await?;
    let (full_entity_name, episode_id) = entity_name(names, &entity).await?;
    let extra = json!({
        "preview_file_extension": null,
        "preview_file_revision": null,
        "project_name": names.name("projects", entry.get("project_id")).await?,
        "full_entity_name": full_entity_name,
        "episode_id": episode_id,
        "entity_preview_file_id": entity["preview_file_id"],
        "person": names.person(entry.get("author_id")).await?,
    });
    let mut entry = entry;
    if let (Value::Object(entry), Value::Object(extra)) = (&mut entry, extra) {
        entry.remove(EXACT_AT);
        entry.extend(extra);
    }
    Ok(entry)
}

/// The feed of the projects `projects`, as the request asks.
async fn feed(
    state: &AppState,
    projects: Vec<Value>,
    pairs: &[(String, String)],
) -> KitsuResult<Value> {
    let asked = asked(pairs)?;
    let mut filters = asked.filters;
    filters.push(Filter::In(path("project_id"), projects));
    if let Some(episode) = &asked.episode {
        let entities = episode_entities(state, episode).await?;
        filters.push(Filter::In(path("task_entity_id"), entities));
    }
    let filter = Filter::And(filters);
    let offset = (asked.page - 1) * asked.limit;
    // Zou's order (whole seconds, then id), the exact time first among equal seconds.
    let sort =
        ["-created_at", &format!("-{EXACT_AT}"), "-id"].map(|s| Sort::parse(s).expect("a sort"));
    let mut query = Query::new(
        filter.clone(),
        sort.to_vec(),
        if asked.page < 1 {
            0
        } else {
            asked.limit as u32
        },
    );
    query.offset = offset.max(0) as u64;
    query.count = true;
    let found = state
        .gate
        .views
        .find(NEWS_COLLECTION, &query)
        .await
        .map_err(AppError::from)?;
    let total = found.total.unwrap_or_default();
    let mut names = Names::new(state);
    let entries: Vec<Value> = found.items.into_iter().map(|(_, entry)| entry).collect();
    preload(&mut names, &entries).await?;
    let mut data = Vec::with_capacity(entries.len());
    for entry in entries {
        data.push(shown(&mut names, entry).await?);
    }
    // Zou's stats: entries that moved a task's status, by the status they moved it to.
    let changes = Filter::And(vec![filter, Filter::Eq(path("change"), json!(true))]);
    let mut stats = Map::new();
    for entry in every(state, NEWS_COLLECTION, changes, &[]).await? {
        if let Some(status) = entry["task_status_id"].as_str() {
            let count = stats.get(status).and_then(Value::as_i64).unwrap_or(0);
            stats.insert(status.to_string(), json!(count + 1));
        }
    }
    let body = json!({
        "data": data,
        "total": total,
        "nb_pages": total.div_ceil(asked.limit as u64),
        "limit": asked.limit,
        "offset": offset,
        "page": asked.page,
        "stats": stats,
    });
    Ok(body)
}

/// The live project `id` the caller may read the feed of (clients may not, as in Zou).
async fn readable_project(state: &AppState, caller: &KitsuCaller, id: &str) -> KitsuResult<String> {
    let projects = Records::model("projects")?;
    let id = uuid::Uuid::try_parse(id)
        .map_err(|_| not_found(id))?
        .to_string();
    let project = state.records.live(projects, &id).await?;
    state
        .records
        .permit(
            Access::Member,
            projects,
            Some(&id),
            |k| project.fields.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    if caller.user.role == "client" {
        Records::allow(Access::Admin, &caller.user.role)?;
    }
    Ok(id)
}

#[utoipa::path(get, path = "/data/projects/{id}/news", tag = "kitsu: data",
    description = "Also served under `/api`. The project's news feed, newest first: one entry \
        per comment on a task, `change: true` when the comment moved the task's status. \
        Filters: `task_type_id`, `task_status_id`, `person_id` (author), `episode_id`, \
        `only_preview`, `after`, `before`; `page` (default 1) and `limit` (default 50). \
        Answers `{data, total, nb_pages, limit, offset, page, stats}`, `stats` counting the \
        status changes by status.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    responses(
        (status = 200, description = "The page of the feed"),
        (status = 400, description = "A malformed filter or page, naming it"),
        (status = 403, description = "The caller is not in the project's team"),
        (status = 404, description = "No such project"),
    ))]
pub async fn project_news(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let what = format!("news/{id}?{}", raw.as_deref().unwrap_or_default());
    let (reader, asker) = (&state, &caller);
    kept_answer(reader, &headers, &FEED, asker, &what, move || async move {
        let id = readable_project(reader, asker, &id).await?;
        feed(reader, vec![json!(id)], &query_pairs(&raw)).await
    })
    .await
}

#[utoipa::path(get, path = "/data/projects/news", tag = "kitsu: data",
    description = "Also served under `/api`. The news feed of every open project the caller \
        belongs to (all open projects for studio managers), or of the one `project_id` names \
        among them; filters and answer as for one project.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The page of the feed"),
        (status = 400, description = "A malformed filter or page, naming it"),
    ))]
pub async fn all_news(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let what = format!("news?{}", raw.as_deref().unwrap_or_default());
    let (reader, asker) = (&state, &caller);
    kept_answer(reader, &headers, &FEED, asker, &what, move || async move {
        let projects = Records::model("projects")?;
        let mut open = vec![open_filter(reader, projects).await?];
        if asker.user.role != "admin" {
            open.push(Filter::Contains(path("team"), json!(asker.user_id)));
        }
        let mut ids: Vec<Value> = every(reader, projects.collection, Filter::And(open), &[])
            .await?
            .into_iter()
            .map(|p| p["id"].clone())
            .collect();
        let pairs = query_pairs(&raw);
        if let Some((_, asked)) = pairs.iter().find(|(k, _)| k == "project_id")
            && ids.contains(&json!(asked))
        {
            ids = vec![json!(asked)];
        }
        feed(reader, ids, &pairs).await
    })
    .await
}

#[utoipa::path(get, path = "/data/projects/{id}/news/{news_id}", tag = "kitsu: data",
    description = "Also served under `/api`. One entry of the project's feed, shaped as in the \
        list.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("news_id" = String, Path, description = "The entry's UUID"),
    ),
    responses(
        (status = 200, description = "The entry"),
        (status = 403, description = "The caller is not in the project's team"),
        (status = 404, description = "No such project or entry"),
    ))]
pub async fn one_news(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, news_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let freshness = state.gate.wait(&headers, &[RECORDS, NEWS]).await?;
    let id = readable_project(&state, &caller, &id).await?;
    let entry = state
        .gate
        .views
        .get(NEWS_COLLECTION, &news_id)
        .await
        .map_err(AppError::from)?
        .filter(|entry| entry["project_id"] == json!(id))
        .ok_or_else(|| not_found(&news_id))?;
    let mut names = Names::new(&state);
    let entry = shown(&mut names, entry).await?;
    Ok(with_freshness(Json(entry).into_response(), freshness))
}
