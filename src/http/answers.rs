//! Rendered answers of read-model queries, kept while the projections they were read from
//! stay where they were. A read model changes only when its projection applies an event, so an
//! answer computed at the projections' positions P is the answer for as long as they are at
//! P: the next request after any change computes afresh. Under many readers of the same list
//! (a studio polling its news), the read models are queried once per change, not per request.
//!
//! Only positions this process's own workers report are trusted (no worker here: nothing is
//! kept), and a stale read (the wait for the projections timed out) is never kept.
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use lru::LruCache;

use annals_contracts::{Position, ProgressBoard};

/// Larger answers are not kept, so the cache holds at most `entries × MAX_BODY` bytes.
const MAX_BODY: usize = 64 * 1024;

struct Entry {
    at: Vec<Position>,
    body: Bytes,
}

pub struct Answers {
    progress: Arc<ProgressBoard>,
    /// `None` when no answer is kept (a capacity of 0).
    entries: Option<Mutex<LruCache<String, Entry>>>,
}

/// Where the projections an answer is read from stand, taken before it is computed.
pub struct Stamp(Vec<Position>);

impl Answers {
    /// Keeps at most `capacity` answers, the least recently used going first.
    pub fn new(progress: Arc<ProgressBoard>, capacity: usize) -> Self {
        Self {
            progress,
            entries: NonZeroUsize::new(capacity).map(|n| Mutex::new(LruCache::new(n))),
        }
    }

    /// The positions of `projections` now, if a worker of each runs in this process (and
    /// answers are kept at all).
    pub fn stamp(&self, projections: &[&str]) -> Option<Stamp> {
        self.entries.as_ref()?;
        projections
            .iter()
            .map(|p| self.progress.current(p))
            .collect::<Option<Vec<_>>>()
            .map(Stamp)
    }

    /// The answer kept for `key` if it was computed at exactly `stamp`.
    pub fn get(&self, key: &str, stamp: &Stamp) -> Option<Bytes> {
        let mut entries = self.entries.as_ref()?.lock().expect("answers poisoned");
        match entries.get(key) {
            Some(entry) if entry.at == stamp.0 => {
                metrics::counter!("annals_answers_reused_total").increment(1);
                Some(entry.body.clone())
            }
            _ => None,
        }
    }

    /// Keeps `body` as the answer for `key` at `stamp` (taken before it was computed).
    pub fn put(&self, key: String, stamp: Stamp, body: Bytes) {
        let Some(entries) = &self.entries else {
            return;
        };
        if body.len() > MAX_BODY {
            return;
        }
        let mut entries = entries.lock().expect("answers poisoned");
        entries.put(key, Entry { at: stamp.0, body });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers() -> (Arc<ProgressBoard>, Answers) {
        let board = Arc::new(ProgressBoard::default());
        (board.clone(), Answers::new(board, 8))
    }

    #[test]
    fn an_answer_is_reused_until_a_projection_moves() {
        let (board, answers) = answers();
        board.publish("a", Position::new(1, 1));
        board.publish("b", Position::new(1, 2));
        let stamp = answers.stamp(&["a", "b"]).unwrap();
        answers.put("k".into(), stamp, Bytes::from_static(b"[1]"));
        let now = answers.stamp(&["a", "b"]).unwrap();
        assert_eq!(answers.get("k", &now).as_deref(), Some(&b"[1]"[..]));
        assert_eq!(answers.get("other", &now), None);
        board.publish("b", Position::new(2, 3));
        let moved = answers.stamp(&["a", "b"]).unwrap();
        assert_eq!(answers.get("k", &moved), None);
    }

    #[test]
    fn nothing_is_stamped_without_a_local_worker() {
        let (board, answers) = answers();
        board.publish("a", Position::new(1, 1));
        assert!(answers.stamp(&["a", "elsewhere"]).is_none());
    }

    #[test]
    fn a_capacity_of_zero_keeps_nothing() {
        let board = Arc::new(ProgressBoard::default());
        board.publish("a", Position::new(1, 1));
        let answers = Answers::new(board, 0);
        assert!(answers.stamp(&["a"]).is_none());
    }

    #[test]
    fn large_answers_are_not_kept() {
        let (board, answers) = answers();
        board.publish("a", Position::new(1, 1));
        let stamp = answers.stamp(&["a"]).unwrap();
        answers.put("k".into(), stamp, Bytes::from(vec![b' '; MAX_BODY + 1]));
        assert_eq!(answers.get("k", &answers.stamp(&["a"]).unwrap()), None);
    }
}
