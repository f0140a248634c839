//! Read models of the production tracker (Kitsu data API).
mod news;
mod records;

pub use news::{EXACT_AT, KitsuNews, NEWS, NEWS_COLLECTION, news_id};
pub use records::{KitsuRecords, RECORDS};
