//! Servers: connecting one (by the bucket's secret, not a member) and removing one.
use chrono::{DateTime, Utc};

use super::{NAME_MAX, check_text};
use crate::workspaces::bucket::{Bucket, BucketError, BucketEvent, Role};

impl Bucket {
    pub(super) fn connect_server(
        &self,
        secret_id: String,
        server_name: String,
        hostname: String,
        pm2_version: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        if !self.exists() {
            return Err(BucketError::NotFound);
        }
        if secret_id != self.secret_id {
            return Err(BucketError::BadSecret);
        }
        check_text("server_name", &server_name, NAME_MAX * 2, true)?;
        // A server connecting again under its name already holds its place: nothing new.
        if self.servers.iter().any(|s| s.name == server_name) {
            return Ok(vec![]);
        }
        let limit = self.plan_at(at).map_or(0, |p| p.limits.max_servers) as usize;
        if self.servers.len() >= limit {
            return Err(BucketError::ServerLimitReached);
        }
        Ok(vec![BucketEvent::ServerConnected {
            server_name,
            hostname,
            pm2_version,
            at,
        }])
    }

    pub(super) fn remove_server(
        &self,
        actor: String,
        server_name: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        self.at_least(
            &actor,
            Role::Admin,
            "only an admin or the owner can delete servers",
        )?;
        if !self.servers.iter().any(|s| s.name == server_name) {
            return Err(BucketError::ServerNotFound);
        }
        Ok(vec![BucketEvent::ServerRemoved {
            server_name,
            by: actor,
            at,
        }])
    }
}
