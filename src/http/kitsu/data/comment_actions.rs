//! Zou's comment actions gazu calls: acknowledge a comment (a toggle), reply to it, delete a
//! reply. Each changes the comment through a command on its stream.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use annals_domain::kitsu::{Record, TaskAction};
use annals_projections::kitsu::RECORDS;

use super::names::Names;
use super::serialized;
use super::shape::without_relations;
use super::tasks::readable_task;
use crate::http::consistency::with_position;
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{Commenter, Records, forbidden, reply_of};

const COMMENTS: &str = "comments";

fn not_found(what: &str) -> KitsuError {
    AppError::NotFound(what.to_string()).into()
}

/// The live comment `id`, or 404 (what is not a UUID names none).
async fn comment(state: &AppState, id: &str) -> KitsuResult<(String, Record)> {
    let id = uuid::Uuid::try_parse(id)
        .map(|u| u.to_string())
        .map_err(|_| not_found(id))?;
    let comments = Records::model(COMMENTS)?;
    let record = state.records.live(comments, &id).await?;
    Ok((id, record))
}

/// Refuses a comment that is not on the task of the path.
fn on_task(comment: &Record, task_id: &str) -> KitsuResult<()> {
    if comment.fields.get("object_id").and_then(Value::as_str) == Some(task_id) {
        Ok(())
    } else {
        Err(forbidden().into())
    }
}

#[utoipa::path(post, path = "/data/tasks/{task_id}/comments/{comment_id}/ack",
    tag = "kitsu: data",
    description = "Also served under `/api`. Acknowledges a comment for the caller, or takes \
        the acknowledgement back when they gave it (a toggle), and answers the comment with its \
        relations (`acknowledgements` in the order given). Whoever reads the task (vendors on \
        their tasks' entities). Zou acknowledges a comment named under any task the caller \
        reads; annals refuses a comment of another task (403), as Zou's reply route does.",
    security(("bearer" = [])),
    params(
        ("task_id" = String, Path, description = "The task's UUID"),
        ("comment_id" = String, Path, description = "The comment's UUID"),
    ),
    responses(
        (status = 200, description = "The comment"),
        (status = 403, description = "The caller does not read the task; a comment of another task"),
        (status = 404, description = "No such task or comment"),
    ))]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((task_id, comment_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    state.gate.wait(&headers, &[RECORDS]).await?;
    let task = readable_task(&state, &caller, &task_id).await?;
    let (id, record) = comment(&state, &comment_id).await?;
    on_task(&record, task["id"].as_str().unwrap_or_default())?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let executed = state
        .records
        .acknowledge(&id, &record, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    let comments = Records::model(COMMENTS)?;
    let body = serialized(comments, &id, &executed.state);
    Ok(with_position(Json(body).into_response(), executed.position))
}

/// A reply's `text` (Zou's `CommentReplySchema`: a string, `""` when absent).
fn reply_text(body: &Bytes) -> KitsuResult<String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(String::new());
    }
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map.get("text").cloned().unwrap_or(Value::Null),
        Ok(_) => Value::Null,
        Err(_) => {
            return Err(KitsuError::bad_request(
                "The browser (or proxy) sent a request that this server could not understand.",
            ));
        }
    };
    match text {
        Value::Null => Ok(String::new()),
        Value::String(text) => Ok(text),
        _ => Err(KitsuError::validation(
            "text",
            "Input should be a valid string",
        )),
    }
}

#[utoipa::path(post, path = "/data/tasks/{task_id}/comments/{comment_id}/reply",
    tag = "kitsu: data",
    description = "Also served under `/api`. Replies to a comment of the task as the caller \
        (`{text}`; a `person_id` is ignored, as Zou ignores it): answers the reply `{id, date, \
        created_at, person_id, text, mentions, department_mentions}` with the short `person`. \
        The comment's author, or whoever may act on the task or was mentioned in its \
        conversation (vendors only on their tasks).",
    security(("bearer" = [])),
    params(
        ("task_id" = String, Path, description = "The task's UUID"),
        ("comment_id" = String, Path, description = "The comment's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 200, description = "The reply"),
        (status = 400, description = "`text` not a string"),
        (status = 403, description = "A comment of another task; the caller may not answer on the task"),
        (status = 404, description = "No such comment"),
    ))]
pub async fn reply(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((task_id, comment_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (id, record) = comment(&state, &comment_id).await?;
    let task_id = uuid::Uuid::try_parse(&task_id)
        .map(|u| u.to_string())
        .unwrap_or(task_id);
    on_task(&record, &task_id)?;
    let tasks = Records::model("tasks")?;
    let task = state.records.live(tasks, &task_id).await?;
    if record.fields.get("person_id").and_then(Value::as_str) != Some(caller.user_id.as_str()) {
        // A mention is read from the comments' read model.
        state.gate.wait(&headers, &[RECORDS]).await?;
        let who = Commenter {
            user_id: &caller.user_id,
            role: &caller.user.role,
        };
        if state.records.task_action_of(&task_id, &task, who).await? == TaskAction::None {
            return Err(forbidden().into());
        }
    }
    let text = reply_text(&body)?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let (mut reply, position) = state
        .records
        .reply(&task, &id, &text, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    let person = Names::new(&state).person(reply.get("person_id")).await?;
    if let Value::Object(map) = &mut reply {
        map.insert("person".into(), person);
    }
    Ok(with_position(Json(reply).into_response(), position))
}

#[utoipa::path(delete, path = "/data/tasks/{task_id}/comments/{comment_id}/reply/{reply_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. Deletes a reply of a comment: its author, or a \
        studio manager. Answers the comment without relations (200).",
    security(("bearer" = [])),
    params(
        ("task_id" = String, Path, description = "The task's UUID"),
        ("comment_id" = String, Path, description = "The comment's UUID"),
        ("reply_id" = String, Path, description = "The reply's id"),
    ),
    responses(
        (status = 200, description = "The comment"),
        (status = 403, description = "Neither the reply's author nor a studio manager"),
        (status = 404, description = "No such comment or reply"),
    ))]
pub async fn delete_reply(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((_task_id, comment_id, reply_id)): Path<(String, String, String)>,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (id, record) = comment(&state, &comment_id).await?;
    let reply = reply_of(&record, &reply_id).ok_or_else(|| not_found(&reply_id))?;
    if reply["person_id"].as_str() != Some(caller.user_id.as_str()) {
        Records::allow(annals_domain::kitsu::Access::Admin, &caller.user.role)?;
    }
    let metadata = meta.metadata(Some(&caller.user_id));
    let (after, position) = state
        .records
        .delete_reply(&id, &reply_id, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    let comments = Records::model(COMMENTS)?;
    let body = without_relations(comments, serialized(comments, &id, &after));
    Ok(with_position(Json(body).into_response(), position))
}
