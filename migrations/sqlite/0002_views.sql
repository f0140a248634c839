-- Read models: JSON documents in collections, as in migrations/postgres/0002_views.sql.
CREATE TABLE views (
    collection TEXT NOT NULL,
    id         TEXT NOT NULL,
    doc        TEXT NOT NULL,
    owner      TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (collection, id)
);
CREATE INDEX views_owner ON views (collection, owner);

CREATE TABLE projection_checkpoints (
    projection TEXT PRIMARY KEY,
    tx_id      INTEGER NOT NULL DEFAULT 0,
    global_id  INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
