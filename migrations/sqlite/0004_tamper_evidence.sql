-- Tamper evidence (see migrations/postgres/0006_tamper_evidence.sql). The single writer
-- computes both the digest and the chain hash in its transaction (SQLite has no SHA-256).
ALTER TABLE events ADD COLUMN digest BLOB;
ALTER TABLE events ADD COLUMN hash BLOB;

CREATE TABLE chain_backfill (
    singleton INTEGER PRIMARY KEY DEFAULT 1 CHECK (singleton = 1),
    upto      INTEGER NOT NULL,
    done      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO chain_backfill (upto, done)
SELECT coalesce(max(global_id), 0), count(*) = 0 FROM events;

CREATE TABLE seals (
    number       INTEGER PRIMARY KEY CHECK (number > 0),
    first_tx     INTEGER NOT NULL,
    first_gid    INTEGER NOT NULL,
    last_tx      INTEGER NOT NULL,
    last_gid     INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    running_hash BLOB    NOT NULL,
    sealed_at    TEXT    NOT NULL
);

CREATE TABLE verify_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    finished_at TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    intact      INTEGER NOT NULL,
    report      TEXT    NOT NULL
);
