//! The event repository cqrs-es reads streams through: postgres-es or sqlite-es, chosen at start.
//! Every event read here passes through the log codec, so aggregates are loaded from events
//! in their current shape.
use cqrs_es::Aggregate;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlite_es::SqliteEventRepository;
use sqlx::{PgPool, Row};

use super::codec;
use super::person_keys::KeyStore;
use super::postgres::Sticky;

pub enum LogRepository {
    /// postgres-es, and kept connections for the reads of the command path.
    Postgres(PostgresEventRepository, Sticky, KeyStore),
    Sqlite(SqliteEventRepository, KeyStore),
}

macro_rules! delegate {
    ($self:ident, $repo:ident => $call:expr) => {
        match $self {
            LogRepository::Postgres($repo, _, _) => $call,
            LogRepository::Sqlite($repo, _) => $call,
        }
    };
}

impl LogRepository {
    /// `reads`: connections kept for [`LogRepository::get_last_events_of_many`], which may be
    /// shared by the repositories of all aggregate types.
    pub fn postgres(pool: PgPool, reads: Sticky) -> Self {
        let keys = KeyStore::Postgres(pool.clone());
        LogRepository::Postgres(PostgresEventRepository::new(pool), reads, keys)
    }

    pub fn sqlite(pool: sqlx::SqlitePool) -> Self {
        let keys = KeyStore::Sqlite(pool.clone());
        LogRepository::Sqlite(SqliteEventRepository::new(pool), keys)
    }

    /// The keys of sealed personal fields.
    fn keys(&self) -> &KeyStore {
        match self {
            LogRepository::Postgres(_, _, keys) | LogRepository::Sqlite(_, keys) => keys,
        }
    }

    /// For each `(aggregate_id, after)`: the stream's events after sequence `after`, as
    /// `get_last_events` gives them. On Postgres one query reads them all, on a kept
    /// connection (a pooled one costs a second round trip: sqlx pings it on release).
    pub async fn get_last_events_of_many<A: Aggregate>(
        &self,
        reads: &[(String, usize)],
    ) -> Result<Vec<Vec<SerializedEvent>>, PersistenceError> {
        match self {
            LogRepository::Postgres(_, connections, keys) => {
                read_many_postgres::<A>(connections, keys, reads).await
            }
            LogRepository::Sqlite(..) => {
                let mut results = Vec::with_capacity(reads.len());
                for (id, after) in reads {
                    results.push(self.get_last_events::<A>(id, *after).await?);
                }
                Ok(results)
            }
        }
    }
}

async fn read_many_postgres<A: Aggregate>(
    connections: &Sticky,
    keys: &KeyStore,
    reads: &[(String, usize)],
) -> Result<Vec<Vec<SerializedEvent>>, PersistenceError> {
    let fail = |e: sqlx::Error| PersistenceError::UnknownError(Box::new(e));
    let mut conn = connections.get().await.map_err(fail)?;
    let (ids, afters): (Vec<&str>, Vec<i64>) = reads
        .iter()
        .map(|(id, after)| (id.as_str(), *after as i64))
        .unzip();
    let rows = sqlx::query(
        // LATERAL: one index lookup per stream. A plain join lets the planner hash-join all
        // the events of the aggregate type (it did, on the benchmark's data).
        "SELECT r.n, e.aggregate_id, e.sequence, e.event_type, e.event_version, e.payload,
                e.metadata
           FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS r(id, after, n)
          CROSS JOIN LATERAL (
                SELECT * FROM events
                 WHERE aggregate_type = $1 AND aggregate_id = r.id AND sequence > r.after
                 ORDER BY sequence) e
          ORDER BY r.n, e.sequence",
    )
    .bind(A::TYPE)
    .bind(ids)
    .bind(afters)
    .fetch_all(&mut *conn)
    .await
    .map_err(fail)?;
    connections.put_back(conn);
    let mut raw = Vec::with_capacity(rows.len());
    let mut streams = Vec::with_capacity(rows.len());
    for row in rows {
        let n: i64 = row.try_get("n").map_err(fail)?;
        let sequence: i64 = row.try_get("sequence").map_err(fail)?;
        streams.push((n - 1) as usize);
        raw.push(SerializedEvent {
            aggregate_id: row.try_get("aggregate_id").map_err(fail)?,
            sequence: sequence as usize,
            aggregate_type: A::TYPE.to_string(),
            event_type: row.try_get("event_type").map_err(fail)?,
            event_version: row.try_get("event_version").map_err(fail)?,
            payload: row.try_get("payload").map_err(fail)?,
            metadata: row.try_get("metadata").map_err(fail)?,
        });
    }
    let mut results = vec![Vec::new(); reads.len()];
    for (stream, event) in streams
        .into_iter()
        .zip(codec::serialized_all(raw, keys).await?)
    {
        results[stream].push(event);
    }
    Ok(results)
}

impl PersistedEventRepository for LogRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = delegate!(self, repo => repo.get_events::<A>(aggregate_id).await)?;
        codec::serialized_all(events, self.keys()).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events =
            delegate!(self, repo => repo.get_last_events::<A>(aggregate_id, last_sequence).await)?;
        codec::serialized_all(events, self.keys()).await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        delegate!(self, repo => repo.get_snapshot::<A>(aggregate_id).await)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        delegate!(self, repo => repo.persist::<A>(events, snapshot_update).await)
    }

    /// A stream is small (aggregates are kept small), so it is read whole and decoded.
    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let events = self.get_events::<A>(aggregate_id).await?;
        let (mut feed, stream) = ReplayStream::new(events.len().max(1));
        for event in events {
            feed.push(Ok(event)).await?;
        }
        Ok(stream)
    }

    /// cqrs-es' replay of a whole aggregate type into its in-process queries, which annals
    /// does not use: read models are rebuilt from the log reader (`annals rebuild`), whose
    /// rows pass through the log codec. Refused, so that no path reads events undecoded.
    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        Err(PersistenceError::UnknownError(
            format!(
                "replaying every {} stream through cqrs-es is not supported: rebuild from the event log",
                A::TYPE
            )
            .into(),
        ))
    }
}
