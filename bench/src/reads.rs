//! The read phase: `GET /core/me` (one document by id, the reference) and `GET /api/bucket/:id`
//! (a bucket with a few members and invitations) side by side, each a closed loop of
//! `--read-clients` connections, on the quiet server right after setup.
use std::time::Duration;

use crate::Args;
use crate::http::{self, Api, User};
use crate::load::{self, ClosedResult};

pub struct ReadResult {
    pub me: ClosedResult,
    pub bucket: ClosedResult,
    pub members: usize,
    pub invitations: usize,
}

impl ReadResult {
    /// Bucket reads per profile read.
    pub fn ratio(&self) -> f64 {
        self.bucket.per_second() / self.me.per_second().max(1e-9)
    }
}

pub async fn run(api: &Api, users: &[User], args: &Args) -> Result<ReadResult, http::Error> {
    let bucket =
        http::bucket_fixture(api, users, args.bucket_members, args.bucket_invitations).await?;
    let (clients, warmup) = (args.read_clients, Args::secs(args.warmup.min(2.0)));
    let duration = Args::secs(args.read_duration);
    eprintln!("reads: GET /core/me, closed loop, {clients} clients, {duration:?}");
    let me = load::read_loop(api, &bucket.readers, "/core/me", clients, warmup, duration).await;
    // Let the connections of the first series go before the second starts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let path = format!("/api/bucket/{}", bucket.id);
    eprintln!("reads: GET {path}, closed loop, {clients} clients, {duration:?}");
    let read = load::read_loop(api, &bucket.readers, &path, clients, warmup, duration).await;
    Ok(ReadResult {
        me,
        bucket: read,
        members: bucket.members,
        invitations: bucket.invitations,
    })
}
