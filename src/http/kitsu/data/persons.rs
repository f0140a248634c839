//! `/data/persons`: the studio's people are its accounts (the `User` aggregate), served in
//! Zou's person shape (`annals_domain::identity::user::person`).
//!
//! - Lists answer the `kitsu_persons` read model with the generic list machinery (filters,
//!   paging, `fields`); single reads answer the write side, like the login's own user object.
//! - What a caller sees follows Zou 1.0.97: studio managers the full person, others the
//!   minimal one (production managers too on a single read), clients only the people of their
//!   projects' teams. Sensitive columns are never a filter; non-managers filter on the minimal
//!   columns and `email` only.
//! - A create is a registration (the address claimed as at any sign-up, a bot's too); a bot
//!   (`is_bot: true`) gets an annals API key as its `access_token`, which works as a bearer
//!   token on this surface.
//! - A delete erases the account (`services::erasure`): its personal data read as erased, it
//!   can no longer log in, the address may register again, and its history stays. As in Zou,
//!   a person the tracker's records refer to is refused unless `force=true`, which takes them
//!   out of the teams and lists that hold them; the records that name them (comments they
//!   wrote, tasks they assigned) keep their history and name nobody readable.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_domain::identity::user::history::visible_changes;
use annals_domain::identity::user::person::{
    LINKED, MINIMAL_FILTERS, PERSON, PersonView, SENSITIVE, complete, for_client, is_attribute,
    minimal,
};
use annals_projections::kitsu::{PERSONS, RECORDS};

use super::query::{keep_fields, list_options};
use super::shape::{open_filter, relations_asked};
use super::{PROFILES, all_of, json_object, kept_answer, page_of, query_pairs, scan};
use crate::http::consistency::{with_freshness, with_position};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult, record_id};
use crate::http::kitsu::persons::person;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{Records, person_history};

/// What a person's answers are read from: the people (the accounts' events move both), and
/// the records (a client's teams).
const READ_FROM: [&str; 3] = [PERSONS, RECORDS, PROFILES];

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

fn forbidden() -> KitsuError {
    AppError::Forbidden(
        "You don't have the permission to access the requested resource. It is either \
         read-protected or not readable by the server."
            .into(),
    )
    .into()
}

fn is_admin(caller: &KitsuCaller) -> bool {
    caller.user.role == "admin"
}

/// A refused person write: Zou's message (`"Invalid role"`, `"Email already in use."`), the
/// field named in `data.errors`.
fn refused(error: AppError) -> KitsuError {
    match error {
        AppError::Invalid { field, message } | AppError::Duplicate { field, message } => {
            KitsuError::Body(
                StatusCode::BAD_REQUEST,
                json!({
                    "error": true,
                    "message": message,
                    "data": {"errors": [{"field": field, "message": message}]},
                }),
            )
        }
        other => other.into(),
    }
}

/// Zou's refusal of a filter the caller may not use: a sensitive column for anyone; for
/// anyone but studio managers, every column of the full person but the minimal ones.
fn check_filters(pairs: &[(String, String)], admin: bool) -> KitsuResult<()> {
    for (key, _) in pairs {
        if matches!(key.as_str(), "page" | "relations" | "fields") {
            continue;
        }
        let allowed = !SENSITIVE.contains(&key.as_str())
            && (admin || !is_attribute(key) || MINIMAL_FILTERS.contains(&key.as_str()));
        if !allowed {
            return Err(KitsuError::Body(
                StatusCode::BAD_REQUEST,
                json!({"error": true, "message": format!("Filtering on {key} is not allowed."), "data": null}),
            ));
        }
    }
    Ok(())
}

/// The ids of the people a client meets: the teams of the open projects they are in.
async fn client_team(state: &AppState, caller: &KitsuCaller) -> KitsuResult<Vec<Value>> {
    let projects = Records::model("projects")?;
    let related = Filter::And(vec![
        Filter::Contains(path("team"), json!(caller.user_id)),
        open_filter(state, projects).await?,
    ]);
    let mut team: Vec<Value> = Vec::new();
    for (_, project) in scan(state, projects.collection, related, &[]).await? {
        for member in project["team"].as_array().into_iter().flatten() {
            if !team.contains(member) {
                team.push(member.clone());
            }
        }
    }
    Ok(team)
}

/// What `caller` reads of a person's full document on a list: the whole person for studio
/// managers, the client or the minimal one for others.
fn listed(caller: &KitsuCaller, mut doc: Value) -> Value {
    complete(&mut doc);
    match caller.user.role.as_str() {
        "admin" => doc,
        "client" => for_client(&doc),
        _ => minimal(&doc),
    }
}

/// Applies `shape` to every person of a list answer (a plain array or Zou's page).
fn each_person(mut body: Value, shape: impl Fn(Value) -> Value) -> Value {
    let items = match &mut body {
        Value::Array(items) => items,
        Value::Object(page) => match page.get_mut("data") {
            Some(Value::Array(items)) => items,
            _ => return body,
        },
        _ => return body,
    };
    for item in items.iter_mut() {
        *item = shape(std::mem::take(item));
    }
    body
}

#[utoipa::path(get, path = "/data/persons", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. The studio's persons, \
        from the persons' read model: a plain array, or with `page` Zou's paginated object. \
        Query keys that are person columns filter (`email` without case, as Zou's email \
        type; booleans as gazu sends them). Studio managers read the full person; others \
        the minimal one (`id`, names, `has_avatar`, `active`, `departments`, `studio_id`, \
        `role`, `desktop_login`, `is_bot`) and may filter on those and `email`; clients see \
        the people of their open projects' teams. Sensitive columns (`password`, ...) are \
        never a filter.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Array of persons, or the paginated object"),
        (status = 400, description = "`{error: true, message}`: `Filtering on <key> is not allowed.`, a malformed filter or page"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let mut pairs = query_pairs(&raw);
    check_filters(&pairs, is_admin(&caller))?;
    // Zou's email column compares lower-cased values: an address matches whatever its case.
    let mut clauses = Vec::new();
    pairs.retain(|(key, value)| {
        let by_email = key == "email" && !value.starts_with('[');
        if by_email {
            clauses.push(Filter::IEq(path("email"), value.clone()));
        }
        !by_email
    });
    let mut options = list_options(&PERSON, &pairs)?;
    let fields = options.fields.take();
    clauses.push(std::mem::replace(&mut options.filter, Filter::All));
    let what = format!("persons?{}", raw.as_deref().unwrap_or_default());
    let (reader, asker) = (&state, &caller);
    kept_answer(
        reader,
        &headers,
        &READ_FROM,
        asker,
        &what,
        move || async move {
            if asker.user.role == "client" {
                clauses.push(Filter::In(path("id"), client_team(reader, asker).await?));
            }
            options.filter = Filter::And(clauses);
            let body = match options.page {
                Some(page) => page_of(reader, &PERSON, &options, page).await?,
                None => all_of(reader, &PERSON, &options).await?,
            };
            Ok(each_person(body, |doc| {
                keep_fields(listed(asker, doc), &fields)
            }))
        },
    )
    .await
}

/// `GET /data/persons/<id>`: a person as Zou's `serialize_safe` gives it to studio and
/// production managers, the minimal person to others, and to clients the people of their
/// teams only. Read from the write side, like the login's own user object.
#[utoipa::path(get, path = "/data/persons/{id}", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. The whole person for \
        studio and production managers, the minimal person for others; clients read the \
        people of their open projects' teams only. `relations=false` leaves out `departments`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The person's UUID")),
    responses(
        (status = 200, description = "The person, without secrets"),
        (status = 400, description = "`{error: true, message: \"Malformed ID.\", data: null}`"),
        (status = 403, description = "A client reading someone outside their teams"),
        (status = 404, description = "No such person"),
    ))]
pub async fn read(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let id = record_id(&id)?;
    let what = format!("persons/{id}?{}", raw.as_deref().unwrap_or_default());
    let (reader, asker) = (&state, &caller);
    kept_answer(
        reader,
        &headers,
        &READ_FROM,
        asker,
        &what,
        move || async move {
            let user = reader.identity.user(&id).await?;
            let mut doc = person(&user);
            if !relations_asked(&query_pairs(&raw), true)
                && let Value::Object(map) = &mut doc
            {
                map.remove("departments");
            }
            Ok(match asker.user.role.as_str() {
                "admin" | "manager" => doc,
                "client" => {
                    if !client_team(reader, asker).await?.contains(&json!(id)) {
                        return Err(forbidden());
                    }
                    for_client(&doc)
                }
                _ => minimal(&doc),
            })
        },
    )
    .await
}

/// The references of a person write, as Zou's relations take them: unknown departments
/// dropped, an unknown studio refused.
async fn known_references(state: &AppState, input: &mut Map<String, Value>) -> KitsuResult<()> {
    state
        .records
        .known_relations(&PERSON, input)
        .await
        .map_err(refused)?;
    state
        .records
        .check_references(&PERSON, input)
        .await
        .map_err(refused)?;
    Ok(())
}

#[utoipa::path(post, path = "/data/persons", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. Studio managers make a \
        person (what gazu's `new_person` and `new_bot` send: names, email, phone, role, \
        desktop_login, departments, password, active, contract_type, is_bot, \
        expiration_date...). The address must be free (`Email already in use.`); without a \
        password the person logs in once one is set. A bot's answer carries `access_token`, \
        an API key that works as its bearer token.",
    security(("bearer" = [])),
    request_body = Object,
    responses(
        (status = 201, description = "The person (with `departments`; a bot's with `access_token`)"),
        (status = 400, description = "`{error: true, message}`: `Invalid role`, `Invalid contract_type`, `Email already in use.`, a malformed or unknown field (named in `data.errors`)"),
        (status = 403, description = "The caller is not a studio manager"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let input = json_object(&body)?;
    if !is_admin(&caller) {
        return Err(forbidden());
    }
    let bot = input.get("is_bot") == Some(&json!(true));
    let mut input = PERSON.client_input(input);
    known_references(&state, &mut input).await?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let (id, mut position) = state
        .identity
        .register_person(input, &caller.user_id, &metadata)
        .await
        .map_err(refused)?;
    let user = state.identity.user(&id).await?;
    let mut doc = person(&user);
    if bot {
        let (key, made) = state
            .identity
            .create_api_key(&id, "Kitsu bot", None, &metadata)
            .await?;
        doc["access_token"] = json!(key.key);
        position = position.max(made);
    }
    let response = (StatusCode::CREATED, Json(doc)).into_response();
    Ok(with_position(response, position))
}

#[utoipa::path(put, path = "/data/persons/{id}", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. A person changes their \
        own record, studio managers anyone's; only studio managers change `role`, `active`, \
        `departments`, `archived`, `studio_id`, `expiration_date`... (ignored from others, as \
        Zou ignores them). The password, second factors, `is_bot` and keys that are no person \
        column are ignored; a different `email` is refused.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The person's UUID")),
    request_body = Object,
    responses(
        (status = 200, description = "The person after the change, with `departments`"),
        (status = 400, description = "`{error: true, message}`: a refused value, named in `data.errors`; a malformed id"),
        (status = 403, description = "Someone else's record, and the caller is not a studio manager"),
        (status = 404, description = "No such person"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let id = record_id(&id)?;
    let mut input = json_object(&body)?;
    state.identity.user(&id).await?;
    let admin = is_admin(&caller);
    if id != caller.user_id && !admin {
        return Err(forbidden());
    }
    known_references(&state, &mut input).await?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let position = state
        .identity
        .update_person(&id, input, admin, &caller.user_id, &metadata)
        .await
        .map_err(refused)?;
    let user = state.identity.user(&id).await?;
    Ok(with_position(Json(person(&user)).into_response(), position))
}

#[utoipa::path(delete, path = "/data/persons/{id}", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. Studio managers delete \
        a person other than themselves by erasing the account: its personal data read as \
        erased everywhere, it can no longer log in, its address may register again, its \
        history stays. A person the tracker's records refer to is refused (`Some data are \
        still linked to given person.`) unless `force=true`, which takes them out of the \
        teams and lists that hold them.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The person's UUID")),
    responses(
        (status = 204, description = "Deleted (erased)"),
        (status = 400, description = "Malformed id; `{error: true, message: \"Some data are still linked to given person.\"}`"),
        (status = 403, description = "The caller is not a studio manager, or is the person"),
        (status = 404, description = "No such person"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let id = record_id(&id)?;
    state.identity.user(&id).await?;
    if id == caller.user_id || !is_admin(&caller) {
        return Err(forbidden());
    }
    // Who refers to the person is read from the read models: let them catch up first.
    state.gate.wait(&headers, &[RECORDS]).await?;
    let force = query_pairs(&raw)
        .iter()
        .any(|(k, v)| k == "force" && v.eq_ignore_ascii_case("true"));
    let referrers = state.records.referrers(&PERSON, &id).await?;
    if referrers.referenced || !referrers.listed_in.is_empty() {
        if !force {
            return Err(KitsuError::bad_request(LINKED));
        }
        let metadata = meta.metadata(Some(&caller.user_id));
        for (model, relation, record) in referrers.listed_in {
            state
                .records
                .relink(
                    model,
                    &record,
                    relation,
                    &id,
                    false,
                    &caller.user_id,
                    &metadata,
                )
                .await?;
        }
    }
    let metadata = meta.metadata(Some(&caller.user_id));
    let erased = state.erasure.erase_user(&id, &metadata).await?;
    Ok(with_position(
        StatusCode::NO_CONTENT.into_response(),
        erased.position,
    ))
}

/// `GET /data/persons/<id>/history` (served by the generic history route): the person's
/// changes, newest first, in the shape of every record's history. Each caller sees the
/// fields of the person they read by id (studio and production managers all of them and the
/// secrets named as changed, others the minimal person, clients the people of their teams);
/// an entry left without a visible change is left out. An erased person's history is for
/// studio managers only, as a deleted record's.
pub async fn history(
    state: &AppState,
    caller: &KitsuCaller,
    id: &str,
    headers: &HeaderMap,
) -> KitsuResult<Response> {
    // The persons' projection having passed the caller's writes means their events are
    // visible in the log.
    let freshness = state.gate.wait(headers, &[PERSONS]).await?;
    let past = person_history(&state.history, id).await?;
    if past.deleted && !is_admin(caller) {
        return Err(AppError::NotFound(format!("no persons {id}")).into());
    }
    let view = PersonView::of(&caller.user.role);
    if view == PersonView::Client && !client_team(state, caller).await?.contains(&json!(id)) {
        return Err(forbidden());
    }
    let entries: Vec<Value> = past
        .entries
        .into_iter()
        .filter_map(|(mut entry, changes)| {
            let changes = visible_changes(view, &changes);
            if changes.is_empty() {
                return None;
            }
            entry["changes"] = json!(changes);
            Some(entry)
        })
        .collect();
    Ok(with_freshness(Json(entries).into_response(), freshness))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[&str]) -> Vec<(String, String)> {
        list.iter().map(|k| (k.to_string(), "x".into())).collect()
    }

    #[test]
    fn filters_follow_what_the_caller_reads() {
        assert!(check_filters(&pairs(&["email", "is_bot", "full_name", "page"]), false).is_ok());
        assert!(check_filters(&pairs(&["phone", "daily_salary"]), true).is_ok());
        assert!(check_filters(&pairs(&["force", "with_pass_hash"]), false).is_ok());
        for (key, admin) in [("phone", false), ("password", true), ("totp_secret", false)] {
            let Err(KitsuError::Body(status, body)) = check_filters(&pairs(&[key]), admin) else {
                panic!("{key} allowed");
            };
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(
                body["message"],
                format!("Filtering on {key} is not allowed.")
            );
        }
        assert!(SENSITIVE.contains(&"password"));
    }
}
