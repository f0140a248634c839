//! Read models of the workspaces surface.
mod buckets;

pub use buckets::{
    BUCKETS, BucketViews, CHARGES, INVITATIONS, MEMBERS, PAYMENT_METHODS, SERVERS, member_doc_id,
    sub_doc_id,
};
