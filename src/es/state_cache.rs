//! Recent aggregate states, per process, so that a command on a long stream (a user who logged
//! in a thousand times, a busy bucket) does not replay the stream. Only states that were
//! committed are remembered, so a remembered state is always true of some moment of the log;
//! whether it is still the newest is settled by the append's optimistic concurrency check, or by
//! reading the events after it.
use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

/// Streams remembered per aggregate type.
const CAPACITY: usize = 10_000;

pub struct StateCache<A> {
    states: Mutex<LruCache<String, (A, usize)>>,
}

impl<A: Clone> Default for StateCache<A> {
    fn default() -> Self {
        Self {
            states: Mutex::new(LruCache::new(
                NonZeroUsize::new(CAPACITY).expect("non-zero"),
            )),
        }
    }
}

impl<A: Clone> StateCache<A> {
    /// The remembered state of a stream and the sequence it reflects.
    pub fn get(&self, id: &str) -> Option<(A, usize)> {
        self.states.lock().expect("cache lock").get(id).cloned()
    }

    /// Remembers a committed state, unless a newer one is already remembered (commands on one
    /// stream may finish out of order).
    pub fn remember(&self, id: &str, state: A, sequence: usize) {
        let mut states = self.states.lock().expect("cache lock");
        match states.get_mut(id) {
            Some(known) if known.1 >= sequence => {}
            Some(known) => *known = (state, sequence),
            None => {
                states.put(id.to_string(), (state, sequence));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_state_never_replaces_a_newer_one() {
        let cache = StateCache::<&str>::default();
        cache.remember("s", "after 3", 3);
        cache.remember("s", "after 2", 2);
        assert_eq!(cache.get("s"), Some(("after 3", 3)));
        cache.remember("s", "after 4", 4);
        assert_eq!(cache.get("s"), Some(("after 4", 4)));
        assert_eq!(cache.get("t"), None);
    }
}
