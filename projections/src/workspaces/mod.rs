//! Read models of the workspaces surface.
mod buckets;

pub use buckets::{
    BUCKETS, BucketDoc, BucketViews, CHARGES, INVITATIONS, INVITATIONS_FIELD, MEMBERS,
    MEMBERS_FIELD, PAYMENT_METHODS, SERVERS, changes, member_doc_id, sub_doc_id,
};
