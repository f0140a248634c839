//! Commenting on a task (Zou's `POST /actions/tasks/<id>/comment`): the comment record and the
//! task's change are decided by the domain from the task as the log holds it, then appended in
//! one transaction, so a comment never lands without its status change or the other way round.
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use annals_contracts::Position;
use annals_contracts::filter::{FieldPath, Filter, Query};
use annals_domain::identity::user::person::full_name;
use annals_domain::kitsu::{
    Record, TaskAction, TaskActor, TaskComment, comment_on_task, mentioned, parse_datetime,
    task_action,
};

use super::records::{FORBIDDEN_MESSAGE, Records};
use crate::es::commands::{MAX_ATTEMPTS, Metadata, backoff};
use crate::services::error::AppError;

/// How many times a comment is decided again when its task moved meanwhile (concurrent
/// comments on one task race on its stream).
const ATTEMPTS: u32 = MAX_ATTEMPTS;

/// What a comment request says (Zou's `CommentCreateSchema`).
#[derive(Debug, Clone)]
pub struct NewComment {
    pub task_status_id: String,
    pub text: String,
    /// The author, when a manager comments for someone else.
    pub person_id: Option<String>,
    /// The comment's date, when a manager backdates it.
    pub created_at: Option<String>,
    pub checklist: Value,
    pub links: Value,
    pub for_client: bool,
}

/// Who comments: their id and global role.
#[derive(Debug, Clone, Copy)]
pub struct Commenter<'a> {
    pub user_id: &'a str,
    pub role: &'a str,
}

/// A comment made, and the task status it was made with.
pub struct Made {
    pub comment_id: String,
    pub comment: Record,
    pub status: Record,
    pub author: String,
    pub position: Position,
}

fn forbidden() -> AppError {
    AppError::Forbidden(FORBIDDEN_MESSAGE.into())
}

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

fn text_of<'a>(record: &'a Record, field: &str) -> Option<&'a str> {
    record.fields.get(field).and_then(Value::as_str)
}

impl Records {
    /// The live record `id` of model `route`, or not found.
    async fn live_of(&self, route: &str, id: &str) -> Result<Record, AppError> {
        let definition = Records::model(route)?;
        if uuid::Uuid::try_parse(id).is_err() {
            return Err(AppError::NotFound(format!("no {route} {id}")));
        }
        self.live(definition, id).await
    }

    /// How far `who` may act on `task` (Zou's task action access, decided by the domain's
    /// [`task_action`]): the facts are gathered here, each only when the decision can turn on
    /// it.
    pub async fn task_action_of(
        &self,
        task_id: &str,
        task: &Record,
        who: Commenter<'_>,
    ) -> Result<TaskAction, AppError> {
        let mut actor = TaskActor {
            role: who.role,
            ..TaskActor::default()
        };
        if who.role == "admin" {
            return Ok(task_action(&actor));
        }
        let project = text_of(task, "project_id").unwrap_or_default();
        actor.in_team = self.project_holds(project, who.user_id).await?;
        if !actor.in_team || matches!(who.role, "manager" | "client") {
            return Ok(task_action(&actor));
        }
        actor.assignee = task
            .fields
            .get("assignees")
            .and_then(Value::as_array)
            .is_some_and(|ids| ids.iter().any(|id| id.as_str() == Some(who.user_id)));
        if !actor.assignee && who.role == "supervisor" {
            actor.in_department = self
                .supervises_task_type(who.user_id, text_of(task, "task_type_id"))
                .await?;
        }
        if task_action(&actor) == TaskAction::Full {
            return Ok(TaskAction::Full);
        }
        let entity = self
            .records
            .load(text_of(task, "entity_id").unwrap_or_default())
            .await?;
        actor.entity_creator = text_of(&entity, "created_by") == Some(who.user_id);
        if !actor.entity_creator && who.role != "vendor" {
            actor.mentioned = self.mentioned_on(task_id, who.user_id).await?;
        }
        Ok(task_action(&actor))
    }

    /// Whether a comment of the task `task_id`, or a reply to one, mentions `user_id` or one
    /// of their departments, from the comments' read model.
    async fn mentioned_on(&self, task_id: &str, user_id: &str) -> Result<bool, AppError> {
        let departments = self.identity.user(user_id).await?.person_fields()["departments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // A comment lists its mentions; a reply (in the comment's `replies`) keeps its own.
        let mut mentions = vec![
            Filter::Contains(path("mentions"), json!(user_id)),
            Filter::ElemMatch(
                path("replies"),
                Box::new(Filter::Contains(path("mentions"), json!(user_id))),
            ),
        ];
        for department in departments {
            mentions.push(Filter::Contains(
                path("department_mentions"),
                department.clone(),
            ));
            mentions.push(Filter::ElemMatch(
                path("replies"),
                Box::new(Filter::Contains(path("department_mentions"), department)),
            ));
        }
        let filter = Filter::And(vec![
            Filter::Eq(path("object_id"), json!(task_id)),
            Filter::Or(mentions),
        ]);
        let comments = Records::model("comments")?;
        let found = self
            .views
            .find(comments.collection, &Query::new(filter, vec![], 1))
            .await?;
        Ok(!found.items.is_empty())
    }

    /// Who and which departments a comment's text mentions, as Zou reads them: the people of
    /// the team of the task's project by their full name, the studio's departments by name
    /// (see [`mentioned`]).
    pub(super) async fn mentions_in(
        &self,
        task: &Record,
        text: &str,
    ) -> Result<(Vec<String>, Vec<String>), AppError> {
        if !text.contains('@') {
            return Ok((Vec::new(), Vec::new()));
        }
        let project = self
            .records
            .load(text_of(task, "project_id").unwrap_or_default())
            .await?;
        let mut people = Vec::new();
        for member in project
            .fields
            .get("team")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = member.as_str() else { continue };
            if let Ok(user) = self.identity.user(id).await {
                people.push((id.to_string(), full_name(&user.first_name, &user.last_name)));
            }
        }
        let departments = Records::model("departments")?;
        let found = self
            .views
            .find(
                departments.collection,
                &Query::new(Filter::All, vec![], 10_000),
            )
            .await?;
        let departments: Vec<(String, String)> = found
            .items
            .into_iter()
            .filter_map(|(id, doc)| Some((id, doc.get("name")?.as_str()?.to_string())))
            .collect();
        Ok((mentioned(text, &people), mentioned(text, &departments)))
    }

    /// The retake cap of a task: its entity's `data.max_retakes`, else its project's.
    async fn max_retakes(&self, task: &Record) -> Result<i64, AppError> {
        let project = self
            .records
            .load(text_of(task, "project_id").unwrap_or_default())
            .await?;
        let cap = project
            .fields
            .get("max_retakes")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if cap <= 0 {
            return Ok(0);
        }
        let entity = self
            .records
            .load(text_of(task, "entity_id").unwrap_or_default())
            .await?;
        let own = entity
            .fields
            .get("data")
            .and_then(|d| d.get("max_retakes"))
            .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
        Ok(own.filter(|n| *n > 0).unwrap_or(cap))
    }

    /// Comments on task `task_id`: the comment and the task's change, appended together.
    pub async fn comment_task(
        &self,
        task_id: &str,
        mut input: NewComment,
        who: Commenter<'_>,
        metadata: &Metadata,
    ) -> Result<Made, AppError> {
        let task = self.live_of("tasks", task_id).await?;
        let action = self.task_action_of(task_id, &task, who).await?;
        let moves = text_of(&task, "task_status_id")
            .is_none_or(|current| !current.eq_ignore_ascii_case(&input.task_status_id));
        if !action.may_comment(moves) {
            return Err(forbidden());
        }
        let status = self.live_of("task-status", &input.task_status_id).await?;
        let allowed = |flag: &str| status.fields.get(flag).and_then(Value::as_bool) != Some(false);
        if (who.role == "user" && !allowed("is_artist_allowed"))
            || (who.role == "client" && !allowed("is_client_allowed"))
        {
            return Err(forbidden());
        }
        // Only managers speak for others, backdate, or write for clients.
        if !matches!(who.role, "admin" | "manager") {
            input.person_id = None;
            input.created_at = None;
            input.for_client = false;
        }
        let author = match input.person_id.as_deref().filter(|p| !p.is_empty()) {
            Some(person) => {
                if uuid::Uuid::try_parse(person).is_err()
                    || !self.is_known("persons", person).await?
                {
                    return Err(AppError::NotFound(format!("no person {person}")));
                }
                person.to_string()
            }
            None => who.user_id.to_string(),
        };
        let at: Option<DateTime<Utc>> = input
            .created_at
            .as_deref()
            .and_then(parse_datetime)
            .map(|naive| naive.and_utc());
        let (mentions, department_mentions) = self.mentions_in(&task, &input.text).await?;
        let comment_id = uuid::Uuid::new_v4().to_string();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let task = self.live_of("tasks", task_id).await?;
            let now = Utc::now();
            let max_retakes = self.max_retakes(&task).await?;
            let decided = comment_on_task(TaskComment {
                task_id,
                task: &task,
                status_id: &input.task_status_id,
                status: &status,
                max_retakes,
                author: &author,
                text: &input.text,
                checklist: input.checklist.clone(),
                links: input.links.clone(),
                for_client: input.for_client,
                mentions: mentions.clone(),
                department_mentions: department_mentions.clone(),
                by: who.user_id,
                at: at.unwrap_or(now),
                now,
            })?;
            let comment = self
                .records
                .prepare(&comment_id, decided.comment, metadata, true)
                .await?;
            let mut events = comment.events;
            // Always an event on the task's stream (an update, or a touch), so that two
            // comments decided on one state of the task cannot both land.
            let moved = self
                .records
                .prepare(task_id, decided.task, metadata, false)
                .await?;
            // Decided on another state than the one appended after: decide again.
            if moved.before != task {
                continue;
            }
            events.extend(moved.events);
            if let Some(position) = self.together.append(events).await? {
                return Ok(Made {
                    comment_id,
                    comment: comment.state,
                    status,
                    author,
                    position,
                });
            }
        }
        Err(AppError::Conflict)
    }
}
