//! Read models of the production tracker (Kitsu data API).
mod exact_links;
mod news;
mod persons;
mod records;

pub use exact_links::{EXACT_LINKS, exact_datetime};
pub use news::{EXACT_AT, KitsuNews, NEWS, NEWS_COLLECTION, news_id};
pub use persons::{KitsuPersons, PERSONS};
pub use records::{KitsuRecords, RECORDS};
