//! The keys personal data is sealed with (`person_keys`, in the log's database on both
//! backends), one per subject, made on first use; erasure deletes them.
//!
//! Readers fetch the keys a batch needs in one query and keep none, so an erasure is seen by
//! every reader of every process from its next batch on. Writers keep the keys they used for
//! [`WRITE_TTL`]: a value written with a key another process has just deleted cannot be read
//! either (it reads as erased: the failure is on the side of privacy).
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;
use serde_json::Value;
use sqlx::{PgPool, Row, SqlitePool};

use super::sealed::{self, Keys, PersonKey};

/// How long a writer trusts a key it used.
pub const WRITE_TTL: Duration = Duration::from_secs(5);
const WRITE_CACHE: usize = 10_000;

#[derive(Clone)]
pub enum KeyStore {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

fn key_from(id: String, secret: Vec<u8>) -> Option<PersonKey> {
    Some(PersonKey {
        id,
        secret: secret.try_into().ok()?,
    })
}

fn distinct(subjects: &[String]) -> Vec<String> {
    let mut wanted = subjects.to_vec();
    wanted.sort();
    wanted.dedup();
    wanted
}

fn keyed(rows: Vec<(String, String, Vec<u8>)>) -> impl Iterator<Item = (String, PersonKey)> {
    rows.into_iter()
        .filter_map(|(subject, id, secret)| Some((subject, key_from(id, secret)?)))
}

/// The keys of `subjects` that still exist, read through `executor` (the log reader's kept
/// connection, or the pool).
pub async fn fetch_postgres<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    subjects: &[String],
) -> Result<Keys, sqlx::Error> {
    if subjects.is_empty() {
        return Ok(Keys::new());
    }
    let rows: Vec<(String, String, Vec<u8>)> =
        sqlx::query_as("SELECT subject, key_id, secret FROM person_keys WHERE subject = ANY($1)")
            .bind(distinct(subjects))
            .fetch_all(executor)
            .await?;
    Ok(keyed(rows).collect())
}

impl KeyStore {
    /// The keys of `subjects` that still exist, in one query.
    pub async fn fetch(&self, subjects: &[String]) -> Result<Keys, sqlx::Error> {
        if subjects.is_empty() {
            return Ok(Keys::new());
        }
        match self {
            KeyStore::Postgres(pool) => fetch_postgres(pool, subjects).await,
            KeyStore::Sqlite(pool) => {
                // json_each: one statement for any number of subjects.
                let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
                    "SELECT subject, key_id, secret FROM person_keys
                      WHERE subject IN (SELECT value FROM json_each(?))",
                )
                .bind(Value::from(distinct(subjects)).to_string())
                .fetch_all(pool)
                .await?;
                Ok(keyed(rows).collect())
            }
        }
    }

    /// The key of `subject`, made now if it has none.
    pub async fn get_or_create(&self, subject: &str) -> Result<PersonKey, sqlx::Error> {
        let fresh = PersonKey::generate();
        let (id, secret): (String, Vec<u8>) = match self {
            KeyStore::Postgres(pool) => {
                // DO UPDATE (a no-op write) rather than DO NOTHING plus a SELECT: the SELECT
                // would read the statement's snapshot, which misses a key another
                // registration of the same person committed meanwhile, and find no row.
                let row = sqlx::query(
                    "INSERT INTO person_keys (subject, key_id, secret) VALUES ($1, $2, $3)
                     ON CONFLICT (subject) DO UPDATE SET key_id = person_keys.key_id
                     RETURNING key_id, secret",
                )
                .bind(subject)
                .bind(&fresh.id)
                .bind(fresh.secret.to_vec())
                .fetch_one(pool)
                .await?;
                (row.get("key_id"), row.get("secret"))
            }
            KeyStore::Sqlite(pool) => {
                sqlx::query(
                    "INSERT INTO person_keys (subject, key_id, secret) VALUES (?, ?, ?)
                     ON CONFLICT (subject) DO NOTHING",
                )
                .bind(subject)
                .bind(&fresh.id)
                .bind(fresh.secret.to_vec())
                .execute(pool)
                .await?;
                let row = sqlx::query("SELECT key_id, secret FROM person_keys WHERE subject = ?")
                    .bind(subject)
                    .fetch_one(pool)
                    .await?;
                (row.get("key_id"), row.get("secret"))
            }
        };
        key_from(id, secret)
            .ok_or_else(|| sqlx::Error::Decode("a stored key is not 32 bytes".into()))
    }

    /// Deletes the keys of `subjects`: what they sealed can no longer be read. Returns how
    /// many existed.
    pub async fn delete(&self, subjects: &[String]) -> Result<u64, sqlx::Error> {
        let mut deleted = 0;
        for subject in subjects {
            deleted += match self {
                KeyStore::Postgres(pool) => {
                    sqlx::query("DELETE FROM person_keys WHERE subject = $1")
                        .bind(subject)
                        .execute(pool)
                        .await?
                        .rows_affected()
                }
                KeyStore::Sqlite(pool) => sqlx::query("DELETE FROM person_keys WHERE subject = ?")
                    .bind(subject)
                    .execute(pool)
                    .await?
                    .rows_affected(),
            };
        }
        Ok(deleted)
    }

    /// The keys every sealed value inside `payloads` needs, in one query.
    pub async fn keys_for<'a>(
        &self,
        payloads: impl IntoIterator<Item = &'a Value>,
    ) -> Result<Keys, sqlx::Error> {
        self.fetch(&sealed::subjects_of(payloads)).await
    }
}

/// The write side's keys: the store, and the keys this process used lately.
pub struct Sealer {
    store: KeyStore,
    recent: Mutex<LruCache<String, (PersonKey, Instant)>>,
}

impl Sealer {
    pub fn new(store: KeyStore) -> Self {
        Self {
            store,
            recent: Mutex::new(LruCache::new(
                NonZeroUsize::new(WRITE_CACHE).expect("non-zero"),
            )),
        }
    }

    pub fn store(&self) -> &KeyStore {
        &self.store
    }

    /// The keys of `subjects`, each made if missing.
    pub async fn keys(&self, subjects: Vec<String>) -> Result<Keys, sqlx::Error> {
        let mut keys = Keys::new();
        for subject in subjects {
            if keys.contains_key(&subject) {
                continue;
            }
            let cached = {
                let mut recent = self.recent.lock().expect("key cache lock");
                recent
                    .get(&subject)
                    .filter(|(_, at)| at.elapsed() < WRITE_TTL)
                    .map(|(key, _)| key.clone())
            };
            let key = match cached {
                Some(key) => key,
                None => {
                    let key = self.store.get_or_create(&subject).await?;
                    let mut recent = self.recent.lock().expect("key cache lock");
                    recent.put(subject.clone(), (key.clone(), Instant::now()));
                    key
                }
            };
            keys.insert(subject, key);
        }
        Ok(keys)
    }

    /// Erases `subjects`: deletes their keys, and forgets them here.
    pub async fn erase(&self, subjects: &[String]) -> Result<u64, sqlx::Error> {
        let deleted = self.store.delete(subjects).await?;
        let mut recent = self.recent.lock().expect("key cache lock");
        for subject in subjects {
            recent.pop(subject);
        }
        Ok(deleted)
    }
}
