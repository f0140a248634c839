//! Production-tracker use cases (Zou's data API): records of the registry models.
mod breakdown;
mod calendars;
mod casting;
mod comment_actions;
mod comments;
mod exclusive;
mod history;
mod playlists;
mod records;
mod references;
mod time_spents;
mod totals;
mod versions;

pub use breakdown::{Breakdown, Cast, Wanted};
pub use casting::LINKS;
pub use comment_actions::reply_of;
pub use comments::{Commenter, Made, NewComment};
pub use history::{PersonHistory, RecordHistory, person_history, record_history};
pub use time_spents::Day;
pub use versions::entity_versions;

pub use records::{ASSIGNED_WORK, Records, forbidden, unique_claim_id};
pub use references::{REFERENCED, Referrers, Refusal};
