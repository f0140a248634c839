-- The embedded event log: the sqlite-es schema plus a stable global order.
-- SQLite has a single writer, so insertion order is commit order; `global_id` records it
-- (rowids are not stable across VACUUM for tables without an INTEGER PRIMARY KEY).
CREATE TABLE events (
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    sequence       INTEGER NOT NULL CHECK (sequence >= 0),
    event_type     TEXT    NOT NULL,
    event_version  TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    global_id      INTEGER,
    recorded_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE UNIQUE INDEX events_global_order ON events (global_id);

CREATE TRIGGER events_number AFTER INSERT ON events
BEGIN
    UPDATE events
       SET global_id = (SELECT coalesce(max(global_id), 0) + 1 FROM events)
     WHERE rowid = NEW.rowid;
END;
