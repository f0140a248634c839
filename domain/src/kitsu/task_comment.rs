//! A comment on a task (Zou's `POST /actions/tasks/<id>/comment`): the comment record and the
//! task's move to the comment's status, decided together from the task and the status as the
//! log holds them. The caller appends both commands' events in one transaction.
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::models::model;
use super::record::{Record, RecordCommand, RecordError, Subject};
use super::values::{parse_datetime, zou_datetime};

/// What a comment says, and about which task.
#[derive(Debug, Clone)]
pub struct TaskComment<'a> {
    pub task_id: &'a str,
    /// The task's stream state.
    pub task: &'a Record,
    pub status_id: &'a str,
    /// The status's stream state.
    pub status: &'a Record,
    /// The most retakes a task may have (the entity's `data.max_retakes`, else the
    /// project's); 0 for no cap.
    pub max_retakes: i64,
    /// The person the comment is by.
    pub author: &'a str,
    pub text: &'a str,
    pub checklist: Value,
    pub links: Value,
    pub for_client: bool,
    /// The people (ids) the text mentions, see [`mentioned`].
    pub mentions: Vec<String>,
    /// The departments (ids) the text mentions.
    pub department_mentions: Vec<String>,
    /// Who acts.
    pub by: &'a str,
    /// The comment's date (a manager may give an older one).
    pub at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// The commands a comment makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Commented {
    /// Creates the comment (on a new stream).
    pub comment: RecordCommand,
    /// Updates the task, or only touches it when nothing changes there (a comment older than
    /// the task's last one leaves its status as it is, as in Zou).
    pub task: RecordCommand,
    /// The comment changed the task's status.
    pub changed: bool,
}

fn flag(record: &Record, field: &str) -> bool {
    record.fields.get(field).and_then(Value::as_bool) == Some(true)
}

/// The fields of the task a comment's feed entry needs, as they were.
const SUBJECT_FIELDS: &[&str] = &["project_id", "task_type_id", "entity_id", "task_status_id"];

/// Decides a comment on a task: the comment, and the task's new status, last comment date,
/// retake count, real start, end and done dates, as Zou's comment service sets them.
pub fn comment_on_task(c: TaskComment<'_>) -> Result<Commented, RecordError> {
    if !c.task.is_live("tasks") || !c.status.is_live("task-status") {
        return Err(RecordError::NotFound);
    }
    let retakes = c
        .task
        .fields
        .get("retake_count")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if flag(c.status, "is_retake") && c.max_retakes > 0 && retakes >= c.max_retakes {
        return Err(RecordError::Invalid {
            field: "task_status_id".into(),
            reason: "No more retakes allowed on this task",
        });
    }
    let last = c
        .task
        .fields
        .get("last_comment_date")
        .and_then(Value::as_str)
        .and_then(parse_datetime);
    // Zou's dates have no fraction: compare at that precision.
    let at = parse_datetime(&zou_datetime(c.at)).unwrap_or_else(|| c.at.naive_utc());
    let is_last = last.is_none_or(|last| last <= at);
    let current = c.task.fields.get("task_status_id").and_then(Value::as_str);
    let changed = is_last && current != Some(c.status_id);
    let mut task_input = Map::new();
    if is_last {
        task_input.insert("task_status_id".into(), json!(c.status_id));
        task_input.insert("last_comment_date".into(), json!(zou_datetime(c.at)));
    }
    if changed && flag(c.status, "is_retake") {
        task_input.insert("retake_count".into(), json!(retakes + 1));
    }
    if changed {
        // Zou's update_task: a feedback request ends the task, a done status is its done
        // date, and moving back out of either clears them.
        let now = json!(zou_datetime(c.now));
        if flag(c.status, "is_feedback_request") {
            task_input.insert("end_date".into(), now.clone());
        } else if !flag(c.status, "is_done") {
            task_input.insert("end_date".into(), Value::Null);
        }
        let done = if flag(c.status, "is_done") {
            now
        } else {
            Value::Null
        };
        task_input.insert("done_date".into(), done);
    }
    let started = c
        .task
        .fields
        .get("real_start_date")
        .is_some_and(|v| !v.is_null());
    if changed && flag(c.status, "is_wip") && !started {
        task_input.insert("real_start_date".into(), json!(zou_datetime(c.now)));
    }
    let tasks = model("tasks").expect("tasks are a registry model");
    let changes = tasks.prepare_update(&c.task.fields, &task_input)?;
    let has_changes = !changes.is_empty();
    let subject = Subject {
        model: "tasks".into(),
        id: c.task_id.into(),
        fields: SUBJECT_FIELDS
            .iter()
            .map(|f| {
                let value = c.task.fields.get(*f).cloned().unwrap_or(Value::Null);
                (f.to_string(), value)
            })
            .collect(),
        changes,
    };
    let mut input = Map::new();
    input.insert("object_id".into(), json!(c.task_id));
    input.insert("object_type".into(), json!("Task"));
    input.insert("task_status_id".into(), json!(c.status_id));
    input.insert("person_id".into(), json!(c.author));
    input.insert("text".into(), json!(c.text));
    input.insert("checklist".into(), c.checklist);
    input.insert("links".into(), c.links);
    input.insert("for_client".into(), json!(c.for_client));
    input.insert("mentions".into(), json!(c.mentions));
    input.insert("department_mentions".into(), json!(c.department_mentions));
    let comment = RecordCommand::Create {
        model: "comments".into(),
        input,
        by: c.by.into(),
        at: c.at,
        subject: Some(subject),
    };
    let task = if has_changes {
        RecordCommand::Update {
            model: "tasks".into(),
            input: task_input,
            by: c.by.into(),
            at: c.now,
        }
    } else {
        RecordCommand::Touch {
            model: "tasks".into(),
            by: c.by.into(),
            at: c.now,
        }
    };
    Ok(Commented {
        comment,
        task,
        changed,
    })
}

/// The ids of the `named` (id, name) whose name the text mentions as Zou reads a mention:
/// `@` and the whole name, then a space or the end of the text (a person by their full name,
/// a department by its name).
pub fn mentioned(text: &str, named: &[(String, String)]) -> Vec<String> {
    named
        .iter()
        .filter(|(_, name)| {
            let tag = format!("@{name}");
            !name.is_empty()
                && text.match_indices(&tag).any(|(at, _)| {
                    let rest = &text[at + tag.len()..];
                    rest.is_empty() || rest.starts_with(' ')
                })
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// Whether a comment's creation event says it changed its task's status (Zou's news `change`).
pub fn changed_status(subject: &Subject) -> bool {
    subject.changes.iter().any(|c| c.field == "task_status_id")
}
