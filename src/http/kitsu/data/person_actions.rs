//! What studio managers do to another person's account, as gazu's `change_password_for_person`,
//! `add_person_to_department`, `remove_person_from_department`,
//! `disable_two_factor_authentication` and `invite_person` call it, answering as Zou 1.0.97
//! does (tests/fixtures/zou-1.0.97-person-actions.md).
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use annals_domain::identity::User;
use annals_projections::kitsu::RECORDS;

use super::json_object;
use super::names::doc_of;
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::kitsu::passwords::MIN_PASSWORD_LENGTH;
use crate::http::kitsu::persons::person;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::forbidden;

/// The person of the path, who must not be a bot (Zou's `check_person_is_not_bot`): 404 for
/// an unknown or malformed id, 403 for a bot.
pub(super) async fn not_a_bot(state: &AppState, id: &str) -> KitsuResult<User> {
    let unknown = || KitsuError::from(AppError::NotFound(format!("no person {id}")));
    let id = uuid::Uuid::try_parse(id)
        .map_err(|_| unknown())?
        .to_string();
    let user = state.identity.user(&id).await?;
    if user.person_fields().get("is_bot") == Some(&json!(true)) {
        return Err(forbidden().into());
    }
    Ok(user)
}

fn studio_manager(caller: &KitsuCaller) -> KitsuResult<()> {
    if caller.user.role == "admin" {
        Ok(())
    } else {
        Err(forbidden().into())
    }
}

/// 400 `{"error": true, "message"}` as Zou's resources answer their own refusals.
fn refused(message: &str) -> KitsuError {
    KitsuError::bad_request(message)
}

/// Zou's `WrongParameterException`: 400 with `data: null`.
fn wrong_parameter(message: &str) -> KitsuError {
    KitsuError::Body(
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": message, "data": null}),
    )
}

/// A request body's schema errors, all of them, in Zou's "Validation error." shape.
fn validation(errors: Vec<(&str, &str)>) -> KitsuError {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|(field, message)| json!({"field": field, "message": message}))
        .collect();
    KitsuError::Body(
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "Validation error.", "data": {"errors": errors}}),
    )
}

#[utoipa::path(post, path = "/actions/persons/{person_id}/change-password",
    tag = "kitsu: data",
    description = "Also served under `/api`. A studio manager sets a person's password \
        (`password`, `password_2`); not another studio manager's.",
    security(("bearer" = [])),
    params(("person_id" = String, Path, description = "The person's UUID")),
    request_body = Object,
    responses(
        (status = 200, description = "`{success: true}`"),
        (status = 400, description = "`Validation error.` (missing field, confirmation mismatch), `Password is too short.`, another admin's password"),
        (status = 403, description = "Not a studio manager, or the person is a bot"),
        (status = 404, description = "No such person"),
    ))]
pub async fn change_password_for_person(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(person_id): Path<String>,
    body: Bytes,
) -> KitsuResult<Json<Value>> {
    let caller = caller?;
    let user = not_a_bot(&state, &person_id).await?;
    studio_manager(&caller)?;
    let input = json_object(&body)?;
    let text = |key: &str| input.get(key).and_then(Value::as_str).map(str::to_string);
    let (password, confirmation) = (text("password"), text("password_2"));
    let mut missing = Vec::new();
    for (key, value) in [("password", &password), ("password_2", &confirmation)] {
        match value.as_deref() {
            None => missing.push((key, "Field required")),
            Some("") => missing.push((key, "String should have at least 1 character")),
            Some(_) => {}
        }
    }
    if !missing.is_empty() {
        return Err(validation(missing));
    }
    let (password, confirmation) = (
        password.unwrap_or_default(),
        confirmation.unwrap_or_default(),
    );
    if password != confirmation {
        return Err(validation(vec![(
            "",
            "Value error, Confirmation password doesn't match.",
        )]));
    }
    if user.user_id != caller.user_id && user.role == "admin" {
        return Err(refused("An admin can't change another admin's password."));
    }
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(refused("Password is too short."));
    }
    state
        .identity
        .set_password(
            &user.user_id,
            password,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await
        .map_err(|e| match e {
            AppError::Invalid { field, message } if field == "password" => {
                refused(&format!("Password {}.", message.trim_end_matches('.')))
            }
            other => other.into(),
        })?;
    Ok(Json(json!({"success": true})))
}

/// The live department of `id`, or Zou's refusal.
async fn department(state: &AppState, headers: &HeaderMap, id: &str) -> KitsuResult<String> {
    let none = || wrong_parameter("Department ID matches no department");
    let id = uuid::Uuid::try_parse(id).map_err(|_| none())?.to_string();
    state.gate.wait(headers, &[RECORDS]).await?;
    doc_of(state, "departments", &id).await?.ok_or_else(none)?;
    Ok(id)
}

/// Sets the person's departments with the studio manager's authority.
async fn set_departments(
    state: &AppState,
    caller: &KitsuCaller,
    meta: &RequestMeta,
    user: &User,
    departments: Vec<Value>,
) -> KitsuResult<User> {
    let input =
        serde_json::Map::from_iter([("departments".to_string(), Value::Array(departments))]);
    state
        .identity
        .update_person(
            &user.user_id,
            input,
            true,
            &caller.user_id,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(state.identity.user(&user.user_id).await?)
}

fn departments_of(user: &User) -> Vec<Value> {
    user.person_fields()
        .get("departments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

#[utoipa::path(post, path = "/actions/persons/{person_id}/departments/add",
    tag = "kitsu: data",
    description = "Also served under `/api`. A studio manager adds the person to the \
        department `department_id` (again changes nothing).",
    security(("bearer" = [])),
    params(("person_id" = String, Path, description = "The person's UUID")),
    request_body = Object,
    responses(
        (status = 201, description = "The person"),
        (status = 400, description = "`Validation error.` naming `department_id`, or `Department ID matches no department`"),
        (status = 403, description = "Not a studio manager"),
        (status = 404, description = "No such person"),
    ))]
pub async fn add_to_department(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(person_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    studio_manager(&caller)?;
    let input = json_object(&body)?;
    let wanted = match input.get("department_id") {
        None | Some(Value::Null) => {
            return Err(validation(vec![("department_id", "Field required")]));
        }
        Some(Value::String(id)) if uuid::Uuid::try_parse(id).is_ok() => id.clone(),
        Some(_) => {
            return Err(validation(vec![(
                "department_id",
                "Input should be a valid UUID",
            )]));
        }
    };
    let department_id = department(&state, &headers, &wanted).await?;
    let user = found(&state, &person_id).await?;
    let mut departments = departments_of(&user);
    let user = if departments.contains(&json!(department_id)) {
        user
    } else {
        departments.push(json!(department_id));
        set_departments(&state, &caller, &meta, &user, departments).await?
    };
    Ok((StatusCode::CREATED, Json(person(&user))).into_response())
}

/// The person of the path (bots too): 404 for an unknown or malformed id.
async fn found(state: &AppState, id: &str) -> KitsuResult<User> {
    let unknown = || KitsuError::from(AppError::NotFound(format!("no person {id}")));
    let id = uuid::Uuid::try_parse(id)
        .map_err(|_| unknown())?
        .to_string();
    Ok(state.identity.user(&id).await?)
}

#[utoipa::path(delete, path = "/actions/persons/{person_id}/departments/{department_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. A studio manager takes the person out of the \
        department (204 whether or not they were in it).",
    security(("bearer" = [])),
    params(
        ("person_id" = String, Path, description = "The person's UUID"),
        ("department_id" = String, Path, description = "The department's UUID"),
    ),
    responses(
        (status = 204, description = "Done"),
        (status = 400, description = "`Department ID matches no department`"),
        (status = 403, description = "Not a studio manager"),
        (status = 404, description = "No such person"),
    ))]
pub async fn remove_from_department(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((person_id, department_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<StatusCode> {
    let caller = caller?;
    studio_manager(&caller)?;
    let department_id = department(&state, &headers, &department_id).await?;
    let user = found(&state, &person_id).await?;
    let departments = departments_of(&user);
    let kept: Vec<Value> = departments
        .iter()
        .filter(|d| **d != json!(department_id))
        .cloned()
        .collect();
    if kept.len() != departments.len() {
        set_departments(&state, &caller, &meta, &user, kept).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/actions/persons/{person_id}/disable-two-factor-authentication",
    tag = "kitsu: data",
    description = "Also served under `/api`. A studio manager turns off the person's second \
        factors (their own, or a non-admin's).",
    security(("bearer" = [])),
    params(("person_id" = String, Path, description = "The person's UUID")),
    responses(
        (status = 200, description = "`{success: true}`"),
        (status = 400, description = "Another admin's, or none enabled"),
        (status = 403, description = "Not a studio manager, or the person is a bot"),
        (status = 404, description = "No such person"),
    ))]
pub async fn disable_two_factor(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(person_id): Path<String>,
) -> KitsuResult<Json<Value>> {
    let caller = caller?;
    let user = not_a_bot(&state, &person_id).await?;
    studio_manager(&caller)?;
    if user.role == "admin" && user.user_id != caller.user_id {
        return Err(refused("An admin can't disable 2FA for other admins."));
    }
    let disabled = state
        .identity
        .disable_second_factors(&user.user_id, &meta.metadata(Some(&caller.user_id)))
        .await?;
    if !disabled {
        return Err(refused(
            "Two factor authentication not enabled for this user.",
        ));
    }
    Ok(Json(json!({"success": true})))
}

#[utoipa::path(get, path = "/actions/persons/{person_id}/invite", tag = "kitsu: data",
    description = "Also served under `/api`. A studio manager mails the person an invitation \
        with a link to choose their password (valid 7 days, once).",
    security(("bearer" = [])),
    params(("person_id" = String, Path, description = "The person's UUID")),
    responses(
        (status = 200, description = "`{success: true, message: \"Email sent\"}`"),
        (status = 403, description = "Not a studio manager, or the person is a bot"),
        (status = 404, description = "No such person"),
    ))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(person_id): Path<String>,
) -> KitsuResult<Json<Value>> {
    let caller = caller?;
    let user = not_a_bot(&state, &person_id).await?;
    studio_manager(&caller)?;
    state
        .identity
        .invite(&user.user_id, &meta.metadata(Some(&caller.user_id)))
        .await?;
    Ok(Json(json!({"success": true, "message": "Email sent"})))
}
