//! A bucket's life: creation, settings, deletion.
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{NAME_MAX, TEXT_MAX, check_text};
use crate::workspaces::bucket::{Bucket, BucketError, BucketEvent, Person, Plan, Role};

impl Bucket {
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of BucketCommand::Create"
    )]
    pub(super) fn create(
        &self,
        bucket_id: String,
        name: String,
        comment: String,
        app_url: String,
        configuration: Value,
        public_id: String,
        secret_id: String,
        owner: Person,
        plan: Plan,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        if self.created {
            return Err(BucketError::AlreadyExists);
        }
        check_text("name", &name, NAME_MAX, true)?;
        check_text("comment", &comment, TEXT_MAX, false)?;
        check_text("app_url", &app_url, TEXT_MAX, false)?;
        Ok(vec![BucketEvent::BucketCreated {
            bucket_id,
            name: name.trim().to_string(),
            comment,
            app_url,
            configuration,
            public_id,
            secret_id,
            owner,
            plan,
            at,
        }])
    }

    pub(super) fn update(
        &self,
        actor: String,
        name: Option<String>,
        comment: Option<String>,
        app_url: Option<String>,
        configuration: Option<Value>,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        self.at_least(
            &actor,
            Role::Admin,
            "only an admin or the owner can update the bucket",
        )?;
        let name = name.map_or_else(|| self.name.clone(), |n| n.trim().to_string());
        let comment = comment.unwrap_or_else(|| self.comment.clone());
        let app_url = app_url.unwrap_or_else(|| self.app_url.clone());
        check_text("name", &name, NAME_MAX, true)?;
        check_text("comment", &comment, TEXT_MAX, false)?;
        check_text("app_url", &app_url, TEXT_MAX, false)?;
        Ok(vec![BucketEvent::BucketUpdated {
            name,
            comment,
            app_url,
            configuration: configuration.unwrap_or_else(|| self.configuration.clone()),
            by: actor,
            at,
        }])
    }

    pub(super) fn delete(
        &self,
        actor: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        self.at_least(&actor, Role::Owner, "only the owner can delete the bucket")?;
        Ok(vec![BucketEvent::BucketDeleted {
            by: actor,
            member_ids: self.members.iter().map(|m| m.user_id.clone()).collect(),
            invitations: self.invitations.iter().map(|i| i.email.clone()).collect(),
            servers: self.servers.iter().map(|s| s.name.clone()).collect(),
            payment_methods: self
                .payment_methods
                .iter()
                .map(|h| h.method.id.clone())
                .collect(),
            charges: self.charges.clone(),
            at,
        }])
    }
}
