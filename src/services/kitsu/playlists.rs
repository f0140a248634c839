//! Adding an entity to a playlist (Zou's `POST /actions/playlists/<id>/add-entity`, what
//! gazu's `add_entity_to_playlist` calls): the preview to review is settled from the records
//! (the one given when it is the entity's own, else the entity's latest), then the playlist's
//! own stream decides what to append, so concurrent additions are all kept.
use chrono::Utc;
use serde_json::{Value, json};

use annals_contracts::filter::{FieldPath, Filter, Query, Sort};
use annals_domain::kitsu::{Record, RecordCommand};

use super::records::{ASSIGNED_WORK, Records};
use crate::es::commands::{Executed, Metadata};
use crate::services::error::AppError;

/// The model of preview files, and of the playlists entities are added to.
const PREVIEW_FILES: &str = "preview-files";
const PLAYLISTS: &str = "playlists";

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

impl Records {
    /// The latest preview file of the entity `entity_id` (highest revision, then newest),
    /// among its tasks of `task_type_id` when given, from the read models.
    async fn latest_preview(
        &self,
        entity_id: &str,
        task_type_id: Option<&str>,
    ) -> Result<Option<String>, AppError> {
        let tasks = Self::model(ASSIGNED_WORK)?;
        let mut of_entity = vec![Filter::Eq(path("entity_id"), json!(entity_id))];
        if let Some(task_type) = task_type_id {
            of_entity.push(Filter::Eq(path("task_type_id"), json!(task_type)));
        }
        let found = self
            .views
            .find(
                tasks.collection,
                &Query::new(Filter::And(of_entity), vec![], 10_000),
            )
            .await?;
        let task_ids: Vec<Value> = found.items.into_iter().map(|(id, _)| json!(id)).collect();
        if task_ids.is_empty() {
            return Ok(None);
        }
        let previews = Self::model(PREVIEW_FILES)?;
        let sort = ["-revision", "-created_at"].map(|s| Sort::parse(s).expect("a valid sort"));
        let latest = self
            .views
            .find(
                previews.collection,
                &Query::new(Filter::In(path("task_id"), task_ids), sort.to_vec(), 1),
            )
            .await?;
        Ok(latest.items.into_iter().next().map(|(id, _)| id))
    }

    /// Adds the entity `entity_id` to the playlist `playlist_id` (as [`Records::live`] read
    /// it) with `preview` (both ids in their canonical form): kept when it is a preview of the entity, else unset; an unset one
    /// is the entity's latest preview (of the playlist's task type, when it has one). The
    /// couple is appended unless the playlist holds it already. The entity itself is not
    /// looked up, as Zou does not.
    pub async fn add_to_playlist(
        &self,
        playlist_id: &str,
        playlist: &Record,
        entity_id: &str,
        preview: Option<&str>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Executed<Record>, AppError> {
        let mut preview = match preview {
            Some(preview) if self.is_preview_of(preview, entity_id).await? => {
                Some(preview.to_string())
            }
            _ => None,
        };
        if preview.is_none() {
            let task_type = playlist.fields.get("task_type_id").and_then(Value::as_str);
            preview = self.latest_preview(entity_id, task_type).await?;
        }
        let command = RecordCommand::AddEntries {
            model: PLAYLISTS.into(),
            field: "shots".into(),
            couples: vec![(entity_id.to_string(), preview)],
            by: by.into(),
            at: Utc::now(),
        };
        Ok(self
            .records
            .execute_returning(playlist_id, command, metadata)
            .await?)
    }
}
