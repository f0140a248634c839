//! A project's casting links, as Zou's breakdown routes serve them: the list (plain, paged or
//! after a cursor, each in its own shape) and the removal that answers the removed link.
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use annals_contracts::filter::{FieldPath, Filter, Query, Sort};
use annals_domain::kitsu::{Access, parse_datetime};
use annals_projections::kitsu::{EXACT_LINKS, RECORDS, exact_datetime};

use super::projects::project_id;
use super::{query_pairs, scan, serialized};
use crate::http::consistency::{with_freshness, with_position};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{LINKS, Records, forbidden};

/// Zou's `NB_RECORDS_PER_PAGE`, the page of a paged or cursor list without a `limit`.
const PAGE: i64 = 100;
/// The keys of a plain list's links (no `updated_at`).
const PLAIN_KEYS: &[&str] = &[
    "id",
    "entity_in_id",
    "entity_out_id",
    "nb_occurences",
    "label",
    "data",
    "created_at",
    "type",
];

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

fn sorts(specs: &[&str]) -> Vec<Sort> {
    specs
        .iter()
        .map(|s| Sort::parse(s).expect("a valid sort"))
        .collect()
}

/// Zou's refusal of a malformed parameter.
fn wrong_parameter(message: impl Into<String>) -> KitsuError {
    KitsuError::Body(
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": message.into(), "data": null}),
    )
}

/// Whether the project `id` exists, once the caller may manage it (Zou's manager project
/// access, which lets a studio manager through before the project is looked up, and refuses
/// anyone else a project whose team does not hold them).
pub(super) async fn manages(state: &AppState, caller: &KitsuCaller, id: &str) -> KitsuResult<bool> {
    let projects = Records::model("projects")?;
    let project = state
        .records
        .records
        .load(id)
        .await
        .map_err(AppError::from)?;
    if !project.is_live(projects.route) {
        Records::allow(Access::Admin, &caller.user.role)?;
        return Ok(false);
    }
    state
        .records
        .permit(
            Access::Manager,
            projects,
            Some(id),
            |k| project.fields.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    Ok(true)
}

/// An integer query parameter as Zou's `get_integer_parameter` reads it.
fn integer(pairs: &[(String, String)], name: &str, default: i64) -> KitsuResult<i64> {
    match pairs.iter().find(|(k, _)| k == name) {
        None => Ok(default),
        Some((_, v)) => v
            .trim()
            .parse()
            .map_err(|_| wrong_parameter(format!("{name} must be an integer."))),
    }
}

/// How the list is asked for.
#[derive(Debug, PartialEq)]
enum Mode {
    /// Everything (or the first `limit`), exact creation times, no `updated_at`.
    Plain { limit: Option<u32> },
    /// Zou's paginated object, whole seconds.
    Paged { page: i64, limit: i64 },
    /// The links created after `after` (exact time), both times exact.
    Cursor { after: String, limit: i64 },
}

fn mode(pairs: &[(String, String)]) -> KitsuResult<Mode> {
    let page = integer(pairs, "page", -1)?;
    let limit = integer(pairs, "limit", 0)?;
    let or_page = |limit: i64| if limit < 1 { PAGE } else { limit };
    if page > 0 {
        return Ok(Mode::Paged {
            page,
            limit: or_page(limit),
        });
    }
    if let Some((_, cursor)) = pairs.iter().find(|(k, _)| k == "cursor_created_at") {
        // Zou parses `%Y-%m-%dT%H:%M:%S.%f` and fails (500) on anything else; annals refuses
        // it, naming the parameter.
        let at = cursor
            .contains('.')
            .then(|| parse_datetime(cursor))
            .flatten()
            .ok_or_else(|| {
                wrong_parameter(
                    "cursor_created_at must be a date and time like 2026-01-31T12:00:00.000000.",
                )
            })?;
        return Ok(Mode::Cursor {
            after: exact_datetime(at.and_utc()),
            limit: or_page(limit),
        });
    }
    Ok(Mode::Plain {
        limit: u32::try_from(limit).ok().filter(|l| *l > 0),
    })
}

/// An exact time cut to Zou's whole seconds.
fn seconds(doc: &mut Map<String, Value>, key: &str) {
    if let Some(Value::String(at)) = doc.get_mut(key) {
        at.truncate(19);
    }
}

/// The links of the project `id` as `mode` asks.
async fn links_of(state: &AppState, id: &str, mode: Mode) -> KitsuResult<Value> {
    let entities = Records::model("entities")?;
    let held = Filter::Eq(path("project_id"), json!(id));
    let ids: Vec<Value> = scan(state, entities.collection, held, &[])
        .await?
        .into_iter()
        .map(|(id, _)| Value::String(id))
        .collect();
    let of_project = Filter::In(path("entity_in_id"), ids);
    let find = |filter: Filter, sort: &[&str], limit: i64, offset: i64, count: bool| {
        let mut query = Query::new(filter, sorts(sort), limit.clamp(0, u32::MAX.into()) as u32);
        query.offset = offset.max(0) as u64;
        query.count = count;
        async move {
            state
                .gate
                .views
                .find(EXACT_LINKS, &query)
                .await
                .map_err(AppError::from)
        }
    };
    let docs = |items: Vec<(String, Value)>, shape: &dyn Fn(&mut Map<String, Value>)| {
        Value::Array(
            items
                .into_iter()
                .filter_map(|(_, doc)| match doc {
                    Value::Object(mut map) => {
                        shape(&mut map);
                        Some(Value::Object(map))
                    }
                    _ => None,
                })
                .collect(),
        )
    };
    Ok(match mode {
        Mode::Plain { limit } => {
            let rows = match limit {
                Some(limit) => {
                    find(of_project, &["created_at"], limit.into(), 0, false)
                        .await?
                        .items
                }
                None => scan(state, EXACT_LINKS, of_project, &["created_at"]).await?,
            };
            docs(rows, &|doc| {
                doc.retain(|k, _| PLAIN_KEYS.contains(&k.as_str()))
            })
        }
        Mode::Paged { page, limit } => {
            let offset = (page - 1).saturating_mul(limit);
            let found = find(of_project, &["created_at"], limit, offset, true).await?;
            let total = found.total.unwrap_or_default();
            let data = docs(found.items, &|doc| {
                seconds(doc, "created_at");
                seconds(doc, "updated_at");
            });
            json!({
                "data": data,
                "total": total,
                "nb_pages": total.div_ceil(limit as u64),
                "limit": limit,
                "offset": offset,
                "page": page,
            })
        }
        Mode::Cursor { after, limit } => {
            let total = find(of_project.clone(), &[], 0, 0, true)
                .await?
                .total
                .unwrap_or_default();
            let later = Filter::Range {
                path: path("created_at"),
                gt: Some(json!(after)),
                gte: None,
                lt: None,
                lte: None,
            };
            let filter = Filter::And(vec![of_project, later]);
            let found = find(filter, &["created_at", "updated_at"], limit, 0, false).await?;
            json!({"data": docs(found.items, &|_| {}), "total": total, "limit": limit})
        }
    })
}

#[utoipa::path(get, path = "/data/projects/{id}/entity-links", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. The casting links \
        whose casting entity is in the project, oldest first: a plain array of `id`, \
        `entity_in_id`, `entity_out_id`, `nb_occurences`, `label`, `data`, `created_at` (to \
        the microsecond), `type` (`limit` keeps the first ones); with `page` (1 or more) \
        Zou's paginated object of whole links (`limit`, 100 by default); with \
        `cursor_created_at` (`YYYY-MM-DDTHH:MM:SS.ffffff`) `{data, total, limit}`: the links \
        created after it, times to the microsecond. Other query keys are ignored.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    responses(
        (status = 200, description = "Array of links, or a paged object"),
        (status = 400, description = "`page` or `limit` not an integer; a malformed cursor"),
        (status = 403, description = "The caller does not manage the project"),
        (status = 404, description = "No such project"),
    ))]
pub async fn project_links(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let id = project_id(&id)?;
    if !manages(&state, &caller, &id).await? {
        return Err(AppError::NotFound(format!("no project {id}")).into());
    }
    let mode = mode(&query_pairs(&raw))?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let body = links_of(&state, &id, mode).await?;
    Ok(with_freshness(Json(body).into_response(), freshness))
}

#[utoipa::path(delete, path = "/data/projects/{id}/entity-links/{link_id}", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. Removes a casting \
        link of the project and answers it (200, as Zou's breakdown route does); the casting \
        entity's `nb_entities_out` becomes the number of links it still holds to entities \
        that are not canceled.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("link_id" = String, Path, description = "The link's UUID"),
    ),
    responses(
        (status = 200, description = "The removed link"),
        (status = 403, description = "The caller does not manage the project, or the link's \
            casting entity is in another project"),
        (status = 404, description = "No such project or link"),
    ))]
pub async fn remove_project_link(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((id, link_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let id = project_id(&id)?;
    // A studio manager naming a project that does not exist is refused below: the link's
    // entity is not in it.
    manages(&state, &caller, &id).await?;
    // Zou fails (500) on an id that is not a UUID; annals finds no such link.
    let link_id = uuid::Uuid::try_parse(&link_id)
        .map(|u| u.to_string())
        .map_err(|_| AppError::NotFound(format!("no entity link {link_id}")))?;
    let links = Records::model(LINKS)?;
    let link = state.records.live(links, &link_id).await?;
    let entity_in = link.fields.get("entity_in_id").and_then(Value::as_str);
    let entity = match entity_in {
        Some(entity_id) => Some(
            state
                .records
                .records
                .load(entity_id)
                .await
                .map_err(AppError::from)?,
        ),
        None => None,
    };
    let project = entity
        .as_ref()
        .and_then(|e| e.fields.get("project_id"))
        .and_then(Value::as_str);
    if project != Some(id.as_str()) {
        return Err(forbidden().into());
    }
    // The recount reads the links from the read model: let it catch up with the log first.
    state.gate.wait(&headers, &[RECORDS]).await?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let position = state
        .records
        .remove_link(&link_id, &link.fields, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    let body = serialized(links, &link_id, &link);
    Ok(with_position(
        (StatusCode::OK, Json(body)).into_response(),
        position,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_mode_is_read_as_zou_reads_it() {
        assert_eq!(mode(&[]).unwrap(), Mode::Plain { limit: None });
        assert_eq!(
            mode(&pairs(&[("limit", "2")])).unwrap(),
            Mode::Plain { limit: Some(2) }
        );
        assert_eq!(
            mode(&pairs(&[("page", "0"), ("limit", "-1")])).unwrap(),
            Mode::Plain { limit: None }
        );
        assert_eq!(
            mode(&pairs(&[("page", "2"), ("limit", "0")])).unwrap(),
            Mode::Paged {
                page: 2,
                limit: 100
            }
        );
        assert_eq!(
            mode(&pairs(&[("cursor_created_at", "2026-01-02T03:04:05.5")])).unwrap(),
            Mode::Cursor {
                after: "2026-01-02T03:04:05.500000".into(),
                limit: 100
            }
        );
        for bad in [
            vec![("page", "x")],
            vec![("limit", "x")],
            vec![("cursor_created_at", "2026-01-02T03:04:05")],
            vec![("cursor_created_at", "")],
        ] {
            assert!(mode(&pairs(&bad)).is_err(), "{bad:?}");
        }
    }
}
