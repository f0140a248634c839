//! `GET /api/history/events` (the global order) and `GET /api/history/streams/{type}/{id}`.
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use annals_contracts::{Envelope, Position};

use crate::http::datacube::auth::Caller;
use crate::http::datacube::errors::DatacubeError;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::history::{DEFAULT_LIMIT, MAX_LIMIT, Page, Selection, StreamId, parse_time};

type Result<T> = std::result::Result<T, DatacubeError>;

/// Who may read the history: admins and auditors.
pub const READERS: &[&str] = &["admin", "auditor"];

pub async fn require_reader(
    state: &AppState,
    caller: &Caller,
) -> std::result::Result<(), AppError> {
    let user = state.identity.user(&caller.user_id).await?;
    if READERS.contains(&user.role.as_str()) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "the history is for auditors and admins".into(),
        ))
    }
}

/// A page of envelopes and the position to continue from.
#[derive(Serialize, ToSchema)]
pub struct HistoryPage {
    /// CloudEvents 1.0 envelopes, exactly as published on NATS (see the README).
    #[schema(value_type = Vec<Object>)]
    events: Vec<Envelope>,
    /// `after` of the next page: the last event this page looked at (returned or not).
    /// Fewer events than `limit` means the page reached the newest visible event; asking
    /// again from `next` later gives what was written since.
    #[schema(value_type = String, example = "882.2")]
    next: Position,
}

impl From<Page> for HistoryPage {
    fn from(page: Page) -> Self {
        HistoryPage {
            events: page.events,
            next: page.next,
        }
    }
}

/// The query of a history page: `after`, `since`, `until`, `type` (repeatable, or
/// comma-separated), `stream`, `limit`. Unknown parameters are ignored.
struct PageQuery {
    after: Position,
    selection: Selection,
    limit: usize,
}

fn time(field: &str, value: &str) -> std::result::Result<DateTime<Utc>, AppError> {
    parse_time(value).ok_or_else(|| {
        AppError::invalid(field, "must be an RFC 3339 time, e.g. 2026-11-23T11:47:18Z")
    })
}

fn parse(query: Option<&str>) -> std::result::Result<PageQuery, AppError> {
    let mut parsed = PageQuery {
        after: Position::ZERO,
        selection: Selection::default(),
        limit: DEFAULT_LIMIT,
    };
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.trim();
        match key.as_ref() {
            "after" => {
                parsed.after = value
                    .parse()
                    .map_err(|e| AppError::invalid("after", format!("{e}")))?
            }
            "since" => parsed.selection.since = Some(time("since", value)?),
            "until" => parsed.selection.until = Some(time("until", value)?),
            "type" => parsed.selection.types.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from),
            ),
            "stream" => {
                parsed.selection.stream = Some(
                    value
                        .parse::<StreamId>()
                        .map_err(|e| AppError::invalid("stream", e.to_string()))?,
                )
            }
            "limit" => {
                parsed.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        AppError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}"))
                    })?
            }
            _ => {}
        }
    }
    Ok(parsed)
}

#[utoipa::path(get, path = "/api/history/events", tag = "history",
    security(("bearer" = [])),
    description = "The log's events in its global order, as the CloudEvents envelopes published on NATS (secrets removed), a page at a time. For admins and auditors.",
    params(
        ("after" = Option<String>, Query, description = "Start after this position (`<tx>.<gid>`, exclusive): a page's `next`, or an event's `position`. Default: the beginning"),
        ("since" = Option<String>, Query, description = "Only events recorded at or after this RFC 3339 time"),
        ("until" = Option<String>, Query, description = "Only events recorded before this RFC 3339 time"),
        ("type" = Option<String>, Query, description = "Only these event types (repeatable or comma-separated): a full envelope type (`annals.user.UserRegistered`) or a bare event name (`UserRegistered`, any aggregate type)"),
        ("stream" = Option<String>, Query, description = "Only this stream, `<type>/<id>` (the envelope's `subject`)"),
        ("limit" = Option<usize>, Query, description = "Events per page, 1 to 10000; default 1000"),
    ),
    responses(
        (status = 200, body = HistoryPage, description = "`{events: [envelope…], next}`"),
        (status = 400, description = "A malformed parameter (named in `field`)"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Neither an admin nor an auditor"),
    ))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<HistoryPage>> {
    require_reader(&state, &caller).await?;
    let query = parse(query.as_deref())?;
    let page = state
        .history
        .page(query.after, &query.selection, query.limit)
        .await
        .map_err(AppError::from)?;
    Ok(Json(page.into()))
}

#[utoipa::path(get, path = "/api/history/streams/{aggregate_type}/{aggregate_id}", tag = "history",
    security(("bearer" = [])),
    description = "One stream's events in order (its sequence), as envelopes, a page at a time: the same parameters and answer as `/api/history/events` (`after`, `since`, `until`, `type`, `limit`). For admins and auditors.",
    params(
        ("aggregate_type" = String, Path, description = "e.g. `user`, `bucket`"),
        ("aggregate_id" = String, Path, description = "The stream's id (`%2F` for a `/` in it)"),
        ("after" = Option<String>, Query, description = "Start after this position (a page's `next`)"),
        ("limit" = Option<usize>, Query, description = "Events per page, 1 to 10000; default 1000"),
    ),
    responses(
        (status = 200, body = HistoryPage, description = "`{events: [envelope…], next}`"),
        (status = 400, description = "A malformed parameter (named in `field`)"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Neither an admin nor an auditor"),
        (status = 404, description = "The log has no event of this stream"),
    ))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<HistoryPage>> {
    require_reader(&state, &caller).await?;
    let mut query = parse(query.as_deref())?;
    query.selection.stream = Some(StreamId {
        aggregate_type,
        aggregate_id,
    });
    let page = state
        .history
        .page(query.after, &query.selection, query.limit)
        .await
        .map_err(AppError::from)?;
    if page.events.is_empty() && query.after == Position::ZERO && !query.selection.filters() {
        return Err(AppError::NotFound("the log has no event of this stream".into()).into());
    }
    Ok(Json(page.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_name_the_bad_field() {
        for (query, field) in [
            ("after=12", "after"),
            ("since=yesterday", "since"),
            ("until=2026-13-01T00:00:00Z", "until"),
            ("stream=user", "stream"),
            ("limit=0", "limit"),
            ("limit=10001", "limit"),
            ("limit=many", "limit"),
        ] {
            match parse(Some(query)) {
                Err(AppError::Invalid { field: named, .. }) => assert_eq!(named, field, "{query}"),
                _ => panic!("{query} accepted"),
            }
        }
    }

    #[test]
    fn types_repeat_or_come_comma_separated() {
        let q = parse(Some(
            "type=UserRegistered,RoleChanged&type=annals.bucket.BucketCreated&limit=10000&after=5.7",
        ))
        .unwrap();
        assert_eq!(
            q.selection.types,
            [
                "UserRegistered",
                "RoleChanged",
                "annals.bucket.BucketCreated"
            ]
        );
        assert_eq!(q.limit, 10_000);
        assert_eq!(q.after, Position::new(5, 7));
    }
}
