//! In-process view of how far each local projection worker has got, for read-your-writes
//! waits without polling the database.
use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

use crate::Position;

#[derive(Default)]
pub struct ProgressBoard {
    channels: Mutex<HashMap<String, watch::Sender<Position>>>,
}

impl ProgressBoard {
    fn sender(&self, projection: &str) -> watch::Sender<Position> {
        let mut channels = self.channels.lock().expect("progress board poisoned");
        channels
            .entry(projection.to_string())
            .or_insert_with(|| watch::channel(Position::ZERO).0)
            .clone()
    }

    /// Called by a local worker after each commit.
    pub fn publish(&self, projection: &str, position: Position) {
        self.sender(projection).send_replace(position);
    }

    /// No worker of `projection` runs here any more (it stood down): readers waiting on this
    /// board see the channel close and ask the store instead.
    pub fn forget(&self, projection: &str) {
        let mut channels = self.channels.lock().expect("progress board poisoned");
        channels.remove(projection);
    }

    /// A receiver if a worker of this projection runs in this process.
    pub fn watch(&self, projection: &str) -> Option<watch::Receiver<Position>> {
        let channels = self.channels.lock().expect("progress board poisoned");
        channels.get(projection).map(|s| s.subscribe())
    }

    /// Where the local worker of `projection` has got, if one runs in this process.
    pub fn current(&self, projection: &str) -> Option<Position> {
        let channels = self.channels.lock().expect("progress board poisoned");
        channels.get(projection).map(|s| *s.borrow())
    }

    pub fn snapshot(&self) -> Vec<(String, Position)> {
        let channels = self.channels.lock().expect("progress board poisoned");
        let mut all: Vec<_> = channels
            .iter()
            .map(|(k, v)| (k.clone(), *v.borrow()))
            .collect();
        all.sort();
        all
    }
}
