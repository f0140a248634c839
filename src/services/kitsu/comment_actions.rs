//! What people do to a comment once made (Zou's comment actions): acknowledge it (a toggle of
//! the caller in its `acknowledgements`), reply to it and delete a reply (its `replies`).
//! Each is a command on the comment's stream, with who and when in its event.
use chrono::Utc;
use serde_json::{Map, Value, json};

use annals_contracts::Position;
use annals_domain::kitsu::{Record, RecordCommand, zou_datetime};

use super::records::Records;
use crate::es::commands::{Executed, MAX_ATTEMPTS, Metadata, backoff};
use crate::services::error::AppError;

const COMMENTS: &str = "comments";

fn replies_of(comment: &Record) -> Vec<Value> {
    comment
        .fields
        .get("replies")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

impl Records {
    /// Adds `user_id` to the people who acknowledged the comment `id`, or takes them out
    /// when they are there (Zou's toggle).
    pub async fn acknowledge(
        &self,
        id: &str,
        comment: &Record,
        user_id: &str,
        metadata: &Metadata,
    ) -> Result<Executed<Record>, AppError> {
        let comments = Self::model(COMMENTS)?;
        let acked = comment
            .fields
            .get("acknowledgements")
            .and_then(Value::as_array)
            .is_some_and(|ids| ids.iter().any(|held| held.as_str() == Some(user_id)));
        self.relink(
            comments,
            id,
            "acknowledgements",
            user_id,
            !acked,
            user_id,
            metadata,
        )
        .await
    }

    /// Sets the comment `id`'s replies to what `change` makes of them, on the comment as the
    /// log holds it (again when another change lands first, so none is lost).
    async fn change_replies(
        &self,
        id: &str,
        by: &str,
        metadata: &Metadata,
        change: impl Fn(&mut Vec<Value>) -> Result<(), AppError>,
    ) -> Result<(Record, Position), AppError> {
        let comments = Self::model(COMMENTS)?;
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let comment = self.live(comments, id).await?;
            let mut replies = replies_of(&comment);
            change(&mut replies)?;
            let command = RecordCommand::Update {
                model: COMMENTS.into(),
                input: Map::from_iter([("replies".to_string(), Value::Array(replies))]),
                by: by.into(),
                at: Utc::now(),
            };
            let prepared = self.records.prepare(id, command, metadata, false).await?;
            if prepared.before != comment {
                continue;
            }
            if let Some(position) = self.together.append(prepared.events).await? {
                return Ok((prepared.state, position));
            }
        }
        Err(AppError::Conflict)
    }

    /// Replies `text` to the comment `id` of `task` as `author`: the reply as Zou stores it
    /// (with the people and departments its text mentions).
    pub async fn reply(
        &self,
        task: &Record,
        id: &str,
        text: &str,
        author: &str,
        metadata: &Metadata,
    ) -> Result<(Value, Position), AppError> {
        let (mentions, department_mentions) = self.mentions_in(task, text).await?;
        let at = zou_datetime(Utc::now());
        let reply = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "date": at,
            "person_id": author,
            "text": text,
            "mentions": mentions,
            "department_mentions": department_mentions,
            "created_at": at,
        });
        let added = reply.clone();
        let (_, position) = self
            .change_replies(id, author, metadata, move |replies| {
                replies.push(added.clone());
                Ok(())
            })
            .await?;
        Ok((reply, position))
    }

    /// Deletes the reply `reply_id` of the comment `id`: the comment after.
    pub async fn delete_reply(
        &self,
        id: &str,
        reply_id: &str,
        by: &str,
        metadata: &Metadata,
    ) -> Result<(Record, Position), AppError> {
        self.change_replies(id, by, metadata, |replies| {
            let before = replies.len();
            replies.retain(|r| r["id"].as_str() != Some(reply_id));
            if replies.len() == before {
                return Err(AppError::NotFound(format!("no reply {reply_id}")));
            }
            Ok(())
        })
        .await
    }
}

/// The reply `reply_id` of a comment, if it has it.
pub fn reply_of(comment: &Record, reply_id: &str) -> Option<Value> {
    replies_of(comment)
        .into_iter()
        .find(|r| r["id"].as_str() == Some(reply_id))
}
