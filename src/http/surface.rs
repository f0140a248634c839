//! Which API surface a path belongs to, for answers given before any route ran (refused
//! input in the URL): each surface keeps its own error body.
use axum::response::{IntoResponse, Response};

use crate::http::datacube::errors::DatacubeError;
use crate::http::kitsu::errors::KitsuError;
use crate::http::workspaces::errors::WorkspacesError;
use crate::services::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Datacube,
    Kitsu,
    Workspaces,
}

/// Kitsu's prefixes, served at the root and under `/api` (Zou's layout behind its proxy).
const KITSU: [&str; 3] = ["/auth", "/data", "/actions"];
const WORKSPACES: [&str; 5] = [
    "/api/bucket",
    "/api/oauth",
    "/api/users",
    "/api/misc",
    "/api/node",
];

fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl Surface {
    pub fn of(path: &str) -> Surface {
        let unprefixed = path.strip_prefix("/api").unwrap_or(path);
        if WORKSPACES.iter().any(|p| under(path, p)) {
            Surface::Workspaces
        } else if path == "/"
            || path == "/api"
            || path == "/api/"
            || KITSU.iter().any(|p| under(unprefixed, p))
        {
            Surface::Kitsu
        } else {
            Surface::Datacube
        }
    }

    /// `error` in this surface's body shape.
    pub fn answer(self, error: AppError) -> Response {
        match self {
            Surface::Datacube => DatacubeError(error).into_response(),
            Surface::Kitsu => KitsuError::from(error).into_response(),
            Surface::Workspaces => WorkspacesError(error).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_told_apart_by_prefix() {
        assert_eq!(Surface::of("/api/bucket/abc"), Surface::Workspaces);
        assert_eq!(Surface::of("/api/oauth/token"), Surface::Workspaces);
        assert_eq!(Surface::of("/data/projects"), Surface::Kitsu);
        assert_eq!(Surface::of("/api/data/projects"), Surface::Kitsu);
        assert_eq!(Surface::of("/auth/login"), Surface::Kitsu);
        assert_eq!(Surface::of("/api/"), Surface::Kitsu);
        assert_eq!(Surface::of("/core/me"), Surface::Datacube);
        assert_eq!(Surface::of("/api/api_keys"), Surface::Datacube);
        assert_eq!(Surface::of("/api/bucketx"), Surface::Datacube);
        assert_eq!(Surface::of("/database"), Surface::Datacube);
    }
}
