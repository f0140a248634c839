//! The playlist lists gazu's `playlist` module calls beside the generic `/data/playlists`
//! routes: a project's playlists (a child list, see `entities::SCOPES`) and an episode's,
//! both Zou's short list of 20 a page.
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::entities::{Within, children};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::state::AppState;

#[utoipa::path(get, path = "/data/projects/{id}/episodes/{episode_id}/playlists",
    tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. The project's \
        playlists of one episode (`main`: of no episode and not for all; `all`: of no episode \
        and for all), 20 a page (`page`, 1 when absent), newest change first unless `sort_by` \
        names a field, without `shots` and `build_jobs`; `task_type_id` and `for_entity` \
        filter. Clients see the playlists shared with them; vendors none.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("episode_id" = String, Path, description = "The episode's UUID, `main` or `all`"),
    ),
    responses(
        (status = 200, description = "Array of playlists"),
        (status = 400, description = "`Invalid UUID value: <id>`"),
        (status = 403, description = "The caller is not in the project's team, or a vendor"),
        (status = 404, description = "No such episode"),
    ))]
pub async fn episode_playlists(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, episode)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let within = Within::Episode(episode);
    let list = ("projects", id.as_str(), "playlists");
    children(&state, caller?, list, within, &raw, &headers).await
}
