//! `POST /api/import_data`: a multipart upload of a JSON array of documents (or NDJSON) into a
//! collection, all or nothing. The file is split into documents as it arrives and staged
//! ([`Staged`]), then written a chunk at a time in one transaction.
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use super::accounts::written;
use super::auth::{Access, Caller};
use super::caller::metadata;
use super::errors::DatacubeError;
use crate::http::body::unstorable;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::datacube::import::Staged;
use crate::services::datacube::split::{SplitError, Splitter};
use crate::services::error::AppError;

type Result<T> = std::result::Result<T, DatacubeError>;

const FILE: &str = "json_file";

fn multipart_error(e: MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::TooLarge {
            field: FILE.into(),
            message: "is too large".into(),
        };
    }
    AppError::invalid(
        "body",
        format!("is not a valid multipart form: {}", e.body_text()),
    )
}

/// The collection an upload names by its file: the stem, runs of other than word characters
/// as `_`, lower-cased (`My Events-2024.json` -> `my_events_2024`).
fn stem_name(file_name: Option<&str>) -> String {
    let Some(name) = file_name.filter(|n| !n.trim().is_empty()) else {
        return "data".into();
    };
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let mut out = String::new();
    for c in stem.chars() {
        if c.is_alphanumeric() || c == '_' {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() { "data".into() } else { out }
}

/// The file's documents, read chunk by chunk within `limit` bytes, staged one by one.
async fn documents(mut field: Field<'_>, limit: u64) -> std::result::Result<Staged, AppError> {
    let mut splitter = Splitter::default();
    let mut parts = Vec::new();
    let mut documents = Staged::new()?;
    let mut size = 0u64;
    let split_error = |e: SplitError| match e {
        SplitError::NotDocuments => {
            AppError::invalid(FILE, "must hold a JSON array of objects, or NDJSON")
        }
        SplitError::Malformed { index } => {
            AppError::invalid(format!("{FILE}[{index}]"), "is not valid JSON")
        }
    };
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        size += chunk.len() as u64;
        if size > limit {
            return Err(AppError::TooLarge {
                field: FILE.into(),
                message: format!("is larger than {limit} bytes"),
            });
        }
        splitter.push(&chunk, &mut parts).map_err(split_error)?;
        for part in parts.drain(..) {
            let at = format!("{FILE}[{}]", documents.len());
            // Checked, not built: the import reads each document back from the staging file.
            serde_json::from_slice::<IgnoredAny>(&part)
                .map_err(|e| AppError::invalid(&at, format!("is not valid JSON ({e})")))?;
            // NUL can only be written `\u0000` in JSON; only then is the value looked into.
            if part.windows(6).any(|w| w == b"\\u0000") {
                let value: Value = serde_json::from_slice(&part)
                    .map_err(|e| AppError::invalid(&at, format!("is not valid JSON ({e})")))?;
                if let Some(field) = unstorable(&value, &at) {
                    return Err(AppError::invalid(
                        field,
                        "must not contain the NUL character",
                    ));
                }
            }
            documents.push_raw(&part).await?;
        }
    }
    splitter.finish().map_err(split_error)?;
    Ok(documents)
}

#[utoipa::path(post, path = "/api/import_data", tag = "document service: management",
    security(("bearer" = []), ("api_key" = [])),
    request_body(content_type = "multipart/form-data", content = Object,
        description = "`database_id`, optional `collection_name` (default: the file's name), `json_file`: a JSON array of objects, or NDJSON"),
    responses(
        (status = 201, description = "`{success, collection, inserted_count}`; all documents or none are kept"),
        (status = 400, description = "A bad document, named by index and field (`json_file[9999].age`)"),
        (status = 404, description = "No such database among the caller's"),
        (status = 413, description = "The file is over the configured limit, or a document too large for one event"),
    ))]
pub async fn import_data(
    State(state): State<AppState>,
    caller: Caller,
    meta: RequestMeta,
    mut form: Multipart,
) -> Result<Response> {
    let (mut database_id, mut collection, mut file) = (None, None, None);
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("database_id") => {
                database_id = Some(
                    field
                        .text()
                        .await
                        .map_err(multipart_error)?
                        .trim()
                        .to_string(),
                )
            }
            Some("collection_name") => {
                collection = Some(
                    field
                        .text()
                        .await
                        .map_err(multipart_error)?
                        .trim()
                        .to_string(),
                )
            }
            Some(FILE) => {
                let name = stem_name(field.file_name());
                file = Some((
                    name,
                    documents(field, state.datacube.import_max_bytes).await?,
                ));
            }
            _ => {}
        }
    }
    let database_id = database_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::invalid("database_id", "is required"))?;
    caller.may_use(&database_id, Access::Write)?;
    let (stem, documents) = file.ok_or_else(|| AppError::invalid(FILE, "is required"))?;
    let collection = collection.filter(|s| !s.is_empty()).unwrap_or(stem);
    if documents.is_empty() {
        state.datacube.owned(&caller.user_id, &database_id).await?;
        let body = json!({"success": true, "collection": collection, "inserted_count": 0});
        return Ok(axum::response::IntoResponse::into_response(axum::Json(
            body,
        )));
    }
    let count = documents.len();
    let position = state
        .datacube
        .import(
            &caller.user_id,
            &database_id,
            &collection,
            documents,
            &metadata(&meta, &caller),
        )
        .await?;
    Ok(written(
        StatusCode::CREATED,
        position,
        json!({"success": true, "collection": collection, "inserted_count": count}),
    ))
}

#[cfg(test)]
mod tests {
    use super::stem_name;

    #[test]
    fn a_file_name_becomes_a_collection_name() {
        assert_eq!(stem_name(Some("My Events-2024.json")), "my_events_2024");
        assert_eq!(stem_name(Some("..json")), "data");
        assert_eq!(stem_name(None), "data");
    }
}
