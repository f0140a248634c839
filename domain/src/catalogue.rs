//! Every aggregate's event type, for the subscriber contract: `annals docs events` turns these
//! into docs/events.md and one JSON Schema per event.
use cqrs_es::Aggregate;
use schemars::{Schema, schema_for};

use crate::datacube::{
    Database, DatabaseEvent, DatabaseName, DatabaseNameEvent, Document, DocumentEvent,
};
use crate::identity::{
    ApiKey, ApiKeyEvent, EmailClaim, EmailClaimEvent, Session, SessionEvent, User, UserEvent,
};
use crate::kitsu::{Calendar, CalendarEvent, Record, RecordEvent, UniqueClaim, UniqueClaimEvent};
use crate::versioning::Upcasters;
use crate::workspaces::{AccountEvent, Bucket, BucketEvent, WorkspaceAccount};

/// Every aggregate's upcasters: how the log's readers read any stored event in its current
/// shape. An aggregate whose events change shape adds its own list here.
pub const UPCASTERS: Upcasters = Upcasters(&[crate::identity::user::upcasters::OWN]);

/// The events of one aggregate type.
pub struct EventFamily {
    pub aggregate_type: &'static str,
    /// What one stream of this type is.
    pub about: &'static str,
    /// The schema of the event enum as stored (cqrs-es' tagged form: one variant per type).
    pub schema: fn() -> Schema,
}

pub fn families() -> Vec<EventFamily> {
    vec![
        EventFamily {
            aggregate_type: User::TYPE,
            about: "One stream per person, keyed by user id: registration, logins, profile, \
                    password, role, second factors.",
            schema: || schema_for!(UserEvent),
        },
        EventFamily {
            aggregate_type: Session::TYPE,
            about: "One stream per login session, keyed by session id (the tokens' `sid`).",
            schema: || schema_for!(SessionEvent),
        },
        EventFamily {
            aggregate_type: EmailClaim::TYPE,
            about: "One stream per email address (keyed by a hash of the normalised address): \
                    who holds it, so that an address registers once.",
            schema: || schema_for!(EmailClaimEvent),
        },
        EventFamily {
            aggregate_type: ApiKey::TYPE,
            about: "One stream per document-service API key, keyed by key id.",
            schema: || schema_for!(ApiKeyEvent),
        },
        EventFamily {
            aggregate_type: Bucket::TYPE,
            about: "One stream per workspace bucket, keyed by its 24-hex id: members, \
                    invitations, roles, plans, billing, servers.",
            schema: || schema_for!(BucketEvent),
        },
        EventFamily {
            aggregate_type: WorkspaceAccount::TYPE,
            about: "One stream per user (keyed by user id) for the rules spanning their \
                    buckets: owned-bucket slots and the one trial.",
            schema: || schema_for!(AccountEvent),
        },
        EventFamily {
            aggregate_type: Database::TYPE,
            about: "One stream per document-service database, keyed by its 24-hex id: its \
                    collections with their schemas, drops.",
            schema: || schema_for!(DatabaseEvent),
        },
        EventFamily {
            aggregate_type: DatabaseName::TYPE,
            about: "One stream per database name of an owner, keyed by `<owner id>/<name>`: \
                    which database holds it, so that a name is used once per owner.",
            schema: || schema_for!(DatabaseNameEvent),
        },
        EventFamily {
            aggregate_type: Document::TYPE,
            about: "One stream per document, keyed by its 24-hex id: inserted, updated (the \
                    fields set and removed), deleted.",
            schema: || schema_for!(DocumentEvent),
        },
        EventFamily {
            aggregate_type: Record::TYPE,
            about: "One stream per production-tracker record (Kitsu data API), keyed by its \
                    UUID, whatever its model: creation with every field, updates with each \
                    changed field's old and new value, deletion; who and when.",
            schema: || schema_for!(RecordEvent),
        },
        EventFamily {
            aggregate_type: UniqueClaim::TYPE,
            about: "One stream per unique value of a tracker model's field (keyed by a hash of \
                    model, field and normalised value): which record holds it.",
            schema: || schema_for!(UniqueClaimEvent),
        },
        EventFamily {
            aggregate_type: Calendar::TYPE,
            about: "One stream per owner of tracker records holding days that may not overlap \
                    (a person's day offs; keyed by a hash of model and owner): which record \
                    holds which days.",
            schema: || schema_for!(CalendarEvent),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::versioning::INITIAL_VERSION;

    #[test]
    fn every_chain_starts_at_the_initial_version_and_has_one_step_per_version() {
        for u in UPCASTERS.all() {
            let chain = UPCASTERS.history(u.aggregate_type, u.event_type);
            assert!(
                chain.iter().any(|c| c.from == u.from && c.to == u.to),
                "{}/{} {} is not reachable from {INITIAL_VERSION}",
                u.aggregate_type,
                u.event_type,
                u.from
            );
            let from_same = UPCASTERS.all().filter(|o| {
                o.aggregate_type == u.aggregate_type
                    && o.event_type == u.event_type
                    && o.from == u.from
            });
            assert_eq!(from_same.count(), 1, "two upcasters from one version");
        }
    }
}
